import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { HostSymmetricMatrix, hostSymvAvailable, hostSymvBytes } from '../../src/core/linalg/hostSymv';
import { symvWasmBase64 } from '../../src/core/linalg/wasm/symvWasm';
import { gramSimd } from '../../src/core/linalg/denseKernels';
import { rng } from '../../src/core/random';
import { Pacer } from '../../src/core/pacer';

/** A random symmetric f32 K of order n written into m (lower part of each row's first block too), and it in float64. */
function fill(m: HostSymmetricMatrix, seed: number, leftJunk = 0): Float64Array {
  const { n, ld } = m;
  const r = rng(seed);
  const K = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) K[i * n + j] = K[j * n + i] = Math.fround(r() * 2 - 1);
  const rows = m.rows(0, n);
  for (let i = 0; i < n; i++) {
    const start = Math.floor(i / 4) * 4;
    for (let j = 0; j < n; j++) rows[i * ld + j] = j < start && leftJunk ? leftJunk : K[i * n + j];
  }
  return K;
}

test('the host SIMD product K P equals the float64 product for n around the 4-row groups and c = 1, 3', async () => {
  assert.ok(hostSymvAvailable(), 'Node 20 has WebAssembly SIMD');
  for (const n of [1, 2, 3, 4, 5, 7, 8, 9, 33, 130]) {
    for (const c of [1, 3]) {
      const m = HostSymmetricMatrix.create(n)!;
      // Values left of each row's diagonal block are never read: junk there must not show.
      const K = fill(m, n * 10 + c, 1e30);
      const r = rng(n + c);
      const P = Float64Array.from({ length: n * c }, () => r() - 0.5);
      const got = await m.times(P, c);
      for (let i = 0; i < n; i++)
        for (let col = 0; col < c; col++) {
          let want = 0,
            scale = 0;
          for (let j = 0; j < n; j++) {
            want += K[i * n + j] * P[j * c + col];
            scale += Math.abs(K[i * n + j] * P[j * c + col]);
          }
          const err = Math.abs(got[i * c + col] - want);
          assert.ok(err <= 1e-14 * Math.max(1, scale), `n=${n} c=${c} (${i},${col}): ${got[i * c + col]} vs ${want}`);
        }
      // A second product on the same matrix starts from zero (out is cleared, p rewritten).
      assert.deepEqual(await m.times(P, c), got);
    }
  }
});

test('the host SIMD product is linear in P (property, random orders and columns)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 1, max: 3 }),
      fc.integer(),
      async (n, c, seed) => {
        const m = HostSymmetricMatrix.create(n)!;
        fill(m, seed);
        const r = rng(seed ^ 0x5bd1e995);
        const P = Float64Array.from({ length: n * c }, () => r() - 0.5);
        const Q = Float64Array.from({ length: n * c }, () => r() - 0.5);
        const sum = await m.times(
          Float64Array.from(P, (v, i) => v + 2 * Q[i]),
          c,
        );
        const kp = await m.times(P, c),
          kq = await m.times(Q, c);
        return sum.every((v, i) => Math.abs(v - (kp[i] + 2 * kq[i])) < 1e-12 * n);
      },
    ),
    { numRuns: 60 },
  );
});

test('the host product refuses what wasm32 cannot address and bad shapes, with the sizes named', async () => {
  assert.equal(HostSymmetricMatrix.create(40000), null); // 6.4 GB of f32 K
  assert.ok(hostSymvBytes(32000) <= 4 * 1024 ** 3);
  assert.equal(HostSymmetricMatrix.create(0), null);
  const m = HostSymmetricMatrix.create(5)!;
  await assert.rejects(m.times(new Float64Array(4), 1), /4 values for 5 x 1/);
  assert.throws(() => m.rows(3, 3), /rows 3\.\.6 of 5/);
});

test('a paced host product gives the event loop turns between row chunks and equals the unpaced one', async () => {
  // n = 3000: 2^21 / 3000 = 699 row groups per chunk, so two chunks and a yield between them.
  const n = 3000;
  const m = HostSymmetricMatrix.create(n)!;
  fill(m, 7);
  const r = rng(8);
  const P = Float64Array.from({ length: n * 2 }, () => r() - 0.5);
  let turns = 0;
  const pacer = new Pacer({ sliceMs: 0, clockEvery: 1, yieldNow: async () => void turns++ });
  const paced = await m.times(P, 2, pacer);
  assert.ok(turns >= 2, `${turns} turns`);
  assert.deepEqual(paced, await m.times(P, 2));
});

test('every committed wasm module is the assembly of its .wat source (npm run build:wasm after editing one)', async () => {
  const { assemble, moduleText } = await import('../../scripts/build-wasm.mjs');
  const dir = fileURLToPath(new URL('../../src/core/linalg/wasm/', import.meta.url));
  const sources = readdirSync(dir).filter((f) => f.endsWith('.wat'));
  assert.deepEqual(sources.sort(), ['dense.wat', 'lowrank.wat', 'symv.wat']);
  for (const file of sources) {
    const name = file.slice(0, -4);
    const committed = readFileSync(join(dir, `${name}Wasm.ts`), 'utf8');
    assert.equal(committed, moduleText(name, await assemble(join(dir, file))), `${name}Wasm.ts`);
  }
  assert.ok(committed64(readFileSync(join(dir, 'symvWasm.ts'), 'utf8')) === symvWasmBase64);
});

const committed64 = (text: string): string => (text.match(/'([^']*)'/g) ?? []).map((q) => q.slice(1, -1)).join('');

test('the SIMD Gram matrix C^T C equals the float64 sums for row counts around its 4-row steps and odd widths, f32 and f64 C', async () => {
  for (const n of [1, 2, 3, 4, 5, 9, 130])
    for (const s of [1, 2, 3, 5, 8, 13]) {
      const r = rng(n * 31 + s);
      const C64 = Float64Array.from({ length: n * s }, () => r() - 0.5);
      for (const C of [C64, Float32Array.from(C64)]) {
        const h = (await gramSimd(C, n, s))!;
        assert.equal(h.length, s * s);
        for (let a = 0; a < s; a++)
          for (let b = 0; b < s; b++) {
            let want = 0;
            for (let i = 0; i < n; i++) want += C[i * s + a] * C[i * s + b];
            assert.ok(
              Math.abs(h[a * s + b] - want) <= 1e-14 * n,
              `n = ${n}, s = ${s}, (${a}, ${b}): ${h[a * s + b]} vs ${want}`,
            );
          }
      }
    }
});

test('the SIMD Gram matrix in row ranges with the event loop turns between them equals it in one go', async () => {
  // s = 64: ranges of 2^25 / 64^2 = 8192 rows, so n = 9000 takes two.
  const n = 9000,
    s = 64;
  const r = rng(77);
  const C = Float64Array.from({ length: n * s }, () => r() - 0.5);
  let turns = 0;
  const pacer = new Pacer({ sliceMs: 0, clockEvery: 1, yieldNow: async () => void turns++ });
  const paced = (await gramSimd(C, n, s, pacer))!;
  assert.ok(turns >= 1, `${turns} turns`);
  assert.deepEqual(paced, await gramSimd(C, n, s));
  for (const [a, b] of [
    [0, 0],
    [3, 63],
    [40, 41],
  ]) {
    let want = 0;
    for (let i = 0; i < n; i++) want += C[i * s + a] * C[i * s + b];
    assert.ok(Math.abs(paced[a * s + b] - want) < 1e-11, `(${a}, ${b})`);
  }
});
