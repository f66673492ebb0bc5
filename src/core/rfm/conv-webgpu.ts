// ConvRFM on WebGPU: the aligned-patch kernel matrix in kernels/patchKernel.wgsl (f32, row tiles that fit
// a storage binding), the per-position patch gradients on the RFM WebGPU backend sharing the device.
// Patches are transformed by R on the host (float64) and uploaded once per kernel matrix.
import { BackendError } from '../errors';
import { GpuContext, USAGE_COPY_SRC, USAGE_STORAGE } from '../gpu/context';
import type { GpuLease } from '../gpu/lease';
import type { KernelSpec } from './backend';
import type { ConvRfmBackend } from './conv-backend';
import type { PatchSet } from './conv-patches';
import { patchKernel } from './kernels/programs';
import { WebGpuBackend } from './webgpu';

/** Rows of one dispatch at most: the grid's y extent (8 rows a workgroup) stays under 65535. */
const MAX_TILE_ROWS = 8 * 65535;

export class WebGpuConvRfmBackend implements ConvRfmBackend {
  readonly name = 'webgpu' as const;
  readonly device: string;
  readonly rfm: WebGpuBackend;
  private disposed = false;

  /** `release` gives the context back (a lease's release(), or disposing a context of its own). */
  constructor(
    private readonly ctx: GpuContext,
    private readonly release: () => void = () => {},
    /** Rows of A per dispatch at most (tests force several tiles). */
    private readonly maxTileRows = MAX_TILE_ROWS,
  ) {
    this.device = ctx.name;
    this.rfm = new WebGpuBackend(ctx);
  }

  static async create(
    gpu: GPU,
    options: { keepAlive?: unknown; maxTileRows?: number } = {},
  ): Promise<WebGpuConvRfmBackend> {
    const ctx = await GpuContext.open(gpu, 'feature-lens convrfm', options.keepAlive);
    return new WebGpuConvRfmBackend(ctx, () => ctx.dispose(), options.maxTileRows);
  }

  /** A backend on the surface's shared device; dispose() gives it back. */
  static async leased(lease: GpuLease): Promise<WebGpuConvRfmBackend> {
    return new WebGpuConvRfmBackend(await lease.acquire(), () => lease.release());
  }

  get liveBuffers(): number {
    return this.ctx.liveBuffers;
  }

  async kernelMatrix(A: PatchSet, B: PatchSet | undefined, kernel: KernelSpec): Promise<Float64Array> {
    if (this.disposed) throw new BackendError('webgpu', 'convrfm kernelMatrix: backend already disposed');
    const other = B ?? A;
    if (other.P !== A.P || other.k !== A.k) throw new Error('patch kernel: patch sets of different shapes');
    const { n: nA, P, k } = A;
    const nB = other.n;
    this.ctx.checkBinding(P * nA * k * 4, `${nA} images x ${P} positions x ${k} patch coordinates`);
    this.ctx.checkBinding(P * nB * k * 4, `${nB} images x ${P} positions x ${k} patch coordinates`);
    const tileRows = Math.max(
      1,
      Math.min(nA, this.maxTileRows, Math.floor(this.ctx.maxBinding / (Math.max(nB, 1) * 4))),
    );
    const out = new Float64Array(nA * nB);
    await this.ctx.run('convrfm patch kernel', async (op) => {
      const a = this.ctx.upload(op, Float32Array.from(A.data), 'convrfm patches A');
      const b = B ? this.ctx.upload(op, Float32Array.from(B.data), 'convrfm patches B') : a;
      const tile = this.ctx.buffer(op, tileRows * nB * 4, USAGE_STORAGE | USAGE_COPY_SRC, 'convrfm kernel tile');
      const constants = { KERNEL: kernel.name === 'laplace' ? 0 : 1 };
      for (let r0 = 0; r0 < nA; r0 += tileRows) {
        const rows = Math.min(tileRows, nA - r0);
        const enc = this.ctx.device.createCommandEncoder({ label: 'convrfm patch kernel' });
        const pass = enc.beginComputePass({ label: 'convrfm patch kernel' });
        this.ctx.dispatchProgram(
          op,
          pass,
          patchKernel,
          { nA, nB, k, P, invL: 1 / kernel.bandwidth, aRow0: r0, rows },
          [a, b, tile],
          [Math.ceil(nB / 8), Math.ceil(rows / 8)],
          constants,
        );
        pass.end();
        const [part] = await this.ctx.readBack(op, enc, [[tile, 0, rows * nB]]);
        out.set(part, r0 * nB);
      }
    });
    if (!B) for (let i = 0; i < nA; i++) out[i * nA + i] = 1; // κ(0) = 1 exactly, as on the CPU
    return out;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.rfm.dispose(); // shares this context: gives nothing back itself
    this.release();
  }
}
