/**
 * The iterative solvers of (K + reg I) alpha = Y, one implementation for every backend (docs/science.md §9).
 * A backend supplies kernel blocks and kernel-block x vector products (KernelOps); everything else —
 * the Nyström preconditioner, conjugate gradients, EigenPro's preconditioned SGD, tolerances, warm
 * starts, the log — is here and runs in float64 on the host.
 *
 * Solvers: `direct` (the backend's float64 Cholesky), `cg` (Nyström-preconditioned conjugate
 * gradients over a stored K), `eigenpro` (EigenPro 2: preconditioned SGD with O(n) memory that never
 * forms K). `auto` (autoSolver): direct for n <= directMaxN, CG while the stored K fits the backend's
 * memory budget (n <= cgMaxN), EigenPro beyond.
 */
import { InputError } from '../errors';
import type { Mat } from '../mat';
import { mat } from '../mat';
import { permutation } from '../random';
import { topEigenpairs } from '../linalg/topEigen';
import { Pacer } from '../pacer';
import type { SolveHints, SolveResult } from './backend';
import { conjugateGradients, landmarkIndices, nystromPreconditioner } from './nystrom';

export const SOLVER_CHOICES = ['auto', 'direct', 'cg', 'eigenpro'] as const;
export type SolverChoice = (typeof SOLVER_CHOICES)[number];
export type SolverName = Exclude<SolverChoice, 'auto'>;

/** A --solver value (or a setting's), with the CLI's wording for a bad one (like parseBackendChoice). */
export function parseSolverChoice(value: unknown, where: string): SolverChoice {
  if (typeof value === 'string' && (SOLVER_CHOICES as readonly string[]).includes(value)) return value as SolverChoice;
  throw new InputError(`${where}: expected auto, direct, cg or eigenpro, got '${String(value)}'`);
}

/** What a solve reports (fit results, the JSON report). */
export interface SolveInfo {
  solver: SolverName;
  /** CG iterations, or EigenPro epochs (passes over the data); 0 for direct. */
  iterations: number;
  /** max over columns of |Y - (K + reg I) alpha| / |Y| (0 for direct: exact up to rounding). */
  relResidual: number;
  /** The relative residual it was asked for (iterative solvers; looser for intermediate RFM rounds). */
  tolerance?: number;
}

/** What `auto` weighs, per backend. */
export interface SolverLimits {
  /** Largest n solved directly (n^3/3 factorisation). */
  directMaxN: number;
  /** Largest n whose stored K fits the backend's memory budget (CG); EigenPro beyond. */
  cgMaxN: number;
}

/**
 * The solver for `choice` at n training rows: a named solver as given; `auto` = direct when n <=
 * directMaxN, else CG when K fits (n <= cgMaxN), else EigenPro. Without limits (a backend that does
 * not declare them) auto is direct.
 */
export function resolveSolver(choice: SolverChoice, n: number, limits: SolverLimits | undefined): SolverName {
  if (choice !== 'auto') return choice;
  if (!limits || n <= limits.directMaxN) return 'direct';
  return n <= limits.cgMaxN ? 'cg' : 'eigenpro';
}

/** The kernel of a solve as a backend computes it; rows index the training points X. */
export interface KernelOps {
  readonly n: number;
  /** K(X_a, X_b), row-major a.length x b.length (a = null: all n rows). */
  block(a: Int32Array | null, b: Int32Array): Promise<Float32Array | Float64Array>;
  /**
   * K(X_a, X_b) P for P (b.length x c, row-major) -> a.length x c (null: all n rows). A product that
   * runs on this thread gives the event loop the pacer's turns within it.
   */
  times(a: Int32Array | null, b: Int32Array | null, p: Float64Array, c: number, pacer?: Pacer): Promise<Float64Array>;
  /**
   * Called by CG once the preconditioner's block is read: a backend that stores K starts building it
   * (the device works while the host factors the preconditioner); resolves when K is ready.
   */
  prepare?(): Promise<void>;
}

