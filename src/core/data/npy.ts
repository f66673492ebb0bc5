// numpy's .npy format (versions 1-3): a magic string, a Python-literal header, then the raw array.
// The header is read with patterns, never evaluated.
import { InputError } from '../errors';
import { checkTableSize } from '../limits';
import { numericColumn, type Table } from './table';

export interface NpyArray {
  /** e.g. `<f8`, `>i4`, `|b1` as written in the file. */
  readonly descr: string;
  readonly fortranOrder: boolean;
  readonly shape: readonly number[];
  /** Every element as float64, in C (row-major) order whatever the file's order. */
  readonly data: Float64Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const SUPPORTED = 'float32/float64 (f4, f8), int8-int64 (i1-i8), uint8-uint64 (u1-u8) or bool (b1)';
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

type Reader = (view: DataView, offset: number, little: boolean) => number;
const READERS: Record<string, Reader> = {
  f4: (v, o, le) => v.getFloat32(o, le),
  f8: (v, o, le) => v.getFloat64(o, le),
  i1: (v, o) => v.getInt8(o),
  i2: (v, o, le) => v.getInt16(o, le),
  i4: (v, o, le) => v.getInt32(o, le),
  i8: (v, o, le) => Number(v.getBigInt64(o, le)),
  u1: (v, o) => v.getUint8(o),
  u2: (v, o, le) => v.getUint16(o, le),
  u4: (v, o, le) => v.getUint32(o, le),
  u8: (v, o, le) => Number(v.getBigUint64(o, le)),
  b1: (v, o) => (v.getUint8(o) ? 1 : 0),
};

type TypedArrayCtor = new (buffer: ArrayBuffer) => ArrayLike<number | bigint>;
const VIEWS: Record<string, TypedArrayCtor> = {
  f4: Float32Array,
  f8: Float64Array,
  i1: Int8Array,
  i2: Int16Array,
  i4: Int32Array,
  i8: BigInt64Array,
  u1: Uint8Array,
  u2: Uint16Array,
  u4: Uint32Array,
  u8: BigUint64Array,
};

function field(header: string, key: string): string | undefined {
  return new RegExp(`['"]${key}['"]\\s*:\\s*('[^']*'|"[^"]*"|True|False|\\([^)]*\\)|\\[)`).exec(header)?.[1];
}

/** An .npy header: everything but the values. Shared with the weight readers (src/core/weights/npy.ts). */
export interface NpyHeader {
  /** e.g. `<f8`, `>i4`, `|b1` as written in the file. */
  readonly descr: string;
  /** Kind and size without the byte-order mark, e.g. `f8`, `i4`, `f2`. */
  readonly code: string;
  readonly littleEndian: boolean;
  readonly itemSize: number;
  readonly fortranOrder: boolean;
  readonly shape: readonly number[];
  /** Offset of the first data byte. */
  readonly dataStart: number;
}

/**
 * Offset of the first data byte, from the first 12 bytes (or more) of an .npy: lets a reader fetch
 * exactly the header of a large file.
 */
export function npyDataStart(bytes: Uint8Array, what: string): number {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new InputError(
      `${what}: not a .npy array (${bytes.length < 10 ? `only ${bytes.length} bytes` : 'no \\x93NUMPY signature at the start'}); expected numpy's .npy format`,
    );
  }
  const major = bytes[6];
  if (major < 1 || major > 3)
    throw new InputError(
      `${what}: .npy format version ${major}.${bytes[7]} is not supported; expected version 1, 2 or 3`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes)
    throw new InputError(
      `${what}: truncated .npy header (${bytes.length} bytes); expected at least ${8 + lengthBytes}`,
    );
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  return 8 + lengthBytes + headerLength;
}

/** Parses the header only (`bytes` must hold at least npyDataStart bytes); any dtype of the form `<kN`. */
export function parseNpyHeader(bytes: Uint8Array, what: string): NpyHeader {
  const dataStart = npyDataStart(bytes, what);
  const major = bytes[6];
  const lengthBytes = major === 1 ? 2 : 4;
  if (dataStart > bytes.length) {
    throw new InputError(
      `${what}: truncated .npy header: it declares ${dataStart - 8 - lengthBytes} header bytes but the file ends after ${bytes.length - 8 - lengthBytes}`,
    );
  }
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(8 + lengthBytes, dataStart));

  const descrField = field(header, 'descr');
  const orderField = field(header, 'fortran_order');
  const shapeField = field(header, 'shape');
  if (!descrField || !orderField || !shapeField) {
    throw new InputError(
      `${what}: .npy header ${JSON.stringify(header.trim().slice(0, 120))} lacks 'descr', 'fortran_order' or 'shape'`,
    );
  }
  if (descrField === '[')
    throw new InputError(`${what}: holds a structured (record) array; expected a plain numeric array of ${SUPPORTED}`);
  const descr = descrField.slice(1, -1);
  const m = /^([<>|=])([a-z])(\d+)$/.exec(descr);
  if (!m) throw new InputError(`${what}: dtype '${descr}' is not supported; expected ${SUPPORTED}`);
  const shape = shapeField
    .slice(1, -1)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  if (shape.some((s) => !Number.isSafeInteger(s) || s < 0))
    throw new InputError(`${what}: bad shape ${shapeField} in the .npy header; expected non-negative integers`);
  return {
    descr,
    code: `${m[2]}${m[3]}`,
    littleEndian: m[1] !== '>', // '|' (one byte) and '=' (native) are little-endian on every platform numpy writes from here.
    itemSize: Number(m[3]),
    fortranOrder: orderField === 'True',
    shape,
    dataStart,
  };
}

