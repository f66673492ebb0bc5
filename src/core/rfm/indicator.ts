// RFM steps for indicator inputs: rows that are sums of a few standard basis vectors (one-hot codes
// such as the grokking tasks' [onehot(a), onehot(b)], docs/science.md §4). For such rows every Mahalanobis
// inner product x^T M z is a sum of a handful of entries of M, so kernel matrices cost O(n^2) instead
// of O(n^2 d) and the AGOP is taken in input coordinates: for the kernels here grad_z k(x, z) =
// w(x, z) M (x - s z) (s = 1 for Gaussian/Laplace, 0 for quadratic), so with
// h_c(z) = sum_i w(x_i, z) alpha_ic (x_i - s z) the input gradients are M h_c(z) and the AGOP is
// M (sum h h^T) M / N: agopFromMoments with R = M (M symmetric). The moment sums sum_z sum_c h h^T
// are the one dense step (N c d^2); `GramSums` lets a device take them (the CPU float64 one is the oracle).
import { InputError } from '../errors';
import type { GradMoments, KernelName } from './backend';
import { dot2x2 } from '../linalg/blocks';
import { choleskyInPlace, choleskySolveInPlace } from '../linalg/cholesky';
import { gradientWeight, kernelOfDistance } from './kernel';
import { mat, type Mat } from '../mat';

/** The distance kernels of the RFM core, and the quadratic kernel k(x, z) = (x^T M z)^2. */
export type IndicatorKernelName = KernelName | 'quadratic';
export interface IndicatorKernel {
  readonly name: IndicatorKernelName;
  /** L of the distance kernels (ignored by the quadratic kernel). */
  readonly bandwidth: number;
}

/** n rows, each the sum of e_j over `width` indices j (row-major in idx), in R^d. */
export interface IndicatorRows {
  readonly n: number;
  readonly width: number;
  readonly idx: Int32Array;
  readonly d: number;
}

/** x_r^T M z_i for every pair (A.n x B.n), from the entries of M alone. */
export function indicatorInner(A: IndicatorRows, B: IndicatorRows, M: Float64Array): Float64Array {
  const d = A.d,
    wa = A.width,
    wb = B.width;
  const out = new Float64Array(A.n * B.n);
  for (let r = 0; r < A.n; r++)
    for (let i = 0; i < B.n; i++) {
      let s = 0;
      for (let u = 0; u < wa; u++) {
        const row = A.idx[r * wa + u] * d;
        for (let v = 0; v < wb; v++) s += M[row + B.idx[i * wb + v]];
      }
      out[r * B.n + i] = s;
    }
  return out;
}

/** x^T M x per row. */
function selfInner(A: IndicatorRows, M: Float64Array): Float64Array {
  const out = new Float64Array(A.n),
    w = A.width;
  for (let r = 0; r < A.n; r++) {
    let s = 0;
    for (let u = 0; u < w; u++) for (let v = 0; v < w; v++) s += M[A.idx[r * w + u] * A.d + A.idx[r * w + v]];
    out[r] = s;
  }
  return out;
}

/**
 * Kernel values k(z_r, x_i) (kind 'k') or gradient weights w(z_r, x_i) (kind 'w'), Z.n x X.n. Distances
 * are sqrt(max(0, z^T M z + x^T M x - 2 z^T M x)); identical index lists give exactly 0.
 */
export function indicatorKernelMatrix(
  Z: IndicatorRows,
  X: IndicatorRows,
  M: Float64Array,
  kernel: IndicatorKernel,
  kind: 'k' | 'w',
): Float64Array {
  const ip = indicatorInner(Z, X, M);
  if (kernel.name === 'quadratic') {
    for (let i = 0; i < ip.length; i++) ip[i] = kind === 'k' ? ip[i] * ip[i] : 2 * ip[i];
    return ip;
  }
  const spec = { name: kernel.name, bandwidth: kernel.bandwidth };
  const f = kind === 'k' ? kernelOfDistance(spec) : gradientWeight(spec);
  const sz = selfInner(Z, M),
    sx = selfInner(X, M);
  for (let r = 0; r < Z.n; r++)
    for (let i = 0; i < X.n; i++) {
      const j = r * X.n + i;
      ip[j] = f(Math.sqrt(Math.max(0, sz[r] + sx[i] - 2 * ip[j])));
    }
  return ip;
}

