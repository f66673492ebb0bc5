// The hostile files of issue 11, generated at test time (nothing big is checked in), so the budget and
// recursion fixes in the data, weights and log readers are all checked against one corpus.
// Each entry names the command that reads it; run by corpus.test.ts in a child process with a heap limit.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'fflate';

const FIXTURES = join(__dirname, '..', 'fixtures');
const enc = new TextEncoder();

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
const u16 = (v: number) => Uint8Array.of(v & 0xff, (v >>> 8) & 0xff);
const u32 = (v: number) => Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);

const CRC_TABLE = Int32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(b: Uint8Array, previous = 0): number {
  let c = (previous ^ 0xffffffff) >>> 0;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * `head` then `zeros` zero bytes as one fixed-Huffman deflate block written by hand (the literals of `head`,
 * a literal 0, then copies of 258 bytes at distance 1): a zip bomb member, made in milliseconds without
 * ever holding the content. RFC 1951 section 3.2.6.
 */
export function deflatedZeros(
  head: Uint8Array,
  zeros: number,
): { data: Uint8Array; deflated: { crc: number; size: number } } {
  const out = new Uint8Array(head.length * 2 + Math.ceil(zeros / 258) * 2 + 64);
  let pos = 0,
    acc = 0,
    nbits = 0;
  const bits = (v: number, n: number) => {
    acc |= v << nbits;
    nbits += n;
    for (; nbits >= 8; nbits -= 8, acc >>>= 8) out[pos++] = acc & 0xff;
  };
  // Huffman codes are sent most significant bit first.
  const code = (c: number, n: number) => {
    let r = 0;
    for (let k = 0; k < n; k++) r |= ((c >>> k) & 1) << (n - 1 - k);
    bits(r, n);
  };
  const literal = (b: number) => (b < 144 ? code(0x30 + b, 8) : code(0x190 + b - 144, 9));
  bits(1, 1); // final block
  bits(1, 2); // fixed Huffman
  for (const b of head) literal(b);
  let left = zeros;
  if (left > 0) {
    literal(0);
    left--;
  }
  // Length 258 (code 285), distance 1 (code 0).
  for (; left >= 258; left -= 258) {
    code(0xc5, 8);
    code(0, 5);
  }
  for (; left > 0; left--) literal(0);
  code(0, 7); // end of block
  if (nbits) bits(0, 8 - nbits);
  let crc = (crc32(head) ^ 0xffffffff) >>> 0;
  for (let k = 0; k < zeros; k++) crc = CRC_TABLE[crc & 0xff] ^ (crc >>> 8);
  return { data: out.slice(0, pos), deflated: { crc: (crc ^ 0xffffffff) >>> 0, size: head.length + zeros } };
}

export interface ZipMember {
  name: string;
  data: Uint8Array;
  /** Deflate the member (np.savez_compressed); its data is then the uncompressed content. */
  deflate?: boolean;
  /** The uncompressed size written in the headers, when it should lie. */
  declaredSize?: number;
  /** Already deflated: `data` is the deflate stream, with the content's CRC. */
  deflated?: { crc: number; size: number };
}

/** A zip archive as np.savez / torch.save write them (no zip64, no data descriptors). */
export function zip(members: ZipMember[]): Uint8Array {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const m of members) {
    const name = enc.encode(m.name);
    const body = m.deflate ? deflateSync(m.data) : m.data;
    const size = m.declaredSize ?? m.deflated?.size ?? m.data.length;
    const crc = m.deflated ? m.deflated.crc : crc32(m.data);
    const common = concat([
      u16(20),
      u16(0),
      u16(m.deflate || m.deflated ? 8 : 0),
      u32(0),
      u32(crc),
      u32(body.length),
      u32(size),
      u16(name.length),
    ]);
    const local = concat([u32(0x04034b50), common, u16(0), name, body]);
    centrals.push(
      concat([u32(0x02014b50), u16(20), common, u16(0), u16(0), u16(0), u16(0), u32(0), u32(offset), name]),
    );
    locals.push(local);
    offset += local.length;
  }
  const cd = concat(centrals);
  const eocd = concat([
    u32(0x06054b50),
    u16(0),
    u16(0),
    u16(members.length),
    u16(members.length),
    u32(cd.length),
    u32(offset),
    u16(0),
  ]);
  return concat([...locals, cd, eocd]);
}

