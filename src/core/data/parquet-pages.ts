// Checks every page of a Parquet file against what its footer declares before hyparquet decodes it.
// hyparquet trusts run lengths: an RLE run (or a bit-packed run of width 0) of 2^31 values is written out
// one value at a time past the page's end, so one flipped bit in a page header or a run header hangs the
// reader. Here the page headers are parsed (Thrift compact protocol) and each run-length/bit-packed stream
// hyparquet will decode (definition levels, dictionary indices, RLE booleans) is walked run by run: a run
// longer than the values its page has left, a page larger than its column chunk or more values than the
// row group holds is refused, so every decoding loop is bounded by the declared (and checked) row count.
import { snappyUncompress, type FileMetaData } from 'hyparquet';
import { InputError } from '../errors';

type Thrift = Map<number, unknown>;

const PAGE = { data: 0, dictionary: 2, dataV2: 3 } as const;
const ENCODING = {
  rle: 3,
  plainDictionary: 2,
  rleDictionary: 8,
  deltaBinaryPacked: 5,
  deltaLengthByteArray: 6,
  deltaByteArray: 7,
} as const;

export class Bytes {
  constructor(
    readonly b: Uint8Array,
    public pos: number,
    readonly end: number,
    readonly what: () => string,
  ) {}
  fail(why: string): never {
    throw new InputError(`${this.what()}: ${why}`);
  }
  byte(): number {
    if (this.pos >= this.end) this.fail('ends in the middle of a header');
    return this.b[this.pos++];
  }
  varint(): number {
    let v = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      const x = this.byte();
      v += (x & 0x7f) * 2 ** shift;
      if (!(x & 0x80)) return v;
    }
    return this.fail('has a malformed variable-length integer');
  }
  zigzag(): number {
    const v = this.varint();
    return v % 2 ? -(v + 1) / 2 : v / 2;
  }
  skip(n: number): void {
    if (n > this.end - this.pos) this.fail('a header field runs past the page');
    this.pos += n;
  }
}

function thriftValue(r: Bytes, type: number, depth: number): unknown {
  switch (type) {
    case 1:
      return true;
    case 2:
      return false;
    case 3:
      return r.byte();
    case 4:
    case 5:
    case 6:
      return r.zigzag();
    case 7:
      return r.skip(8);
    case 8:
      return r.skip(r.varint());
    case 9:
    case 10: {
      const h = r.byte();
      const n = h >> 4 === 15 ? r.varint() : h >> 4;
      if (n > r.end - r.pos) r.fail('a header list is longer than the page');
      for (let i = 0; i < n; i++) thriftValue(r, (h & 15) === 1 || (h & 15) === 2 ? 3 : h & 15, depth + 1);
      return undefined;
    }
    case 11: {
      const n = r.varint();
      if (n > r.end - r.pos) r.fail('a header map is larger than the page');
      if (n === 0) return undefined;
      const kv = r.byte();
      for (let i = 0; i < n; i++) {
        thriftValue(r, kv >> 4 === 1 || kv >> 4 === 2 ? 3 : kv >> 4, depth + 1);
        thriftValue(r, (kv & 15) === 1 || (kv & 15) === 2 ? 3 : kv & 15, depth + 1);
      }
      return undefined;
    }
    case 12:
      return thriftStruct(r, depth + 1);
    default:
      return r.fail(`has an unknown header field type ${type}`);
  }
}

function thriftStruct(r: Bytes, depth: number): Thrift {
  if (depth > 16) r.fail('has headers nested too deeply');
  const out: Thrift = new Map();
  let id = 0;
  for (;;) {
    const b = r.byte();
    if (b === 0) return out;
    id = b >> 4 ? id + (b >> 4) : r.zigzag();
    out.set(id, thriftValue(r, b & 15, depth));
  }
}

const num = (s: Thrift | undefined, id: number): number => {
  const v = s?.get(id);
  return typeof v === 'number' ? v : -1;
};

