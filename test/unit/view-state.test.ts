// What the extension reads back (revived view states, saved runs) is used only after it matches its schema:
// an older version's state, a hand-edited or damaged one is refused (the view starts empty, the run is skipped).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadDataset } from '../../src/core/data/index';
import { CpuBackend } from '../../src/core/rfm/cpu';
import { fitRfm } from '../../src/core/rfm/fit';
import { fitResultToJson, FitReportSchema } from '../../src/core/rfm/serialize';
import { RunMetaSchema, RunRecordSchema, type RunRecord } from '../../src/extension/host/runRecord';
import {
  ConvRfmPanelStateSchema,
  LogsPanelStateSchema,
  NfaLabPanelStateSchema,
  NfaPanelStateSchema,
  parseState,
  RfmPanelStateSchema,
  stateProblem,
} from '../../src/protocol/viewState';
import { fixture } from './data-helpers';

const nfa = {
  title: 'NFA: mlp.safetensors',
  weights: 'file:///w/mlp.safetensors',
  data: 'file:///w/data.csv',
  target: 'y',
  activation: 'relu',
  layers: ['0.weight', '2.weight'],
  init: null,
  standardize: true,
  rfm: 'fit',
  focus: null,
};
const convrfm = {
  title: 'ConvRFM: images.npz',
  data: 'file:///w/images.npz',
  args: { target: 'y', patch: 3, iters: 2, seed: 0 },
};
const lab = {
  data: 'file:///w/data.csv',
  target: 'y',
  settings: { width: 64, depth: 2, activation: 'relu', optimizer: 'adam', lr: 0.01, batch: 32, epochs: 10, seed: 0 },
  epochs: [{ epoch: 1, loss: 0.5, layers: [{ name: '0.weight', pearsonSqrt: 0.9, pearson: 0.8 }] }],
  total: 10,
  trained: null,
  message: 'done',
};

describe('revived view states', () => {
  it('valid states come back as they were saved', () => {
    assert.deepEqual(parseState(RfmPanelStateSchema, { runId: '20261204-101010-abc123' }), {
      runId: '20261204-101010-abc123',
    });
    assert.deepEqual(parseState(RfmPanelStateSchema, { runId: null }), { runId: null });
    assert.deepEqual(parseState(NfaPanelStateSchema, nfa), nfa);
    assert.deepEqual(parseState(NfaLabPanelStateSchema, lab), lab);
    assert.deepEqual(parseState(ConvRfmPanelStateSchema, convrfm), convrfm);
    assert.deepEqual(parseState(LogsPanelStateSchema, { requested: 'file:///r/metrics.csv', column: null }), {
      requested: 'file:///r/metrics.csv',
      column: null,
    });
  });
  it('states of older versions (fields added since) still revive, with the old defaults', () => {
    const { standardize: _s, focus: _f, ...old } = nfa;
    assert.deepEqual(parseState(NfaPanelStateSchema, old), { ...old, standardize: false, focus: null });
    assert.deepEqual(parseState(NfaLabPanelStateSchema, { settings: { width: 8 } }), {
      data: null,
      target: null,
      settings: { width: 8 },
      epochs: [],
      total: 0,
      trained: null,
      message: '',
    });
  });
  const BAD: [string, Parameters<typeof parseState>[0], unknown, RegExp][] = [
    ['rfm: a run id that is a path', RfmPanelStateSchema, { runId: '../../secrets' }, /runId/],
    ['rfm: no state object', RfmPanelStateSchema, 'x', /state/],
    ['nfa: target an object', NfaPanelStateSchema, { ...nfa, target: {} }, /target/],
    ['nfa: layers not names', NfaPanelStateSchema, { ...nfa, layers: [1, 2] }, /layers\.0/],
    ['nfa: bandwidth 0', NfaPanelStateSchema, { ...nfa, rfmBandwidth: 0 }, /rfmBandwidth/],
    ['nfa: weights missing', NfaPanelStateSchema, { ...nfa, weights: undefined }, /weights/],
    ['lab: lr negative', NfaLabPanelStateSchema, { ...lab, settings: { lr: -1 } }, /settings\.lr/],
    ['lab: unknown optimizer', NfaLabPanelStateSchema, { ...lab, settings: { optimizer: 'lbfgs' } }, /optimizer/],
    ['lab: epochs not a list', NfaLabPanelStateSchema, { ...lab, epochs: 'many' }, /epochs/],
    ['lab: no settings', NfaLabPanelStateSchema, { ...lab, settings: undefined }, /settings/],
    ['convrfm: no file', ConvRfmPanelStateSchema, { ...convrfm, data: '' }, /data/],
    ['convrfm: options not an object', ConvRfmPanelStateSchema, { ...convrfm, args: 'patch 3' }, /args/],
    ['logs: empty path', LogsPanelStateSchema, { requested: '', column: null }, /requested/],
    ['logs: column a number', LogsPanelStateSchema, { requested: 'file:///a.csv', column: 3 }, /column/],
  ];
  for (const [name, schema, state, field] of BAD)
    it(`refuses ${name}`, () => {
      assert.equal(parseState(schema, state), undefined);
      assert.match(stateProblem(schema, state) ?? '', field);
    });
});