export interface IterativeOptions {
  /**
   * CG stops when every column's |y - (K + reg I) alpha| / |y| is at most this. Default 5e-5: the
   * residual a float32 Cholesky solve reaches on these systems (the PyTorch reference of
   * bench/backends.mjs, measured against float64: 3e-5 to 9e-5 per solve at n = 2000 and 4000, its
   * test MSE 1.5e-3 and 4.3e-3 relative from the float64 fit's). The benchmark fit's test MSE moved
   * 1.2e-4 (n = 2000) and 4.0e-4 (n = 4000) relative from the float64 direct fit with 5e-5, 2e-4 and
   * 5e-5 with 1e-5, whose final solve took 47 CG iterations instead of 30 (measured on WebGPU; 1e-4
   * moved the n = 8000 fit by 1.6e-3, and below 1e-5 f32 products stall: with 1e-6 three of four
   * n = 8000 solves stopped at 2e-6..1e-5).
   */
  cgTolerance: number;
  /**
   * The same for intermediate RFM rounds, whose alpha only feeds the next AGOP (SolveHints.final =
   * false). Default 1e-4: measured on the n = 4000 benchmark fit against the float64 CPU fit, M moved
   * by 1.6e-4 relative Frobenius with 1e-4 (1.1e-5 with 1e-5, 1.3e-3 with 1e-3) while those rounds
   * took 67 CG iterations instead of 89.
   */
  cgIntermediateTolerance: number;
  cgMaxIters: number;
  /**
   * Largest number of Nyström landmarks. A solve uses min(this, n / 32 rounded up to 8, at least 64):
   * the host factorization costs n s^2 + s^3 while a K product costs n^2, so small problems want a
   * smaller rank. Measured on WebGPU (4 solves of the benchmark fit, loaded machine): n = 2000, rank
   * 64 vs 256: 1.0 s vs 1.8 s (109 vs 77 CG iterations); n = 4000, 128 vs 256: 2.9 s vs 3.4 s; n =
   * 8000, 256 vs 192: 13.4 s vs 17.0 s (124 vs 150 iterations). Default 256.
   */
  nystromRank: number;
  /** EigenPro stops when its epoch residual estimate (max over columns, relative) is at most this. Default 1e-3. */
  eigenproTolerance: number;
  /** The same for intermediate RFM rounds. Default 1e-2. */
  eigenproIntermediateTolerance: number;
  /** Passes over the data at most. Default 200. */
  eigenproMaxEpochs: number;
  /** Nyström subsample s (docs/science.md §9: 2000). Default 2000 (K_s is s^2 float64: 32 MB). */
  eigenproSubsample: number;
  /** Top-q eigensystem of K_s / s flattened by the preconditioner. Default 160. */
  eigenproTopQ: number;
  /** Largest batch m (rows of one K(B, X) product). Default 4096. */
  eigenproMaxBatch: number;
}

export const DEFAULT_ITERATIVE_OPTIONS: IterativeOptions = {
  cgTolerance: 5e-5,
  cgIntermediateTolerance: 1e-4,
  cgMaxIters: 2000,
  nystromRank: 256,
  eigenproTolerance: 1e-3,
  eigenproIntermediateTolerance: 1e-2,
  eigenproMaxEpochs: 200,
  eigenproSubsample: 2000,
  eigenproTopQ: 160,
  eigenproMaxBatch: 4096,
};

/** How one solve went (benchmarks and tests read the log). */
export interface SolveStats {
  path: SolverName;
  iterations: number;
  relResidual: number;
  tolerance?: number;
  /** Kernel matrix (direct, CG) and preconditioner (CG: factored on the host while K is built; EigenPro: K_s and its eigensystem). */
  kernelSeconds: number;
  solveSeconds: number;
  /** Iterative only: seconds in kernel products and in preconditioner applications. */
  productSeconds?: number;
  preconditionerSeconds?: number;
  /** EigenPro only: batch size, step size, q and s. */
  eigenpro?: { batch: number; step: number; q: number; s: number };
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now()) / 1000;

/** The iterative solvers with a backend's settings and state (the warm start, the log). */
export class IterativeSolver {
  readonly log: SolveStats[] = [];
  /**
   * Last solution, the starting point of the next solve of the same size: consecutive RFM rounds
   * solve with nearly similar M (measured at n = 4000 on WebGPU: 285 CG iterations over a 4-round
   * fit without it, 209 with it). Only a starting point: the stopping rule is unchanged.
   */
  private previousAlpha: Float64Array | null = null;

