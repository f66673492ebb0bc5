// eighSym on both of its algorithms (Jacobi for d <= JACOBI_MAX_DIM, Householder + QL above): numpy's
// eigenvalues, eigen-equation residuals, orthonormality, and agreement between the two algorithms.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eighSym, JACOBI_MAX_DIM, signedEigenpairs, symPow } from '../../src/core/linalg/eigh';
import { eighTridiagonal } from '../../src/core/linalg/eigh-tridiagonal';
import { denseKernels } from '../../src/core/linalg/denseKernels';
import { rng } from '../../src/core/random';

type Eig = { values: Float64Array; vectors: Float64Array };

function checkDecomposition(A: Float64Array, d: number, e: Eig, tol: number, label: string): void {
  let scale = 1e-300;
  for (const v of A) scale = Math.max(scale, Math.abs(v));
  for (let k = 1; k < d; k++) assert.ok(e.values[k] <= e.values[k - 1], `${label}: values descending`);
  for (let k = 0; k < d; k++)
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += A[i * d + j] * e.vectors[j * d + k];
      assert.ok(
        Math.abs(s - e.values[k] * e.vectors[i * d + k]) <= tol * scale,
        `${label}: A v = lambda v for k = ${k}`,
      );
    }
  for (let a = 0; a < d; a++)
    for (let b = a; b < d; b++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += e.vectors[i * d + a] * e.vectors[i * d + b];
      assert.ok(Math.abs(s - (a === b ? 1 : 0)) <= tol, `${label}: orthonormal columns ${a}, ${b}`);
    }
}

function randomSymmetric(d: number, seed: number, rank?: number): Float64Array {
  const r = rng(seed),
    k = rank ?? d;
  const B = Float64Array.from({ length: d * k }, () => r() - 0.5);
  const A = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) {
      let s = rank === undefined ? (i === j ? r() - 0.5 : 0) : 0;
      for (let t = 0; t < k; t++) s += B[i * k + t] * B[j * k + t];
      A[i * d + j] = s;
    }
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) A[i * d + j] = A[j * d + i];
  return A;
}

test('d = 80 (Householder + QL path): eigenvalues equal numpy.linalg.eigvalsh', () => {
  const d = 80;
  assert.ok(d > JACOBI_MAX_DIM);
  const A = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) A[i * d + j] = Math.cos(i * j * 0.37) + 1 / (1 + Math.abs(i - j));
  const e = eighSym(A, d);
  // /usr/bin/python3: numpy.linalg.eigvalsh of the same matrix, largest four and smallest three
  const top = [21.174474502687755, 16.182786384035573, 15.538379433700536, 15.38985843105284];
  const bottom = [-13.761838140808123, -14.103757948843427, -14.355487627341937];
  top.forEach((v, k) => assert.ok(Math.abs(e.values[k] - v) < 1e-12, `value ${k}: ${e.values[k]} vs ${v}`));
  bottom.forEach((v, k) =>
    assert.ok(Math.abs(e.values[d - 3 + k] - v) < 1e-12, `value ${d - 3 + k}: ${e.values[d - 3 + k]} vs ${v}`),
  );
  checkDecomposition(A, d, e, 1e-12, 'cos matrix');
});

test('Householder + QL agrees with Jacobi on full-rank, rank-deficient, diagonal, zero and tiny matrices', () => {
  const cases: [string, Float64Array, number][] = [
    ['full 40', randomSymmetric(40, 1), 40],
    ['full 65 (odd, padded)', randomSymmetric(65, 4), 65],
    ['rank 3 of 30', randomSymmetric(30, 2, 3), 30],
    ['diagonal', Float64Array.from({ length: 25 }, (_, i) => (i % 6 === 0 ? i / 6 + 1 : 0)), 5],
    ['repeated', Float64Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? 2 : 0)), 4],
    ['zero', new Float64Array(9), 3],
    ['1x1', Float64Array.from([-4]), 1],
    ['2x2', Float64Array.from([2, 1, 1, 2]), 2],
  ];
  for (const [label, A, d] of cases) {
    const t = eighTridiagonal(A, d);
    checkDecomposition(A, d, t, 1e-13, `QL ${label}`);
    // The same algorithm with its loops in JavaScript (where WebAssembly SIMD is missing).
    const js = eighTridiagonal(A, d, denseKernels(d, false));
    checkDecomposition(A, d, js, 1e-13, `QL (JavaScript loops) ${label}`);
    for (let k = 0; k < d; k++) assert.ok(Math.abs(t.values[k] - js.values[k]) <= 1e-13 * (1 + Math.abs(js.values[k])));
    const j = eighSym(A, d);
    for (let k = 0; k < d; k++)
      assert.ok(
        Math.abs(t.values[k] - j.values[k]) < 1e-13,
        `${label} value ${k}: QL ${t.values[k]} vs Jacobi ${j.values[k]}`,
      );
  }
});

test('symPow above the Jacobi size: (A^1/2)^2 = A for a rank-deficient PSD matrix', () => {
  const d = 64;
  const A = randomSymmetric(d, 5, 10);
  const S = symPow(A, d, 0.5);
  let worst = 0,
    scale = 0;
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += S[i * d + k] * S[k * d + j];
      worst = Math.max(worst, Math.abs(s - A[i * d + j]));
      scale = Math.max(scale, Math.abs(A[i * d + j]));
    }
  assert.ok(worst < 1e-12 * scale, `|S^2 - A| = ${worst}`);
});

test('rank-deficient 200 x 200 (null space of dimension 170, as in a first-layer AGOP) converges', () => {
  const d = 200;
  const A = randomSymmetric(d, 9, 30);
  const e = eighSym(A, d);
  checkDecomposition(A, d, e, 1e-13, 'rank 30 of 200');
  for (let k = 30; k < d; k++) assert.ok(Math.abs(e.values[k]) < 1e-12, `null-space value ${k}: ${e.values[k]}`);
  assert.ok(e.values[29] > 1e-3);
});

test('signedEigenpairs: A v = lambda v for the top k pairs, each with its largest loading positive', () => {
  const d = 6;
  const r = rng(11);
  const B = Float64Array.from({ length: d * d }, () => r() - 0.5);
  const A = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) for (let t = 0; t < d; t++) A[i * d + j] += B[t * d + i] * B[t * d + j];
  const { values, vectors } = signedEigenpairs(A, d, 3);
  assert.equal(vectors.length, 3);
  assert.ok(values[0] >= values[1] && values[1] >= values[2]);
  vectors.forEach((v, k) => {
    for (let i = 0; i < d; i++) {
      let Av = 0;
      for (let j = 0; j < d; j++) Av += A[i * d + j] * v[j];
      assert.ok(Math.abs(Av - values[k] * v[i]) < 1e-9);
    }
    const big = v.reduce((b, x, i) => (Math.abs(x) > Math.abs(v[b]) ? i : b), 0);
    assert.ok(v[big] > 0);
  });
});
