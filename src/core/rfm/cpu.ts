import type { Backend, GradMoments, KernelSpec, SolveHints, SolveResult } from './backend';
import { mat, type Mat } from '../mat';
import { solveKernelSystem } from './solve';
import { gradientWeight, kernelOfDistance } from './kernel';
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

/** The float64 reference backend: every GPU kernel is tested against it. */
export class CpuBackend implements Backend {
  readonly name = 'cpu' as const;
  readonly device = 'cpu float64';
  readonly solverLimits = CPU_SOLVER_LIMITS;
  private readonly iterative: IterativeSolver;

  constructor(options: Partial<IterativeOptions> = {}) {
    this.iterative = new IterativeSolver({ ...DEFAULT_ITERATIVE_OPTIONS, ...options });
  }

  /** One entry per solve, oldest first (benchmarks and tests read it). */
  get solveLog(): SolveStats[] {
    return this.iterative.log;
  }

  async solve(X: Mat, kernel: KernelSpec, Y: Mat, reg: number, hints?: SolveHints): Promise<SolveResult> {
    const solver = hints?.solver ?? 'direct';
    if (solver !== 'direct')
      return this.iterative.solve(
        solver,
        new CpuKernelOps(X, kernel, solver === 'cg' && cpuPackedKernelBytes(X.rows) <= MAX_CPU_KERNEL_BYTES),
        Y,
        reg,
        hints,
      );
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
    const n = X.rows,
      d = X.cols,
      c = alpha.cols,
      x = X.data,
      z = Z.data,
      al = alpha.data;
    const k = kernelOfDistance(kernel);
    const out = new Float64Array(Z.rows * c);
    for (let r = 0; r < Z.rows; r++) {
      for (let i = 0; i < n; i++) {
        const v = k(dist(z, r * d, x, i * d, d));
        for (let col = 0; col < c; col++) out[r * c + col] += v * al[i * c + col];
      }
    }
    return mat(Z.rows, c, out);
  }

  async gradMoments(Z: Mat, X: Mat, kernel: KernelSpec, alpha: Mat, diagOnly: boolean): Promise<GradMoments> {
    const n = X.rows,
      d = X.cols,
      c = alpha.cols,
      x = X.data,
      z = Z.data,
      al = alpha.data;
    const w = gradientWeight(kernel);
    const outer = new Float64Array(diagOnly ? d : d * d);
    const sum = new Float64Array(c * d);
    const coef = new Float64Array(n * c);
    const g = new Float64Array(c * d);
    for (let r = 0; r < Z.rows; r++) {
      const zr = r * d;
      // coef_ic = w(|z - x_i|) alpha_ic; g_c = sum_i coef_ic x_i - z sum_i coef_ic
      const csum = new Float64Array(c);
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
    return { outer, sum: mat(c, d, sum) };
  }

  dispose(): void {}
}

/**
 * The CPU's kernel blocks and products for the shared iterative solvers (solvers.ts), in float64.
 * With `store`, prepare() builds the packed lower triangle of K once (n(n+1)/2 float64) and full
 * products read each entry once for both of its places (half the memory traffic of a full K: the
 * product is bound by it); otherwise every product recomputes its kernel entries (O(n) memory).
 */
export class CpuKernelOps implements KernelOps {
  readonly n: number;
  private packed: Float64Array | null = null;
  private readonly k: (r: number) => number;

  constructor(
    private readonly X: Mat,
    kernel: KernelSpec,
    private readonly store: boolean,
  ) {
    this.n = X.rows;
    this.k = kernelOfDistance(kernel);
  }

  async prepare(): Promise<void> {
    if (!this.store || this.packed) return;
    const n = this.n,
      d = this.X.cols,
      x = this.X.data,
      k = this.k;
    const K = new Float64Array((n * (n + 1)) / 2);
    for (let i = 0; i < n; i++) {
      const row = (i * (i + 1)) / 2;
      for (let j = 0; j < i; j++) K[row + j] = k(dist(x, i * d, x, j * d, d));
      K[row + i] = 1; // k(0) = 1 for both kernels
    }
    this.packed = K;
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
      if (this.packed) return packedTimes(this.packed, this.n, p, c);
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

/** K P for the packed lower triangle of a symmetric K (n x n) and P (n x c). */
function packedTimes(K: Float64Array, n: number, p: Float64Array, c: number): Float64Array {
  const out = new Float64Array(n * c);
  if (c === 1) {
    for (let i = 0; i < n; i++) {
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
    return out;
  }
  const acc = new Float64Array(c);
  for (let i = 0; i < n; i++) {
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
  return out;
}
