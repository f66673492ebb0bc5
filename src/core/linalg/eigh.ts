import { eighTridiagonal } from './eigh-tridiagonal';

/** Above this size eighSym uses Householder + implicit QL instead of Jacobi (same contract). */
export const JACOBI_MAX_DIM = 48;

/**
 * Symmetric eigendecomposition by the cyclic Jacobi method (d <= JACOBI_MAX_DIM; larger matrices go to
 * eighTridiagonal): accurate to working precision, and simple enough to trust.
 * Returns eigenvalues in descending order and the matching eigenvectors as the COLUMNS of a
 * row-major d x d matrix (vectors[i * d + k] is component i of eigenvector k).
 */
export function eighSym(a: Float64Array, d: number): { values: Float64Array; vectors: Float64Array } {
  // Jacobi costs ~10 sweeps of 6 d^3: minutes at d = 784 (an MNIST first layer); see eigh-tridiagonal.ts.
  if (d > JACOBI_MAX_DIM) return eighTridiagonal(a, d);
  const m = Float64Array.from(a);
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  // Symmetrise once so tiny asymmetries from accumulation cannot bias the rotations.
  for (let i = 0; i < d; i++)
    for (let j = i + 1; j < d; j++) {
      const s = 0.5 * (m[i * d + j] + m[j * d + i]);
      m[i * d + j] = s;
      m[j * d + i] = s;
    }
  let total = 0;
  for (let i = 0; i < d * d; i++) total += m[i] * m[i];
  const tol = 1e-30 * Math.max(total, 1e-300);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) off += m[i * d + j] * m[i * d + j];
    if (off <= tol) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = m[p * d + q];
        if (apq === 0) continue;
        const app = m[p * d + p],
          aqq = m[q * d + q];
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1),
          s = t * c;
        for (let k = 0; k < d; k++) {
          const mkp = m[k * d + p],
            mkq = m[k * d + q];
          m[k * d + p] = c * mkp - s * mkq;
          m[k * d + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < d; k++) {
          const mpk = m[p * d + k],
            mqk = m[q * d + k];
          m[p * d + k] = c * mpk - s * mqk;
          m[q * d + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p],
            vkq = v[k * d + q];
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: d }, (_, i) => i).sort((x, y) => m[y * d + y] - m[x * d + x]);
  const values = new Float64Array(d);
  const vectors = new Float64Array(d * d);
  order.forEach((src, k) => {
    values[k] = m[src * d + src];
    for (let i = 0; i < d; i++) vectors[i * d + k] = v[i * d + src];
  });
  return { values, vectors };
}

/** A^p for symmetric PSD A (negative eigenvalues from rounding are clamped to 0). */
export function symPow(a: Float64Array, d: number, p: number): Float64Array {
  return powFromEigen(eighSym(a, d), d, p);
}

/** V diag(lambda^p) V^T from an eighSym result, so callers that also need the eigenvectors decompose once. */
export function powFromEigen(
  { values, vectors }: { values: Float64Array; vectors: Float64Array },
  d: number,
  p: number,
): Float64Array {
  const out = new Float64Array(d * d);
  for (let k = 0; k < d; k++) {
    const lam = values[k] > 0 ? Math.pow(values[k], p) : 0;
    if (lam === 0) continue;
    for (let i = 0; i < d; i++) {
      const vik = vectors[i * d + k] * lam;
      if (vik === 0) continue;
      for (let j = i; j < d; j++) out[i * d + j] += vik * vectors[j * d + k];
    }
  }
  // Mirror the upper triangle so the result is exactly symmetric.
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) out[i * d + j] = out[j * d + i];
  return out;
}

/**
 * The top `k` eigenpairs of a symmetric d x d matrix (largest eigenvalue first), each eigenvector
 * signed so its largest loading is positive: the same matrix always draws the same way.
 */
export function signedEigenpairs(a: Float64Array, d: number, k = d): { values: Float64Array; vectors: Float64Array[] } {
  const { values, vectors } = eighSym(a, d);
  const vecs = [...Array(Math.min(k, d)).keys()].map((c) => {
    const v = Float64Array.from({ length: d }, (_, r) => vectors[r * d + c]);
    let big = 0;
    for (let i = 1; i < d; i++) if (Math.abs(v[i]) > Math.abs(v[big])) big = i;
    if (v[big] < 0) v.forEach((x, i) => (v[i] = -x));
    return v;
  });
  return { values: values.slice(0, vecs.length), vectors: vecs };
}
