import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linearR2, sparseRegression } from '../../src/core/linrfm/sparse';
import { mat } from '../../src/core/mat';
import { normal, rng } from '../../src/core/random';

/** y = Xβ* + 3 + noise with β* nonzero on `support` only. */
function planted(n: number, d: number, support: number[], noise: number, seed: number) {
  const g = normal(rng(seed));
  const X = mat(n, d, Float64Array.from({ length: n * d }, g));
  const beta = new Float64Array(d);
  support.forEach((j, k) => (beta[j] = (k % 2 ? -1 : 1) * (1 + k)));
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 3;
    for (let j = 0; j < d; j++) s += X.data[i * d + j] * beta[j];
    y[i] = s + noise * g();
  }
  return { X, y, beta };
}

for (const alpha of [0.5, 0.25]) {
  test(`α = ${alpha}: recovers the support and values of a planted sparse vector (n > d)`, () => {
    const { X, y, beta } = planted(200, 40, [3, 11, 27, 30], 0.01, 5);
    const r = sparseRegression({ X, y }, undefined, { alpha });
    assert.deepEqual(r.support, [3, 11, 27, 30]);
    for (let j = 0; j < 40; j++)
      assert.ok(Math.abs(r.coef[j] - beta[j]) < 0.01, `coef ${j}: ${r.coef[j]} vs ${beta[j]}`);
    assert.ok(Math.abs(r.intercept - 3) < 0.01);
    assert.ok(r.trainR2 > 0.9999);
  });
}

test('α = ½ recovers the support with fewer rows than columns (dual solve)', () => {
  const { X, y, beta } = planted(60, 150, [7, 80, 149], 0, 9);
  const test2 = planted(50, 150, [7, 80, 149], 0, 10);
  const r = sparseRegression({ X, y }, { X: test2.X, y: test2.y });
  assert.deepEqual(r.support, [7, 80, 149]);
  for (const j of r.support) assert.ok(Math.abs(r.coef[j] - beta[j]) < 1e-3);
  assert.ok(r.testR2 > 0.999, `test R² ${r.testR2}`);
});

test('with noise (σ = 0.5) the support is still the planted one; coefficients within the noise', () => {
  const { X, y, beta } = planted(300, 60, [2, 20, 41, 59], 0.5, 12);
  for (const alpha of [0.5, 0.25]) {
    const r = sparseRegression({ X, y }, undefined, { alpha });
    assert.deepEqual(r.support, [2, 20, 41, 59]);
    for (const j of r.support) assert.ok(Math.abs(r.coef[j] - beta[j]) < 0.15, `coef ${j}: ${r.coef[j]} vs ${beta[j]}`);
  }
});

test('linearR2: 1 for an exact fit, 0 for the mean', () => {
  const X = mat(3, 1, Float64Array.from([1, 2, 3]));
  const y = Float64Array.from([3, 5, 7]);
  assert.equal(linearR2(X, y, Float64Array.from([2]), 1), 1);
  assert.equal(linearR2(X, y, Float64Array.from([0]), 5), 0);
});