/** An .npy header (version 1) declaring `shape` of `descr` (little-endian float64 by default), then `data`. */
export function npy(shape: number[], data: Uint8Array = new Uint8Array(0), descr = '<f8'): Uint8Array {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  header += ' '.repeat(63 - ((header.length + 10) % 64)) + '\n';
  return concat([
    Uint8Array.of(0x93),
    enc.encode('NUMPY'),
    Uint8Array.of(1, 0),
    u16(header.length),
    enc.encode(header),
    data,
  ]);
}

const f64 = (values: number[]) => new Uint8Array(Float64Array.from(values).buffer);

// --- pickle (protocol 2), only the opcodes the crafted files need ---
const P = {
  proto: Uint8Array.of(0x80, 2),
  emptyDict: Uint8Array.of(0x7d),
  emptyList: Uint8Array.of(0x5d),
  mark: Uint8Array.of(0x28),
  setitems: Uint8Array.of(0x75),
  appends: Uint8Array.of(0x65),
  stop: Uint8Array.of(0x2e),
  put: (i: number) => concat([Uint8Array.of(0x72), u32(i)]),
  get: (i: number) => concat([Uint8Array.of(0x6a), u32(i)]),
  str: (s: string) => concat([Uint8Array.of(0x58), u32(enc.encode(s).length), enc.encode(s)]),
  int1: (v: number) => Uint8Array.of(0x4b, v),
};

/** A torch.save zip around a pickle (no tensors). */
function torchZip(pickle: Uint8Array): Uint8Array {
  return zip([
    { name: 'archive/data.pkl', data: pickle },
    { name: 'archive/byteorder', data: enc.encode('little') },
    { name: 'archive/version', data: enc.encode('3\n') },
  ]);
}

/** `d = {}; for _ in range(levels): d = {'l': d, 'r': d}`: 2^levels paths through `levels + 1` dicts. */
export function sharedSubdictPickle(levels: number): Uint8Array {
  const parts = [P.proto, P.emptyDict, P.put(0)];
  for (let i = 1; i <= levels; i++)
    parts.push(P.emptyDict, P.put(i), P.mark, P.str('l'), P.get(i - 1), P.str('r'), P.get(i - 1), P.setitems);
  parts.push(P.stop);
  return concat(parts);
}

/** `{'items': [1] * n}` written with one APPENDS of n items. */
export function appendsPickle(n: number): Uint8Array {
  const items = new Uint8Array(2 * n);
  for (let i = 0; i < n; i++) items.set([0x4b, 1], 2 * i);
  return concat([
    P.proto,
    P.emptyDict,
    P.mark,
    P.str('items'),
    P.emptyList,
    P.mark,
    items,
    P.appends,
    P.setitems,
    P.stop,
  ]);
}

/** iris.parquet with the row count of its footer (FileMetaData.num_rows) replaced by `rows`. */
export function parquetDeclaringRows(rows: number): Uint8Array {
  const b = new Uint8Array(readFileSync(join(FIXTURES, 'iris.parquet')));
  const footerLength = new DataView(b.buffer).getUint32(b.length - 8, true);
  const footer = b.subarray(b.length - 8 - footerLength, b.length - 8);
  const varint = (v: number) => {
    const out: number[] = [];
    for (; v >= 0x80; v = Math.floor(v / 128)) out.push((v % 128) | 0x80);
    out.push(v);
    return Uint8Array.of(...out);
  };
  // i64 field 3 following field 2 (compact protocol header 0x16), value 150 as a zigzag varint (0xac 0x02).
  const at = footer.findIndex((x, i) => x === 0x16 && footer[i + 1] === 0xac && footer[i + 2] === 0x02);
  if (at < 0) throw new Error('iris.parquet: num_rows not found');
  const patched = concat([footer.subarray(0, at + 1), varint(rows * 2), footer.subarray(at + 3)]);
  return concat([b.subarray(0, b.length - 8 - footerLength), patched, u32(patched.length), enc.encode('PAR1')]);
}

