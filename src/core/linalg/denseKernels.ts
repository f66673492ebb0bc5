/**
 * The O(d^3) loops of the symmetric eigensolver (eigh-tridiagonal.ts) over its working arrays, on
 * WebAssembly SIMD (wasm/dense.wat) where the runtime has it, else in JavaScript: one algorithm, two
 * places its inner loops run. Arrays are row-major with stride ld (d rounded up to 2), zero-padded.
 */
import { denseWasmBase64 } from './wasm/denseWasm';
import { instantiate, wasmModule } from './wasm/load';
import type { Pacer } from '../pacer';

const denseModule = (): WebAssembly.Module | null => wasmModule('dense', denseWasmBase64);

export interface DenseKernels {
  readonly ld: number;
  /** The matrix being reduced (d x ld), Q^T (d x ld) and three ld-long vectors. */
  readonly A: Float64Array;
  readonly Qt: Float64Array;
  readonly v: Float64Array;
  readonly p: Float64Array;
  readonly w: Float64Array;
  /** p[i] = beta sum_{j >= j0} A[i, j] v[j] for rows i0..d-1 (v zero below j0 and past d). */
  rowsTimes(i0: number, d: number, j0: number, beta: number): void;
  /** A[i, j] -= v[i] w[j] + w[i] v[j] for i, j in k..d-1 (v, w zero outside k..d-1). */
  symRank2(k: number, d: number): void;
  /** Qt[j, :] -= beta v[j] (sum_m v[m] Qt[m, :]) for rows j0..d-1 (uses p). */
  reflectRows(j0: number, d: number, beta: number): void;
  /** Rows i and i + 1 of Qt: c x_i - s x_{i+1} into i, s x_i + c x_{i+1} into i + 1. */
  rotateRows(i: number, c: number, s: number): void;
}

/** Kernels for order d: WebAssembly when available (simd !== false), else JavaScript. */
export function denseKernels(d: number, simd = true): DenseKernels {
  const ld = d + (d % 2);
  const module = simd ? denseModule() : null;
  return module ? wasmKernels(module, d, ld) : jsKernels(d, ld);
}

function wasmKernels(module: WebAssembly.Module, d: number, ld: number): DenseKernels {
  const mat = d * ld * 8,
    vec = ld * 8;
  const at = { A: 0, Qt: mat, v: 2 * mat, p: 2 * mat + vec, w: 2 * mat + 2 * vec };
  const { memory, exports } = instantiate(module, 2 * mat + 3 * vec);
  const f = (off: number, len: number): Float64Array => new Float64Array(memory.buffer, off, len);
  const rowsTimes = exports.rowsTimes as (...a: number[]) => void;
  const symRank2 = exports.symRank2 as (...a: number[]) => void;
  const reflectRows = exports.reflectRows as (...a: number[]) => void;
  const rotate = exports.rotateRows as (...a: number[]) => void;
  return {
    ld,
    A: f(at.A, d * ld),
    Qt: f(at.Qt, d * ld),
    v: f(at.v, ld),
    p: f(at.p, ld),
    w: f(at.w, ld),
    rowsTimes: (i0, dd, j0, beta) => rowsTimes(at.A, ld, i0, dd, j0, at.v, at.p, beta),
    symRank2: (k, dd) => symRank2(at.A, ld, k, dd, at.v, at.w),
    reflectRows: (j0, dd, beta) => reflectRows(at.Qt, ld, j0, dd, at.v, beta, at.p),
    rotateRows: (i, c, s) => rotate(at.Qt + i * ld * 8, at.Qt + (i + 1) * ld * 8, ld, c, s),
  };
}

function jsKernels(d: number, ld: number): DenseKernels {
  const A = new Float64Array(d * ld),
    Qt = new Float64Array(d * ld),
    v = new Float64Array(ld),
    p = new Float64Array(ld),
    w = new Float64Array(ld);
  return {
    ld,
    A,
    Qt,
    v,
    p,
    w,
    rowsTimes(i0, dd, j0, beta) {
      for (let i = i0; i < dd; i++) {
        let s = 0;
        for (let j = j0; j < dd; j++) s += A[i * ld + j] * v[j];
        p[i] = beta * s;
      }
    },
    symRank2(k, dd) {
      for (let i = k; i < dd; i++) {
        const vi = v[i],
          wi = w[i];
        for (let j = k; j < dd; j++) A[i * ld + j] -= vi * w[j] + wi * v[j];
      }
    },
    reflectRows(j0, dd, beta) {
      p.fill(0);
      for (let j = j0; j < dd; j++) {
        const vj = v[j],
          row = j * ld;
        for (let r = 0; r < ld; r++) p[r] += vj * Qt[row + r];
      }
      for (let j = j0; j < dd; j++) {
        const f = beta * v[j],
          row = j * ld;
        for (let r = 0; r < ld; r++) Qt[row + r] -= f * p[r];
      }
    },
    rotateRows(i, c, s) {
      const ri = i * ld,
        ri1 = ri + ld;
      for (let k = 0; k < ld; k++) {
        const zi = Qt[ri + k],
          zi1 = Qt[ri1 + k];
        Qt[ri1 + k] = s * zi + c * zi1;
        Qt[ri + k] = c * zi - s * zi1;
      }
    },
  };
}

