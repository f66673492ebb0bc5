// safetensors: u64 little-endian header length N, N bytes of JSON
// {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {str: str}}, then the raw data;
// offsets are relative to the end of the header. Only the header is read when opening.
import { InputError } from '../errors';
import {
  DEFAULT_CHUNK_ELEMENTS,
  MAX_READ_ELEMENTS,
  contiguousChunks,
  decodeElements,
  encodeFloats,
  isDType,
  itemSize,
} from './dtype';
import { Pacer, type ReadOptions } from './budget';
import { pyRepr } from './pickle';
import { numel, type ByteSource, type DType, type TensorInfo, type WeightFile } from './types';

/** The reference implementation refuses headers above 100 MB; a larger claim means a corrupt or hostile file. */
export const MAX_SAFETENSORS_HEADER = 100_000_000;

interface Entry extends TensorInfo {
  /** Absolute byte offset of the tensor's data in the file. */
  readonly offset: number;
}

export interface SafetensorsFile extends WeightFile {
  readonly format: 'safetensors';
  /** The header's `__metadata__` map (also listed in `metadata` as `__metadata__.<key>` str entries). */
  readonly headerMetadata: Record<string, string>;
}

export async function openSafetensors(
  source: ByteSource,
  fileName: string,
  options?: ReadOptions,
): Promise<SafetensorsFile> {
  const pacer = new Pacer(options);
  const fail = (what: string): never => {
    throw new InputError(`${fileName}: not a valid safetensors file: ${what}`);
  };
  if (source.size < 8) fail(`the file has ${source.size} bytes, fewer than the 8-byte header length`);
  const lenBytes = await source.read(0, 8);
  const headerLen64 = new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLen64 > BigInt(source.size - 8)) {
    fail(`the header length field says ${headerLen64} bytes but only ${source.size - 8} bytes follow it`);
  }
  const headerLen = Number(headerLen64);
  if (headerLen > MAX_SAFETENSORS_HEADER)
    fail(`header length ${headerLen} exceeds the ${MAX_SAFETENSORS_HEADER}-byte limit`);
  if (headerLen < 2) fail(`header length ${headerLen} is too small for a JSON object`);
  const headerBytes = await source.read(8, headerLen);
  let header: Record<string, unknown> = {};
  try {
    header = await parseHeaderPaced(headerBytes, pacer);
  } catch (e) {
    if (e instanceof NotAnObject) fail('the header is not a JSON object');
    fail(`the header is not UTF-8 JSON (${e instanceof Error ? e.message : String(e)})`);
  }

  const dataStart = 8 + headerLen;
  const dataSize = source.size - dataStart;
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (pacer.due()) await pacer.pause();
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('__metadata__ is not an object');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__.${k} is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const bad = (what: string): never => fail(`tensor '${name}': ${what}`);
    if (typeof raw !== 'object' || raw === null) bad('entry is not an object');
    const { dtype, shape, data_offsets: offsets } = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!isDType(dtype))
      bad(`unsupported dtype ${JSON.stringify(dtype)} (expected one of F64, F32, F16, BF16, I8..I64, U8..U64, BOOL)`);
    if (!Array.isArray(shape) || !shape.every((s) => Number.isSafeInteger(s) && s >= 0))
      bad(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      offsets[0] > offsets[1]
    ) {
      bad(`data_offsets ${JSON.stringify(offsets)} is not [begin, end] with 0 <= begin <= end`);
    }
    const [begin, end] = offsets as [number, number];
    const byteLength = numel(shape as number[]) * itemSize(dtype as DType);
    if (end - begin !== byteLength)
      bad(
        `data_offsets [${begin}, ${end}] span ${end - begin} bytes but dtype ${dtype} and shape [${(shape as number[]).join(', ')}] need ${byteLength}`,
      );
    if (end > dataSize) bad(`data_offsets end ${end} is past the end of the data (${dataSize} bytes after the header)`);
    entries.push({
      name,
      dtype: dtype as DType,
      shape: [...(shape as number[])],
      byteLength,
      offset: dataStart + begin,
    });
  }
  entries.sort((a, b) => a.offset - b.offset || a.byteLength - b.byteLength);
  for (let i = 1; i < entries.length; i++) {
    const prev = entries[i - 1];
    if (entries[i].offset < prev.offset + prev.byteLength) {
      fail(
        `tensors '${prev.name}' and '${entries[i].name}' overlap (bytes ${entries[i].offset - dataStart}..${prev.offset + prev.byteLength - dataStart} of the data)`,
      );
    }
  }
  const byName = new Map(entries.map((e) => [e.name, e]));
  const tensors: TensorInfo[] = entries.map(({ name, dtype, shape, byteLength }) => ({
    name,
    dtype,
    shape,
    byteLength,
  }));
  return {
    fileName,
    format: 'safetensors',
    savedOrder: false,
    headerMetadata: metadata,
    metadata: Object.entries(metadata).map(([k, v]) => ({
      name: `__metadata__.${k}`,
      pyType: 'str',
      value: pyRepr(v),
    })),
    tensors,
    async read(name) {
      const e = byName.get(name);
      if (!e) throw new InputError(`${fileName}: no tensor named '${name}'`);
      if (numel(e.shape) > MAX_READ_ELEMENTS)
        throw new InputError(
          `${fileName}: tensor '${name}' has ${numel(e.shape)} elements, more than this reader holds in memory (${MAX_READ_ELEMENTS})`,
        );
      const bytes = await source.read(e.offset, e.byteLength);
      if (bytes.length < e.byteLength) throw new InputError(`${fileName}: tensor '${name}' is truncated`);
      return decodeElements(bytes, e.dtype, numel(e.shape));
    },
    chunks(name, per = DEFAULT_CHUNK_ELEMENTS) {
      const e = byName.get(name);
      if (!e) throw new InputError(`${fileName}: no tensor named '${name}'`);
      return contiguousChunks(
        (o, n) => source.read(o, n),
        e.offset,
        numel(e.shape),
        e.dtype,
        true,
        per,
        `${fileName}: tensor '${name}'`,
      );
    },
  };
}

