// lin-RFM sparse linear regression (SCIENCE.md §8): the linear kernel K(x, z) = xᵀ P z with a diagonal
// feature matrix M = diag(β²)^α, P = MᵀM = diag(|β|^{4α}) — ℓ_p IRLS with p = 2 − 4α (α = ½: ~ℓ₀/log,
// α = ¼: ℓ₁). Columns are standardised and y centred first (an intercept is fitted); β is reported in
// the data's units, refitted by least squares on the support the iterations found (debiased).
import { InputError } from '../errors';
import { choleskyInPlace, choleskySolveInPlace } from '../linalg/cholesky';
import type { Mat } from '../mat';

export interface SparseOptions {
  /** M = diag(β²)^α. Default ½. */
  alpha?: number;
  /** Ridge λ of each weighted solve (on standardised columns). Default 1e-3. */
  reg?: number;
  /** Most IRLS iterations. Default 200. */
  maxIters?: number;
  /** Stop when max |Δβ| ≤ tol · max |β| (standardised units). Default 1e-10. */
  tol?: number;
  /** A coefficient is in the support when |β_j|·sd_j > supportThreshold · max_k |β_k|·sd_k. Default 1e-3. */
  supportThreshold?: number;
}

export const SPARSE_DEFAULTS: Required<SparseOptions> = {
  alpha: 0.5,
  reg: 1e-3,
  maxIters: 200,
  tol: 1e-10,
  supportThreshold: 1e-3,
};

export interface SparseResult {
  /** Coefficients in the data's units: least squares on the support (after IRLS chose it); 0 outside it. */
  coef: Float64Array;
  intercept: number;
  /** Indices j (0-based, ascending) of the nonzero coefficients. */
  support: number[];
  iterations: number;
  trainR2: number;
  /** R² on the held-out rows (NaN without them). */
  testR2: number;
  alpha: number;
}

/** R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)² of the linear model on rows of X (ȳ of these rows). */
export function linearR2(X: Mat, y: Float64Array, coef: Float64Array, intercept: number): number {
  const n = X.rows;
  if (n === 0) return NaN;
  let mean = 0;
  for (const v of y) mean += v / n;
  let sse = 0,
    sst = 0;
  for (let i = 0; i < n; i++) {
    let p = intercept;
    for (let j = 0; j < X.cols; j++) p += X.data[i * X.cols + j] * coef[j];
    sse += (y[i] - p) ** 2;
    sst += (y[i] - mean) ** 2;
  }
  return sst > 0 ? 1 - sse / sst : sse === 0 ? 1 : -Infinity;
}

/** Solves the SPD system A x = b (A n x n, overwritten) with a growing jitter if rounding breaks it. */
function spdSolve(A: Float64Array, n: number, b: Float64Array): Float64Array {
  const base = Float64Array.from(A);
  let maxDiag = 0;
  for (let i = 0; i < n; i++) maxDiag = Math.max(maxDiag, base[i * n + i]);
  for (let extra = 0, k = 0; k < 12; k++, extra = extra ? extra * 10 : 1e-12 * Math.max(maxDiag, 1)) {
    A.set(base);
    for (let i = 0; i < n; i++) A[i * n + i] += extra;
    if (choleskyInPlace(A, n)) {
      const x = Float64Array.from(b);
      choleskySolveInPlace(A, n, x, 1);
      return x;
    }
  }
  throw new Error('linrfm sparse: weighted system is not positive definite');
}

/**
 * Fits y ≈ Xβ + b by lin-RFM with diagonal M on the rows of `train`; `test` (optional) gives test R².
 * Each iteration solves the weighted ridge problem with P = diag(d²), d = |β|^{2α} (β from the previous
 * iteration; d = 1 at the start): β = D (D XᵀX D + λ I)⁻¹ D Xᵀy when d ≤ n, else the dual
 * β = P Xᵀ (X P Xᵀ + λ I)⁻¹ y (the same minimiser, on the n x n side).
 */
