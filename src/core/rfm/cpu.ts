import type { Backend, GradMoments, KernelSpec, SolveHints, SolveResult } from './backend';
import { mat, type Mat } from '../mat';
import { solveKernelSystem } from './solve';
import { gradientWeight, gradientWeightOfValue, kernelOfDistance } from './kernel';
import { MAX_CPU_KERNEL_BYTES } from '../limits';
import {
  DEFAULT_ITERATIVE_OPTIONS,
  IterativeSolver,
  type IterativeOptions,
  type KernelOps,
  type SolveStats,
  type SolverLimits,
} from './solvers';

const now = () => performance.now() / 1000;

function dist(a: Float64Array, ai: number, b: Float64Array, bi: number, d: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) {
    const t = a[ai + k] - b[bi + k];
    s += t * t;
  }
  return Math.sqrt(s);
}

/** Bytes of the packed lower triangle of K (float64) that CG on the CPU stores. */
export const cpuPackedKernelBytes = (n: number): number => ((n * (n + 1)) / 2) * 8;

/**
 * `auto` on the CPU: direct up to n = 1000 (like WebGPU), CG while the packed float64 triangle of K
 * fits MAX_CPU_KERNEL_BYTES (n <= 16383 at 1 GiB), EigenPro beyond.
 */
export const CPU_SOLVER_LIMITS: SolverLimits = {
  directMaxN: 1000,
  cgMaxN: Math.floor((Math.sqrt(1 + MAX_CPU_KERNEL_BYTES) - 1) / 2),
};

/** The kernel blocks and products of a CPU iterative solve, and the packed lower triangle of K(X, X) once a CG solve stored it. */
export interface CpuSolveOps extends KernelOps {
  storedK(): Float64Array | null;
}

/**
 * Largest per-thread gradient-sum buffer (n x c x d float64) of the AGOP over a stored K; beyond it
 * the AGOP recomputes its distances as before. Small next to the packed K it reuses (which the
 * budget counts), so the fit's peak memory stays what rfm/budget.ts states (32 MB: d = 20 and one
 * output up to n = 200,000; 10 classes up to n = 20,000).
 */
const MAX_GRAD_SUM_BYTES = 32 * 1024 ** 2;

/** The float64 reference backend: every GPU kernel is tested against it. */
export class CpuBackend implements Backend {
  readonly name = 'cpu' as const;
  readonly device = 'cpu float64';
  readonly solverLimits = CPU_SOLVER_LIMITS;
  private readonly iterative: IterativeSolver;
  /**
   * The packed K(X, X) of the last CG solve, kept when the AGOP on the same points follows it
   * (SolveHints.agopNext; fitRfm's gradMoments(Xt, Xt, ...) when n <= agopSamples): its weights are
   * functions of K's entries, so no distance is computed twice. Dropped by the next solve, that
   * AGOP, or dispose().
   */
  private stored: { X: Mat; kernel: KernelSpec; K: Float64Array } | null = null;

  constructor(options: Partial<IterativeOptions> = {}) {
    this.iterative = new IterativeSolver({ ...DEFAULT_ITERATIVE_OPTIONS, ...options });
  }

  /** One entry per solve, oldest first (benchmarks and tests read it). */
  get solveLog(): SolveStats[] {
    return this.iterative.log;
  }

  async solve(X: Mat, kernel: KernelSpec, Y: Mat, reg: number, hints?: SolveHints): Promise<SolveResult> {
    const solver = hints?.solver ?? 'direct';
    this.stored = null;
    if (solver !== 'direct') {
      const ops = this.kernelOps(X, kernel, solver === 'cg' && cpuPackedKernelBytes(X.rows) <= MAX_CPU_KERNEL_BYTES);
      const r = await this.iterative.solve(solver, ops, Y, reg, hints);
      const K = hints?.agopNext ? ops.storedK() : null;
      if (K) this.stored = { X, kernel, K };
      return r;
    }
    const r = await this.directSolve(X, kernel, Y, reg);
    this.iterative.logDirect(r.seconds);
    return r;
  }

