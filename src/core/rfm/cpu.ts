import type { Backend, GradMoments, KernelSpec, SolveResult } from './backend';
import { mat, type Mat } from '../mat';
import { solveKernelSystem } from './solve';
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
