// Damaged files of every format must fail as InputError (a message for the user), never as a TypeError,
// RangeError or a hang. Seeded, so a failure reproduces.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadDataset } from '../../src/core/data/index';
import { InputError } from '../../src/core/errors';
import { fixture } from './data-helpers';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

const FILES = [
  'csv/quoted.csv',
  'csv/categorical.csv',
  'npy/f8_f_be.npy',
  'npy/i8_c_le.npy',
  'npy/xy_deflated.npz',
  'npy/xy_stored.npz',
  'iris.parquet',
  'missing.parquet',
];

describe('damaged files fail cleanly', () => {
  for (const name of FILES) {
    it(name, async () => {
      const good = fixture(name);
      const rand = lcg(name.length * 7919);
      const variants: Uint8Array[] = [];
      for (let k = 0; k < 12; k++) variants.push(good.subarray(0, Math.floor(rand() * good.length)));
      // Byte flips inside Parquet pages are left out: hyparquet 1.31 can spend minutes decoding a corrupted
      // run length (readRleBitPackedHybrid), which no caller can interrupt. Truncation is checked.
      for (let k = 0; k < (name.endsWith('.parquet') ? 0 : 24); k++) {
        const bad = good.slice();
        for (let f = 0; f < 1 + Math.floor(rand() * 4); f++)
          bad[Math.floor(rand() * bad.length)] = Math.floor(rand() * 256);
        variants.push(bad);
      }
      for (const [k, bytes] of variants.entries()) {
        try {
          await loadDataset(bytes, name.replace(/^.*\//, ''), { impute: true });
        } catch (e) {
          assert.ok(e instanceof InputError, `variant ${k} of ${name}: ${e instanceof Error ? e.stack : String(e)}`);
          assert.ok(
            e.message.startsWith(name.replace(/^.*\//, '')),
            `variant ${k}: message does not name the file: ${e.message}`,
          );
        }
      }
    });
  }
});