export interface JitterSolve {
  alpha: Mat;
  /** The diagonal added so that Cholesky succeeded: 0, or the smallest of 1e-12, 1e-11, ... x mean(diag K). */
  jitter: number;
}

/**
 * alpha = K^{-1} Y with ridge 0 (interpolation, docs/science.md §4): K + jitter I with the smallest jitter of
 * 0, 1e-12 s, 1e-11 s, ..., 1e-2 s (s = mean diagonal of K) for which Cholesky succeeds.
 */
export function solveSmallestJitter(K: Float64Array, n: number, Y: Mat): JitterSolve {
  let scale = 0;
  for (let i = 0; i < n; i++) scale += K[i * n + i];
  scale = scale / n || 1;
  const a = new Float64Array(n * n);
  for (let e = -13; e <= -2; e++) {
    const jitter = e < -12 ? 0 : scale * 10 ** e;
    a.set(K);
    for (let i = 0; i < n; i++) a[i * n + i] += jitter;
    if (!choleskyInPlace(a, n)) continue;
    const b = Float64Array.from(Y.data);
    choleskySolveInPlace(a, n, b, Y.cols);
    return { alpha: mat(n, Y.cols, b), jitter };
  }
  throw new InputError(
    `the kernel matrix is not positive definite even with jitter ${(scale * 1e-2).toPrecision(3)}; try another --kernel or --bandwidth`,
  );
}

/**
 * Accumulates sum_k g_k g_k^T over blocks of gradient vectors stored as the columns of a d x cols
 * row-major matrix G (out += G G^T): float64 on the CPU, or a device's Gram product.
 */
export interface GramSums {
  readonly name: 'cpu' | 'webgpu';
  readonly device: string;
  /** Reads G before it returns (the caller reuses it at once); `out` is complete when the promise resolves. */
  addGram(G: Float64Array, d: number, cols: number, out: Float64Array): Promise<void>;
  dispose(): void;
}

/**
 * The float64 oracle of GramSums: dot products of contiguous rows of G, two rows by two at a time (four
 * sums share each pair of loads), upper triangle mirrored.
 */
export class CpuGramSums implements GramSums {
  readonly name = 'cpu' as const;
  readonly device = 'cpu float64';
  async addGram(G: Float64Array, d: number, cols: number, out: Float64Array): Promise<void> {
    const add = (a: number, b: number, v: number) => {
      out[a * d + b] += v;
      if (a !== b) out[b * d + a] += v;
    };
    const sums = new Float64Array(4);
    for (let a = 0; a < d; a += 2) {
      const a1 = Math.min(a + 1, d - 1),
        ra = a * cols,
        ra1 = a1 * cols;
      for (let b = a; b < d; b += 2) {
        const b1 = Math.min(b + 1, d - 1),
          rb = b * cols,
          rb1 = b1 * cols;
        dot2x2(G, ra, ra1, G, rb, rb1, cols, sums);
        // Odd d: the last pair repeats row d - 1; count each (a, b) once, upper triangle only.
        add(a, b, sums[0]);
        if (b1 !== b) add(a, b1, sums[1]);
        if (a1 !== a && b >= a1) add(a1, b, sums[2]);
        if (a1 !== a && b1 !== b) add(a1, b1, sums[3]);
      }
    }
  }
  dispose(): void {}
}

/**
 * Gradient moments in input coordinates (see the header): outer = sum_z sum_c h h^T, sum = sum_z h_c
 * (c x d), over the rows of Z against centres X with coefficients alpha (X.n x c). Gaussian and
 * Laplace drop terms with |z - x_i|_M < 1e-10 (docs/science.md §1). The h of `block` rows at a time are
 * laid out as the columns of a d x (block c) matrix and handed to `gram`.
 */
