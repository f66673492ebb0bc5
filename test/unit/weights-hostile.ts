// Generators of hostile weight files (issue 11), built at test time byte by byte: pickles written
// opcode by opcode, zips with hand-written headers, DEFLATE streams with hand-written fixed-Huffman
// codes (so a multi-gigabyte member costs megabytes to make). Shared by weights-hostile.test.ts and
// its child process (weights-hostile-child.ts), which runs a case under a heap limit.

const enc = new TextEncoder();

/** A byte builder: strings are written as latin1 (one byte per char), numbers as single bytes. */
export class Bytes {
  private buf = new Uint8Array(1024);
  length = 0;
  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
  put(...parts: (string | number | Uint8Array)[]): this {
    for (const p of parts) {
      if (typeof p === 'number') {
        this.room(1);
        this.buf[this.length++] = p;
      } else if (typeof p === 'string') {
        this.room(p.length);
        for (let i = 0; i < p.length; i++) this.buf[this.length++] = p.charCodeAt(i);
      } else {
        this.room(p.length);
        this.buf.set(p, this.length);
        this.length += p.length;
      }
    }
    return this;
  }
  u16(v: number): this {
    return this.put(v & 0xff, (v >>> 8) & 0xff);
  }
  u32(v: number): this {
    return this.put(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

// ---- pickle opcodes (protocol 2) ----
const PROTO2 = [0x80, 2];
const uni = (s: string): (string | number)[] => {
  const b = enc.encode(s);
  return ['X', b.length & 0xff, (b.length >> 8) & 0xff, 0, 0, ...Array.from(b)];
};
const binput = (i: number): (string | number)[] => (i < 256 ? ['q', i] : ['r', i & 0xff, (i >> 8) & 0xff, 0, 0]);
const binget = (i: number): (string | number)[] => (i < 256 ? ['h', i] : ['j', i & 0xff, (i >> 8) & 0xff, 0, 0]);

/**
 * `d = {}` (or a dict holding one 2x2 float tensor), then `for _ in range(levels): d = {'l': d, 'r': d}`:
 * every dict is referred to twice, so the walk sees 2^levels paths through `levels` dicts.
 */
export function sharedDictPickle(levels: number, withTensor: boolean): Uint8Array {
  const b = new Bytes().put(...PROTO2);
  let memo = 0;
  b.put('}', ...binput(memo));
  if (withTensor) {
    // {'w': _rebuild_tensor_v2(persistent ('storage', FloatStorage, '0', 'cpu', 4), 0, (2, 2), (2, 1), False, OrderedDict())}
    b.put(...uni('w'));
    b.put('ctorch._utils\n_rebuild_tensor_v2\n', '(');
    b.put('(', ...uni('storage'), 'ctorch\nFloatStorage\n', ...uni('0'), ...uni('cpu'), 'K', 4, 't', 'Q');
    b.put('K', 0, 'K', 2, 'K', 2, 0x86, 'K', 2, 'K', 1, 0x86, 0x89, 'ccollections\nOrderedDict\n)R', 't', 'R', 's');
  }
  for (let i = 0; i < levels; i++) {
    b.put('}', ...binput(memo + 1), '(', ...uni('l'), ...binget(memo), ...uni('r'), ...binget(memo), 'u');
    memo++;
  }
  return b.put('.').bytes();
}

/** `[1, 1, ..., 1]` with `n` items, appended with one APPENDS (300k call arguments when spread). */
export function appendsPickle(n: number): Uint8Array {
  const b = new Bytes().put(...PROTO2, ']', '(');
  for (let i = 0; i < n; i++) b.put('K', 1);
  return b.put('e.').bytes();
}

/** A dict of `n` int entries `{'k0': 0, ...}` built with one SETITEMS: a big pickle that parses correctly. */
export function bigDictPickle(n: number): Uint8Array {
  const b = new Bytes().put(...PROTO2, '}', '(');
  for (let i = 0; i < n; i++) b.put(...uni(`k${i}`), 'J').u32(i);
  return b.put('u.').bytes();
}

// ---- zip ----
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export interface Member {
  name: string;
  /** Stored content, or the raw DEFLATE stream when `size` is given (the declared uncompressed size). */
  data: Uint8Array;
  size?: number;
  crc?: number;
}

/** A zip archive (stored or deflated members, classic 32-bit fields). */
export function zipOf(members: Member[]): Uint8Array {
  const b = new Bytes();
  const central = new Bytes();
  for (const m of members) {
    const name = enc.encode(m.name);
    const deflated = m.size !== undefined;
    const size = m.size ?? m.data.length;
    const crc = m.crc ?? (deflated ? 0 : crc32(m.data));
    const offset = b.length;
    b.u32(0x04034b50)
      .u16(20)
      .u16(0)
      .u16(deflated ? 8 : 0)
      .u16(0)
      .u16(0);
    b.u32(crc).u32(m.data.length).u32(size).u16(name.length).u16(0).put(name, m.data);
    central
      .u32(0x02014b50)
      .u16(20)
      .u16(20)
      .u16(0)
      .u16(deflated ? 8 : 0)
      .u16(0)
      .u16(0);
    central.u32(crc).u32(m.data.length).u32(size).u16(name.length).u16(0).u16(0).u16(0).u16(0).u32(0).u32(offset);
    central.put(name);
  }
  const cdOffset = b.length;
  const cd = central.bytes();
  b.put(cd);
  b.u32(0x06054b50).u16(0).u16(0).u16(members.length).u16(members.length).u32(cd.length).u32(cdOffset).u16(0);
  return b.bytes();
}

/** torch.save's layout around a pickle: `archive/data.pkl`, `archive/byteorder`, storages `archive/data/<key>`. */
export function torchZipOf(pickle: Uint8Array, storages: Record<string, Uint8Array> = {}): Uint8Array {
  return zipOf([
    { name: 'archive/data.pkl', data: pickle },
    { name: 'archive/byteorder', data: enc.encode('little') },
    ...Object.entries(storages).map(([k, data]) => ({ name: `archive/data/${k}`, data })),
  ]);
}

/** An .npy header for `shape` of `descr` ('<f8', '|u1'...), padded to 64 bytes as numpy does. */
export function npyHeader(descr: string, shape: number[]): Uint8Array {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const text = dict.padEnd(total - 10 - 1, ' ') + '\n';
  return new Bytes().put(0x93, 'NUMPY', 1, 0).u16(text.length).put(text).bytes();
}

/** An `np.savez`-style stored archive of `count` small float64 arrays `arr_0..arr_{count-1}` (arr_i = [i, i]). */
export function manyArraysNpz(count: number): Uint8Array {
  const members: Member[] = [];
  for (let i = 0; i < count; i++) {
    const data = new Float64Array([i, i]);
    members.push({
      name: `arr_${i}.npy`,
      data: new Bytes().put(npyHeader('<f8', [2]), new Uint8Array(data.buffer)).bytes(),
    });
  }
  return zipOf(members);
}

/** LSB-first bit writer for a DEFLATE stream; Huffman codes are given MSB-first as DEFLATE stores them. */
class Bits {
  readonly out = new Bytes();
  private acc = 0;
  private n = 0;
  bits(v: number, count: number): void {
    for (let i = 0; i < count; i++) this.push((v >>> i) & 1);
  }
  code(v: number, count: number): void {
    for (let i = count - 1; i >= 0; i--) this.push((v >>> i) & 1);
  }
  private push(bit: number): void {
    this.acc |= bit << this.n;
    if (++this.n === 8) {
      this.out.put(this.acc);
      this.acc = 0;
      this.n = 0;
    }
  }
  get aligned(): boolean {
    return this.n === 0;
  }
  flush(): Uint8Array {
    if (this.n) this.out.put(this.acc);
    return this.out.bytes();
  }
}

/**
 * A raw DEFLATE stream (one fixed-Huffman block) for `prefix` followed by one zero byte and 258 × `reps`
 * more zeros: 13 bits per 258 bytes, so a 300 MB member costs 2 MB. Returns the stream and its
 * uncompressed size.
 */
export function zerosDeflate(prefix: Uint8Array, reps: number): { stream: Uint8Array; size: number } {
  const w = new Bits();
  w.bits(1, 1); // BFINAL
  w.bits(1, 2); // BTYPE = 01, fixed Huffman
  const literal = (v: number): void => (v < 144 ? w.code(0x30 + v, 8) : w.code(0x190 + v - 144, 9));
  for (const v of prefix) literal(v);
  literal(0);
  const rep = (): void => {
    w.code(0xc5, 8); // length code 285 = 258 bytes
    w.code(0, 5); // distance code 0 = 1 byte back
  };
  let done = 0;
  while (!w.aligned && done < reps) {
    rep();
    done++;
  }
  // 8 repetitions are 104 bits = 13 whole bytes: write them once, then copy the bytes.
  const groups = w.aligned ? Math.floor((reps - done) / 8) : 0;
  let body = new Uint8Array(0);
  if (groups > 0) {
    const g = new Bits();
    for (let i = 0; i < 8; i++) {
      g.code(0xc5, 8);
      g.code(0, 5);
    }
    const pattern = g.flush();
    body = new Uint8Array(pattern.length * groups);
    for (let i = 0; i < groups; i++) body.set(pattern, i * pattern.length);
    done += groups * 8;
  }
  const tail = new Bits();
  for (; done < reps; done++) {
    tail.code(0xc5, 8);
    tail.code(0, 5);
  }
  tail.code(0, 7); // end of block (256)
  const head = w.flush();
  const end = tail.flush();
  const stream = new Uint8Array(head.length + body.length + end.length);
  stream.set(head);
  stream.set(body, head.length);
  stream.set(end, head.length + body.length);
  return { stream, size: prefix.length + 1 + 258 * reps };
}

/** A `np.savez_compressed`-style archive of `count` uint8 arrays of zeros, each `reps` × 258 + 1 bytes. */
export function zerosNpz(count: number, reps: number): Uint8Array {
  const members: Member[] = [];
  for (let i = 0; i < count; i++) {
    const n = 1 + 258 * reps;
    const { stream, size } = zerosDeflate(npyHeader('|u1', [n]), reps);
    members.push({ name: `arr_${i}.npy`, data: stream, size });
  }
  return zipOf(members);
}

/**
 * Deflated members whose directory lies about the size: 'up' declares `declared` bytes (shape to
 * match, float64) but the stream holds a few KB followed by junk; 'down' declares a few KB but the
 * stream inflates to about 258 × reps bytes.
 */
export function lyingNpz(kind: 'up' | 'down'): Uint8Array {
  if (kind === 'up') {
    const n = 120_000_000; // 960 MB of float64, within the reader's in-memory limit
    const header = npyHeader('<f8', [n]);
    const { stream } = zerosDeflate(header, 16);
    // Pad the compressed member so the declared size stays under DEFLATE's 1032:1 ratio.
    const declared = header.length + 8 * n;
    const padded = new Uint8Array(Math.ceil(declared / 1000));
    padded.set(stream);
    return zipOf([{ name: 'w.npy', data: padded, size: declared }]);
  }
  const header = npyHeader('<f8', [1000]);
  const { stream } = zerosDeflate(header, 4_000_000); // about 1 GB of zeros
  return zipOf([{ name: 'w.npy', data: stream, size: header.length + 8000 }]);
}