/**
 * H = C^T C (s x s, full symmetric, float64) for C (n x s, row-major) on WebAssembly SIMD
 * (wasm/dense.wat gramUpper), or null where it is unavailable (the caller's JavaScript loop then).
 * Measured on the n = 4000 benchmark fit (s = 128): 30-40 ms per Nyström factorization in
 * JavaScript even when warm. The rows go in ranges of about 2^25 multiply-adds (~10 ms), with the
 * pacer's turns in between (n = 18,000 at s = 256 is 1.2e9 of them).
 */
export async function gramSimd(
  C: Float32Array | Float64Array,
  n: number,
  s: number,
  pacer?: Pacer,
): Promise<Float64Array | null> {
  const module = denseModule();
  if (!module) return null;
  const s4 = Math.ceil(s / 4) * 4;
  const hAt = n * s4 * 8;
  const { memory, exports } = instantiate(module, hAt + s4 * s4 * 8);
  copyRows(C, n, s, new Float64Array(memory.buffer, 0, n * s4), s4);
  const gramUpper = exports.gramUpper as (...a: number[]) => void;
  const step = Math.max(4, Math.floor(2 ** 25 / (s4 * s4) / 4) * 4);
  for (let i0 = 0; i0 < n; i0 += step) {
    gramUpper(0, Math.min(n, i0 + step), s4, hAt, i0);
    await pacer?.tick();
  }
  const h = new Float64Array(memory.buffer, hAt, s4 * s4);
  const out = new Float64Array(s * s);
  for (let a = 0; a < s; a++) for (let b = a; b < s; b++) out[a * s + b] = out[b * s + a] = h[a * s4 + b];
  return out;
}

/** A vector of conjugate gradients' state (cgVectors). */
export type CgVector = 'x' | 'r' | 'p' | 'z' | 'q';

/**
 * Conjugate gradients' five n x c vectors (x the iterate, r the residual, p the direction, z the
 * preconditioned residual, q = A p; columns interleaved) and the steps over them, per column: on
 * WebAssembly (wasm/dense.wat) where available, else JavaScript (simd = false too).
 */
export interface CgVectors {
  readonly x: Float64Array;
  readonly r: Float64Array;
  readonly p: Float64Array;
  readonly z: Float64Array;
  readonly q: Float64Array;
  /** sum_i a[i, col] b[i, col] */
  dot(a: CgVector, b: CgVector, col: number): number;
  /** x += step p; r -= step q (column col) */
  step(col: number, step: number): void;
  /** p = z + beta p (column col) */
  xpby(col: number, beta: number): void;
  /** q += reg p (all columns) */
  addScaledP(reg: number): void;
}

export function cgVectors(n: number, c: number, simd = true): CgVectors {
  const len = n * c;
  const module = simd ? denseModule() : null;
  const names: CgVector[] = ['x', 'r', 'p', 'z', 'q'];
  if (module) {
    const bytes = Math.ceil((len * 8) / 16) * 16;
    const { memory, exports } = instantiate(module, names.length * bytes);
    const at = Object.fromEntries(names.map((k, i) => [k, i * bytes])) as Record<CgVector, number>;
    const view = (k: CgVector) => new Float64Array(memory.buffer, at[k], len);
    const dot = exports.dot as (...a: number[]) => number;
    const step = exports.cgStep as (...a: number[]) => void;
    const xpby = exports.xpby as (...a: number[]) => void;
    const addScaled = exports.addScaled as (...a: number[]) => void;
    const stride = c * 8;
    return {
      x: view('x'),
      r: view('r'),
      p: view('p'),
      z: view('z'),
      q: view('q'),
      dot: (a, b, col) => dot(at[a] + col * 8, at[b] + col * 8, n, stride),
      step: (col, s) => step(at.x + col * 8, at.p + col * 8, at.r + col * 8, at.q + col * 8, n, stride, s),
      xpby: (col, beta) => xpby(at.p + col * 8, at.z + col * 8, n, stride, beta),
      addScaledP: (reg) => addScaled(at.q, at.p, len, reg),
    };
  }
  const v = Object.fromEntries(names.map((k) => [k, new Float64Array(len)])) as Record<CgVector, Float64Array>;
  return {
    ...v,
    dot(a, b, col) {
      const u = v[a],
        w = v[b];
      let s = 0;
      for (let i = col; i < len; i += c) s += u[i] * w[i];
      return s;
    },
    step(col, s) {
      for (let i = col; i < len; i += c) {
        v.x[i] += s * v.p[i];
        v.r[i] -= s * v.q[i];
      }
    },
    xpby(col, beta) {
      for (let i = col; i < len; i += c) v.p[i] = v.z[i] + beta * v.p[i];
    },
    addScaledP(reg) {
      for (let i = 0; i < len; i++) v.q[i] += reg * v.p[i];
    },
  };
}

/**
 * dst (rows x dstCols, row-major) gets src (rows x cols) in its first columns, by native typed-array
 * copies (float32 widened on the way): in a fresh process an element loop boxes every float until
 * the JIT warms up.
 */
export function copyRows(
  src: Float32Array | Float64Array,
  rows: number,
  cols: number,
  dst: Float64Array,
  dstCols: number,
  dstOffset = 0,
): void {
  if (cols === dstCols) {
    dst.set(src.subarray(0, rows * cols), dstOffset);
    return;
  }
  for (let i = 0; i < rows; i++) dst.set(src.subarray(i * cols, (i + 1) * cols), dstOffset + i * dstCols);
}