  constructor(readonly opts: IterativeOptions = DEFAULT_ITERATIVE_OPTIONS) {}

  /** Records a direct solve (the backend's own). */
  logDirect(seconds: { kernel: number; solve: number }): void {
    this.log.push({
      path: 'direct',
      iterations: 0,
      relResidual: 0,
      kernelSeconds: seconds.kernel,
      solveSeconds: seconds.solve,
    });
  }

  solve(solver: 'cg' | 'eigenpro', ops: KernelOps, Y: Mat, reg: number, hints?: SolveHints): Promise<SolveResult> {
    return solver === 'cg' ? this.cg(ops, Y, reg, hints) : this.eigenPro(ops, Y, reg, hints);
  }

  private warmStart(len: number): Float64Array | undefined {
    return this.previousAlpha?.length === len ? this.previousAlpha : undefined;
  }

  private async cg(ops: KernelOps, Y: Mat, reg: number, hints?: SolveHints): Promise<SolveResult> {
    const o = this.opts;
    const n = ops.n,
      c = Y.cols;
    const t0 = now();
    const s = Math.min(o.nystromRank, n, Math.max(64, Math.ceil(Math.ceil(n / 32) / 8) * 8));
    const landmarks = landmarkIndices(n, s);
    // The event loop's turns during the host's steps (the factorization, products on this thread), at
    // most every 40 ms: a turn costs a timer's ~1 ms in Node (4 ms on a page). With the products on
    // the host nothing else in a CG solve waits for a macrotask.
    const pacer = new Pacer({ clockEvery: 1, sliceMs: 40 });
    const kNS = await ops.block(null, landmarks);
    const ready = ops.prepare?.();
    const precond = await nystromPreconditioner(kNS, n, landmarks, reg, { pacer });
    await ready;
    const tK = now();
    const time = { products: 0, preconditioner: 0 };
    const kTimes = async (p: Float64Array, cols: number): Promise<Float64Array> => {
      const t = now();
      const out = await ops.times(null, null, p, cols, pacer);
      time.products += now() - t;
      // Products that finish without a macrotask (on the host) would hold the event loop for the whole solve.
      await pacer.tick();
      return out;
    };
    const timedPrecond = precond && {
      apply: (v: Float64Array, cols: number): Float64Array => {
        const t = now();
        const out = precond.apply(v, cols);
        time.preconditioner += now() - t;
        return out;
      },
    };
    const tol = hints?.final === false ? o.cgIntermediateTolerance : o.cgTolerance;
    const cg = await conjugateGradients({
      n,
      c,
      y: Y.data,
      reg,
      kTimes,
      precond: timedPrecond,
      x0: this.warmStart(n * c),
      tol,
      maxIters: o.cgMaxIters,
    });
    const tS = now();
    this.log.push({
      path: 'cg',
      iterations: cg.iterations,
      relResidual: cg.relResidual,
      tolerance: tol,
      kernelSeconds: tK - t0,
      solveSeconds: tS - tK,
      productSeconds: time.products,
      preconditionerSeconds: time.preconditioner,
    });
    if (!cg.ok) {
      const rowSums = await ops.times(null, null, new Float64Array(n).fill(1), 1);
      let maxAbsRowSum = 0;
      for (const v of rowSums) maxAbsRowSum = Math.max(maxAbsRowSum, Math.abs(v));
      return { ok: false, maxAbsRowSum, seconds: { kernel: tK - t0, solve: now() - tK } };
    }
    this.previousAlpha = cg.alpha;
    return {
      ok: true,
      alpha: mat(n, c, cg.alpha),
      seconds: { kernel: tK - t0, solve: tS - tK },
      info: { solver: 'cg', iterations: cg.iterations, relResidual: cg.relResidual, tolerance: tol },
    };
  }

