import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mat } from '../../src/core/mat';
import { eighSym } from '../../src/core/linalg/eigh';
import { rng } from '../../src/core/random';
import {
  CpuCatapultBackend,
  topEigenvalue,
  tridiagonalMax,
  trainReluLab,
  batchSweep,
  lowRankTask,
  labTaskFromDataset,
  frobeniusCosine,
} from '../../src/core/catapult/index';
import { F, reluNtkProblem, reluNtkRef } from '../helpers/reluNtk';

const ref = reluNtkRef;
const problem = reluNtkProblem;

function close(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string) {
  assert.equal(got.length, want.length, what);
  for (let i = 0; i < want.length; i++)
    assert.ok(
      Math.abs(got[i] - want[i]) <= tol * Math.max(1, Math.abs(want[i])),
      `${what}[${i}]: ${got[i]} vs ${want[i]}`,
    );
}

test('CPU ReLU session against numpy: residuals, NTK-vector product, top NTK eigenvalue, AGOP', async () => {
  const s = await new CpuCatapultBackend().createSession(problem());
  close(await s.residuals(), ref.residuals, 1e-12, 'residuals');
  close(await s.ntkMatVec(F(ref.v)), ref.Kv, 1e-12, 'Kv');
  const lam = await topEigenvalue((v) => s.ntkMatVec(v), ref.n);
  assert.ok(Math.abs(lam - ref.lambda_max) < 1e-9 * ref.lambda_max, `lambda ${lam} vs numpy ${ref.lambda_max}`);
  close(await s.agop(), ref.agop, 1e-12, 'agop');
});

test('CPU ReLU session against numpy: one GD step and one SGD step on given rows', async () => {
  const b = new CpuCatapultBackend();
  const gd = await b.createSession(problem());
  await gd.step(ref.lr);
  const w1 = await gd.weights();
  close(w1.W, ref.gd.W, 1e-12, 'gd W');
  close(w1.a, ref.gd.a, 1e-12, 'gd a');
  const sgd = await b.createSession(problem());
  await sgd.step(ref.lr, Uint32Array.from(ref.sgd_rows));
  const w2 = await sgd.weights();
  close(w2.W, ref.sgd.W, 1e-12, 'sgd W');
  close(w2.a, ref.sgd.a, 1e-12, 'sgd a');
});

test('Lanczos tridiagonal: eigenvalue 2 + sqrt 2 of tridiag(1, 2, 1) of size 3', () => {
  assert.ok(Math.abs(tridiagonalMax([2, 2, 2], [1, 1]) - (2 + Math.SQRT2)) < 1e-12);
  assert.ok(Math.abs(tridiagonalMax([5], []) - 5) < 1e-12);
});

test('target AGOP of the low-rank task is rank 2 on the first two coordinates; cosine of a matrix with itself is 1', () => {
  const t = lowRankTask(50, 5, 1);
  const G = t.targetAgop!;
  for (let r = 0; r < 5; r++) for (let c = 0; c < 5; c++) if (r > 1 || c > 1) assert.equal(G[r * 5 + c], 0);
  let g00 = 0;
  for (let i = 0; i < 50; i++) g00 += (5 * t.X.data[i * 5 + 1]) ** 2;
  assert.ok(Math.abs(G[0] - g00 / 50) < 1e-12);
  assert.ok(Math.abs(frobeniusCosine(G, G) - 1) < 1e-15);
});

const small = { n: 64, d: 6, width: 128, batch: 64, steps: 150, every: 25 };
for (const seed of [0, 1, 2]) {
  test(`ReLU GD phase picture from the trajectory, seed ${seed}: 1/lambda_0 lazy, 3/lambda_0 catapult, 8/lambda_0 divergent`, async () => {
    const b = new CpuCatapultBackend();
    const lazy = await trainReluLab({ ...small, seed, lrFactor: 1 }, b);
    assert.equal(lazy.phase, 'lazy');
    assert.ok(Math.max(...lazy.losses) === lazy.losses[0]);
    const cat = await trainReluLab({ ...small, seed, lrFactor: 3 }, b);
    assert.equal(cat.phase, 'catapult');
    assert.ok(
      cat.lambdas[0] > cat.edge && cat.lambdas[cat.lambdas.length - 1] < cat.edge,
      'lambda_max drops below 2/eta',
    );
    assert.ok(cat.losses[cat.losses.length - 1] < 0.05 * cat.losses[0]);
    const div = await trainReluLab({ ...small, seed, lrFactor: 8 }, b);
    assert.equal(div.phase, 'divergent');
    assert.ok(div.losses[div.losses.length - 1] > 1e6 * div.losses[0]);
    assert.ok(cat.alignments![cat.alignments!.length - 1] > cat.alignments![0], 'AGOP alignment grows');
  });
}

