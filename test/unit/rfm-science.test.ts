// docs/science.md §5 reference cases and invariants, on the CPU float64 backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CpuBackend } from '../../src/core/rfm/cpu';
import { mat, type Mat } from '../../src/core/mat';
import { agopFromMoments, applyTransform, transformOf } from '../../src/core/rfm/feature-matrix';
import { fitRfm } from '../../src/core/rfm/fit';
import { eighSym } from '../../src/core/linalg/eigh';
import type { Dataset } from '../../src/core/data/dataset';
import { rng } from '../../src/core/random';

const cpu = new CpuBackend();
const close = (got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string) => {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++)
    assert.ok(Math.abs(got[i] - want[i]) <= tol, `${what}[${i}]: got ${got[i]}, want ${want[i]}`);
};

function t2(): { X: Mat; Y: Mat } {
  const X = mat(8, 3);
  for (let i = 0; i < 8; i++) for (let j = 0; j < 3; j++) X.data[i * 3 + j] = Math.sin(1.3 * i + 0.7 * j);
  const Y = mat(
    8,
    1,
    Float64Array.from({ length: 8 }, (_, i) => X.data[i * 3] * X.data[i * 3 + 1]),
  );
  return { X, Y };
}

test('T2: alpha and AGOP of the tiny Laplace regression (M = I, L = 1, reg = 1e-3)', async () => {
  const { X, Y } = t2();
  const kernel = { name: 'laplace' as const, bandwidth: 1 };
  const sol = await cpu.solve(X, kernel, Y, 1e-3);
  assert.ok(sol.ok);
  close(
    sol.alpha.data,
    [-0.426499, 0.722765, -0.193334, 0.746518, 0.195011, 0.08309, 0.35494, -0.364233],
    1e-5,
    'alpha',
  );
  const R = transformOf({ diag: false, d: 3, data: Float64Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]) });
  const G = agopFromMoments(await cpu.gradMoments(X, X, kernel, sol.alpha, false), R, 8, false, false, 3);
  close(
    G.data,
    [0.055447, 0.01947, -0.025664, 0.01947, 0.026645, 0.021289, -0.025664, 0.021289, 0.058229],
    1e-5,
    'AGOP',
  );
  const max = Math.max(...G.data);
  close([G.data[0] / max, G.data[4] / max, G.data[8] / max], [0.952221, 0.45759, 1], 1e-5, 'AGOP/max diagonal');
});

function randomPsd(d: number, seed: number): Float64Array {
  const r = rng(seed),
    A = new Float64Array(d * d),
    M = new Float64Array(d * d);
  for (let i = 0; i < A.length; i++) A[i] = r() - 0.5;
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) for (let k = 0; k < d; k++) M[i * d + j] += A[k * d + i] * A[k * d + j];
  return M;
}

for (const name of ['laplace', 'gaussian'] as const) {
  test(`gradient of the ${name} predictor under a non-identity M equals central finite differences`, async () => {
    const { X, Y } = t2();
    const d = 3,
      kernel = { name, bandwidth: 1.5 };
    const M = { diag: false, d, data: randomPsd(d, 7) };
    const R = transformOf(M);
    const Xt = applyTransform(X, R);
    const sol = await cpu.solve(Xt, kernel, Y, 1e-3);
    assert.ok(sol.ok);
    const f = async (z: number[]) =>
      (await cpu.predict(applyTransform(mat(1, d, Float64Array.from(z)), R), Xt, kernel, sol.alpha)).data[0];
    const z = [0.3, -0.2, 0.5];
    // Analytic gradient in input coordinates: R^T g~, with g~ the transformed-space gradient (sum over one query row).
    const gt = (await cpu.gradMoments(applyTransform(mat(1, d, Float64Array.from(z)), R), Xt, kernel, sol.alpha, false))
      .sum.data;
    const analytic = Array.from({ length: d }, (_, j) => {
      let s = 0;
      for (let r = 0; r < R.rows; r++) s += R.data[r * d + j] * gt[r];
      return s;
    });
    const h = 1e-5;
    const numeric: number[] = [];
    for (let j = 0; j < d; j++) {
      const zp = [...z],
        zm = [...z];
      zp[j] += h;
      zm[j] -= h;
      numeric.push(((await f(zp)) - (await f(zm))) / (2 * h));
    }
    close(analytic, numeric, 1e-6, 'gradient');
  });
}

function synthetic(n: number, d: number, seed: number, dup = 0): Dataset {
  const r = rng(seed),
    X = mat(n, d),
    y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const src = i < dup ? 0 : i; // the first `dup` rows copy row 0 exactly
    for (let j = 0; j < d; j++) X.data[i * d + j] = src === i ? r() * 2 - 1 : X.data[j];
    y[i] = X.data[i * d] * X.data[i * d + 1] + Math.sin(X.data[i * d + 2]);
  }
  return {
    source: 'synthetic',
    X,
    featureNames: Array.from({ length: d }, (_, j) => `x${j}`),
    y,
    targetName: 'y',
    task: 'regression',
  };
}

test('invariants: M symmetric PSD; the diag option equals the diagonal of the full AGOP; duplicates give finite M', async () => {
  const ds = synthetic(60, 5, 3, 4);
  for (const centerGrads of [false, true]) {
    for (const agopPower of [1, 0.5] as const) {
      const full = await fitRfm(
        ds,
        { iters: 1, normalize: 'none', agopPower, standardize: false, centerGrads },
        { backend: cpu },
      );
      const M = full.M;
      for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) assert.equal(M[i * 5 + j], M[j * 5 + i]);
      const { values } = eighSym(M, 5);
      assert.ok(values[4] >= -1e-12 * values[0], `PSD: smallest eigenvalue ${values[4]}`);
      assert.ok(M.every(Number.isFinite));
      if (agopPower === 1) {
        const diag = await fitRfm(
          ds,
          { iters: 1, normalize: 'none', agopPower, standardize: false, diag: true, centerGrads },
          { backend: cpu },
        );
        close(diag.importance, full.importance, 1e-12 * Math.max(...full.importance), 'diag AGOP vs full diagonal');
      }
    }
  }
});

test('a fit learns the relevant coordinates and early stopping returns the best iteration', async () => {
  const ds = synthetic(300, 6, 11);
  const res = await fitRfm(ds, { iters: 3, earlyStop: true }, { backend: cpu, valFraction: 0.25 });
  // 75 validation rows; the iteration is chosen on an inner split of the other 225 (45 rows).
  assert.equal(res.nTrain + res.nTest + res.selection!.rows, 300);
  assert.equal(res.selection!.rows, 45);
  const best = res.iterations.reduce((a, b) => (b.selectMse! < a.selectMse! ? b : a));
  assert.equal(res.bestIter, best.iter);
  assert.equal(res.final.testMse, best.testMse);
  // y depends on x0, x1, x2 only: after a round of feature learning they carry the largest weights.
  const plain = await fitRfm(ds, { iters: 2 }, { backend: cpu, valFraction: 0.25 });
  const top3 = Array.from(plain.importance, (v, j) => [v, j])
    .sort((a, b) => b[0] - a[0])
    .slice(0, 3)
    .map((p) => p[1])
    .sort();
  assert.deepEqual(top3, [0, 1, 2]);
  assert.ok(plain.iterations[2].testMse! < plain.iterations[0].testMse!, 'feature learning lowers the test error');
});