/** Walks an RLE/bit-packed hybrid stream of `n` values of `width` bits in b[pos, end). */
function checkRuns(r: Bytes, width: number, n: number, what: string): void {
  let seen = 0;
  const valueBytes = (width + 7) >> 3;
  while (seen < n) {
    if (r.pos >= r.end) r.fail(`${what} end after ${seen} of ${n} values`);
    const header = r.varint();
    const count = header % 2 ? Math.floor(header / 2) * 8 : Math.floor(header / 2);
    // A bit-packed run is padded to a multiple of 8 values; any other excess is damage.
    if (count > n - seen + (header % 2 ? 7 : 0))
      r.fail(`${what} declare a run of ${count} values where ${n - seen} are left (damaged page)`);
    if (header % 2) r.skip(Math.floor(header / 2) * width);
    else r.skip(valueBytes);
    seen += count;
  }
}

export function checkParquetPages(
  bytes: Uint8Array,
  metadata: FileMetaData,
  optional: ReadonlyMap<string, boolean>,
  file: string,
): void {
  const footerStart = bytes.length - 8 - metadata.metadata_length;
  metadata.row_groups.forEach((group, g) => {
    const groupRows = Number(group.num_rows);
    for (const chunk of group.columns) {
      const meta = chunk.meta_data;
      if (!meta) continue;
      const name = meta.path_in_schema.join('.');
      const where = `${file}: row group ${g + 1}, column '${name}'`;
      const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
      const end = start + Number(meta.total_compressed_size);
      if (start < 4 || end > footerStart || end < start)
        throw new InputError(
          `${where}: its pages (bytes ${start}-${end}) lie outside the file's data (4-${footerStart}); the file is damaged`,
        );
      const values = Number(meta.num_values);
      if (values > groupRows)
        throw new InputError(`${where}: declares ${values} values for ${groupRows} rows; the file is damaged`);
      const maxUncompressed = Number(meta.total_uncompressed_size);
      const snappy = meta.codec === 'SNAPPY';
      const plain = meta.codec === 'UNCOMPRESSED';
      const isOptional = optional.get(name) ?? true;
      let left = groupRows;
      let pos = start;
      let page = 0;
      const r = (from: number, to: number) => new Bytes(bytes, from, to, () => `${where}, page ${page}`);
      while (pos < end && left > 0) {
        page++;
        const hr = r(pos, end);
        const h = thriftStruct(hr, 0);
        const type = num(h, 1);
        const uncompressed = num(h, 2);
        const compressed = num(h, 3);
        const body = hr.pos;
        if (compressed < 0 || compressed > end - body)
          hr.fail(`declares ${compressed} bytes where its column chunk has ${end - body} left; the file is damaged`);
        if (uncompressed < 0 || uncompressed > maxUncompressed)
          hr.fail(
            `declares ${uncompressed} uncompressed bytes, more than its column chunk's ${maxUncompressed}; the file is damaged`,
          );
        pos = body + compressed;
        if (type === PAGE.dictionary) {
          // Each entry takes at least a bit (a zero-length FIXED_LEN_BYTE_ARRAY would loop without reading).
          const entries = num(h.get(7) as Thrift | undefined, 1);
          if (entries < 0 || entries > uncompressed * 8)
            hr.fail(`declares a dictionary of ${entries} entries in ${uncompressed} bytes; the file is damaged`);
        }
        if (type !== PAGE.data && type !== PAGE.dataV2) continue;
        const v1 = h.get(5) as Thrift | undefined;
        const v2 = h.get(8) as Thrift | undefined;
        const header = type === PAGE.data ? v1 : v2;
        const n = num(header, 1);
        if (n < 0 || n > left)
          hr.fail(`declares ${n} values where the row group has ${left} rows left; the file is damaged`);
        left -= n;
        const encoding = num(header, type === PAGE.data ? 2 : 4);
        let data: Bytes;
        if (type === PAGE.dataV2) {
          const nulls = num(v2, 2);
          const defLen = num(v2, 5);
          const repLen = Math.max(0, num(v2, 6));
          if (nulls < 0 || nulls > n) hr.fail(`declares ${nulls} nulls in ${n} values; the file is damaged`);
          if (defLen < 0) hr.fail('has no definition-levels length (damaged page header)');
          if (defLen + repLen > compressed)
            hr.fail(`declares ${defLen + repLen} bytes of levels in a ${compressed}-byte page; the file is damaged`);
          if (isOptional) checkRuns(r(body + repLen, body + repLen + defLen), 1, n, 'definition levels');
          const rest = bytes.subarray(body + repLen + defLen, body + compressed);
          const compressedV2 = v2?.get(7) !== false;
          if (compressedV2 && !snappy && !plain) continue; // a codec hyparquet refuses anyway
          const size = uncompressed - defLen - repLen;
          const payload = compressedV2 && snappy ? unsnappy(rest, size, hr) : rest;
          data = new Bytes(payload, 0, payload.length, hr.what);
          checkValues(data, encoding, n - nulls, false);
        } else {
          if (!snappy && !plain) continue;
          const raw = bytes.subarray(body, body + compressed);
          const payload = snappy ? unsnappy(raw, uncompressed, hr) : raw;
          data = new Bytes(payload, 0, payload.length, hr.what);
          if (isOptional) {
            const len = le32(data);
            const levels = new Bytes(payload, data.pos, Math.min(payload.length, data.pos + len), hr.what);
            checkRuns(levels, 1, n, 'definition levels');
            data.pos += len;
            if (data.pos > payload.length) hr.fail('definition levels run past the page');
          }
          checkValues(data, encoding, n, true);
        }
      }
    }
  });
}