  /** (K + reg I) alpha = Y by a float64 Cholesky factorisation of the full K. */
  async directSolve(X: Mat, kernel: KernelSpec, Y: Mat, reg: number): Promise<SolveResult> {
    const t0 = now();
    const n = X.rows,
      d = X.cols,
      x = X.data;
    const k = kernelOfDistance(kernel);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < i; j++) a[i * n + j] = k(dist(x, i * d, x, j * d, d));
      a[i * n + i] = 1; // k(0) = 1 for both kernels
    }
    return solveKernelSystem(a, n, Y, reg, now() - t0);
  }

  async predict(Z: Mat, X: Mat, kernel: KernelSpec, alpha: Mat): Promise<Mat> {
    const out = new Float64Array(Z.rows * alpha.cols);
    predictRows(Z, X, kernel, alpha, 0, Z.rows, out);
    return mat(Z.rows, alpha.cols, out);
  }

  async gradMoments(Z: Mat, X: Mat, kernel: KernelSpec, alpha: Mat, diagOnly: boolean): Promise<GradMoments> {
    const st = this.stored;
    this.stored = null;
    if (
      st &&
      Z === X &&
      st.X === X &&
      st.kernel.name === kernel.name &&
      st.kernel.bandwidth === kernel.bandwidth &&
      X.rows * alpha.cols * X.cols * 8 <= MAX_GRAD_SUM_BYTES
    )
      return this.gradMomentsStored(st.K, X, kernel, alpha, diagOnly);
    return this.gradMomentsComputed(Z, X, kernel, alpha, diagOnly);
  }

  /** Gradient moments computing every distance (the oracle's loop). */
  protected async gradMomentsComputed(
    Z: Mat,
    X: Mat,
    kernel: KernelSpec,
    alpha: Mat,
    diagOnly: boolean,
  ): Promise<GradMoments> {
    const d = X.cols;
    const outer = new Float64Array(diagOnly ? d : d * d);
    const sum = new Float64Array(alpha.cols * d);
    gradMomentsRows(Z, X, kernel, alpha, diagOnly, 0, Z.rows, outer, sum);
    return { outer, sum: mat(alpha.cols, d, sum) };
  }

  /** Gradient moments over Z = X from the stored packed K(X, X) (gradSumsPackedRows, then momentsFromGradSums). */
  protected async gradMomentsStored(
    K: Float64Array,
    X: Mat,
    kernel: KernelSpec,
    alpha: Mat,
    diagOnly: boolean,
  ): Promise<GradMoments> {
    const n = X.rows,
      d = X.cols,
      c = alpha.cols;
    const G = new Float64Array(n * c * d),
      S = new Float64Array(n * c);
    gradSumsPackedRows(K, X, kernel, alpha, 0, n, G, S);
    return momentsFromGradSums(X, c, G, S, diagOnly);
  }

  /** The kernel blocks and products of an iterative solve (a multi-threaded backend supplies its own). */
  protected kernelOps(X: Mat, kernel: KernelSpec, store: boolean): CpuSolveOps {
    return new CpuKernelOps(X, kernel, store);
  }

  dispose(): void {
    this.stored = null;
  }
}

/**
 * The CPU's kernels as functions of a row range [r0, r1) writing into given arrays, so that one
 * implementation serves the single-thread backend and each worker of the multi-threaded one
 * (rfm/node.ts, rfm/cpuWorker.ts) on its share of the rows.
 */

/**
 * The distances of two rows of A (at offsets a, b) to two rows of B (at u, v), d columns, into
 * out = [|A_a - B_u|, |A_a - B_v|, |A_b - B_u|, |A_b - B_v|]: each coordinate load feeds two distances,
 * and each sum runs in dist()'s order, so the results are bit-identical to four dist() calls.
 */
function dist2x2(
  A: Float64Array,
  a: number,
  b: number,
  B: Float64Array,
  u: number,
  v: number,
  d: number,
  out: Float64Array,
): void {
  let s00 = 0,
    s01 = 0,
    s10 = 0,
    s11 = 0;
  for (let q = 0; q < d; q++) {
    const pa = A[a + q],
      pb = A[b + q],
      pu = B[u + q],
      pv = B[v + q];
    const t00 = pa - pu,
      t01 = pa - pv,
      t10 = pb - pu,
      t11 = pb - pv;
    s00 += t00 * t00;
    s01 += t01 * t01;
    s10 += t10 * t10;
    s11 += t11 * t11;
  }
  out[0] = Math.sqrt(s00);
  out[1] = Math.sqrt(s01);
  out[2] = Math.sqrt(s10);
  out[3] = Math.sqrt(s11);
}

