import type { Backend, GradMoments, KernelSpec, SolveResult } from './backend';
import { mat, type Mat } from '../mat';
import { choleskyInPlace, choleskySolveInPlace } from '../linalg/cholesky';
import { gradientWeight, kernelOfDistance } from './kernel';

const now = () => performance.now() / 1000;

function dist(a: Float64Array, ai: number, b: Float64Array, bi: number, d: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) {
    const t = a[ai + k] - b[bi + k];
    s += t * t;
  }
  return Math.sqrt(s);
}

/** The float64 reference backend: every GPU kernel is tested against it. */
export class CpuBackend implements Backend {
  readonly name = 'cpu' as const;
  readonly device = 'cpu float64';

  async solve(X: Mat, kernel: KernelSpec, Y: Mat, reg: number): Promise<SolveResult> {
    const t0 = now();
    const n = X.rows,
      d = X.cols,
      x = X.data;
    const k = kernelOfDistance(kernel);
    const a = new Float64Array(n * n);
    const rowSum = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < i; j++) {
        const v = k(dist(x, i * d, x, j * d, d));
        a[i * n + j] = v;
        rowSum[i] += Math.abs(v);
        rowSum[j] += Math.abs(v);
      }
      a[i * n + i] = 1 + reg; // k(0) = 1 for both kernels
      rowSum[i] += 1;
    }
    const t1 = now();
    const ok = choleskyInPlace(a, n);
    if (!ok) return { ok: false, maxAbsRowSum: Math.max(...rowSum), seconds: { kernel: t1 - t0, solve: now() - t1 } };
    const b = Float64Array.from(Y.data);
    choleskySolveInPlace(a, n, b, Y.cols);
    return { ok: true, alpha: mat(n, Y.cols, b), seconds: { kernel: t1 - t0, solve: now() - t1 } };
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