test('SGD batch sweep: smaller batches give more catapults (docs/science.md §3)', async () => {
  const pts = await batchSweep(
    [16, 64],
    [0, 1, 2],
    { ...small, lrFactor: 1.5, steps: 300, every: 100 },
    new CpuCatapultBackend(),
  );
  const count = (b: number) => pts.filter((p) => p.batch === b).reduce((s, p) => s + p.catapults, 0);
  assert.ok(count(16) > count(64) + 3, `batch 16: ${count(16)} catapults, batch 64: ${count(64)}`);
});

test('a user dataset becomes a lab task: rows scaled to mean norm 1, regression target standardised, classes as +-1', async () => {
  const X = mat(4, 2, F([3, 4, 0, 0, 6, 8, 0, 3]));
  const reg = labTaskFromDataset({
    source: 't.csv',
    X,
    featureNames: ['a', 'b'],
    y: F([1, 2, 3, 4]),
    targetName: 'y',
    task: 'regression',
  });
  // norms 5, 0, 10, 3: mean 4.5, so every entry is divided by 4.5
  assert.ok(Math.abs(reg.X.data[0] - 3 / 4.5) < 1e-15);
  assert.ok(Math.abs(reg.X.data[7] - 3 / 4.5) < 1e-15);
  const sd = Math.sqrt(1.25);
  close(reg.y, [-1.5 / sd, -0.5 / sd, 0.5 / sd, 1.5 / sd], 1e-15, 'y');
  assert.equal(reg.targetAgop, undefined);
  const cls = labTaskFromDataset({
    source: 't.csv',
    X,
    featureNames: ['a', 'b'],
    y: F([0, 1, 2, 0]),
    targetName: 'c',
    task: 'classification',
    classes: ['x', 'y', 'z'],
  });
  assert.deepEqual([...cls.y], [1, -1, -1, 1]);
  const r = await trainReluLab({ task: cls, width: 32, steps: 20, lrFactor: 1, every: 10 }, new CpuCatapultBackend());
  assert.equal(r.alignments, null);
  assert.equal(r.losses.length, 21);
  assert.throws(
    () =>
      labTaskFromDataset({
        source: 'one.csv',
        X: mat(1, 2, F([1, 2])),
        featureNames: ['a', 'b'],
        y: F([1]),
        targetName: 'y',
        task: 'regression',
      }),
    /one\.csv: the catapult lab needs at least 2 rows/,
  );
});

test('progress is streamed every step, lambda and alignment where measured; cancellation stops the run', async () => {
  const seen: { step: number; lambda?: number }[] = [];
  const r = await trainReluLab({ ...small, steps: 20, every: 10, lrFactor: 1 }, new CpuCatapultBackend(), {
    onProgress: (p) => seen.push(p),
  });
  assert.deepEqual(
    seen.map((p) => p.step),
    Array.from({ length: 21 }, (_, i) => i),
  );
  assert.deepEqual(
    seen.filter((p) => p.lambda !== undefined).map((p) => p.step),
    [0, 10, 20],
  );
  assert.deepEqual(
    seen.filter((p) => p.lambda !== undefined).map((p) => p.lambda),
    r.lambdas,
  );
  const token = { cancelled: false };
  await assert.rejects(
    trainReluLab({ ...small, steps: 50 }, new CpuCatapultBackend(), {
      cancel: token,
      onProgress: (p) => {
        if (p.step === 5) token.cancelled = true;
      },
    }),
    /cancelled/,
  );
});

test('Lanczos on NTK-vector products equals the dense NTK spectrum (Jacobi) at n = 96, mid-training too', async () => {
  const task = lowRankTask(96, 8, 3);
  const b = new CpuCatapultBackend();
  const W = new Float64Array(64 * 8),
    a = new Float64Array(64);
  const r = rng(9);
  for (let q = 0; q < W.length; q++) W[q] = 2 * r() - 1;
  for (let j = 0; j < a.length; j++) a[j] = 2 * r() - 1;
  const s = await b.createSession({ X: task.X, y: task.y, W, a, width: 64 });
  for (let round = 0; round < 2; round++) {
    const n = 96;
    const K = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      const e = new Float64Array(n);
      e[i] = 1;
      K.set(await s.ntkMatVec(e), i * n);
    }
    const dense = Math.max(...eighSym(K, n).values);
    const lanczos = await topEigenvalue((v) => s.ntkMatVec(v), n);
    assert.ok(Math.abs(lanczos - dense) < 1e-8 * dense, `round ${round}: ${lanczos} vs ${dense}`);
    for (let t = 0; t < 30; t++) await s.step(0.5);
  }
});
