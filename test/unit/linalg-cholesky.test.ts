import { test } from 'node:test';
import assert from 'node:assert/strict';
import { choleskyInPlace, choleskySolveInPlace } from '../../src/core/linalg/cholesky';
import { rng } from '../../src/core/random';

test('Cholesky solve recovers x from A x = b for SPD A of sizes around the 4-row blocking', () => {
  for (const n of [1, 2, 3, 4, 5, 7, 8, 13, 64]) {
    const r = rng(n),
      B = Float64Array.from({ length: n * n }, () => r() - 0.5);
    const A = new Float64Array(n * n); // A = B B^T + n I
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = i === j ? n : 0;
        for (let k = 0; k < n; k++) s += B[i * n + k] * B[j * n + k];
        A[i * n + j] = s;
      }
    const x = Float64Array.from({ length: 2 * n }, () => r() - 0.5);
    const b = new Float64Array(2 * n);
    for (let i = 0; i < n; i++)
      for (let c = 0; c < 2; c++) for (let k = 0; k < n; k++) b[i * 2 + c] += A[i * n + k] * x[k * 2 + c];
    const L = Float64Array.from(A);
    assert.ok(choleskyInPlace(L, n));
    choleskySolveInPlace(L, n, b, 2);
    b.forEach((v, i) => assert.ok(Math.abs(v - x[i]) < 1e-10, `n=${n}: x[${i}] = ${v}, want ${x[i]}`));
  }
});

test('Cholesky reports a matrix that is not positive definite', () => {
  const A = Float64Array.from([4, 2, 0, 0, 2, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 5]);
  assert.equal(choleskyInPlace(Float64Array.from([1, 2, 2, 1]), 2), false);
  assert.equal(choleskyInPlace(A.subarray(0, 16), 4), false); // rank-deficient leading 2x2 block
});
