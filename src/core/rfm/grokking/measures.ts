// The progress measures of docs/science.md §4: circulant deviation of the bottom-left block of M and the
// AGOP alignment (Frobenius cosine) between feature matrices.
import { discreteLogOrder, type ModOp } from './tasks';

/**
 * The p x p block A of the 2p x 2p matrix M with A_lj = M[p + l, j] (row l = b-coordinate l, column
 * j = a-coordinate j). For mul and div the rows and columns 1..p-1 are taken in discrete-log order
 * and index 0 is left out, giving the (p-1) x (p-1) block on which x and / act as + and -.
 */
export function crossBlock(M: ArrayLike<number>, p: number, op: ModOp): { A: Float64Array; m: number } {
  const d = 2 * p;
  const order =
    op === 'mul' || op === 'div' ? discreteLogOrder(p).subarray(1) : Int32Array.from({ length: p }, (_, i) => i);
  const m = order.length;
  const A = new Float64Array(m * m);
  for (let l = 0; l < m; l++) for (let j = 0; j < m; j++) A[l * m + j] = M[(p + order[l]) * d + order[j]];
  return { A, m };
}

/**
 * Circulant deviation of an m x m block A: roll row l left by l places for a circulant structure
 * (A'_lj = A_l,(j+l) mod m, add and mul) or right by l for a Hankel one (A'_lj = A_l,(j-l) mod m, sub
 * and div); D = sum_j Var_l(A'_lj) / ||A||_F^2 with the population variance down each column.
 * 0 for an exactly circulant (Hankel) block; ~1/m for an unstructured one; NaN for A = 0 (M = I).
 */
export function blockCirculantDeviation(A: ArrayLike<number>, m: number, hankel: boolean): number {
  let fro = 0;
  for (let i = 0; i < m * m; i++) fro += A[i] * A[i];
  if (fro === 0) return NaN;
  let total = 0;
  for (let j = 0; j < m; j++) {
    let s = 0,
      s2 = 0;
    for (let l = 0; l < m; l++) {
      const col = hankel ? (((j - l) % m) + m) % m : (j + l) % m;
      const v = A[l * m + col];
      s += v;
      s2 += v * v;
    }
    const mean = s / m;
    total += Math.max(0, s2 / m - mean * mean);
  }
  return total / fro;
}

/** The circulant deviation of M for the task (docs/science.md §4). */
export function circulantDeviation(M: ArrayLike<number>, p: number, op: ModOp): number {
  const { A, m } = crossBlock(M, p, op);
  return blockCirculantDeviation(A, m, op === 'sub' || op === 'div');
}

/** rho(A, B) = <A, B>_F / (|A|_F |B|_F); 0 when either is 0. */
export function frobeniusAlignment(A: ArrayLike<number>, B: ArrayLike<number>): number {
  let ab = 0,
    aa = 0,
    bb = 0;
  for (let i = 0; i < A.length; i++) {
    ab += A[i] * B[i];
    aa += A[i] * A[i];
    bb += B[i] * B[i];
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

export function trace(M: ArrayLike<number>, d: number): number {
  let t = 0;
  for (let i = 0; i < d; i++) t += M[i * d + i];
  return t;
}

/**
 * M with both p-blocks' indices in discrete-log order ([0, g^0, ..., g^{p-2}] for a and for b), for
 * showing mul/div structure; the identity order for add/sub.
 */
export function reorderForView(M: ArrayLike<number>, p: number, op: ModOp): Float64Array {
  const d = 2 * p;
  const base = op === 'mul' || op === 'div' ? discreteLogOrder(p) : Int32Array.from({ length: p }, (_, i) => i);
  const order = [...base, ...Array.from(base, (v) => v + p)];
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) out[i * d + j] = M[order[i] * d + order[j]];
  return out;
}
