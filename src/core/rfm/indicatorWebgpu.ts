// The AGOP's dense Gram sums of indicator inputs (rfm/indicator.ts GramSums) on a WebGPU device: each
// block of gradient columns is uploaded as f32 rows (cols x dPad) and multiplied by itself with
// transposeProduct.wgsl (f32 blocks of 128 rows, Kahan-compensated across blocks); the block results
// are added in float64 on the host.
import type { GpuLease } from '../gpu/lease';
import { USAGE_COPY_SRC, USAGE_STORAGE, roundUp, type GpuContext } from '../gpu/context';
import { encodeTransposeProduct } from '../gpu/encodeTransposeProduct';
import type { GramSums } from './indicator';

export class WebGpuGramSums implements GramSums {
  readonly name = 'webgpu' as const;
  readonly device: string;
  private disposed = false;

  constructor(
    private readonly ctx: GpuContext,
    private readonly giveBack: () => void = () => {},
  ) {
    this.device = ctx.name;
  }

  /** On the surface's leased device (released by dispose). */
  static async leased(lease: GpuLease): Promise<WebGpuGramSums> {
    const ctx = await lease.acquire();
    return new WebGpuGramSums(ctx, () => lease.release());
  }

  async addGram(G: Float64Array, d: number, cols: number, out: Float64Array): Promise<void> {
    const dPad = roundUp(d, 4);
    const rows = new Float32Array(cols * dPad);
    for (let j = 0; j < d; j++) {
      const gj = j * cols;
      for (let k = 0; k < cols; k++) rows[k * dPad + j] = G[gj + k];
    }
    this.ctx.checkBinding(rows.byteLength, `${cols} gradient rows of ${d} entries`);
    const res = await this.ctx.run('indicator AGOP Gram', async (op) => {
      const A = this.ctx.upload(op, rows, 'gradient rows');
      const outBuf = this.ctx.buffer(op, dPad * dPad * 4, USAGE_STORAGE | USAGE_COPY_SRC, 'gram');
      const enc = this.ctx.device.createCommandEncoder({ label: 'indicator AGOP Gram' });
      const pass = enc.beginComputePass({ label: 'indicator AGOP Gram' });
      encodeTransposeProduct(this.ctx, op, pass, [A, A, outBuf], cols, dPad, dPad, 'indicator AGOP Gram');
      pass.end();
      const [o] = await this.ctx.readBack(op, enc, [[outBuf, 0, dPad * dPad]]);
      return o;
    });
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) out[a * d + b] += res[a * dPad + b];
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.giveBack();
  }
}
