// A seeded Gaussian mixture for the neural-collapse tests and benchmark (Deep RFM, docs/science.md §7).
import type { Dataset } from '../../src/core/data/dataset';
import { mat } from '../../src/core/mat';
import { normal, rng } from '../../src/core/random';

/** K Gaussian classes in d dimensions: means N(0, sep^2 I), unit isotropic noise, `per` rows each (interleaved). */
export function gaussianMixture(K: number, d: number, per: number, seed: number, sep = 1): Dataset {
  const g = normal(rng(seed));
  const means = Array.from({ length: K * d }, () => sep * g());
  const n = K * per;
  const X = new Float64Array(n * d);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % K;
    y[i] = c;
    for (let j = 0; j < d; j++) X[i * d + j] = means[c * d + j] + g();
  }
  return {
    source: 'mixture',
    X: mat(n, d, X),
    featureNames: Array.from({ length: d }, (_, j) => `x${j}`),
    y,
    targetName: 'y',
    task: 'classification',
    classes: Array.from({ length: K }, (_, c) => `c${c}`),
  };
}

/** The mixture as CSV text (columns x0.., then y), for the CLI. */
export function mixtureCsv(data: Dataset): string {
  const { rows: n, cols: d, data: x } = data.X;
  const lines = [[...data.featureNames, 'y'].join(',')];
  for (let i = 0; i < n; i++) lines.push([...x.subarray(i * d, (i + 1) * d), data.y[i]].join(','));
  return lines.join('\n') + '\n';
}