/** A CSV of `rows` x `cols` small numbers plus a target column `y`. */
export function csv(rows: number, cols: number): Uint8Array {
  const header = [...Array.from({ length: cols }, (_, j) => `x${j}`), 'y'].join(',');
  const lines = [header];
  for (let i = 0; i < rows; i++) {
    const cells = Array.from({ length: cols }, (_, j) => String((i * 7 + j * 3) % 10));
    cells.push(String(i % 2));
    lines.push(cells.join(','));
  }
  return enc.encode(lines.join('\n') + '\n');
}

const arrays3000 = () =>
  zip(Array.from({ length: 3000 }, (_, i) => ({ name: `arr_${i}.npy`, data: npy([2, 2], f64([1, 2, 3, 4])) })));

export interface CorpusEntry {
  /** Also the file name written (its extension picks the reader). */
  name: string;
  /** What the issue saw it do. */
  issue: string;
  make(): Uint8Array;
  /** The command that reads it: `fit FILE --backend cpu`, `nfa FILE <nfa_data.csv> --target y`, `spikes FILE`. */
  command: 'fit' | 'nfa' | 'spikes';
  /** What the message must not say besides a crash (e.g. a valid file called damaged). */
  mustNotSay?: RegExp;
}

export const CORPUS: CorpusEntry[] = [
  {
    name: 'shared-subdict.pt',
    issue: '870-byte pickle, a dict referring to the same sub-dict twice 45 levels deep: nfa hangs forever',
    make: () => torchZip(sharedSubdictPickle(45)),
    command: 'nfa',
  },
  {
    name: 'appends-300k.pt',
    issue: 'a pickle APPENDS with 300k items: Maximum call stack size exceeded',
    make: () => torchZip(appendsPickle(300_000)),
    command: 'nfa',
  },
  {
    name: 'arrays-3000.npz',
    issue: 'a valid np.savez with ~3000 arrays: Maximum call stack size exceeded (as weights)',
    make: arrays3000,
    command: 'nfa',
  },
  {
    name: 'arrays-3000-data.npz',
    issue: 'a valid np.savez with ~3000 arrays: Maximum call stack size exceeded (as a dataset)',
    make: arrays3000,
    command: 'fit',
    mustNotSay: /damaged|call stack/,
  },
  {
    name: 'size-lying.npz',
    issue: 'an .npz whose deflated member inflates far past its declared size: refused only after 3.2 GB RSS',
    make: () =>
      zip([
        { name: 'X.npy', ...deflatedZeros(npy([32768, 1024]), 2 ** 28), declaredSize: 1000 },
        { name: 'y.npy', data: npy([4], f64([0, 1, 0, 1])) },
      ]),
    command: 'fit',
  },
  {
    name: 'rows-67M.npz',
    issue: 'a 1 MB .npz (np.savez_compressed of zeros) that declares 67M rows: RangeError: Invalid typed array length',
    make: () =>
      zip([
        { name: 'X.npy', ...deflatedZeros(npy([67_108_864, 1]), 67_108_864 * 8) },
        { name: 'y.npy', ...deflatedZeros(npy([67_108_864], undefined, '|u1'), 67_108_864) },
      ]),
    command: 'fit',
  },
  {
    name: 'rows-30M.parquet',
    issue: 'a 176 KB Parquet that declares 30M rows: RangeError: Invalid typed array length (exit 70)',
    make: () => parquetDeclaringRows(30_000_000),
    command: 'fit',
  },
  {
    name: 'columns-100k.csv',
    issue: 'a CSV with 100,000 columns: RangeError: Invalid typed array length (exit 70)',
    make: () => csv(3, 100_000),
    command: 'fit',
  },
  {
    name: 'rows-600k.csv',
    issue: 'a 14 MB CSV with 600,000 rows: RangeError: Invalid typed array length (exit 70)',
    make: () => csv(600_000, 4),
    command: 'fit',
  },
  {
    name: 'huge-header.safetensors',
    issue: 'a safetensors header length of 2^40 (handled before issue 11: kept so it stays handled)',
    make: () => concat([u32(0), u32(256), enc.encode('{}')]),
    command: 'nfa',
  },
];
