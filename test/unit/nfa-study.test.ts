// The NFA study (network NFA + RFM comparison + report), as the CLI and the extension run it: placement
// order, a device failure mid-run continuing on the next placement, a given M, and the report's fields.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Placement } from '../../src/core/compute';
import type { Dataset } from '../../src/core/data/dataset';
import { BackendError } from '../../src/core/errors';
import { CpuNfaBackend, type NfaBackend } from '../../src/core/nfa/backend';
import { rfmCorrelations } from '../../src/core/nfa/compute';
import { nfaReport } from '../../src/core/nfa/report';
import {
  DEFAULT_RFM_ROWS,
  runNfaStudy,
  type HostPlacement,
  type NfaStudyCompute,
  type RfmFitPlan,
} from '../../src/core/nfa/study';
import { initMlp } from '../../src/core/nfa/train';
import { hostNfaStudy } from '../../src/core/node';
import { lowRankTask } from './nfa-tasks';

const { X, Y } = lowRankTask(300, 4, 11);
const dataset: Dataset = {
  source: 'low-rank',
  X,
  featureNames: ['a', 'b', 'c', 'd'],
  y: Y.data,
  targetName: 'y',
  task: 'regression',
};
const net = initMlp([4, 8, 1], 'relu', 5);
const DEFAULT_FIT: RfmFitPlan = { kind: 'fit', iters: 3, bandwidth: 10, rows: DEFAULT_RFM_ROWS, seed: 0 };
const inputs = {
  weights: 'w',
  data: 'd',
  target: 'y',
  activation: 'relu',
  standardize: false,
  layer_order: 'file',
  ignored: [],
};

/** A "GPU" that was made fine and then fails while computing the AGOPs, as a lost device would. */
function failingMidRun(): NfaBackend {
  const cpu = new CpuNfaBackend();
  return {
    name: 'webgpu',
    device: 'webgpu test double',
    forward: (n, x) => cpu.forward(n, x),
    agopSums: async () => {
      throw new BackendError('webgpu', 'device lost (unknown): test');
    },
    createTrainSession: (p) => cpu.createTrainSession(p),
    convForward: (n, X) => cpu.convForward(n, X),
    features: (n, X) => cpu.features(n, X),
    convFeatures: (n, X) => cpu.convFeatures(n, X),
    outputGradGrams: (n, X) => cpu.outputGradGrams(n, X),
    dispose: () => {},
  };
}

function recording(nfaGpu: () => NfaBackend, choice: NfaStudyCompute['choice'] = 'auto') {
  const asked: string[] = [];
  const moves: string[] = [];
  const compute: NfaStudyCompute = {
    choice,
    nfaBackend: async (p: HostPlacement) => {
      asked.push(`nfa:${p}`);
      return p === 'host-gpu' ? nfaGpu() : new CpuNfaBackend();
    },
    // The real comparison fit, always on the CPU here (the placement is only recorded).
    fitRfm: (p: HostPlacement, data, plan, cancel) => {
      asked.push(`rfm:${p}`);
      return hostNfaStudy('cpu').fitRfm('host-cpu', data, plan, cancel);
    },
    onFallback: (part: string, from: Placement, e: Error) => moves.push(`${part} ${from}: ${e.message}`),
  };
  return { compute, asked, moves };
}

test('a device failing mid-run continues on the next placement: the same numbers as the CPU alone, and a note saying why', async () => {
  const cpuOnly = recording(() => new CpuNfaBackend(), 'cpu');
  const ref = await runNfaStudy({ net, dataset, X, rfm: DEFAULT_FIT }, cpuOnly.compute);
  assert.deepEqual(cpuOnly.asked, ['nfa:host-cpu', 'rfm:host-cpu']);
  assert.equal(ref.note, null);

  const auto = recording(failingMidRun);
  const got = await runNfaStudy({ net, dataset, X, rfm: DEFAULT_FIT }, auto.compute);
  assert.deepEqual(auto.asked, ['nfa:host-gpu', 'nfa:host-cpu', 'rfm:host-gpu']);
  assert.equal(got.nfa.backend, 'cpu');
  assert.deepEqual(
    got.nfa.layers.map((l) => l.correlation),
    ref.nfa.layers.map((l) => l.correlation),
  );
  assert.deepEqual(got.rfm?.correlation, ref.rfm?.correlation);
  assert.equal(auto.moves.length, 1);
  assert.match(auto.moves[0], /^nfa host-gpu: webgpu backend: device lost/);
  assert.match(
    got.note ?? '',
    /^CPU in the extension host \(WebGPU in the extension host: device lost \(unknown\): test\)$/,
  );
});

test('a given M is compared as it is; the report keeps the fields of both comparison kinds', async () => {
  const d = X.cols;
  const M = Float64Array.from({ length: d * d }, (_, i) => (i % (d + 1) === 0 ? 1 + i : 0.1));
  const { compute } = recording(() => new CpuNfaBackend(), 'cpu');
  const given = await runNfaStudy(
    { net, dataset, X, rfm: { kind: 'given', M, source: 'run-1', dataset: 'other.csv', standardized: true } },
    compute,
  );
  assert.deepEqual(given.rfm?.correlation, rfmCorrelations(given.nfa.layers[0].nfm, M, d));
  const r = nfaReport(given, inputs);
  assert.deepEqual(Object.keys(r.rfm ?? {}), ['source', 'compared_with', 'dataset', 'standardized', 'correlation']);
  assert.equal(r.rfm?.correlation.pearson.m, given.rfm?.correlation.pearson.agop);
  assert.equal(r.backend_note, null);

  const fitted = await runNfaStudy({ net, dataset, X, rfm: { ...DEFAULT_FIT, rows: 100 } }, compute);
  const f = nfaReport(fitted, inputs, { matrices: true });
  assert.deepEqual(Object.keys(f), [
    'weights',
    'data',
    'target',
    'activation',
    'standardize',
    'layer_order',
    'ignored',
    'rows',
    'backend',
    'device',
    'minus_init',
    'layers',
    'rfm',
    'backend_note',
  ]);
  assert.deepEqual(Object.keys(f.rfm ?? {}), [
    'source',
    'compared_with',
    'rows',
    'kernel',
    'bandwidth',
    'reg',
    'iters',
    'agop_power',
    'task',
    'train_metric',
    'device',
    'correlation',
    'M',
  ]);
  assert.equal(f.rfm && 'rows' in f.rfm ? f.rfm.rows : 0, 100, 'a seeded subsample of --rfm-rows rows');
  assert.deepEqual(Object.keys(f.layers[0]), [
    'name',
    'kind',
    'shape',
    'correlation',
    'top_eigenvectors',
    'nfm',
    'agop',
    'sqrt_agop',
  ]);
  assert.equal(nfaReport(await runNfaStudy({ net, dataset, X, rfm: { kind: 'none' } }, compute), inputs).rfm, null);
});

test('cancel stops the study with CancelledError', async () => {
  const { compute } = recording(() => new CpuNfaBackend(), 'cpu');
  await assert.rejects(
    runNfaStudy({ net, dataset, X, rfm: DEFAULT_FIT }, compute, { cancel: { cancelled: true } }),
    /cancel/i,
  );
});
