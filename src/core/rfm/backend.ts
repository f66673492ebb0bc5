import type { Mat } from '../mat';
import type { BackendName } from '../errors';
import type { SolveInfo, SolverLimits, SolverName } from './solvers';

/**
 * Compute backends. The RFM orchestrator (src/core/rfm/fit.ts) transforms points with R (R^T R = M)
 * before calling a backend, so every kernel here is a function of the plain Euclidean distance
 * between rows: Laplace exp(-r / L) or Gaussian exp(-r^2 / (2 L^2)) (docs/science.md §1).
 */
export type KernelName = 'laplace' | 'gaussian';
export interface KernelSpec {
  readonly name: KernelName;
  readonly bandwidth: number;
}

export type SolveResult =
  | {
      readonly ok: true;
      readonly alpha: Mat;
      readonly seconds: { kernel: number; solve: number };
      /** Which solver ran, its iterations and the relative residual it reached (absent: direct). */
      readonly info?: SolveInfo;
      /** K alpha when the solver has it (an iterative solve stops short of Y - reg alpha). */
      readonly fitted?: Mat;
    }
  /** K + reg I was not positive definite; the orchestrator retries with more ridge (xRFM rule). */
  | { readonly ok: false; readonly maxAbsRowSum: number; readonly seconds: { kernel: number; solve: number } };

export interface GradMoments {
  /** sum_z sum_c g_c(z) g_c(z)^T, d x d row-major (only the d diagonal entries when diagOnly). */
  readonly outer: Float64Array;
  /** sum_z g_c(z), c x d row-major (used for centred gradients). */
  readonly sum: Mat;
}

export interface SolveHints {
  /** False for intermediate RFM rounds (alpha used only for the AGOP); true or absent otherwise. */
  final?: boolean;
  /** The solver to use (fitRfm resolves `auto` with the backend's solverLimits). Absent: direct. */
  solver?: SolverName;
  /**
   * True when the AGOP on these same points follows this solve (fitRfm's rounds before the last):
   * a backend may keep what the solve built for it (the CPU keeps its packed K). Absent: nothing kept.
   */
  agopNext?: boolean;
}

export interface Backend {
  readonly name: BackendName;
  /** Human-readable device: "cpu float64" or "webgpu mesa/llvmpipe". */
  readonly device: string;
  /** What `--solver auto` weighs for this backend (solvers.ts autoSolver); absent: always direct. */
  readonly solverLimits?: SolverLimits;
  /**
   * Solve (K(X, X) + reg I) alpha = Y. `hints.final = false` says the solution only feeds the next
   * AGOP (an intermediate RFM round), so an iterative solver may stop at its looser, stated tolerance.
   */
  solve(X: Mat, kernel: KernelSpec, Y: Mat, reg: number, hints?: SolveHints): Promise<SolveResult>;
  /** K(Z, X) alpha: the predictor at the rows of Z (Z.rows x alpha.cols). */
  predict(Z: Mat, X: Mat, kernel: KernelSpec, alpha: Mat): Promise<Mat>;
  /**
   * Moments of the predictor's input gradients g_c(z) = grad_z sum_i alpha_ic k(z, x_i) over the rows
   * z of Z. Terms with |z - x_i| < 1e-10 are dropped (docs/science.md §1). Never holds all gradients at once.
   */
  gradMoments(Z: Mat, X: Mat, kernel: KernelSpec, alpha: Mat, diagOnly: boolean): Promise<GradMoments>;
  /** Frees device resources. The backend is unusable afterwards. */
  dispose(): void;
}
