// NumPy .npy / .npz weight files. Headers are parsed by the dataset loader's parser (src/core/data/npy.ts)
// and only they are read when listing; values are fetched by range and decoded like every weight format.
import { npyDataStart, parseNpyHeader, type NpyHeader as DataNpyHeader } from '../data/npy';
import { InputError } from '../errors';
import { DEFAULT_CHUNK_ELEMENTS, MAX_READ_ELEMENTS, contiguousChunks, decodeElements, itemSize } from './dtype';
import { numel, type ByteSource, type DType, type TensorInfo, type WeightFile } from './types';
import { Pacer, type ReadOptions } from './budget';
import { openZip } from './zip';

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function looksLikeNpy(head: Uint8Array): boolean {
  return head.length >= 6 && NPY_MAGIC.every((b, i) => head[i] === b);
}

interface NpyHeader {
  dtype: DType;
  littleEndian: boolean;
  fortranOrder: boolean;
  shape: number[];
  /** Offset of the first data byte from the start of the .npy content. */
  dataOffset: number;
}

const DTYPE_OF_CODE: Record<string, DType> = {
  f8: 'F64',
  f4: 'F32',
  f2: 'F16',
  i1: 'I8',
  i2: 'I16',
  i4: 'I32',
  i8: 'I64',
  u1: 'U8',
  u2: 'U16',
  u4: 'U32',
  u8: 'U64',
  b1: 'BOOL',
};

function weightHeader(h: DataNpyHeader, label: string): NpyHeader {
  const dtype = DTYPE_OF_CODE[h.code];
  if (!dtype) throw new InputError(`${label}: unsupported array dtype '${h.descr}' (numeric and bool arrays only)`);
  return {
    dtype,
    littleEndian: h.littleEndian,
    fortranOrder: h.fortranOrder,
    shape: [...h.shape],
    dataOffset: h.dataStart,
  };
}

/** Fortran-ordered values -> C order. */
function toCOrder(values: Float64Array, shape: readonly number[]): Float64Array {
  if (shape.length < 2) return values;
  const out = new Float64Array(values.length);
  const nd = shape.length;
  const idx = new Array<number>(nd).fill(0);
  const fStride = new Array<number>(nd);
  fStride[0] = 1;
  for (let k = 1; k < nd; k++) fStride[k] = fStride[k - 1] * shape[k - 1];
  for (let c = 0; c < values.length; c++) {
    let f = 0;
    for (let k = 0; k < nd; k++) f += idx[k] * fStride[k];
    out[c] = values[f];
    for (let k = nd - 1; k >= 0; k--) {
      if (++idx[k] < shape[k]) break;
      idx[k] = 0;
    }
  }
  return out;
}

function decodeNpy(bytes: Uint8Array, h: NpyHeader, label: string): Float64Array {
  const n = numel(h.shape);
  if (n > MAX_READ_ELEMENTS)
    throw new InputError(`${label}: ${n} elements is more than this reader holds in memory (${MAX_READ_ELEMENTS})`);
  if (bytes.length < n * itemSize(h.dtype))
    throw new InputError(
      `${label}: array data is truncated (${bytes.length} bytes, expected ${n * itemSize(h.dtype)})`,
    );
  const v = decodeElements(bytes, h.dtype, n, h.littleEndian);
  return h.fortranOrder ? toCOrder(v, h.shape) : v;
}

function info(name: string, h: NpyHeader): TensorInfo {
  return { name, dtype: h.dtype, shape: h.shape, byteLength: numel(h.shape) * itemSize(h.dtype) };
}

/** numpy writes headers of a few hundred bytes (and reads at most 10,000 by default); a larger claim is refused before reading it. */
const MAX_NPY_HEADER = 1 << 20;

function headerLength(first: Uint8Array, label: string): number {
  const len = npyDataStart(first, label);
  if (len > MAX_NPY_HEADER)
    throw new InputError(`${label}: .npy header of ${len} bytes is larger than the ${MAX_NPY_HEADER}-byte limit`);
  return len;
}

async function readHeaderAt(source: ByteSource, offset: number, label: string): Promise<NpyHeader> {
  const len = headerLength(await source.read(offset, 12), label);
  return weightHeader(parseNpyHeader(await source.read(offset, len), label), label);
}