function le32(r: Bytes): number {
  const v = r.byte() | (r.byte() << 8) | (r.byte() << 16) | (r.byte() << 24);
  return v >>> 0;
}

/** Dictionary indices and RLE booleans are run-length streams; other encodings read bytes they have. */
function checkValues(r: Bytes, encoding: number, n: number, v1: boolean): void {
  if (n <= 0) return;
  if (encoding === ENCODING.rleDictionary || encoding === ENCODING.plainDictionary) {
    const width = r.byte();
    if (width > 32) r.fail(`declares dictionary indices of ${width} bits`);
    if (width === 0 && v1) return; // hyparquet fills zeros without reading runs
    checkRuns(r, width, n, 'dictionary indices');
  } else if (encoding === ENCODING.rle) {
    const len = le32(r);
    checkRuns(new Bytes(r.b, r.pos, Math.min(r.end, r.pos + len), r.what), 1, n, 'boolean values');
  } else if (encoding === ENCODING.deltaBinaryPacked || encoding === ENCODING.deltaLengthByteArray) {
    // The values (or, for byte arrays, their lengths) are one delta stream.
    checkDeltas(r, n, encoding === ENCODING.deltaBinaryPacked ? 'delta-encoded values' : 'delta-encoded lengths');
  } else if (encoding === ENCODING.deltaByteArray) {
    checkDeltas(r, n, 'delta-encoded prefix lengths');
    checkDeltas(r, n, 'delta-encoded suffix lengths');
  }
}

/**
 * Walks a DELTA_BINARY_PACKED stream of `n` values: the header's block and miniblock sizes are those the
 * format allows (hyparquet allocates per miniblock count and divides by it, so 0 or 2^40 miniblocks would
 * loop or allocate without bound), the count is the page's, and every miniblock's bits lie in the page.
 */
export function checkDeltas(r: Bytes, n: number, what: string): void {
  const blockSize = r.varint();
  const miniblocks = r.varint();
  const count = r.varint();
  r.zigzag(); // the first value
  if (blockSize === 0 || blockSize % 128 !== 0 || blockSize > 1 << 20)
    r.fail(`${what} declare blocks of ${blockSize} values; expected a positive multiple of 128`);
  if (miniblocks === 0 || blockSize % miniblocks !== 0 || (blockSize / miniblocks) % 32 !== 0)
    r.fail(
      `${what} declare ${miniblocks} miniblocks per block of ${blockSize}; expected a divisor leaving multiples of 32`,
    );
  if (count > n) r.fail(`${what} declare ${count} values where the page has ${n}`);
  const perMiniblock = blockSize / miniblocks;
  let left = count - 1;
  while (left > 0) {
    r.zigzag(); // the block's minimum delta
    const widths: number[] = [];
    for (let i = 0; i < miniblocks; i++) widths.push(r.byte());
    for (let i = 0; i < miniblocks && left > 0; i++) {
      if (widths[i] > 64) r.fail(`${what} declare a miniblock of ${widths[i]}-bit deltas; expected at most 64`);
      r.skip((perMiniblock * widths[i]) / 8);
      left -= Math.min(left, perMiniblock);
    }
  }
}

function unsnappy(input: Uint8Array, size: number, r: Bytes): Uint8Array {
  const out = new Uint8Array(Math.max(0, size));
  try {
    snappyUncompress(input, out);
  } catch (e) {
    r.fail(`does not decompress (${(e as Error).message}); the file is damaged`);
  }
  return out;
}
