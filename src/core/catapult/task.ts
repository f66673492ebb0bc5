import type { Dataset } from '../data/dataset';
import { InputError } from '../errors';
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
    const g0 = d * train.X.data[i * d + 1],
      g1 = d * train.X.data[i * d];
    G[0] += g0 * g0;
    G[1] += g0 * g1;
    G[d] += g1 * g0;
    G[d + 1] += g1 * g1;
  }
  for (let q = 0; q < G.length; q++) G[q] /= n;
  const test = nTest > 0 ? make(nTest) : undefined;
  return { X: train.X, y: train.y, targetAgop: G, Xtest: test?.X, ytest: test?.y };
}

/** cos(A, B) = <A, B>_F / (|A|_F |B|_F) (docs/science.md §3). */
export function frobeniusCosine(A: Float64Array, B: Float64Array): number {
  let ab = 0,
    aa = 0,
    bb = 0;
  for (let i = 0; i < A.length; i++) {
    ab += A[i] * B[i];
    aa += A[i] * A[i];
    bb += B[i] * B[i];
  }
  return ab / Math.sqrt(aa * bb);
}

/**
 * A lab task from the user's table: rows scaled by one common factor so the mean |x| is 1 (the
 * NTK scale the lab's learning rates assume), the target standardised; for classification the
 * scalar output fits +1 for `positiveClass` (default the first class) and -1 otherwise. The target
 * function, hence its AGOP, is unknown.
 */
export function labTaskFromDataset(ds: Dataset, positiveClass = 0): LabTask {
  const { rows: n, cols: d, data } = ds.X;
  if (n < 2) throw new InputError(`${ds.source}: the catapult lab needs at least 2 rows, got ${n}`);
  let norms = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += data[i * d + k] ** 2;
    norms += Math.sqrt(s);
  }
  const scale = norms > 0 ? n / norms : 1;
  const X = new Float64Array(data.length);
  for (let q = 0; q < data.length; q++) X[q] = data[q] * scale;
  const y = new Float64Array(n);
  if (ds.task === 'classification') {
    for (let i = 0; i < n; i++) y[i] = ds.y[i] === positiveClass ? 1 : -1;
  } else {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += ds.y[i];
    mean /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (ds.y[i] - mean) ** 2;
    const sd = Math.sqrt(v / n) || 1;
    for (let i = 0; i < n; i++) y[i] = (ds.y[i] - mean) / sd;
  }
  return { X: mat(n, d, X), y };
}
