// The kernel ridge system (K + reg I) alpha = Y: the dense float64 solve of a kernel matrix already in
// memory, and xRFM's retry with more ridge when the factorisation fails. Shared by the RFM CPU backend,
// fitRfm and every kernel machine whose kernel matrix is built elsewhere (ConvRFM's patch kernel).
import { choleskyInPlace, choleskySolveInPlace } from '../linalg/cholesky';
import { InputError, option } from '../errors';
import { mat, type Mat } from '../mat';
import type { SolveResult } from './backend';
import type { SolveInfo } from './solvers';

const now = () => performance.now() / 1000;

/**
 * Solves (K + reg I) alpha = Y by Cholesky. `a` holds K (n x n row-major; only the lower triangle is
 * read) and is overwritten. On failure returns the largest absolute row sum of K (for the retry's ridge).
 * `kernelSeconds` is reported as the time spent building K.
 */
export function solveKernelSystem(a: Float64Array, n: number, Y: Mat, reg: number, kernelSeconds = 0): SolveResult {
  const t1 = now();
  const rowSum = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const v = Math.abs(a[i * n + j]);
      rowSum[i] += v;
      rowSum[j] += v;
    }
    rowSum[i] += Math.abs(a[i * n + i]);
    a[i * n + i] += reg;
  }
  const ok = choleskyInPlace(a, n);
  let maxAbsRowSum = 0;
  for (const v of rowSum) if (v > maxAbsRowSum) maxAbsRowSum = v;
  if (!ok) return { ok: false, maxAbsRowSum, seconds: { kernel: kernelSeconds, solve: now() - t1 } };
  const b = Float64Array.from(Y.data);
  choleskySolveInPlace(a, n, b, Y.cols);
  return { ok: true, alpha: mat(n, Y.cols, b), seconds: { kernel: kernelSeconds, solve: now() - t1 } };
}

/**
 * xRFM's rule around a solve: when K + reg I is not positive definite, add 1% of K's largest absolute
 * row sum to the ridge and retry once; a second failure is the user's (a larger --reg). Returns alpha,
 * the ridge actually used and the seconds of both attempts.
 */
export async function solveWithRidgeRetry(
  solve: (reg: number) => Promise<SolveResult>,
  reg0: number,
): Promise<{
  alpha: Mat;
  reg: number;
  seconds: { kernel: number; solve: number };
  /** What an iterative solver reports (iterations, residual), and K alpha when it stopped short of Y - reg alpha. */
  info?: SolveInfo;
  fitted?: Mat;
}> {
  let reg = reg0;
  let sol = await solve(reg);
  const seconds = { ...sol.seconds };
  if (!sol.ok) {
    reg = reg0 + 0.01 * sol.maxAbsRowSum;
    sol = await solve(reg);
    seconds.kernel += sol.seconds.kernel;
    seconds.solve += sol.seconds.solve;
    if (!sol.ok)
      throw new InputError(
        `the kernel system is not positive definite even with ridge ${reg.toPrecision(3)}; try a larger ${option('reg')}`,
      );
  }
  return { alpha: sol.alpha, reg, seconds, info: sol.info, fitted: sol.fitted };
}

/** The ridge ladder's first rung and its last, as multiples of trace(K)/n (solveWithRidgeLadder). */
export const RIDGE_LADDER_FIRST = 1e-10;
export const RIDGE_LADDER_LAST = 1;

/**
 * A solve asked at a ridge the user did not choose to raise (Deep RFM's ridge 0, docs/science.md §7)
 * that must not fail: tries reg0, and when K + reg0 I does not factor, the smallest of
 * RIDGE_LADDER_FIRST, x10, ..., RIDGE_LADDER_LAST times `scale` (trace(K)/n: 1 for the Laplace and
 * Gaussian kernels, whose diagonal is k(0) = 1) that does. Returns alpha and the ridge used.
 */
export async function solveWithRidgeLadder(
  solve: (reg: number) => Promise<SolveResult>,
  reg0: number,
  scale: number,
): Promise<{ alpha: Mat; reg: number; seconds: { kernel: number; solve: number }; info?: SolveInfo; fitted?: Mat }> {
  const seconds = { kernel: 0, solve: 0 };
  let reg = reg0;
  for (let rung = RIDGE_LADDER_FIRST; ; rung *= 10) {
    const sol = await solve(reg);
    seconds.kernel += sol.seconds.kernel;
    seconds.solve += sol.seconds.solve;
    if (sol.ok) return { alpha: sol.alpha, reg, seconds, info: sol.info, fitted: sol.fitted };
    if (rung > RIDGE_LADDER_LAST * 1.0001)
      throw new InputError(
        `the kernel system is not positive definite even with ridge ${reg.toPrecision(3)} (duplicate rows?); remove duplicate rows or try a larger ${option('bandwidth')}`,
      );
    reg = reg0 + rung * scale;
  }
}