/** out[r] = sum_i k(|z_r - x_i|) alpha_i for r in [r0, r1) (out is Z.rows x c). */
export function predictRows(Z: Mat, X: Mat, kernel: KernelSpec, alpha: Mat, r0: number, r1: number, out: Float64Array) {
  const n = X.rows,
    d = X.cols,
    c = alpha.cols,
    x = X.data,
    z = Z.data,
    al = alpha.data;
  const k = kernelOfDistance(kernel);
  const pair = new Float64Array(4);
  let r = r0;
  if (c === 1) {
    // Two query rows against two centres per step (each coordinate load feeds two distances); the
    // sums run in the same order as the one-row loop below, so the predictions are bit-identical.
    for (; r + 1 < r1; r += 2) {
      const za = r * d,
        zb = za + d;
      let acc0 = 0,
        acc1 = 0;
      let i = 0;
      for (; i + 1 < n; i += 2) {
        const xu = i * d,
          xv = xu + d;
        dist2x2(z, za, zb, x, xu, xv, d, pair);
        acc0 += k(pair[0]) * al[i];
        acc0 += k(pair[1]) * al[i + 1];
        acc1 += k(pair[2]) * al[i];
        acc1 += k(pair[3]) * al[i + 1];
      }
      for (; i < n; i++) {
        acc0 += k(dist(z, za, x, i * d, d)) * al[i];
        acc1 += k(dist(z, zb, x, i * d, d)) * al[i];
      }
      out[r] = acc0;
      out[r + 1] = acc1;
    }
  }
  for (; r < r1; r++) {
    if (c === 1) {
      let acc = 0;
      for (let i = 0; i < n; i++) acc += k(dist(z, r * d, x, i * d, d)) * al[i];
      out[r] = acc;
      continue;
    }
    for (let i = 0; i < n; i++) {
      const v = k(dist(z, r * d, x, i * d, d));
      for (let col = 0; col < c; col++) out[r * c + col] += v * al[i * c + col];
    }
  }
}

/** Adds the gradient moments of the rows [r0, r1) of Z to outer (d x d, or d when diagOnly) and sum (c x d). */
export function gradMomentsRows(
  Z: Mat,
  X: Mat,
  kernel: KernelSpec,
  alpha: Mat,
  diagOnly: boolean,
  r0: number,
  r1: number,
  outer: Float64Array,
  sum: Float64Array,
): void {
  const n = X.rows,
    d = X.cols,
    c = alpha.cols,
    x = X.data,
    z = Z.data,
    al = alpha.data;
  const w = gradientWeight(kernel);
  const coef = new Float64Array(n * c);
  const g = new Float64Array(c * d);
  const csum = new Float64Array(c);
  for (let r = r0; r < r1; r++) {
    const zr = r * d;
    // coef_ic = w(|z - x_i|) alpha_ic; g_c = sum_i coef_ic x_i - z sum_i coef_ic
    csum.fill(0);
    for (let i = 0; i < n; i++) {
      const wi = w(dist(z, zr, x, i * d, d));
      for (let col = 0; col < c; col++) {
        const v = wi * al[i * c + col];
        coef[i * c + col] = v;
        csum[col] += v;
      }
    }
    g.fill(0);
    for (let i = 0; i < n; i++) {
      for (let col = 0; col < c; col++) {
        const v = coef[i * c + col];
        if (v === 0) continue;
        const go = col * d,
          xo = i * d;
        for (let k = 0; k < d; k++) g[go + k] += v * x[xo + k];
      }
    }
    for (let col = 0; col < c; col++) {
      const go = col * d;
      for (let k = 0; k < d; k++) {
        g[go + k] -= csum[col] * z[zr + k];
        sum[go + k] += g[go + k];
      }
      if (diagOnly) {
        for (let k = 0; k < d; k++) outer[k] += g[go + k] * g[go + k];
      } else {
        for (let i = 0; i < d; i++) {
          const gi = g[go + i];
          if (gi === 0) continue;
          for (let j = 0; j < d; j++) outer[i * d + j] += gi * g[go + j];
        }
      }
    }
  }
}

/**
 * The AGOP's gradient sums over Z = X from the packed lower triangle of K(X, X), for its rows
 * [i0, i1): g_c(x_r) = sum_i w_ri alpha_ic (x_i - x_r) = G[r, c] - S[r, c] x_r with
 * G[r, c] = sum_i w_ri alpha_ic x_i and S[r, c] = sum_i w_ri alpha_ic, w = gradientWeightOfValue(K).
 * Each entry K_ij (i > j) adds to both rows i and j (G is n x c x d, S n x c; two threads on disjoint
 * row ranges need separate G and S). Per entry one logarithm and 2 c (d + 1) multiply-adds, against
 * the recomputing AGOP's two distances (3 d flops each), two exponentials and 2 c d multiply-adds.
 */