  /**
   * EigenPro 2 (docs/science.md §9, Ma & Belkin 2019) on (K + reg I) alpha = Y. With the top-q eigensystem
   * (lambda_i, e_i) of K_s / s on s evenly spread rows S, each step on a batch B of m rows is
   *   r_B = (K alpha)_B + reg alpha_B - y_B;  alpha_B -= (eta / m) r_B;
   *   alpha_S += eta / (m s) E diag((1 - (lambda_q / lambda_i)^0.95) / lambda_i) E^T A(S, B) r_B
   * with A = K + reg I (so (lambda_i, e_i) are those of A_s / s)
   * (the function-space step f -= eta P g with P flattening the top q eigendirections to about
   * lambda_q, written in coefficients; the 1/m and 1/s are the batch mean and the Nyström
   * normalisation). With beta = max k(x, x) + reg = 1 + reg and lambda_top = lambda_q^0.95
   * lambda_1^0.05 (the preconditioned operator's largest eigenvalue): m = min(n, ceil(beta /
   * lambda_top), eigenproMaxBatch) (the critical batch) and eta = 1 / (lambda_top + (beta -
   * lambda_top) (n - m) / (m (n - 1))), the step of an m-batch drawn without replacement (= m / beta
   * for m << n, as in §9; 1 / lambda_top at m = n). Memory: alpha, a permutation, s^2 for K_s and one batch: O(n), never K. Stops when
   * the residual estimate of an epoch (the batch residuals it saw) reaches the tolerance, after 10
   * epochs without improvement, or at eigenproMaxEpochs; an epoch whose estimate grows past twice
   * the best halves eta and restarts from the best iterate. The reported residual is the true one,
   * from one full product at the end (which also gives K alpha for the training predictions).
   */
  private async eigenPro(ops: KernelOps, Y: Mat, reg: number, hints?: SolveHints): Promise<SolveResult> {
    const o = this.opts;
    const n = ops.n,
      c = Y.cols,
      y = Y.data;
    const t0 = now();
    const s = Math.min(n, o.eigenproSubsample);
    const S = landmarkIndices(n, s);
    const kSS = await ops.block(S, S);
    const ks = new Float64Array(s * s);
    // The eigensystem of (K_s + reg I) / s: the ridge is part of the operator being preconditioned
    // (without it, with reg = 1e-3 on iris the directions where K is ~0 converged at eta reg / n per
    // step: residual 0.11 after 200 epochs, measured).
    for (let a = 0; a < s; a++) {
      for (let b = 0; b < a; b++) ks[a * s + b] = ks[b * s + a] = (0.5 * (kSS[a * s + b] + kSS[b * s + a])) / s;
      ks[a * s + a] = (kSS[a * s + a] + reg) / s;
    }
    const inS = new Int32Array(n).fill(-1);
    for (let a = 0; a < s; a++) inS[S[a]] = a;
    const eig = topEigenpairs(ks, s, Math.max(1, Math.min(s - 1, o.eigenproTopQ)), 0);
    let q = eig.values.length;
    while (q > 1 && !(eig.values[q - 1] > 1e-12 * eig.values[0])) q--;
    const qAll = eig.values.length;
    const l1 = eig.values[0],
      lq = eig.values[q - 1];
    const damp = new Float64Array(q);
    for (let k = 0; k < q; k++) damp[k] = (1 - (lq / eig.values[k]) ** 0.95) / eig.values[k];
    const E = eig.vectors; // s x qAll, columns 0..q-1 used
    const beta = 1 + reg;
    const top = Math.max(lq ** 0.95 * l1 ** 0.05, lq);
    const m = Math.max(1, Math.min(n, o.eigenproMaxBatch, Math.ceil(beta / top)));
    // 1 / (the smoothness of an m-batch drawn without replacement): beta at m = 1, lambda_top at m = n
    // (full batch). m / (beta + (m - 1) lambda_top), the with-replacement form, took 1/70th of the
    // full-batch step on iris (m = n = 150): residual 0.09 after 200 epochs, measured.
    let eta = 1 / (top + ((beta - top) * (n - m)) / (m * Math.max(1, n - 1)));
    const tK = now();

    const tol = hints?.final === false ? o.eigenproIntermediateTolerance : o.eigenproTolerance;
    const yNorm = new Float64Array(c);
    for (let i = 0; i < n; i++) for (let col = 0; col < c; col++) yNorm[col] += y[i * c + col] ** 2;
    for (let col = 0; col < c; col++) yNorm[col] = Math.sqrt(yNorm[col]) || 1;
    const x0 = this.warmStart(n * c);
    let alpha = x0 ? x0.slice() : new Float64Array(n * c);
    let best = { alpha: alpha.slice(), est: Infinity, epoch: -1 };
    const time = { products: 0, preconditioner: 0 };
    const u = new Float64Array(q * c);
    let epoch = 0;
    for (; epoch < o.eigenproMaxEpochs; epoch++) {
      const perm = permutation(n, 7919 * (epoch + 1));
      const sumSq = new Float64Array(c);
      for (let b0 = 0; b0 < n; b0 += m) {
        const B = Int32Array.from(perm.subarray(b0, Math.min(n, b0 + m)));
        const mb = B.length;
        const tp = now();
        const kb = await ops.times(B, null, alpha, c);
        time.products += now() - tp;
        const r = new Float64Array(mb * c);
        for (let i = 0; i < mb; i++)
          for (let col = 0; col < c; col++) {
            const v = kb[i * c + col] + reg * alpha[B[i] * c + col] - y[B[i] * c + col];
            r[i * c + col] = v;
            sumSq[col] += v * v;
          }
        const step = eta / mb;
        for (let i = 0; i < mb; i++) for (let col = 0; col < c; col++) alpha[B[i] * c + col] -= step * r[i * c + col];
        const tq = now();
        const t = await ops.times(S, B, r, c); // s x c: K(S, B) r_B, plus the ridge where B meets S
        for (let i = 0; i < mb; i++) {
          const a = inS[B[i]];
          if (a >= 0) for (let col = 0; col < c; col++) t[a * c + col] += reg * r[i * c + col];
        }
        const tc = now();
        time.products += tc - tq;
        // u = diag(damp) E^T t; alpha_S += eta / (mb s) E u
        u.fill(0);
        for (let a = 0; a < s; a++)
          for (let k = 0; k < q; k++) {
            const e = E[a * qAll + k];
            for (let col = 0; col < c; col++) u[k * c + col] += e * t[a * c + col];
          }
        for (let k = 0; k < q; k++) for (let col = 0; col < c; col++) u[k * c + col] *= damp[k];
        const f = eta / (mb * s);
        for (let a = 0; a < s; a++)
          for (let col = 0; col < c; col++) {
            let acc = 0;
            for (let k = 0; k < q; k++) acc += E[a * qAll + k] * u[k * c + col];
            alpha[S[a] * c + col] += f * acc;
          }
        time.preconditioner += now() - tc;
      }
      let est = 0;
      for (let col = 0; col < c; col++) est = Math.max(est, Math.sqrt(sumSq[col]) / yNorm[col]);
      if (!Number.isFinite(est) || est > 2 * best.est) {
        // Diverging: a smaller step from the best iterate.
        eta /= 2;
        alpha = best.alpha.slice();
        continue;
      }
      if (est < best.est) best = { alpha: alpha.slice(), est, epoch };
      if (est <= tol || epoch - best.epoch >= 10) break;
    }
    alpha = best.alpha;
    const tp = now();
    const fitted = await ops.times(null, null, alpha, c);
    time.products += now() - tp;
    let relResidual = 0;
    const rr = new Float64Array(c);
    for (let i = 0; i < n * c; i++) rr[i % c] += (y[i] - fitted[i] - reg * alpha[i]) ** 2;
    for (let col = 0; col < c; col++) relResidual = Math.max(relResidual, Math.sqrt(rr[col]) / yNorm[col]);
    const epochs = Math.min(epoch + 1, o.eigenproMaxEpochs);
    const tS = now();
    this.log.push({
      path: 'eigenpro',
      iterations: epochs,
      relResidual,
      tolerance: tol,
      kernelSeconds: tK - t0,
      solveSeconds: tS - tK,
      productSeconds: time.products,
      preconditionerSeconds: time.preconditioner,
      eigenpro: { batch: m, step: eta, q, s },
    });
    this.previousAlpha = alpha;
    return {
      ok: true,
      alpha: mat(n, c, alpha),
      fitted: mat(n, c, fitted),
      seconds: { kernel: tK - t0, solve: tS - tK },
      info: { solver: 'eigenpro', iterations: epochs, relResidual, tolerance: tol },
    };
  }
}
