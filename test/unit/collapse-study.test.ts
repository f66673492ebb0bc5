// The per-layer neural-collapse study (core/nfa/collapse.ts) against test/fixtures/weights/make_collapse.py:
// each hidden layer's features equal PyTorch's (float64), and NC1 / classic NC1 / NC2 on train and held-out
// rows and each weight's top-k singular share equal numpy's from the formulas. Also: conv features, the
// onLayer/abort hooks, the fallback to the CPU, and the CLI through dist/cli.js.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { readDatasetFile } from '../../src/core/data/node';
import { BackendError, CancelledError, InputError } from '../../src/core/errors';
import type { Dataset } from '../../src/core/data/dataset';
import { mat } from '../../src/core/mat';
import { CpuNfaBackend, type NfaBackend } from '../../src/core/nfa/backend';
import {
  collapseReport,
  collapseStudy,
  hiddenFeatures,
  type CollapseCompute,
  type CollapseResult,
} from '../../src/core/nfa/collapse';
import { convForwardCpu } from '../../src/core/nfa/convCpu';
import { size3 } from '../../src/core/nfa/convnet';
import { forwardTrace } from '../../src/core/nfa/mlp';
import { inferLayerChain, loadMlp, networkView, type Mlp } from '../../src/core/nfa/network';
import { bytesSource, openWeights } from '../../src/core/weights';
import { randomConvNet, randomImages } from './conv-nets';

const DIR = join(__dirname, '../fixtures/weights');
interface Nc {
  nc1: number;
  nc1_classic: number;
  nc2: number;
}
interface Wsv {
  k: number;
  within_kept: number;
  between_kept: number;
}
const expected = JSON.parse(readFileSync(join(DIR, 'collapse_expected.json'), 'utf8')) as {
  classes: string[];
  feature_rows: number;
  input: Nc & { test: Nc };
  layers: (Nc & { name: string; test: Nc; wsv: Wsv; features_train: number[][]; features_test: number[][] })[];
  output_wsv: Wsv & { weight: string };
};

let net: Mlp;
let train: Dataset;
let held: Dataset;

const labels = (d: Dataset) => Int32Array.from(d.y);
const cpuOnly: CollapseCompute = { choice: 'cpu', backend: async () => new CpuNfaBackend() };

before(async () => {
  const loaded = await readDatasetFile(join(DIR, 'collapse_train.csv'), { target: 'y' });
  train = loaded.dataset;
  held = (await readDatasetFile(join(DIR, 'collapse_test.csv'), { target: 'y' }, loaded.schema)).dataset;
  const file = networkView(
    await openWeights(bytesSource(new Uint8Array(readFileSync(join(DIR, 'collapse_net.pt')))), 'collapse_net.pt'),
  );
  const chain = inferLayerChain(file.tensors, 'collapse_net.pt', { inputDim: 6, fileOrder: file.savedOrder });
  net = await loadMlp(file, chain, 'relu');
});

/** max |got - want| / max(1, max |want|). */
function scaledErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  assert.equal(got.length, want.length);
  let scale = 1,
    worst = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / scale);
  return worst;
}

const rel = (got: number | null, want: number, tol: number, what: string) =>
  assert.ok(got !== null && Math.abs(got - want) <= tol * Math.abs(want), `${what}: got ${got}, want ${want}`);

function assertNc(
  got: { nc1: number | null; nc1_classic: number | null; nc2: number | null },
  want: Nc,
  tol: number,
  what: string,
) {
  rel(got.nc1, want.nc1, tol, `${what} nc1`);
  rel(got.nc1_classic, want.nc1_classic, tol, `${what} nc1_classic`);
  rel(got.nc2, want.nc2, tol, `${what} nc2`);
}

test('the fixture: 4 classes in label order, a 6-32-32-32-4 chain in file order', () => {
  assert.deepEqual(train.classes, expected.classes);
  assert.deepEqual(
    net.layers.map((l) => l.name),
    ['0.weight', '2.weight', '4.weight', '6.weight'],
  );
  assert.equal(train.X.rows, 160);
  assert.equal(held.X.rows, 80);
});