export function gradSumsPackedRows(
  K: Float64Array,
  X: Mat,
  kernel: KernelSpec,
  alpha: Mat,
  i0: number,
  i1: number,
  G: Float64Array,
  S: Float64Array,
): void {
  const d = X.cols,
    c = alpha.cols,
    x = X.data,
    al = alpha.data;
  const w = gradientWeightOfValue(kernel);
  // Tiles of B x B entries, so the rows of x and G that a tile touches stay in the L1 cache instead
  // of streaming all of G and x once per row. Within a row, contributions arrive in ascending i as
  // in gradMomentsRows (the Gaussian sums are bit-identical to it, measured).
  const B = 32;
  for (let ib = i0; ib < i1; ib += B) {
    const ie = Math.min(i1, ib + B);
    for (let jb = 0; jb < ie - 1; jb += B) {
      const je = Math.min(jb + B, ie - 1);
      for (let i = Math.max(ib, jb + 1); i < ie; i++) {
        const row = (i * (i + 1)) / 2;
        const xi = i * d;
        const jEnd = Math.min(je, i);
        for (let j = jb; j < jEnd; j++) {
          const wij = w(K[row + j]);
          if (wij === 0) continue;
          const xj = j * d;
          for (let col = 0; col < c; col++) {
            const ai = wij * al[i * c + col],
              aj = wij * al[j * c + col];
            S[i * c + col] += aj;
            S[j * c + col] += ai;
            const gi = (i * c + col) * d,
              gj = (j * c + col) * d;
            for (let k = 0; k < d; k++) {
              G[gi + k] += aj * x[xj + k];
              G[gj + k] += ai * x[xi + k];
            }
          }
        }
      }
    }
  }
}

/** The gradient moments (outer: d x d, or d when diagOnly; sum: c x d) from the sums of gradSumsPackedRows. */
export function momentsFromGradSums(
  X: Mat,
  c: number,
  G: Float64Array,
  S: Float64Array,
  diagOnly: boolean,
): GradMoments {
  const n = X.rows,
    d = X.cols,
    x = X.data;
  const outer = new Float64Array(diagOnly ? d : d * d);
  const sum = new Float64Array(c * d);
  const g = new Float64Array(d);
  for (let r = 0; r < n; r++)
    for (let col = 0; col < c; col++) {
      const go = (r * c + col) * d,
        s = S[r * c + col];
      for (let k = 0; k < d; k++) {
        g[k] = G[go + k] - s * x[r * d + k];
        sum[col * d + k] += g[k];
      }
      if (diagOnly) for (let k = 0; k < d; k++) outer[k] += g[k] * g[k];
      else
        for (let a = 0; a < d; a++) {
          const ga = g[a];
          if (ga === 0) continue;
          for (let b = 0; b < d; b++) outer[a * d + b] += ga * g[b];
        }
    }
  return { outer, sum: mat(c, d, sum) };
}

/** Rows [i0, i1) of the packed lower triangle of K(X, X) (row i starts at i (i + 1) / 2). */
export function packedKernelRows(X: Mat, kernel: KernelSpec, i0: number, i1: number, K: Float64Array): void {
  const d = X.cols,
    x = X.data,
    k = kernelOfDistance(kernel);
  const pair = new Float64Array(4);
  // Rows in pairs against columns in pairs: each coordinate load feeds two distances (1.5-2x
  // fewer loads per entry); every distance is summed in the same order as dist(), so K is
  // bit-identical to the one-entry loop.
  let i = i0;
  for (; i + 1 < i1; i += 2) {
    const ra = (i * (i + 1)) / 2,
      rb = ra + i + 1;
    const xa = i * d,
      xb = xa + d;
    let j = 0;
    for (; j + 1 < i; j += 2) {
      const xu = j * d,
        xv = xu + d;
      dist2x2(x, xa, xb, x, xu, xv, d, pair);
      K[ra + j] = k(pair[0]);
      K[ra + j + 1] = k(pair[1]);
      K[rb + j] = k(pair[2]);
      K[rb + j + 1] = k(pair[3]);
    }
    for (; j < i; j++) {
      K[ra + j] = k(dist(x, xa, x, j * d, d));
      K[rb + j] = k(dist(x, xb, x, j * d, d));
    }
    K[ra + i] = 1; // k(0) = 1 for both kernels
    K[rb + i] = k(dist(x, xb, x, xa, d));
    K[rb + i + 1] = 1;
  }
  for (; i < i1; i++) {
    const row = (i * (i + 1)) / 2;
    for (let j = 0; j < i; j++) K[row + j] = k(dist(x, i * d, x, j * d, d));
    K[row + i] = 1;
  }
}

