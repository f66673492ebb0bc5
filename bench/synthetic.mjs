// The benchmark task of bench/fit.mjs and bench/backends.mjs: x ~ U(-1, 1)^d, y = x0 * x1 + sin(x2), seeded.
import { rng } from '../src/core/random.ts';

export function syntheticTask(n, d, seed) {
  const r = rng(seed);
  const X = new Float64Array(n * d),
    y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) X[i * d + j] = 2 * r() - 1;
    y[i] = X[i * d] * X[i * d + 1] + Math.sin(X[i * d + 2]);
  }
  const featureNames = Array.from({ length: d }, (_, j) => `x${j}`);
  const ds = (X, y, source) => ({
    source,
    X: { rows: y.length, cols: d, data: X },
    featureNames,
    y,
    targetName: 'y',
    task: 'regression',
  });
  return ds(X, y, `synthetic n=${n}`);
}