test("each hidden layer's features equal PyTorch's ReLU outputs (float64, 1e-12 scaled), train and held-out", async () => {
  const rows = expected.feature_rows;
  for (const [data, key] of [
    [train, 'features_train'],
    [held, 'features_test'],
  ] as const) {
    const X = mat(rows, 6, data.X.data.subarray(0, rows * 6));
    const f = await new CpuNfaBackend().features(net, X);
    assert.equal(f.length, 3);
    f.forEach((h, l) => {
      const e = scaledErr(h, expected.layers[l][key].flat());
      assert.ok(e < 1e-12, `${key} layer ${l}: ${e}`);
    });
  }
});

let result: CollapseResult;

test('NC1, classic NC1 and NC2 of the input and every hidden layer, train and held-out, equal numpy (1e-9 relative)', async () => {
  const seen: string[] = [];
  result = await collapseStudy(
    {
      net,
      classes: train.classes!,
      train: { X: train.X, labels: labels(train) },
      test: { X: held.X, labels: labels(held) },
    },
    cpuOnly,
    { onLayer: (l, i, total) => seen.push(`${i + 1}/${total} ${l.name}`) },
  );
  assert.deepEqual(seen, ['1/3 0.weight', '2/3 2.weight', '3/3 4.weight']);
  const report = collapseReport(result);
  assertNc(report.input, expected.input, 1e-9, 'input');
  assertNc(report.input.test!, expected.input.test, 1e-9, 'input test');
  assert.equal(report.layers.length, 3);
  report.layers.forEach((l, i) => {
    const want = expected.layers[i];
    assert.equal(l.name, want.name);
    assertNc(l, want, 1e-9, l.name);
    assertNc(l.test!, want.test, 1e-9, `${l.name} test`);
    assert.equal(l.wsv!.k, want.wsv.k);
    rel(l.wsv!.within_kept, want.wsv.within_kept, 1e-9, `${l.name} within kept`);
    rel(l.wsv!.between_kept, want.wsv.between_kept, 1e-9, `${l.name} between kept`);
    rel(l.wsv!.within_removed, 1 - want.wsv.within_kept, 1e-9, `${l.name} within removed`);
  });
  assert.equal(report.output_wsv!.weight, '6.weight');
  assert.equal(report.output_wsv!.k, expected.output_wsv.k);
  // The classifier of a network fitted to MSE 8e-6 keeps almost nothing of the within-class scatter.
  assert.ok(Math.abs(report.output_wsv!.within_kept! - expected.output_wsv.within_kept) <= 1e-7);
  rel(report.output_wsv!.between_kept, expected.output_wsv.between_kept, 1e-9, 'output between kept');
  assert.equal(result.note, null);
  assert.equal(report.backend, 'cpu');
});

test('the report has the issue keys, and null test metrics without held-out rows', async () => {
  const r = await collapseStudy(
    { net, classes: train.classes!, train: { X: train.X, labels: labels(train) } },
    cpuOnly,
  );
  const j = collapseReport(r);
  assert.deepEqual(j.classes, ['0', '1', '2', '3']);
  for (const l of j.layers) {
    for (const k of ['name', 'nc1', 'nc1_classic', 'nc2', 'test']) assert.ok(k in l, k);
    assert.equal(l.test, null);
    assert.equal(l.class_means_2d.length, 4);
  }
  for (const k of ['nc1', 'nc1_classic', 'nc2']) assert.ok(k in j.input, k);
  assert.equal(j.input.test, null);
  // Same train numbers with or without held-out rows.
  assert.equal(j.layers[2].nc1, collapseReport(result).layers[2].nc1);
});

