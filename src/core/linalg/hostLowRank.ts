/**
 * The Nyström preconditioner's low-rank step out = v + C W diag(scale) W^T C^T v on the host's SIMD
 * lanes (wasm/lowrank.wat, float64 throughout, as the JavaScript loops of rfm/nystrom.ts it replaces
 * where WebAssembly SIMD exists; they differ only in summation order). CG applies it every iteration:
 * measured on the n = 2000 benchmark fit (s = 64), 0.35 ms per application in JavaScript once the JIT
 * had warmed up and 1-2 ms before, against ~0.1 ms here from the first call.
 */
import { lowrankWasmBase64 } from './wasm/lowrankWasm';
import { instantiate, wasmModule } from './wasm/load';
import { copyRows } from './denseKernels';

const up4 = (v: number): number => Math.ceil(v / 4) * 4;

export class HostLowRank {
  private readonly memory: WebAssembly.Memory;
  private readonly run: (...args: number[]) => void;
  private readonly at: { c: number; w: number; scale: number; v: number; out: number; q: number; t: number; u: number };
  private readonly s4: number;
  private readonly r4: number;

  private constructor(
    module: WebAssembly.Module,
    C: Float32Array | Float64Array,
    private readonly n: number,
    s: number,
    W: Float64Array,
    r: number,
    scale: Float64Array,
  ) {
    const s4 = up4(s),
      r4 = up4(r);
    // C first: lowRankApply reads a zero `base` offset as "no base".
    const sizes = { c: n * s4, w: s4 * r4, scale: r4, v: n + 1, out: n + 1, q: s4, t: r4, u: s4 };
    const at = {} as HostLowRank['at'];
    let off = 0;
    for (const [k, len] of Object.entries(sizes)) {
      at[k as keyof typeof sizes] = off;
      off += Math.ceil((len * 8) / 16) * 16;
    }
    const { memory, exports } = instantiate(module, off);
    const f = new Float64Array(memory.buffer);
    copyRows(C, n, s, f, s4, at.c / 8);
    copyRows(W, s, r, f, r4, at.w / 8);
    f.set(scale.subarray(0, r), at.scale / 8);
    this.memory = memory;
    this.run = exports.lowRankApply as HostLowRank['run'];
    this.at = at;
    this.s4 = s4;
    this.r4 = r4;
  }

  /**
   * For C (n x s, row-major, the landmarks' kernel columns), W (s x r, row-major) and scale (r): the
   * step's matrices copied into WebAssembly memory, or null where WebAssembly SIMD is unavailable.
   */
  static create(
    C: Float32Array | Float64Array,
    n: number,
    s: number,
    W: Float64Array,
    r: number,
    scale: Float64Array,
  ): HostLowRank | null {
    const module = wasmModule('lowrank', lowrankWasmBase64);
    return module ? new HostLowRank(module, C, n, s, W, r, scale) : null;
  }

  /** out = v + C W diag(scale) W^T C^T v for each of the c columns of v (n x c, row-major). */
  apply(v: Float64Array, c: number): Float64Array {
    const { n, at } = this;
    const vv = new Float64Array(this.memory.buffer, at.v, n);
    const out = new Float64Array(this.memory.buffer, at.out, n);
    if (c === 1) {
      vv.set(v);
      this.run(at.c, n, this.s4, at.w, this.r4, at.scale, at.v, at.out, at.q, at.t, at.u);
      return out.slice();
    }
    const result = new Float64Array(n * c);
    for (let col = 0; col < c; col++) {
      for (let i = 0; i < n; i++) vv[i] = v[i * c + col];
      this.run(at.c, n, this.s4, at.w, this.r4, at.scale, at.v, at.out, at.q, at.t, at.u);
      for (let i = 0; i < n; i++) result[i * c + col] = out[i];
    }
    return result;
  }
}
