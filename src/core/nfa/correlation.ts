// Matrix correlations used by the NFA references (docs/science.md §2): cosine = <A, B>_F / (|A|_F |B|_F);
// Pearson = cosine after subtracting each matrix's mean entry; both optionally over off-diagonal
// entries only (then the mean is that of the off-diagonal entries).
import { eighSym } from '../linalg/eigh';

export interface CorrelationOptions {
  center: boolean;
  offDiagonal: boolean;
}

/** NaN when either matrix is constant (zero after centring): the correlation is undefined there. */
export function matrixCorrelation(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  d: number,
  opts: CorrelationOptions,
): number {
  if (a.length !== d * d || b.length !== d * d) throw new Error(`matrixCorrelation: expected ${d}x${d} matrices`);
  const keep = (i: number): boolean => !opts.offDiagonal || Math.floor(i / d) !== i % d;
  let ma = 0,
    mb = 0,
    count = 0;
  if (opts.center) {
    for (let i = 0; i < d * d; i++)
      if (keep(i)) {
        ma += a[i];
        mb += b[i];
        count++;
      }
    if (count === 0) return NaN;
    ma /= count;
    mb /= count;
  }
  let ab = 0,
    aa = 0,
    bb = 0;
  for (let i = 0; i < d * d; i++) {
    if (!keep(i)) continue;
    const x = a[i] - ma,
      y = b[i] - mb;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : NaN;
}

export interface PowerPair {
  /** Against AGOP^1 (or M^1). */
  agop: number;
  /** Against AGOP^(1/2) (or M^(1/2)). */
  sqrt_agop: number;
}

/** Every labelled variant, against both powers of the second matrix. */
export interface NfaCorrelations {
  cosine: PowerPair;
  pearson: PowerPair;
  cosine_offdiag: PowerPair;
  pearson_offdiag: PowerPair;
}

export function nfaCorrelations(
  nfm: ArrayLike<number>,
  g: ArrayLike<number>,
  sqrtG: ArrayLike<number>,
  d: number,
): NfaCorrelations {
  const pair = (center: boolean, offDiagonal: boolean): PowerPair => ({
    agop: matrixCorrelation(nfm, g, d, { center, offDiagonal }),
    sqrt_agop: matrixCorrelation(nfm, sqrtG, d, { center, offDiagonal }),
  });
  return {
    cosine: pair(false, false),
    pearson: pair(true, false),
    cosine_offdiag: pair(false, true),
    pearson_offdiag: pair(true, true),
  };
}

export interface EigenAlignment {
  k: number;
  /** |<u_i, v_i>| for the i-th eigenvectors of A and B (largest eigenvalue first). */
  cosines: number[];
  /** ||U_k^T V_k||_F^2 / k: 1 when the top-k subspaces coincide, 0 when orthogonal. Sign- and order-free. */
  subspace_overlap: number;
}

type Eigen = { values: Float64Array; vectors: Float64Array };

/** How the top-k eigenvectors of two symmetric matrices line up (the view's "top directions compared"). */
export function eigenAlignment(A: Float64Array, B: Float64Array, d: number, k: number): EigenAlignment {
  return eigenAlignmentOf(eighSym(A, d), eighSym(B, d), d, k);
}

/** eigenAlignment from eighSym results (columns = eigenvectors, values descending). */
export function eigenAlignmentOf(ea: Eigen, eb: Eigen, d: number, k: number): EigenAlignment {
  const kk = Math.max(0, Math.min(k, d));
  const cosines: number[] = [];
  let overlap = 0;
  for (let i = 0; i < kk; i++) {
    for (let j = 0; j < kk; j++) {
      let s = 0;
      for (let r = 0; r < d; r++) s += ea.vectors[r * d + i] * eb.vectors[r * d + j];
      if (i === j) cosines.push(Math.abs(s));
      overlap += s * s;
    }
  }
  return { k: kk, cosines, subspace_overlap: kk ? overlap / kk : NaN };
}
