// The indicator-input RFM steps (rfm/indicator.ts) against the dense float64 CPU backend on the same
// points transformed by R (R^T R = M): kernel matrices, predictions and the AGOP agree; the quadratic
// kernel against its gradient written out; the smallest-jitter solve interpolates.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CpuBackend } from '../../src/core/rfm/cpu';
import { agopFromMoments, applyTransform, transformOf } from '../../src/core/rfm/feature-matrix';
import {
  CpuGramSums,
  indicatorGradMoments,
  indicatorKernelMatrix,
  indicatorPredict,
  solveSmallestJitter,
  type IndicatorRows,
} from '../../src/core/rfm/indicator';
import { modularTask } from '../../src/core/rfm/grokking/tasks';
import { mat, type Mat } from '../../src/core/mat';
import { rng } from '../../src/core/random';

function dense(R: IndicatorRows): Mat {
  const X = new Float64Array(R.n * R.d);
  for (let i = 0; i < R.n; i++) for (let u = 0; u < R.width; u++) X[i * R.d + R.idx[i * R.width + u]] += 1;
  return mat(R.n, R.d, X);
}

function randomSpd(d: number, seed: number): Float64Array {
  const r = rng(seed),
    B = Float64Array.from({ length: d * d }, () => r() - 0.5),
    M = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) {
      let s = i === j ? 0.5 : 0;
      for (let k = 0; k < d; k++) s += B[i * d + k] * B[j * d + k];
      M[i * d + j] = s / d;
    }
  return M;
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

test('indicator kernels, predictions and AGOP equal the dense CPU backend on R-transformed points', async () => {
  const p = 5,
    d = 2 * p,
    task = modularTask('add', p, 0.6, 1);
  const Xr = task.train.rows,
    Zr = task.test.rows;
  const M = randomSpd(d, 4);
  const R = transformOf({ diag: false, d, data: M });
  const Xt = applyTransform(dense(Xr), R),
    Zt = applyTransform(dense(Zr), R);
  const r = rng(9);
  const alpha = mat(
    Xr.n,
    p,
    Float64Array.from({ length: Xr.n * p }, () => r() - 0.5),
  );
  const cpu = new CpuBackend();
  for (const name of ['gaussian', 'laplace'] as const) {
    const kernel = { name, bandwidth: 1.7 };
    const want = await cpu.predict(Zt, Xt, kernel, alpha);
    const got = indicatorPredict(Zr, Xr, M, kernel, alpha);
    assert.ok(maxAbsDiff(got.data, want.data) < 1e-10, `${name} predict`);
    const K = indicatorKernelMatrix(Xr, Xr, M, kernel, 'k');
    for (let i = 0; i < Xr.n; i++) assert.equal(K[i * Xr.n + i], 1);
    for (const center of [false, true]) {
      const dm = await cpu.gradMoments(Xt, Xt, kernel, alpha, false);
      const wantG = agopFromMoments(dm, R, Xr.n, false, center, d).data;
      const im = await indicatorGradMoments(Xr, Xr, M, kernel, alpha, new CpuGramSums(), 7);
      const gotG = agopFromMoments(im, mat(d, d, M), Xr.n, false, center, d).data;
      const scale = Math.max(...wantG.map(Math.abs));
      assert.ok(maxAbsDiff(gotG, wantG) < 1e-9 * scale, `${name} center ${center} AGOP`);
    }
  }
});

test('quadratic kernel: k = (x^T M z)^2 and the AGOP of grad_z f_c = sum_i 2 alpha_ic (x_i^T M z) M x_i', async () => {
  const p = 3,
    d = 6,
    task = modularTask('mul', p, 0.6, 2);
  const Xr = task.train.rows,
    n = Xr.n;
  const M = randomSpd(d, 8),
    X = dense(Xr).data;
  const r = rng(3);
  const alpha = mat(
    n,
    p,
    Float64Array.from({ length: n * p }, () => r() - 0.5),
  );
  const kernel = { name: 'quadratic' as const, bandwidth: 1 };
  const K = indicatorKernelMatrix(Xr, Xr, M, kernel, 'k');
  const inner = (i: number, j: number) => {
    let s = 0;
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) s += X[i * d + a] * M[a * d + b] * X[j * d + b];
    return s;
  };
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) assert.ok(Math.abs(K[i * n + j] - inner(i, j) ** 2) < 1e-12);
  // The AGOP written out: G = (1/n) sum_z sum_c g g^T with g = sum_i 2 alpha_ic (x_i^T M z) M x_i.
  const want = new Float64Array(d * d);
  for (let z = 0; z < n; z++)
    for (let c = 0; c < p; c++) {
      const v = new Float64Array(d);
      for (let i = 0; i < n; i++) {
        const w = 2 * alpha.data[i * p + c] * inner(i, z);
        for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) v[a] += w * M[a * d + b] * X[i * d + b];
      }
      for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) want[a * d + b] += (v[a] * v[b]) / n;
    }
  const im = await indicatorGradMoments(Xr, Xr, M, kernel, alpha, new CpuGramSums());
  const got = agopFromMoments(im, mat(d, d, M), n, false, false, d).data;
  assert.ok(maxAbsDiff(got, want) < 1e-10 * Math.max(...want.map(Math.abs)));
});

test('solveSmallestJitter: 0 jitter for a positive definite K, the smallest factorising one for a singular K', () => {
  const n = 3;
  const spd = Float64Array.from([2, 1, 0, 1, 2, 1, 0, 1, 2]);
  const Y = mat(n, 1, Float64Array.from([1, 2, 3]));
  const a = solveSmallestJitter(spd, n, Y);
  assert.equal(a.jitter, 0);
  // K alpha = Y exactly (interpolation).
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += spd[i * n + j] * a.alpha.data[j];
    assert.ok(Math.abs(s - Y.data[i]) < 1e-12);
  }
  // Rank one: all-ones. Cholesky needs a positive jitter; the chosen one is 1e-12..1e-2 of the mean diagonal.
  const ones = new Float64Array(9).fill(1);
  const b = solveSmallestJitter(ones, n, Y);
  assert.ok(b.jitter > 0 && b.jitter <= 1e-2);
});

test('indicator AGOP with three indices per row (the general path) equals the dense CPU backend', async () => {
  const d = 7,
    n = 12,
    r = rng(21);
  const rows = (m: number): IndicatorRows => ({
    n: m,
    width: 3,
    idx: Int32Array.from({ length: 3 * m }, () => Math.floor(r() * d)),
    d,
  });
  const Xr = rows(n);
  const M = randomSpd(d, 6);
  const R = transformOf({ diag: false, d, data: M });
  const Xt = applyTransform(dense(Xr), R);
  const alpha = mat(
    n,
    2,
    Float64Array.from({ length: 2 * n }, () => r() - 0.5),
  );
  const kernel = { name: 'gaussian' as const, bandwidth: 1.3 };
  const dm = await new CpuBackend().gradMoments(Xt, Xt, kernel, alpha, false);
  const want = agopFromMoments(dm, R, n, false, true, d).data;
  const im = await indicatorGradMoments(Xr, Xr, M, kernel, alpha, new CpuGramSums(), 5);
  const got = agopFromMoments(im, mat(d, d, M), n, false, true, d).data;
  assert.ok(maxAbsDiff(got, want) < 1e-9 * Math.max(...want.map(Math.abs)));
});