test('held-out rows missing a class and with unseen labels: metrics over the classes present', async () => {
  // Keep the held-out rows of classes 0..2 only, and mark two rows unseen (-1).
  const keep = [...held.y.keys()].filter((i) => held.y[i] !== 3);
  const X = mat(keep.length, 6, Float64Array.from(keep.flatMap((i) => [...held.X.data.subarray(i * 6, i * 6 + 6)])));
  const lab = Int32Array.from(keep, (i) => held.y[i]);
  const r = await collapseStudy(
    {
      net,
      classes: train.classes!,
      train: { X: train.X, labels: labels(train) },
      test: { X, labels: lab },
    },
    cpuOnly,
  );
  assert.deepEqual(r.testClasses, [0, 1, 2]);
  // The same as relabelled 3-class metrics computed directly through hiddenFeatures + the K = 3 problem.
  const direct = await collapseStudy({ net, classes: ['0', '1', '2'], train: { X, labels: lab } }, cpuOnly);
  r.layers.forEach((l, i) => assert.equal(l.test!.nc1, direct.layers[i].train.nc1));
  const withUnseen = Int32Array.from(lab);
  withUnseen[0] = -1;
  withUnseen[1] = -1;
  const r2 = await collapseStudy(
    { net, classes: train.classes!, train: { X: train.X, labels: labels(train) }, test: { X, labels: withUnseen } },
    cpuOnly,
  );
  assert.ok(r2.layers[0].test!.nc1 !== r.layers[0].test!.nc1, 'the two unseen rows are left out');
  await assert.rejects(
    collapseStudy(
      {
        net,
        classes: train.classes!,
        train: { X: train.X, labels: labels(train) },
        test: { X, labels: new Int32Array(lab.length) },
      },
      cpuOnly,
    ),
    (e) => e instanceof InputError && /held-out rows hold 1 of the 4 classes/.test(e.message),
  );
});

test('abort before and between layers throws CancelledError; K < 2 is an InputError', async () => {
  const c = new AbortController();
  c.abort();
  await assert.rejects(
    collapseStudy({ net, classes: train.classes!, train: { X: train.X, labels: labels(train) } }, cpuOnly, {
      signal: c.signal,
    }),
    CancelledError,
  );
  const c2 = new AbortController();
  await assert.rejects(
    collapseStudy({ net, classes: train.classes!, train: { X: train.X, labels: labels(train) } }, cpuOnly, {
      signal: c2.signal,
      onLayer: () => c2.abort(),
    }),
    CancelledError,
  );
  await assert.rejects(
    collapseStudy({ net, classes: ['a'], train: { X: train.X, labels: new Int32Array(160) } }, cpuOnly),
    (e) => e instanceof InputError && /at least 2 classes/.test(e.message),
  );
});