export interface TensorToWrite {
  name: string;
  shape: readonly number[];
  data: Float64Array;
}

/** Serialises tensors (float32 by default) in name order given; header padded to 8 bytes as the reference writer does. */
export function writeSafetensors(
  tensors: readonly TensorToWrite[],
  dtype: 'F32' | 'F64' = 'F32',
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  const blobs: Uint8Array[] = [];
  for (const t of tensors) {
    if (t.data.length !== numel(t.shape))
      throw new Error(`writeSafetensors: '${t.name}' has ${t.data.length} values for shape [${t.shape.join(', ')}]`);
    if (t.name === '__metadata__' || Object.prototype.hasOwnProperty.call(header, t.name))
      throw new Error(`writeSafetensors: duplicate or reserved name '${t.name}'`);
    const blob = encodeFloats(t.data, dtype);
    header[t.name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + blob.length] };
    offset += blob.length;
    blobs.push(blob);
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let pos = 8 + json.length;
  for (const b of blobs) {
    out.set(b, pos);
    pos += b.length;
  }
  return out;
}

/** A header that is JSON but not an object. */
class NotAnObject extends Error {}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * JSON.parse of the header, in slices: a header may be up to 100 MB (one JSON.parse of that holds the
 * thread for seconds). The bytes are scanned for the object's top-level `"name": value` members (the
 * structure is ASCII, so UTF-8 is scanned as bytes), and each member's name and value are decoded
 * (UTF-8, fatal) and parsed on their own, yielding between slices. The result is what JSON.parse gives
 * (last duplicate wins); anything that is not JSON throws a SyntaxError or a TypeError.
 */
export async function parseHeaderPaced(bytes: Uint8Array, pacer: Pacer): Promise<Record<string, unknown>> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const parse = (from: number, to: number): unknown => JSON.parse(decoder.decode(bytes.subarray(from, to)));
  const syntax = (what: string, at: number): never => {
    throw new SyntaxError(`${what} at byte ${at}`);
  };
  const n = bytes.length;
  let i = 0;
  const ws = () => {
    while (i < n && isSpace(bytes[i])) i++;
  };
  /** The end (exclusive) of the string whose opening quote is at `from`. */
  const stringEnd = (from: number): number => {
    let k = from + 1;
    for (;;) {
      const q = bytes.indexOf(QUOTE, k);
      if (q < 0) return syntax('Unterminated string', from);
      let back = 0;
      while (bytes[q - 1 - back] === BACKSLASH) back++;
      if (back % 2 === 0) return q + 1;
      k = q + 1;
    }
  };
  /** The end (exclusive) of the value starting at `from`: strings skipped whole, brackets counted. */
  const valueEnd = (from: number): number => {
    let depth = 0;
    let k = from;
    while (k < n) {
      const c = bytes[k];
      if (c === QUOTE) {
        k = stringEnd(k);
        if (depth === 0) return k;
        continue;
      }
      if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) {
        if (depth === 0) return k;
        if (--depth === 0) return k + 1;
      } else if (depth === 0 && (c === 0x2c || isSpace(c))) return k;
      k++;
    }
    return depth === 0 ? k : syntax('Unexpected end of JSON input', k);
  };
  const out: Record<string, unknown> = {};
  ws();
  if (bytes[i] !== 0x7b) {
    parse(0, n); // other JSON is "not an object"; anything else throws its own error
    throw new NotAnObject();
  }
  i++;
  ws();
  if (bytes[i] === 0x7d) i++;
  else
    for (;;) {
      if (pacer.due()) await pacer.pause();
      ws();
      if (bytes[i] !== QUOTE) syntax('Expected a member name', i);
      const keyEnd = stringEnd(i);
      const key = parse(i, keyEnd) as string;
      i = keyEnd;
      ws();
      if (bytes[i] !== 0x3a) syntax("Expected ':'", i);
      i++;
      ws();
      const end = valueEnd(i);
      const value = parse(i, end);
      // defineProperty: a member named __proto__ is data, as JSON.parse makes it.
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      i = end;
      ws();
      if (bytes[i] === 0x2c) {
        i++;
        continue;
      }
      if (bytes[i] === 0x7d) {
        i++;
        break;
      }
      syntax("Expected ',' or '}'", i);
    }
  ws();
  if (i < n) syntax('Unexpected bytes after the JSON object', i);
  return out;
}
