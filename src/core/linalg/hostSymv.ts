/**
 * A symmetric float32 matrix held in WebAssembly memory and multiplied on the host's SIMD lanes
 * (wasm/symv.wat: half of K read, float64 accumulation). The WebGPU RFM backend keeps its CG kernel
 * matrix here when the adapter is a CPU emulation (compute.ts cpuEmulatedAdapter): there the device's
 * product is the same cores reading K through per-lane gathers, 3-4x slower than this loop (measured:
 * n = 4000, 7.3 ms on lavapipe against 3.1 ms here). Browser-safe: WebAssembly only, no Node API.
 */
import { symvWasmBase64 } from './wasm/symvWasm';
import { instantiate, wasmModule } from './wasm/load';
import type { Pacer } from '../pacer';

const PAGE = 65536;
/** wasm32 memory: 4 GiB addresses, of which K, p and out must fit (4 GiB - 64 KiB keeps offsets below 2^32). */
export const HOST_SYMV_MAX_BYTES = 65535 * PAGE;

const symvModule = (): WebAssembly.Module | null => wasmModule('symv', symvWasmBase64);

/** Whether this runtime can run the host product (WebAssembly with SIMD). */
export function hostSymvAvailable(): boolean {
  return symvModule() !== null;
}

/** Bytes a HostSymmetricMatrix of order n holds: K (ld x ld float32) and two ld-long float64 vectors. */
export function hostSymvBytes(n: number): number {
  const ld = Math.ceil(n / 4) * 4;
  return ld * ld * 4 + 2 * ld * 8;
}

export class HostSymmetricMatrix {
  /** Row stride: n rounded up to 4 (one f32x4 per step). */
  readonly ld: number;
  private readonly memory: WebAssembly.Memory;
  private readonly symv4: (k: number, p: number, out: number, ld: number, g0: number, g1: number) => void;
  private readonly pOffset: number;
  private readonly outOffset: number;

  private constructor(
    readonly n: number,
    module: WebAssembly.Module,
  ) {
    this.ld = Math.ceil(n / 4) * 4;
    // Fresh memory is zero: rows n..ld-1 and the padding columns stay finite (zero).
    const { memory, exports } = instantiate(module, hostSymvBytes(n));
    this.memory = memory;
    this.symv4 = exports.symv4 as HostSymmetricMatrix['symv4'];
    this.pOffset = this.ld * this.ld * 4;
    this.outOffset = this.pOffset + this.ld * 8;
  }

  /**
   * A zeroed matrix of order n, or null when this runtime has no WebAssembly SIMD, n needs more than
   * wasm32's 4 GiB (hostSymvBytes) or the memory cannot be had (WebAssembly.Memory's RangeError): the
   * caller keeps its own product then.
   */
  static create(n: number): HostSymmetricMatrix | null {
    if (!Number.isInteger(n) || n < 1 || hostSymvBytes(n) > HOST_SYMV_MAX_BYTES) return null;
    const module = symvModule();
    if (!module) return null;
    try {
      return new HostSymmetricMatrix(n, module);
    } catch (e) {
      if (e instanceof RangeError) return null;
      throw e;
    }
  }

  /**
   * Rows r0..r0+rows-1 of K as a writable view (rows x ld float32, row-major). The product reads each
   * row i from column 4 floor(i / 4) on; values left of that are never read. Views are valid until the
   * next call on this matrix.
   */
  rows(r0: number, rows: number): Float32Array {
    if (r0 < 0 || rows < 0 || r0 + rows > this.n) throw new RangeError(`rows ${r0}..${r0 + rows} of ${this.n}`);
    return new Float32Array(this.memory.buffer, r0 * this.ld * 4, rows * this.ld);
  }

  /**
   * K P for P (n x c, row-major, float64) -> n x c float64, one column at a time. With a pacer the
   * rows go in chunks of about 4M entries (~1.5 ms) and the event loop gets a turn whenever the pacer
   * says (an extension host or a page runs this on its main thread: at n = 20,000 one product reads
   * 800 MB, ~75 ms).
   */
  async times(P: Float64Array, c: number, pacer?: Pacer): Promise<Float64Array> {
    const { n, ld } = this;
    if (P.length !== n * c) throw new RangeError(`times: ${P.length} values for ${n} x ${c}`);
    const groups = ld / 4;
    const chunk = Math.max(1, Math.floor(2 ** 21 / ld));
    const column = async (): Promise<void> => {
      new Float64Array(this.memory.buffer, this.outOffset, ld).fill(0);
      for (let g = 0; g < groups; g += chunk) {
        this.symv4(0, this.pOffset, this.outOffset, ld, g, Math.min(groups, g + chunk));
        await pacer?.tick();
      }
    };
    // Views made after each await: nothing here grows the memory, but they are cheap.
    const p = (): Float64Array => new Float64Array(this.memory.buffer, this.pOffset, ld);
    const out = (): Float64Array => new Float64Array(this.memory.buffer, this.outOffset, n);
    if (c === 1) {
      // Copies, not loops: in a fresh process a JavaScript loop boxes every float until the JIT warms up.
      p().set(P);
      await column();
      return out().slice();
    }
    const result = new Float64Array(n * c);
    for (let col = 0; col < c; col++) {
      const pv = p();
      for (let i = 0; i < n; i++) pv[i] = P[i * c + col];
      await column();
      const o = out();
      for (let i = 0; i < n; i++) result[i * c + col] = o[i];
    }
    return result;
  }
}
