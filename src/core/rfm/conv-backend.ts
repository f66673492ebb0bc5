// ConvRFM's compute (docs/science.md §6). The aligned-patch kernel K(x, z) = (1/P) Σ_p κ(|x_p - z_p|_M) is a
// mean over positions of the RFM kernel on that position's patches, so the patch gradients at p are the
// RFM predictor's gradients on position p's patches with alpha / P: they come from the RFM backend
// (`rfm.gradMoments`, CPU or WebGPU) position by position. Only the kernel matrix, summed over positions,
// is ConvRFM's own operation.
import type { BackendName } from '../errors';
import type { Backend, KernelSpec } from './backend';
import { CpuBackend } from './cpu';
import { kernelOfDistance } from './kernel';
import type { PatchSet } from './conv-patches';

export interface ConvRfmBackend {
  readonly name: BackendName;
  readonly device: string;
  /**
   * K[a, b] = (1/P) Σ_p κ(|A_{a,p} - B_{b,p}|) between transformed patch sets (A.rows x B.rows, row-major).
   * B undefined: K(A, A), symmetric with κ(0) = 1 on the diagonal.
   */
  kernelMatrix(A: PatchSet, B: PatchSet | undefined, kernel: KernelSpec): Promise<Float64Array>;
  /** The RFM backend that takes the per-position patch gradients. */
  readonly rfm: Backend;
  dispose(): void;
}

/** The float64 oracle of the patch kernel matrix: every other implementation is tested against it. */
export function patchKernelMatrix(A: PatchSet, B: PatchSet | undefined, kernel: KernelSpec): Float64Array {
  const other = B ?? A;
  if (other.P !== A.P || other.k !== A.k) throw new Error('patchKernelMatrix: patch sets of different shapes');
  const { n: na, P, k } = A;
  const nb = other.n;
  const kappa = kernelOfDistance(kernel);
  const out = new Float64Array(na * nb);
  const a = A.data,
    b = other.data;
  for (let p = 0; p < P; p++) {
    const ao = p * na * k,
      bo = p * nb * k;
    for (let i = 0; i < na; i++) {
      const jEnd = B ? nb : i;
      for (let j = 0; j < jEnd; j++) {
        let s = 0;
        for (let t = 0; t < k; t++) {
          const diff = a[ao + i * k + t] - b[bo + j * k + t];
          s += diff * diff;
        }
        out[i * nb + j] += kappa(Math.sqrt(s));
      }
    }
  }
  for (let i = 0; i < out.length; i++) out[i] /= P;
  if (!B)
    for (let i = 0; i < na; i++) {
      out[i * na + i] = 1;
      for (let j = 0; j < i; j++) out[j * na + i] = out[i * na + j];
    }
  return out;
}

/** The float64 reference backend. */
export class CpuConvRfmBackend implements ConvRfmBackend {
  readonly name = 'cpu' as const;
  readonly device = 'cpu float64';
  constructor(readonly rfm: Backend = new CpuBackend()) {}

  async kernelMatrix(A: PatchSet, B: PatchSet | undefined, kernel: KernelSpec): Promise<Float64Array> {
    return patchKernelMatrix(A, B, kernel);
  }

  dispose(): void {
    this.rfm.dispose();
  }
}
