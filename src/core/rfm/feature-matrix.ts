import { mat, type Mat } from '../mat';
import type { GradMoments } from './backend';
import { eighSym, symPow } from '../linalg/eigh';
import type { FeatureMatrix, RfmOptions } from './types';

export function identityFeatureMatrix(d: number, diag: boolean): FeatureMatrix {
  const data = new Float64Array(diag ? d : d * d);
  for (let i = 0; i < d; i++) data[diag ? i : i * d + i] = 1;
  return { diag, d, data };
}

export function fullMatrix(M: FeatureMatrix): Float64Array {
  if (!M.diag) return M.data;
  const out = new Float64Array(M.d * M.d);
  for (let i = 0; i < M.d; i++) out[i * M.d + i] = M.data[i];
  return out;
}

export function diagonal(M: FeatureMatrix): Float64Array {
  if (M.diag) return Float64Array.from(M.data);
  return Float64Array.from({ length: M.d }, (_, i) => M.data[i * M.d + i]);
}

/**
 * R (k x d) with R^T R = M, k = rank(M): R's rows are sqrt(lambda) q^T over M's non-negligible
 * eigenpairs (for a diagonal M, sqrt(m_j) e_j^T). Mahalanobis distances become Euclidean distances
 * between transformed rows x R^T, which is what backends compute (accurate in float32, unlike
 * x^T M x - 2 x^T M z + z^T M z).
 */
export function transformOf(M: FeatureMatrix): Mat {
  const d = M.d;
  if (M.diag) {
    const max = Math.max(...M.data);
    const keep = [...M.data.keys()].filter((j) => M.data[j] > max * 1e-12);
    const r = new Float64Array(keep.length * d);
    keep.forEach((j, k) => {
      r[k * d + j] = Math.sqrt(M.data[j]);
    });
    return mat(keep.length, d, r);
  }
  const { values, vectors } = eighSym(M.data, d);
  const keep = [...values.keys()].filter((k) => values[k] > values[0] * 1e-12);
  const r = new Float64Array(keep.length * d);
  keep.forEach((k, row) => {
    const s = Math.sqrt(values[k]);
    for (let j = 0; j < d; j++) r[row * d + j] = s * vectors[j * d + k];
  });
  return mat(keep.length, d, r);
}

/** Rows of X mapped by R: X R^T (n x k). */
export function applyTransform(X: Mat, R: Mat): Mat {
  const n = X.rows,
    d = X.cols,
    k = R.rows;
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < k; r++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += X.data[i * d + j] * R.data[r * d + j];
      out[i * k + r] = s;
    }
  }
  return mat(n, k, out);
}

/**
 * The AGOP in input coordinates from gradient moments taken in transformed coordinates:
 * input gradients are R^T g, so G = R^T (sum g g^T) R / N (optionally centred per output first).
 */
export function agopFromMoments(
  m: GradMoments,
  R: Mat,
  N: number,
  diag: boolean,
  center: boolean,
  d: number,
): FeatureMatrix {
  const k = R.rows,
    c = m.sum.rows,
    s = m.sum.data;
  if (diag) {
    const out = new Float64Array(d);
    for (let r = 0; r < k; r++) {
      let v = m.outer[r];
      if (center) for (let col = 0; col < c; col++) v -= (s[col * k + r] * s[col * k + r]) / N;
      // R is diagonal up to a row selection: its row r has one non-zero, at column j.
      for (let j = 0; j < d; j++) {
        const rj = R.data[r * d + j];
        if (rj !== 0) out[j] = (rj * rj * v) / N;
      }
    }
    return { diag: true, d, data: out };
  }
  const g = Float64Array.from(m.outer);
  if (center) {
    for (let col = 0; col < c; col++)
      for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) g[a * k + b] -= (s[col * k + a] * s[col * k + b]) / N;
  }
  // tmp = G~ R (k x d); out = R^T tmp (d x d)
  const tmp = new Float64Array(k * d);
  for (let a = 0; a < k; a++)
    for (let b = 0; b < k; b++) {
      const v = g[a * k + b];
      if (v === 0) continue;
      for (let j = 0; j < d; j++) tmp[a * d + j] += v * R.data[b * d + j];
    }
  const out = new Float64Array(d * d);
  for (let a = 0; a < k; a++)
    for (let i = 0; i < d; i++) {
      const ri = R.data[a * d + i];
      if (ri === 0) continue;
      for (let j = 0; j < d; j++) out[i * d + j] += (ri * tmp[a * d + j]) / N;
    }
  // Exact symmetry (rounding leaves ~1e-17 asymmetry that eigensolvers and heatmaps would show).
  for (let i = 0; i < d; i++)
    for (let j = i + 1; j < d; j++) {
      const v = 0.5 * (out[i * d + j] + out[j * d + i]);
      out[i * d + j] = v;
      out[j * d + i] = v;
    }
  return { diag: false, d, data: out };
}

/** M_{t+1} from the AGOP: G^power (symmetric square root for 1/2), then divided by its largest entry if asked. */
export function nextFeatureMatrix(G: FeatureMatrix, opts: Pick<RfmOptions, 'agopPower' | 'normalize'>): FeatureMatrix {
  let data: Float64Array;
  if (opts.agopPower === 1) data = Float64Array.from(G.data);
  else if (G.diag) data = G.data.map((v) => Math.sqrt(Math.max(v, 0)));
  else data = symPow(G.data, G.d, opts.agopPower);
  if (opts.normalize === 'max') {
    let max = -Infinity;
    for (const v of data) if (v > max) max = v;
    if (max > 0) for (let i = 0; i < data.length; i++) data[i] /= max;
  }
  return { diag: G.diag, d: G.d, data };
}
