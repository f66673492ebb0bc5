import { InputError } from '../errors';
import type { DType } from './types';

const ITEM_SIZE: Record<DType, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I8: 1,
  I16: 2,
  I32: 4,
  I64: 8,
  U8: 1,
  U16: 2,
  U32: 4,
  U64: 8,
  BOOL: 1,
};

export const DTYPES = Object.keys(ITEM_SIZE) as DType[];

export function isDType(s: unknown): s is DType {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(ITEM_SIZE, s);
}

export function itemSize(dtype: DType): number {
  return ITEM_SIZE[dtype];
}

/** Largest tensor read into a Float64Array (1 GiB); bigger ones are listed but not loaded. */
export const MAX_READ_ELEMENTS = 2 ** 27;

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** IEEE half -> double (exact: every half is representable). */
export function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * Decodes `count` elements of `dtype` from `bytes` into float64. 64-bit integers beyond 2^53 lose
 * precision, which is irrelevant for weights.
 */
export function decodeElements(bytes: Uint8Array, dtype: DType, count: number, littleEndian = true): Float64Array {
  const size = ITEM_SIZE[dtype];
  if (bytes.length < count * size) throw new Error(`decodeElements: need ${count * size} bytes, got ${bytes.length}`);
  const out = new Float64Array(count);
  if (littleEndian === HOST_LITTLE_ENDIAN && (dtype === 'F32' || dtype === 'F64')) {
    // Fast path: typed-array view over an aligned copy. `new Uint8Array(view)` always copies (a Node
    // Buffer's slice() would return a view at the same misaligned offset).
    const aligned = bytes.byteOffset % size === 0 ? bytes : new Uint8Array(bytes.subarray(0, count * size));
    const view =
      dtype === 'F32'
        ? new Float32Array(aligned.buffer, aligned.byteOffset, count)
        : new Float64Array(aligned.buffer, aligned.byteOffset, count);
    out.set(view);
    return out;
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, count * size);
  const le = littleEndian;
  switch (dtype) {
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = dv.getFloat64(i * 8, le);
      break;
    case 'F32':
      for (let i = 0; i < count; i++) out[i] = dv.getFloat32(i * 4, le);
      break;
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = halfToNumber(dv.getUint16(i * 2, le));
      break;
    case 'BF16': {
      const f = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < count; i++) {
        f.setUint32(0, dv.getUint16(i * 2, le) << 16);
        out[i] = f.getFloat32(0);
      }
      break;
    }
    case 'I8':
      for (let i = 0; i < count; i++) out[i] = dv.getInt8(i);
      break;
    case 'U8':
      for (let i = 0; i < count; i++) out[i] = dv.getUint8(i);
      break;
    case 'BOOL':
      for (let i = 0; i < count; i++) out[i] = dv.getUint8(i) ? 1 : 0;
      break;
    case 'I16':
      for (let i = 0; i < count; i++) out[i] = dv.getInt16(i * 2, le);
      break;
    case 'U16':
      for (let i = 0; i < count; i++) out[i] = dv.getUint16(i * 2, le);
      break;
    case 'I32':
      for (let i = 0; i < count; i++) out[i] = dv.getInt32(i * 4, le);
      break;
    case 'U32':
      for (let i = 0; i < count; i++) out[i] = dv.getUint32(i * 4, le);
      break;
    case 'I64':
      for (let i = 0; i < count; i++) out[i] = Number(dv.getBigInt64(i * 8, le));
      break;
    case 'U64':
      for (let i = 0; i < count; i++) out[i] = Number(dv.getBigUint64(i * 8, le));
      break;
  }
  return out;
}

/** Float64 values -> little-endian bytes of `dtype` (float types only; used by writers). */
export function encodeFloats(values: Float64Array, dtype: 'F32' | 'F64'): Uint8Array {
  const out = new Uint8Array(values.length * ITEM_SIZE[dtype]);
  const dv = new DataView(out.buffer);
  if (dtype === 'F64') for (let i = 0; i < values.length; i++) dv.setFloat64(i * 8, values[i], true);
  else for (let i = 0; i < values.length; i++) dv.setFloat32(i * 4, values[i], true);
  return out;
}

export const DEFAULT_CHUNK_ELEMENTS = 1 << 20;

/** Decoded chunks of `count` contiguous elements starting at byte `offset` of a byte source. */
export async function* contiguousChunks(
  read: (offset: number, length: number) => Promise<Uint8Array>,
  offset: number,
  count: number,
  dtype: DType,
  littleEndian: boolean,
  elementsPerChunk: number,
  label: string,
): AsyncGenerator<Float64Array> {
  const size = ITEM_SIZE[dtype];
  const per = Math.max(1, Math.floor(elementsPerChunk));
  for (let done = 0; done < count; done += per) {
    const n = Math.min(per, count - done);
    const bytes = await read(offset + done * size, n * size);
    if (bytes.length < n * size) throw new InputError(`${label}: data is truncated`);
    yield decodeElements(bytes, dtype, n, littleEndian);
  }
}