/** A single .npy: one tensor, named after the file (without extension). */
export async function openNpy(source: ByteSource, fileName: string): Promise<WeightFile> {
  const h = await readHeaderAt(source, 0, fileName);
  const name = (fileName.split(/[\\/]/).pop() ?? fileName).replace(/\.npy$/i, '');
  const t = info(name, h);
  if (h.dataOffset + t.byteLength > source.size)
    throw new InputError(
      `${fileName}: array data is truncated (file has ${source.size} bytes, header promises ${h.dataOffset + t.byteLength})`,
    );
  const read = async (n: string): Promise<Float64Array> => {
    if (n !== name) throw new InputError(`${fileName}: no tensor named '${n}'`);
    return decodeNpy(await source.read(h.dataOffset, t.byteLength), h, fileName);
  };
  return {
    fileName,
    format: 'npy',
    savedOrder: true,
    metadata: [],
    tensors: [t],
    read,
    async *chunks(n, per = DEFAULT_CHUNK_ELEMENTS) {
      if (n !== name) throw new InputError(`${fileName}: no tensor named '${n}'`);
      if (h.fortranOrder && h.shape.length > 1) {
        yield await read(n);
        return;
      }
      yield* contiguousChunks(
        (o, len) => source.read(o, len),
        h.dataOffset,
        numel(h.shape),
        h.dtype,
        h.littleEndian,
        per,
        fileName,
      );
    },
  };
}

/** A .npz: one tensor per `<name>.npy` member. Stored members are read by range; compressed ones inflated. */
export async function openNpz(source: ByteSource, fileName: string, options?: ReadOptions): Promise<WeightFile> {
  const zip = await openZip(source, fileName, options);
  const members = new Map<string, { entry: (typeof zip.entries)[number]; header: NpyHeader; start: number | null }>();
  const tensors: TensorInfo[] = [];
  const pacer = new Pacer({ ...options, clockEvery: 16 });
  for (const entry of zip.entries) {
    if (!entry.name.endsWith('.npy')) continue;
    await pacer.tick();
    const name = entry.name.slice(0, -4);
    const label = `${fileName} (member ${entry.name})`;
    let header: NpyHeader;
    let start: number | null = null;
    if (entry.method === 0) {
      start = await zip.dataOffset(entry);
      header = await readHeaderAt(source, start, label);
    } else {
      // Only the header is inflated: listing never touches the array data.
      const len = headerLength(await zip.read(entry, 12), label);
      header = weightHeader(parseNpyHeader(await zip.read(entry, len), label), label);
    }
    const t = info(name, header);
    if (header.dataOffset + t.byteLength > entry.size) throw new InputError(`${label}: array data is truncated`);
    members.set(name, { entry, header, start });
    tensors.push(t);
  }
  if (!tensors.length) throw new InputError(`${fileName}: the archive holds no .npy arrays`);
  const read = async (name: string): Promise<Float64Array> => {
    const m = members.get(name);
    if (!m) throw new InputError(`${fileName}: no tensor named '${name}'`);
    const label = `${fileName} (member ${m.entry.name})`;
    const n = numel(m.header.shape);
    // Refused before reading or inflating anything.
    if (n > MAX_READ_ELEMENTS)
      throw new InputError(`${label}: ${n} elements is more than this reader holds in memory (${MAX_READ_ELEMENTS})`);
    const len = n * itemSize(m.header.dtype);
    const bytes =
      m.start !== null
        ? await source.read(m.start + m.header.dataOffset, len)
        : (await zip.read(m.entry, m.header.dataOffset + len)).subarray(m.header.dataOffset);
    return decodeNpy(bytes, m.header, label);
  };
  return {
    fileName,
    format: 'npz',
    savedOrder: true,
    metadata: [],
    tensors,
    read,
    async *chunks(name, per = DEFAULT_CHUNK_ELEMENTS) {
      const m = members.get(name);
      if (!m) throw new InputError(`${fileName}: no tensor named '${name}'`);
      if (m.start === null || (m.header.fortranOrder && m.header.shape.length > 1)) {
        yield await read(name);
        return;
      }
      yield* contiguousChunks(
        (o, len) => source.read(o, len),
        m.start + m.header.dataOffset,
        numel(m.header.shape),
        m.header.dtype,
        m.header.littleEndian,
        per,
        `${fileName} (member ${m.entry.name})`,
      );
    },
  };
}