describe('saved runs', async () => {
  const { dataset } = await loadDataset(fixture('iris.csv'), 'iris.csv', { target: 'species' });
  const result = await fitRfm(dataset, { iters: 1 }, { backend: new CpuBackend() });
  const report = fitResultToJson(result);
  const record: RunRecord = {
    version: 1,
    meta: {
      runId: '20261204-101010-abc123',
      createdAt: '2026-12-04T10:10:10.000Z',
      dataset: { uri: 'file:///w/iris.csv', name: 'iris.csv', sha256: 'ab', bytes: 100, rows: 150, cols: 5 },
      target: 'species',
      task: report.task,
      backend: 'cpu',
      device: 'cpu',
      where: 'host',
      backendReason: 'asked',
      final: report.final,
      seconds: 1,
    },
    args: { target: 'species', test: 'file:///w/test.csv' },
    options: result.options,
    valFraction: 0.2,
    result: report,
  };
  const saved = () => JSON.parse(JSON.stringify(record));

  it('a run as the store writes it reads back equal', () => {
    const r = RunRecordSchema.safeParse(saved());
    assert.ok(r.success, r.error?.message);
    assert.deepEqual(r.data, record);
    assert.ok(RunMetaSchema.safeParse(saved().meta).success);
  });
  it('NaN metrics (written as null) read back as NaN', () => {
    const j = saved();
    j.result.iterations[0].train_metric = null;
    const r = FitReportSchema.safeParse(j.result);
    assert.ok(r.success);
    assert.ok(Number.isNaN(r.data.iterations[0].train_metric));
  });
  const BAD: [string, (j: RunRecord & Record<string, unknown>) => void][] = [
    ['a version 2 record', (j) => Object.assign(j, { version: 2 })],
    ['M not d x d', (j) => j.result.M.pop()],
    ['importance of the wrong length', (j) => j.result.importance.push(1)],
    ['feature names of the wrong length', (j) => j.result.feature_names.pop()],
    ['an unknown backend', (j) => Object.assign(j.result, { backend: 'tpu' })],
    ['a task that is not one', (j) => Object.assign(j.meta, { task: 'ranking' })],
    ['meta and result disagreeing on the task', (j) => Object.assign(j.meta, { task: 'regression' })],
    ['a run id with a slash', (j) => Object.assign(j.meta, { runId: 'a/b' })],
    ['options missing', (j) => Object.assign(j, { options: undefined })],
    ['a string where seconds go', (j) => Object.assign(j.result, { seconds: '3' })],
  ];
  for (const [name, spoil] of BAD)
    it(`refuses ${name}`, () => {
      const j = saved();
      spoil(j);
      assert.equal(RunRecordSchema.safeParse(j).success, false);
    });
});