export async function indicatorGradMoments(
  Z: IndicatorRows,
  X: IndicatorRows,
  M: Float64Array,
  kernel: IndicatorKernel,
  alpha: Mat,
  gram: GramSums,
  block = 64,
): Promise<GradMoments> {
  const d = X.d,
    c = alpha.cols,
    n = X.n,
    w = X.width,
    al = alpha.data;
  const sub = kernel.name !== 'quadratic';
  const outer = new Float64Array(d * d);
  const sum = new Float64Array(c * d);
  const cols = block * c;
  const H = new Float64Array(d * cols);
  const csum = new Float64Array(c);
  let pending: Promise<void> | null = null;
  for (let r0 = 0; r0 < Z.n; r0 += block) {
    const rows = Math.min(block, Z.n - r0);
    const zr: IndicatorRows = { n: rows, width: Z.width, idx: Z.idx.subarray(r0 * Z.width, (r0 + rows) * Z.width), d };
    const W = indicatorKernelMatrix(zr, X, M, kernel, 'w');
    H.fill(0);
    for (let r = 0; r < rows; r++) {
      const co = r * c; // this row's columns in H
      for (let i = 0; i < n; i++) {
        const wi = W[r * n + i];
        if (wi === 0) continue;
        const ai = i * c;
        if (w === 2) {
          // The grokking rows [a, p + b]: one product feeds both rows of H.
          const h0 = X.idx[2 * i] * cols + co,
            h1 = X.idx[2 * i + 1] * cols + co;
          for (let col = 0; col < c; col++) {
            const v = wi * al[ai + col];
            H[h0 + col] += v;
            H[h1 + col] += v;
          }
        } else
          for (let u = 0; u < w; u++) {
            const ho = X.idx[i * w + u] * cols + co;
            for (let col = 0; col < c; col++) H[ho + col] += wi * al[ai + col];
          }
      }
      if (sub) {
        // sum_i w_i alpha_ic: every centre added its term at exactly `w` indices, so it is the column sum / w.
        csum.fill(0);
        for (let j = 0; j < d; j++) for (let col = 0; col < c; col++) csum[col] += H[j * cols + co + col];
        for (let col = 0; col < c; col++) csum[col] /= w;
        for (let u = 0; u < Z.width; u++) {
          const ho = zr.idx[r * Z.width + u] * cols + co;
          for (let col = 0; col < c; col++) H[ho + col] -= csum[col];
        }
      }
      for (let j = 0; j < d; j++) for (let col = 0; col < c; col++) sum[col * d + j] += H[j * cols + co + col];
    }
    // A device's Gram of this block runs while the next block is built: addGram copies H before it
    // returns, the previous block's sums are awaited first (one block in flight), and one microtask turn
    // lets the device op submit.
    if (pending) await pending;
    pending = gram.addGram(rows === block ? H : compact(H, d, cols, rows * c), d, rows * c, outer);
    pending.catch(() => undefined); // awaited below or next round; not an unhandled rejection meanwhile
    await Promise.resolve();
  }
  if (pending) await pending;
  return { outer, sum: mat(c, d, sum) };
}

/** The first `used` columns of a d x cols row-major matrix, as d x used. */
function compact(H: Float64Array, d: number, cols: number, used: number): Float64Array {
  const out = new Float64Array(d * used);
  for (let j = 0; j < d; j++) out.set(H.subarray(j * cols, j * cols + used), j * used);
  return out;
}

/** Predictions K(Z, X) alpha (Z.n x c). */
export function indicatorPredict(
  Z: IndicatorRows,
  X: IndicatorRows,
  M: Float64Array,
  kernel: IndicatorKernel,
  alpha: Mat,
): Mat {
  const K = indicatorKernelMatrix(Z, X, M, kernel, 'k');
  const c = alpha.cols,
    n = X.n,
    out = new Float64Array(Z.n * c);
  for (let r = 0; r < Z.n; r++)
    for (let i = 0; i < n; i++) {
      const k = K[r * n + i];
      for (let col = 0; col < c; col++) out[r * c + col] += k * alpha.data[i * c + col];
    }
  return mat(Z.n, c, out);
}