export function sparseRegression(
  train: { X: Mat; y: Float64Array },
  test: { X: Mat; y: Float64Array } | undefined,
  options: SparseOptions = {},
): SparseResult {
  const o: Required<SparseOptions> = { ...SPARSE_DEFAULTS };
  for (const [k, v] of Object.entries(options)) if (v !== undefined) (o as Record<string, unknown>)[k] = v;
  if (!(o.alpha > 0 && Number.isFinite(o.alpha)))
    throw new InputError(`sparse regression: alpha must be a positive number, got ${o.alpha}`);
  if (!(o.reg > 0 && Number.isFinite(o.reg)))
    throw new InputError(`sparse regression: reg must be a positive number, got ${o.reg}`);
  const { X, y } = train;
  const n = X.rows,
    d = X.cols;
  if (n < 2) throw new InputError(`sparse regression: ${n} training rows; at least 2 are needed`);
  // Standardise columns, centre y.
  const mean = new Float64Array(d),
    sd = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += X.data[i * d + j] / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) sd[j] += (X.data[i * d + j] - mean[j]) ** 2 / n;
  for (let j = 0; j < d; j++) sd[j] = Math.sqrt(sd[j]);
  let ym = 0;
  for (const v of y) ym += v / n;
  const Z = new Float64Array(n * d);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) Z[i * d + j] = sd[j] > 0 ? (X.data[i * d + j] - mean[j]) / sd[j] : 0;
  const yc = Float64Array.from(y, (v) => v - ym);
  const primal = d <= n;
  // Primal pieces: ZᵀZ and Zᵀy, once.
  let ZtZ: Float64Array | undefined, Zty: Float64Array | undefined;
  if (primal) {
    ZtZ = new Float64Array(d * d);
    Zty = new Float64Array(d);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < d; j++) {
        const zij = Z[i * d + j];
        if (zij === 0) continue;
        Zty[j] += zij * yc[i];
        for (let k = j; k < d; k++) ZtZ[j * d + k] += zij * Z[i * d + k];
      }
    for (let j = 0; j < d; j++) for (let k = 0; k < j; k++) ZtZ[j * d + k] = ZtZ[k * d + j];
  }
  let beta: Float64Array = new Float64Array(d);
  const w = new Float64Array(d).fill(1); // D = P^{1/2} = |β|^{2α}
  let iterations = 0;
  for (let it = 1; it <= o.maxIters; it++) {
    iterations = it;
    let next: Float64Array;
    if (primal) {
      const A = new Float64Array(d * d);
      for (let j = 0; j < d; j++) for (let k = 0; k < d; k++) A[j * d + k] = w[j] * ZtZ![j * d + k] * w[k];
      for (let j = 0; j < d; j++) A[j * d + j] += o.reg;
      const u = spdSolve(
        A,
        d,
        Float64Array.from(Zty!, (v, j) => v * w[j]),
      );
      next = Float64Array.from(u, (v, j) => v * w[j]);
    } else {
      const K = new Float64Array(n * n);
      for (let i = 0; i < n; i++)
        for (let l = i; l < n; l++) {
          let s = 0;
          for (let j = 0; j < d; j++) s += Z[i * d + j] * w[j] * w[j] * Z[l * d + j];
          K[i * n + l] = s;
          K[l * n + i] = s;
        }
      for (let i = 0; i < n; i++) K[i * n + i] += o.reg;
      const a = spdSolve(K, n, yc);
      next = new Float64Array(d);
      for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) next[j] += Z[i * d + j] * a[i];
      for (let j = 0; j < d; j++) next[j] *= w[j] * w[j];
    }
    let change = 0,
      big = 0;
    for (let j = 0; j < d; j++) {
      change = Math.max(change, Math.abs(next[j] - beta[j]));
      big = Math.max(big, Math.abs(next[j]));
    }
    beta = next;
    for (let j = 0; j < d; j++) w[j] = Math.pow(Math.abs(beta[j]), 2 * o.alpha);
    if (change <= o.tol * big) break;
  }
  let big = 0;
  for (const b of beta) big = Math.max(big, Math.abs(b));
  const support: number[] = [];
  for (let j = 0; j < d; j++) if (big > 0 && Math.abs(beta[j]) > o.supportThreshold * big && sd[j] > 0) support.push(j);
  // Debias: least squares on the support alone (the ridge shrinks each coefficient by ~λ/(n·β_j)).
  if (support.length > 0 && support.length < n) {
    const s = support.length;
    const A = new Float64Array(s * s);
    const b = new Float64Array(s);
    for (let i = 0; i < n; i++)
      for (let a = 0; a < s; a++) {
        const za = Z[i * d + support[a]];
        b[a] += za * yc[i];
        for (let c = 0; c < s; c++) A[a * s + c] += za * Z[i * d + support[c]];
      }
    for (let a = 0; a < s; a++) A[a * s + a] += 1e-12 * n;
    const refit = spdSolve(A, s, b);
    support.forEach((j, a) => (beta[j] = refit[a]));
  }
  const coef = new Float64Array(d);
  let intercept = ym;
  for (const j of support) {
    coef[j] = beta[j] / sd[j];
    intercept -= coef[j] * mean[j];
  }
  return {
    coef,
    intercept,
    support,
    iterations,
    trainR2: linearR2(X, y, coef, intercept),
    testR2: test ? linearR2(test.X, test.y, coef, intercept) : NaN,
    alpha: o.alpha,
  };
}