test('a GPU that fails mid-run continues on the CPU with a note', async () => {
  const cpu = new CpuNfaBackend();
  const failing: NfaBackend = {
    ...cpu,
    name: 'webgpu',
    device: 'webgpu test double',
    features: async () => {
      throw new BackendError('webgpu', 'device lost (unknown): test');
    },
    convFeatures: (n, X) => cpu.convFeatures(n, X),
    forward: (n, X) => cpu.forward(n, X),
    agopSums: (n, X) => cpu.agopSums(n, X),
    convForward: (n, X) => cpu.convForward(n, X),
    outputGradGrams: (n, X) => cpu.outputGradGrams(n, X),
    createTrainSession: (p) => cpu.createTrainSession(p),
    dispose: () => {},
  };
  const asked: string[] = [];
  const r = await collapseStudy(
    { net, classes: train.classes!, train: { X: train.X, labels: labels(train) } },
    {
      choice: 'auto',
      backend: async (p) => {
        asked.push(p);
        return p === 'host-gpu' ? failing : new CpuNfaBackend();
      },
      host: 'this process',
    },
  );
  assert.deepEqual(asked, ['host-gpu', 'host-cpu']);
  assert.equal(r.backend, 'cpu');
  assert.match(r.note!, /CPU in this process \(WebGPU in this process: device lost/);
  assert.equal(r.layers[0].train.nc1, result.layers[0].train.nc1);
});

test('conv networks: each hidden layer output (after activation and pooling), fed on, gives the network output', async () => {
  const shapes = [
    [4, 2, 3, 3],
    [5, 4, 3, 3],
    [6, 5 * 4 * 4],
    [3, 6],
  ];
  const cnet = randomConvNet(shapes, [2, 9, 9], { padding: 1, layers: { '0': { pool: 'max:2' } } }, 'relu', 4);
  const X = randomImages(7, size3(cnet.input), 5);
  const f = await hiddenFeatures(cnet, X, new CpuNfaBackend());
  assert.deepEqual(
    f.map((h) => h.length / 7),
    cnet.layers.slice(0, -1).map((l) => size3(l.nextShape)),
  );
  // The last hidden output through the dense head (6 -> 3, no activation) is the network output.
  const head = cnet.layers[3];
  const out = convForwardCpu(cnet, X).data;
  for (let r = 0; r < 7; r++)
    for (let o = 0; o < 3; o++) {
      let s = head.b ? head.b[o] : 0;
      for (let j = 0; j < 6; j++) s += head.W[o * 6 + j] * f[2][r * 6 + j];
      assert.ok(Math.abs(s - out[r * 3 + o]) < 1e-12);
    }
  // The first hidden output is relu(conv) max-pooled: nonnegative, 4 x 4 x 4 after pooling 9x9 (pad 1) by 2.
  assert.equal(f[0].length / 7, 4 * 4 * 4);
  assert.ok(f[0].every((v) => v >= 0));
  // And a dense network's features are forwardTrace's activations.
  const t = forwardTrace(net, train.X);
  const g = await hiddenFeatures(net, train.X, new CpuNfaBackend());
  g.forEach((h, l) => assert.deepEqual(h, t.inputs[l + 1]));
});

const cli = (...args: string[]) => spawnSync(process.execPath, ['dist/cli.js', ...args], { encoding: 'utf8' });

test('CLI: feature-lens collapse writes the issue JSON with the independent numbers, a table by default, and refuses a continuous target', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fl-collapse-'));
  const out = join(dir, 'c.json');
  const w = join(DIR, 'collapse_net.pt');
  const r = cli(
    'collapse',
    w,
    join(DIR, 'collapse_train.csv'),
    '--target',
    'y',
    '--test',
    join(DIR, 'collapse_test.csv'),
    '--json',
    out,
    '--backend',
    'cpu',
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^layer\s+width\s+NC1\s+NC1 classic\s+NC2\s+test NC1/m);
  assert.match(r.stdout, /^4\.weight\s+32\s+0\.1026\s/m);
  const j = JSON.parse(readFileSync(out, 'utf8'));
  assert.deepEqual(j.classes, ['0', '1', '2', '3']);
  assertNc(j.input, expected.input, 1e-9, 'cli input');
  j.layers.forEach((l: Nc & { name: string; test: Nc }, i: number) => {
    assert.equal(l.name, expected.layers[i].name);
    assertNc(l, expected.layers[i], 1e-9, `cli ${l.name}`);
    assertNc(l.test, expected.layers[i].test, 1e-9, `cli ${l.name} test`);
  });
  const noTest = cli(
    'collapse',
    w,
    join(DIR, 'collapse_train.csv'),
    '--target',
    'y',
    '--json',
    '-',
    '--backend',
    'cpu',
  );
  assert.equal(noTest.status, 0, noTest.stderr);
  const j2 = JSON.parse(noTest.stdout);
  assert.equal(j2.layers[0].test, null);
  assert.equal(j2.input.test, null);
  const cont = cli('collapse', w, join(DIR, 'collapse_train.csv'), '--target', 'x0', '--backend', 'cpu');
  assert.equal(cont.status, 1);
  assert.match(cont.stderr, /target 'x0' is continuous .*give a column of class labels/);
});
