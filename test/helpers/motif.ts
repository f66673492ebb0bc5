// A synthetic image task where a local motif decides the label (after docs/science.md §6's "star" anchor):
// grey images of Gaussian noise, each with one small motif at a random place; class 1 has a plus (+),
// class 0 a cross (x). Both motifs have the same number of lit pixels and the same brightness, so only
// their local shape tells the classes apart.
import { mat } from '../../src/core/mat';
import { normal, rng } from '../../src/core/random';
import type { Dataset } from '../../src/core/data/dataset';

const PLUS = [
  [0, 1],
  [1, 0],
  [1, 1],
  [1, 2],
  [2, 1],
];
const CROSS = [
  [0, 0],
  [0, 2],
  [1, 1],
  [2, 0],
  [2, 2],
];

/**
 * `n` images of side x side pixels, labels alternating 0, 1; the motif's top-left corner is at the centre
 * shifted by up to `jitter` pixels each way (clipped to the image). `offset` is the standard deviation of a
 * brightness added to the whole image: large and irrelevant, it hides the motif from a plain distance.
 */
export function motifImages(n: number, side: number, seed: number, noise = 0.3, jitter = side, offset = 0): Dataset {
  const u = rng(seed);
  const g = normal(u);
  const X = new Float64Array(n * side * side);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    y[i] = label;
    const shift = offset * g();
    for (let j = 0; j < side * side; j++) X[i * side * side + j] = shift + noise * g();
    const mid = Math.floor((side - 3) / 2);
    const place = () => Math.min(side - 3, Math.max(0, mid + Math.floor(u() * (2 * jitter + 1)) - jitter));
    const r0 = place();
    const c0 = place();
    for (const [a, b] of label ? PLUS : CROSS) X[i * side * side + (r0 + a) * side + (c0 + b)] += 1;
  }
  return {
    source: `motif-${seed}`,
    X: mat(n, side * side, X),
    featureNames: Array.from({ length: side * side }, (_, j) => `p${j}`),
    y,
    targetName: 'y',
    task: 'classification',
    classes: ['0', '1'],
    imageShape: [1, side, side],
  };
}
