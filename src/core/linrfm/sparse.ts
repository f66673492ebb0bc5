// lin-RFM sparse linear regression (docs/science.md §8): the linear kernel K(x, z) = xᵀ P z with a diagonal
// feature matrix M = diag(β²)^α, P = MᵀM = diag(|β|^{4α}) — ℓ_p IRLS with p = 2 − 4α (α = ½: ~ℓ₀/log,
// α = ¼: ℓ₁). Columns are standardised and y centred first (an intercept is fitted); β is reported in
// the data's units. The iterations order the coefficients; the support is the first k of them by the
// extended BIC, refitted by least squares (debiased; with noise, a small λ alone keeps noise coefficients).
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
  /**
   * Candidates for the support: |β_j|·sd_j > supportThreshold · max_k |β_k|·sd_k after the iterations;
   * how many of them (largest first) are kept is chosen by the extended BIC (selectSupport). Default 1e-3.
   */
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
  /** Coefficients in the data's units: least squares on the support; 0 outside it. */
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
 * How many of the IRLS coefficients to keep: the candidates in order of |β_j| (standardised), the first k
 * refitted by least squares, k chosen by the extended BIC n·log(RSS_k/n) + k·(log n + 2 log d) (Chen &
 * Chen 2008; RSS floored at 1e-12 of the total so an exact fit is not improved by rounding). One Cholesky
 * of the candidates' Gram gives every k: its leading k x k block factors the first k, and
 * RSS_k = Σy² − Σ_{i≤k} c_i² with L c = Zᵀy.
 */
function selectSupport(
  Z: Float64Array,
  y: Float64Array,
  n: number,
  d: number,
  order: number[],
): { order: number[]; coef: Float64Array } {
  let tss = 0;
  for (const v of y) tss += v * v;
  const K = order.length;
  if (K === 0 || !(tss > 0)) return { order: [], coef: new Float64Array(0) };
  const A = new Float64Array(K * K);
  const b = new Float64Array(K);
  for (let i = 0; i < n; i++)
    for (let a = 0; a < K; a++) {
      const za = Z[i * d + order[a]];
      b[a] += za * y[i];
      for (let c = 0; c <= a; c++) A[a * K + c] += za * Z[i * d + order[c]];
    }
  for (let a = 0; a < K; a++) A[a * K + a] += 1e-10 * n;
  if (!choleskyInPlace(A, K)) throw new Error('linrfm sparse: the candidates Gram matrix is not positive definite');
  const c = new Float64Array(K);
  let best = n * Math.log(tss / n),
    bestK = 0,
    explained = 0;
  const perTerm = Math.log(n) + 2 * Math.log(d);
  for (let k = 1; k <= K; k++) {
    let s = b[k - 1];
    for (let i = 0; i < k - 1; i++) s -= A[(k - 1) * K + i] * c[i];
    c[k - 1] = s / A[(k - 1) * K + k - 1];
    explained += c[k - 1] ** 2;
    const rss = Math.max(tss - explained, 1e-12 * tss);
    const score = n * Math.log(rss / n) + k * perTerm;
    if (score < best) {
      best = score;
      bestK = k;
    }
  }
  // Back substitution on the leading bestK block: L_kᵀ β = c_k.
  const coef = c.slice(0, bestK);
  for (let i = bestK - 1; i >= 0; i--) {
    let s = coef[i];
    for (let k = i + 1; k < bestK; k++) s -= A[k * K + i] * coef[k];
    coef[i] = s / A[i * K + i];
  }
  return { order: order.slice(0, bestK), coef };
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
  const candidates: number[] = [];
  for (let j = 0; j < d; j++)
    if (big > 0 && Math.abs(beta[j]) > o.supportThreshold * big && sd[j] > 0) candidates.push(j);
  candidates.sort((p, q) => Math.abs(beta[q]) - Math.abs(beta[p]));
  const chosen = selectSupport(Z, yc, n, d, candidates.slice(0, Math.max(0, n - 2)));
  beta.fill(0);
  chosen.order.forEach((j, a) => (beta[j] = chosen.coef[a]));
  const support = chosen.order.slice().sort((p, q) => p - q);
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
