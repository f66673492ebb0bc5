import type { PartialMatrix } from '../../src/core/linrfm/complete';
import { normal, rng } from '../../src/core/random';

/** A rank-r m x d matrix U Vᵀ (Gaussian factors) and a mask observing each entry with probability p. */
export function lowRank(m: number, d: number, r: number, p: number, seed: number) {
  const u = rng(seed);
  const g = normal(u);
  const U = Float64Array.from({ length: m * r }, g);
  const V = Float64Array.from({ length: d * r }, g);
  const truth = new Float64Array(m * d);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k < r; k++) s += U[i * r + k] * V[j * r + k];
      truth[i * d + j] = s;
    }
  const data = Float64Array.from(truth, (v) => (u() < p ? v : NaN));
  return { truth, matrix: { rows: m, cols: d, data } as PartialMatrix };
}

/** Relative MSE of `completed` against `truth` on the entries missing from `matrix`. */
export function heldOutError(completed: Float64Array, truth: Float64Array, matrix: PartialMatrix): number {
  let e = 0,
    s = 0;
  for (let f = 0; f < truth.length; f++)
    if (Number.isNaN(matrix.data[f])) {
      e += (completed[f] - truth[f]) ** 2;
      s += truth[f] ** 2;
    }
  return e / s;
}