/**
 * Refuses an array whose declared shape is over the dataset limits (core/limits.ts) before its float64
 * copy is allocated: rows are the first axis, columns the product of the others.
 */
export function checkNpyShape(shape: readonly number[], what: string): void {
  const rows = shape.length === 0 ? 1 : shape[0];
  const cols = shape.slice(1).reduce((a, b) => a * b, 1);
  checkTableSize(
    `${what}: shape ${shapeText(shape)}`,
    rows,
    cols,
    'subsample the rows first (e.g. np.save with X[:100000])',
  );
}

/** Parse one .npy file. `what` names it in messages (`data.npy`, or `data.npz: array 'X'`). */
export function parseNpy(bytes: Uint8Array, what: string): NpyArray {
  const { descr, code, littleEndian: little, itemSize, fortranOrder, shape, dataStart } = parseNpyHeader(bytes, what);
  if (!(code in READERS)) throw new InputError(`${what}: dtype '${descr}' is not supported; expected ${SUPPORTED}`);
  checkNpyShape(shape, what);
  const count = shape.reduce((a, b) => a * b, 1);
  const needed = count * itemSize;
  const available = bytes.length - dataStart;
  if (available < needed) {
    throw new InputError(
      `${what}: truncated .npy data: shape ${shapeText(shape)} of '${descr}' needs ${needed} bytes after the header but only ${available} are there`,
    );
  }
  const flat = readFlat(bytes, dataStart, count, code, itemSize, little);
  return { descr, fortranOrder, shape, data: fortranOrder && shape.length > 1 ? fortranToC(flat, shape) : flat };
}

function readFlat(
  bytes: Uint8Array,
  start: number,
  count: number,
  code: string,
  itemSize: number,
  little: boolean,
): Float64Array {
  const out = new Float64Array(count);
  const Ctor = VIEWS[code];
  if (Ctor && little === HOST_LITTLE_ENDIAN) {
    // Same byte order as the host: one copy into an aligned buffer, then a typed view. `new Uint8Array(view)`
    // always copies; a Node Buffer's slice() (what workspace.fs.readFile gives in the host) would not.
    const copy = new Uint8Array(bytes.subarray(start, start + count * itemSize)).buffer;
    const src = new Ctor(copy);
    for (let i = 0; i < count; i++) out[i] = Number(src[i]);
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, count * itemSize);
  const read = READERS[code];
  for (let i = 0, o = 0; i < count; i++, o += itemSize) out[i] = read(view, o, little);
  return out;
}

/** Fortran order stores the first index fastest; reorder so the last index is fastest. */
function fortranToC(src: Float64Array, shape: readonly number[]): Float64Array {
  const nd = shape.length;
  const out = new Float64Array(src.length);
  if (nd === 2) {
    const [r, c] = shape;
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[i * c + j] = src[j * r + i];
    return out;
  }
  const fStride = new Array<number>(nd);
  fStride[0] = 1;
  for (let k = 1; k < nd; k++) fStride[k] = fStride[k - 1] * shape[k - 1];
  const idx = new Array<number>(nd).fill(0);
  for (let i = 0; i < src.length; i++) {
    let f = 0;
    for (let k = 0; k < nd; k++) f += idx[k] * fStride[k];
    out[i] = src[f];
    for (let k = nd - 1; k >= 0; k--) {
      if (++idx[k] < shape[k]) break;
      idx[k] = 0;
    }
  }
  return out;
}

/** As Python prints it: `(3,)`, `(4, 3)`. */
export function shapeText(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

export function rowLabel(i: number): string {
  return `row ${i + 1}`;
}

/**
 * A 2-D array whose columns are all the table's columns, named col0, col1, ... like a headerless CSV,
 * so the target is picked by index (default: the last column).
 */
export function matrixTable(array: NpyArray, file: string, what: string, columnPrefix = ''): Table {
  if (array.shape.length === 3 || array.shape.length === 4) {
    throw new InputError(
      `${what}: has shape ${shapeText(array.shape)}, images without labels; expected an .npz holding the images and their labels (np.savez(path, X=images, y=labels)), or a 2-D array (rows x pixels and a label column) with --image-shape C,H,W`,
    );
  }
  if (array.shape.length !== 2) {
    throw new InputError(
      `${what}: has shape ${shapeText(array.shape)}; expected a 2-D array (rows x columns) whose columns are the features and the target`,
    );
  }
  const [rows, cols] = array.shape;
  const source = { file, rowLabel };
  const columns = Array.from({ length: cols }, (_, j) => {
    const values = new Float64Array(rows);
    for (let i = 0; i < rows; i++) values[i] = array.data[i * cols + j];
    return numericColumn(`col${j}`, `${columnPrefix}column ${j} (0-based)`, values, source);
  });
  return { ...source, rows, columns };
}

/**
 * An .npy (version 1.0) of float64 (`<f8`) or int32 (`<i4`) values in C order: the header padded so the
 * data starts at a multiple of 64 bytes, as numpy writes it. Readable by parseNpy and numpy.load.
 */
export function encodeNpy(data: Float64Array | Int32Array, shape: readonly number[]): Uint8Array {
  const descr = data instanceof Float64Array ? '<f8' : '<i4';
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${dims}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const body = new DataView(out.buffer, 10 + header.length);
  if (data instanceof Float64Array) data.forEach((v, i) => body.setFloat64(i * 8, v, true));
  else data.forEach((v, i) => body.setInt32(i * 4, v, true));
  return out;
}
