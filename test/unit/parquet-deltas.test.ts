// The DELTA_BINARY_PACKED pre-walk (core/data/parquet-pages.ts checkDeltas) on hand-made streams: a
// valid stream passes and ends where its bits end; the header fields hyparquet would divide by, allocate
// from or loop on are refused with the field named.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Bytes, checkDeltas } from '../../src/core/data/parquet-pages';
import { InputError } from '../../src/core/errors';

const varint = (v: number): number[] => {
  const out: number[] = [];
  do {
    out.push((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
    v = Math.floor(v / 128);
  } while (v > 0);
  return out;
};
const zigzag = (v: number) => varint(v < 0 ? -2 * v - 1 : 2 * v);

/** A stream of `count` values 0, 1, 2, … : every delta is the block minimum 1, so each miniblock has width 0. */
function stream(blockSize: number, miniblocks: number, count: number, width = 0): Uint8Array {
  const bytes = [...varint(blockSize), ...varint(miniblocks), ...varint(count), ...zigzag(0)];
  const per = blockSize / miniblocks;
  for (let left = count - 1; left > 0;) {
    bytes.push(...zigzag(1), ...new Array(miniblocks).fill(width));
    for (let i = 0; i < miniblocks && left > 0; i++) {
      bytes.push(...new Array((per * width) / 8).fill(0));
      left -= Math.min(left, per);
    }
  }
  return Uint8Array.from(bytes);
}

const walk = (b: Uint8Array, n: number) => {
  const r = new Bytes(b, 0, b.length, () => 'x.parquet: page 1');
  checkDeltas(r, n, 'delta-encoded values');
  return r.pos;
};

const refused = (b: Uint8Array, n: number, needle: RegExp) =>
  assert.throws(
    () => walk(b, n),
    (e: Error) => e instanceof InputError && /x\.parquet: page 1/.test(e.message) && needle.test(e.message),
  );

describe('Parquet delta streams are walked before hyparquet decodes them', () => {
  it('a valid stream passes and is read to its last byte', () => {
    for (const [count, width] of [
      [1, 0],
      [300, 0],
      [300, 8],
      [1000, 3],
    ]) {
      const b = stream(128, 4, count, width);
      assert.equal(walk(b, count), b.length, `count ${count}, width ${width}`);
    }
  });

  it('zero or absurd miniblock counts are refused (hyparquet divides by them and allocates per them)', () => {
    refused(
      stream(128, 4, 10).map((v, i) => (i === 2 ? 0 : v)),
      10,
      /0 miniblocks per block of 128/,
    );
    const huge = Uint8Array.from([...varint(128), ...varint(2 ** 40), ...varint(10), 0]);
    refused(huge, 10, /miniblocks per block of 128/);
  });

  it('a block size that is not a positive multiple of 128 is refused', () => {
    refused(Uint8Array.from([...varint(0), ...varint(1), ...varint(3), 0]), 3, /blocks of 0 values/);
    refused(Uint8Array.from([...varint(100), ...varint(1), ...varint(3), 0]), 3, /blocks of 100 values/);
  });

  it('more values than the page has, or bits past the page, are refused', () => {
    refused(stream(128, 4, 50), 10, /declare 50 values where the page has 10/);
    const cut = stream(128, 4, 300, 8).subarray(0, 60);
    refused(cut, 300, /runs past the page|ends in the middle/);
  });

  it('a miniblock wider than 64 bits is refused', () => {
    refused(stream(128, 4, 10, 72), 10, /72-bit deltas/);
  });
});
