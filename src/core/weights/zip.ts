// Reads a zip archive's central directory through a ByteSource, so members of a large .pt/.npz are
// located without loading the archive. Stored members (what torch.save writes) are read by range;
// deflated ones (np.savez_compressed) are inflated in small steps with fflate, stopping at the size the
// directory declares (or earlier, when only a member's first bytes are wanted: an .npy header).
import { Inflate } from 'fflate';
import { InputError } from '../errors';
import { Pacer, ZIP_LIMITS, type ReadOptions } from './budget';
import type { ByteSource } from './types';

export interface ZipEntry {
  readonly name: string;
  /** 0 = stored, 8 = deflate. */
  readonly method: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
}

export interface ZipArchive {
  readonly entries: readonly ZipEntry[];
  /** Absolute offset of a stored member's first data byte (for lazy range reads). */
  dataOffset(entry: ZipEntry): Promise<number>;
  /**
   * A member's content, inflated if needed; with `upTo`, only its first `upTo` bytes (fewer when the
   * member is shorter), so a header is read without inflating the data behind it.
   */
  read(entry: ZipEntry, upTo?: number): Promise<Uint8Array>;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX_MEMBER = 2 ** 31 - 1;

export function looksLikeZip(head: Uint8Array): boolean {
  return (
    head.length >= 4 &&
    head[0] === 0x50 &&
    head[1] === 0x4b &&
    (head[2] === 3 || head[2] === 5) &&
    (head[3] === 4 || head[3] === 6)
  );
}

export async function openZip(source: ByteSource, fileName: string, options?: ReadOptions): Promise<ZipArchive> {
  const pacer = new Pacer(options);
  const fail = (what: string): never => {
    throw new InputError(`${fileName}: not a valid zip archive: ${what}`);
  };
  const tailLen = Math.min(source.size, 22 + 0xffff);
  const tailStart = source.size - tailLen;
  const tail = await source.read(tailStart, tailLen);
  const tv = new DataView(tail.buffer, tail.byteOffset, tail.length);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) fail('no end-of-central-directory record');
  let count = tv.getUint16(eocd + 10, true);
  let cdSize = tv.getUint32(eocd + 12, true);
  let cdOffset = tv.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || tv.getUint32(loc, true) !== ZIP64_LOCATOR) fail('zip64 fields without a zip64 locator');
    const z64Offset = Number(tv.getBigUint64(loc + 8, true));
    if (z64Offset + 56 > source.size) fail('zip64 record past the end of the file');
    const z = await source.read(z64Offset, 56);
    const zv = new DataView(z.buffer, z.byteOffset, z.length);
    if (zv.getUint32(0, true) !== ZIP64_EOCD) fail('bad zip64 end-of-central-directory signature');
    count = Number(zv.getBigUint64(32, true));
    cdSize = Number(zv.getBigUint64(40, true));
    cdOffset = Number(zv.getBigUint64(48, true));
  }
  if (cdOffset + cdSize > source.size)
    fail(
      `central directory (offset ${cdOffset}, ${cdSize} bytes) extends past the end of the file (${source.size} bytes)`,
    );
  if (count > cdSize / 46) fail(`${count} entries cannot fit in a ${cdSize}-byte central directory`);
  if (cdSize > ZIP_LIMITS.maxDirectoryBytes)
    fail(`central directory of ${cdSize} bytes is larger than the ${ZIP_LIMITS.maxDirectoryBytes}-byte limit`);
  const cd = await source.read(cdOffset, cdSize);
  const cv = new DataView(cd.buffer, cd.byteOffset, cd.length);
  const utf8 = new TextDecoder();
  const entries: ZipEntry[] = [];
  const names = new Set<string>();
  let p = 0;
  for (let k = 0; k < count; k++) {
    if (pacer.due()) await pacer.pause();
    if (p + 46 > cd.length || cv.getUint32(p, true) !== CENTRAL) fail(`central directory entry ${k} is malformed`);
    const flags = cv.getUint16(p + 8, true);
    const method = cv.getUint16(p + 10, true);
    let compressedSize = cv.getUint32(p + 20, true);
    let size = cv.getUint32(p + 24, true);
    const nameLen = cv.getUint16(p + 28, true);
    const extraLen = cv.getUint16(p + 30, true);
    const commentLen = cv.getUint16(p + 32, true);
    let localHeaderOffset = cv.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen + commentLen > cd.length)
      fail(`central directory entry ${k} runs past the directory`);
    const name = utf8.decode(cd.subarray(p + 46, p + 46 + nameLen));
    // zip64 extra field: the 64-bit values appear only for the 32-bit fields that overflowed, in this order.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = cv.getUint16(e, true);
      const len = cv.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        const next = (): number => {
          if (q + 8 > e + 4 + len) fail(`zip64 field of '${name}' is short`);
          const v = Number(cv.getBigUint64(q, true));
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = next();
        if (compressedSize === 0xffffffff) compressedSize = next();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = next();
      }
      e += 4 + len;
    }
    if (flags & 1) fail(`member '${name}' is encrypted`);
    // Neither np.savez nor torch.save writes a name twice; with two, a reader by name would silently
    // return the first member's bytes for the second.
    if (names.has(name))
      fail(`member '${name}' is listed twice in the central directory (damaged archive); re-save the file`);
    names.add(name);
    if (localHeaderOffset + 30 + compressedSize > source.size)
      fail(`member '${name}' extends past the end of the file`);
    entries.push({ name, method, compressedSize, size, localHeaderOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }

  async function dataOffset(entry: ZipEntry): Promise<number> {
    const h = await source.read(entry.localHeaderOffset, 30);
    const hv = new DataView(h.buffer, h.byteOffset, h.length);
    if (h.length < 30 || hv.getUint32(0, true) !== LOCAL) fail(`local header of '${entry.name}' is malformed`);
    const start = entry.localHeaderOffset + 30 + hv.getUint16(26, true) + hv.getUint16(28, true);
    if (start + entry.compressedSize > source.size) fail(`member '${entry.name}' extends past the end of the file`);
    return start;
  }

  const inflatePacer = new Pacer({ ...options, clockEvery: 1 });
  const inflateMember = async (entry: ZipEntry, start: number, want: number): Promise<Uint8Array> => {
    const parts: Uint8Array[] = [];
    let got = 0;
    let done = false;
    let error = '';
    const inflater = new Inflate((chunk, final) => {
      if (done) return;
      if (got + chunk.length > entry.size) {
        error = `inflates past the ${entry.size} bytes the directory declares (corrupt archive or zip bomb)`;
        done = true;
        return;
      }
      const keep = Math.min(chunk.length, want - got);
      if (keep > 0) parts.push(keep === chunk.length ? chunk : chunk.slice(0, keep));
      got += chunk.length;
      if (got >= want && want < entry.size) done = true;
      if (final) done = true;
    });
    // Compressed bytes are read 1 MiB at a time and pushed a small step at a time, so one push
    // produces at most a few MiB and the loop can stop (or yield) between steps.
    const step = ZIP_LIMITS.inflateStep;
    const readSize = 256 * step;
    for (let base = 0; base < entry.compressedSize && !done; base += readSize) {
      const len = Math.min(readSize, entry.compressedSize - base);
      const raw = await source.read(start + base, len);
      if (raw.length < len) fail(`member '${entry.name}' is truncated`);
      for (let off = 0; off < len && !done; off += step) {
        const piece = raw.subarray(off, Math.min(off + step, len));
        try {
          inflater.push(piece, base + off + piece.length >= entry.compressedSize);
        } catch (e) {
          return fail(`member '${entry.name}' does not inflate (${e instanceof Error ? e.message : String(e)})`);
        }
        await inflatePacer.tick();
      }
    }
    if (error) fail(`member '${entry.name}' ${error}`);
    const size = Math.min(got, want);
    if (want >= entry.size && got !== entry.size)
      fail(`member '${entry.name}' inflates to ${got} bytes, the directory says ${entry.size}`);
    if (parts.length === 1) return parts[0];
    const out = new Uint8Array(size);
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  };

  return {
    entries,
    dataOffset,
    async read(entry, upTo = Infinity) {
      if (entry.method !== 0 && entry.method !== 8)
        fail(`member '${entry.name}' uses compression method ${entry.method} (only stored and deflate are supported)`);
      const want = Math.min(upTo, entry.size);
      if (want > MAX_MEMBER || (entry.method === 0 && entry.compressedSize > MAX_MEMBER))
        fail(`member '${entry.name}' is larger than 2 GiB; read it by range instead`);
      // DEFLATE cannot expand more than 1032:1, so a larger claim is a lie (a zip bomb's allocation).
      if (entry.method === 8 && entry.size > entry.compressedSize * 1032 + 1024)
        fail(
          `member '${entry.name}' claims ${entry.size} bytes from ${entry.compressedSize} compressed, beyond what DEFLATE can produce`,
        );
      if (entry.method === 0 && entry.size !== entry.compressedSize)
        fail(`stored member '${entry.name}' has different sizes (${entry.size} vs ${entry.compressedSize})`);
      const start = await dataOffset(entry);
      if (entry.method === 0) return source.read(start, want);
      return inflateMember(entry, start, want);
    },
  };
}
