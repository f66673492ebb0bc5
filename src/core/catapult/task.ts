import { mat, type Mat } from '../mat';
import { normal, rng } from '../random';

/**
 * A synthetic low-rank regression task whose AGOP is known: x ~ N(0, I_d / d) (so |x| ~ 1) and
 * y = d * x_0 * x_1, which depends on two directions only; grad y = d (x_1, x_0, 0, ...), so the
 * target AGOP G* = (1/n) sum grad y grad y^T is rank 2.
 */
export interface LabTask {
  readonly X: Mat;
  readonly y: Float64Array;
  /** G* on the training inputs (d x d), when the target function is known. */
  readonly targetAgop?: Float64Array;
  /** Held-out rows from the same distribution, when available. */
  readonly Xtest?: Mat;
  readonly ytest?: Float64Array;
}

export function lowRankTask(n: number, d: number, seed: number, nTest = 0): LabTask {
  if (d < 2) throw new RangeError('lowRankTask: need d >= 2');
  const draw = normal(rng(seed ^ 0x5eed));
  const make = (rows: number) => {
    const X = new Float64Array(rows * d);
    const y = new Float64Array(rows);
    const s = 1 / Math.sqrt(d);
    for (let i = 0; i < rows; i++) {
      for (let k = 0; k < d; k++) X[i * d + k] = draw() * s;
      y[i] = d * X[i * d] * X[i * d + 1];
    }
    return { X: mat(rows, d, X), y };
  };
  const train = make(n);
  const G = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    const g0 = d * train.X.data[i * d + 1], g1 = d * train.X.data[i * d];
    G[0] += g0 * g0; G[1] += g0 * g1; G[d] += g1 * g0; G[d + 1] += g1 * g1;
  }
  for (let q = 0; q < G.length; q++) G[q] /= n;
  const test = nTest > 0 ? make(nTest) : undefined;
  return { X: train.X, y: train.y, targetAgop: G, Xtest: test?.X, ytest: test?.y };
}

/** cos(A, B) = <A, B>_F / (|A|_F |B|_F) (SCIENCE.md §3). */
export function frobeniusCosine(A: Float64Array, B: Float64Array): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < A.length; i++) { ab += A[i] * B[i]; aa += A[i] * A[i]; bb += B[i] * B[i]; }
  return ab / Math.sqrt(aa * bb);
}