/**
 * The CPU's kernel blocks and products for the shared iterative solvers (solvers.ts), in float64.
 * With `store`, prepare() builds the packed lower triangle of K once (n(n+1)/2 float64) and full
 * products read each entry once for both of its places (half the memory traffic of a full K: the
 * product is bound by it); otherwise every product recomputes its kernel entries (O(n) memory).
 */
export class CpuKernelOps implements CpuSolveOps {
  readonly n: number;
  private packed: Float64Array | null = null;
  private readonly k: (r: number) => number;

  constructor(
    private readonly X: Mat,
    private readonly kernel: KernelSpec,
    private readonly store: boolean,
  ) {
    this.n = X.rows;
    this.k = kernelOfDistance(kernel);
  }

  async prepare(): Promise<void> {
    if (!this.store || this.packed) return;
    const K = new Float64Array((this.n * (this.n + 1)) / 2);
    packedKernelRows(this.X, this.kernel, 0, this.n, K);
    this.packed = K;
  }

  storedK(): Float64Array | null {
    return this.packed;
  }

  async block(a: Int32Array | null, b: Int32Array): Promise<Float64Array> {
    const d = this.X.cols,
      x = this.X.data,
      k = this.k;
    const rows = a ? a.length : this.n;
    const out = new Float64Array(rows * b.length);
    for (let r = 0; r < rows; r++) {
      const xi = (a ? a[r] : r) * d;
      for (let j = 0; j < b.length; j++) out[r * b.length + j] = k(dist(x, xi, x, b[j] * d, d));
    }
    return out;
  }

  async times(a: Int32Array | null, b: Int32Array | null, p: Float64Array, c: number): Promise<Float64Array> {
    if (!a && !b) {
      await this.prepare();
      if (this.packed) {
        const out = new Float64Array(this.n * c);
        packedTimesRows(this.packed, p, c, 0, this.n, out);
        return out;
      }
    }
    const d = this.X.cols,
      x = this.X.data,
      k = this.k;
    const rows = a ? a.length : this.n,
      cols = b ? b.length : this.n;
    const out = new Float64Array(rows * c);
    for (let r = 0; r < rows; r++) {
      const xi = (a ? a[r] : r) * d;
      if (c === 1) {
        let acc = 0;
        for (let j = 0; j < cols; j++) acc += k(dist(x, xi, x, (b ? b[j] : j) * d, d)) * p[j];
        out[r] = acc;
        continue;
      }
      for (let j = 0; j < cols; j++) {
        const v = k(dist(x, xi, x, (b ? b[j] : j) * d, d));
        for (let col = 0; col < c; col++) out[r * c + col] += v * p[j * c + col];
      }
    }
    return out;
  }
}

/**
 * Adds the contribution of rows [i0, i1) of the packed lower triangle of a symmetric K to out = K P
 * (P and out n x c): each entry is read once for both of its places (K_ij p_j into row i, K_ij p_i
 * into row j), so two threads on disjoint row ranges need separate outputs.
 */
export function packedTimesRows(
  K: Float64Array,
  p: Float64Array,
  c: number,
  i0: number,
  i1: number,
  out: Float64Array,
) {
  if (c === 1) {
    for (let i = i0; i < i1; i++) {
      const row = (i * (i + 1)) / 2;
      const pi = p[i];
      let a0 = 0,
        a1 = 0;
      let j = 0;
      for (; j + 1 < i; j += 2) {
        const k0 = K[row + j],
          k1 = K[row + j + 1];
        a0 += k0 * p[j];
        a1 += k1 * p[j + 1];
        out[j] += k0 * pi;
        out[j + 1] += k1 * pi;
      }
      for (; j < i; j++) {
        a0 += K[row + j] * p[j];
        out[j] += K[row + j] * pi;
      }
      out[i] += a0 + a1 + K[row + i] * pi;
    }
    return;
  }
  const acc = new Float64Array(c);
  for (let i = i0; i < i1; i++) {
    const row = (i * (i + 1)) / 2;
    acc.fill(0);
    const pi = i * c;
    for (let j = 0; j < i; j++) {
      const v = K[row + j];
      const pj = j * c;
      for (let col = 0; col < c; col++) {
        acc[col] += v * p[pj + col];
        out[pj + col] += v * p[pi + col];
      }
    }
    for (let col = 0; col < c; col++) out[pi + col] += acc[col] + K[row + i] * p[pi + col];
  }
}
