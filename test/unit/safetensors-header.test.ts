// The safetensors header is parsed in slices (parseHeaderPaced) so a 100 MB header never holds the
// extension host: it must give exactly what JSON.parse gives, and refuse exactly what JSON.parse refuses.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Pacer } from '../../src/core/weights/budget';
import { parseHeaderPaced } from '../../src/core/weights/safetensors';

const enc = new TextEncoder();
/** Yields on every member (sliceMs 0), counting the yields. */
function pacer() {
  const p = { yields: 0, pacer: undefined as unknown as Pacer };
  p.pacer = new Pacer({ sliceMs: 0, clockEvery: 1, yieldNow: async () => void p.yields++ });
  return p;
}

const outcome = async (text: string) => {
  try {
    return { ok: true, value: await parseHeaderPaced(enc.encode(text), pacer().pacer) };
  } catch (e) {
    return { ok: false, error: e };
  }
};

test('equals JSON.parse on any JSON object, however it is spaced', async () => {
  const spaced = fc.tuple(fc.dictionary(fc.string(), fc.jsonValue()), fc.constantFrom(0, 2, '\t'));
  await fc.assert(
    fc.asyncProperty(spaced, async ([obj, indent]) => {
      const text = JSON.stringify(obj, null, indent);
      const r = await outcome(text);
      assert.ok(r.ok, String(r.error));
      assert.deepEqual(r.value, JSON.parse(text));
      assert.deepEqual(Object.keys(r.value!), Object.keys(JSON.parse(text)));
    }),
    { numRuns: 300 },
  );
});

test('refuses what JSON.parse refuses (truncations and single-character damage of valid headers)', async () => {
  const header = JSON.stringify({
    __metadata__: { format: 'pt', note: 'a "quoted" \\ back\\\\slash' },
    'layer.0.weight': { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] },
    'layer.0.bias': { dtype: 'F32', shape: [2], data_offsets: [24, 32] },
  });
  const damaged = fc.oneof(
    fc.nat(header.length - 1).map((n) => header.slice(0, n)),
    fc
      .tuple(fc.nat(header.length - 1), fc.constantFrom('{', '}', '[', ']', '"', ',', ':', ' ', 'x', '\\', '1'))
      .map(([at, c]) => header.slice(0, at) + c + header.slice(at + 1)),
  );
  await fc.assert(
    fc.asyncProperty(damaged, async (text) => {
      let expected: unknown;
      let valid = true;
      try {
        expected = JSON.parse(text);
      } catch {
        valid = false;
      }
      const isObject = valid && typeof expected === 'object' && expected !== null && !Array.isArray(expected);
      const r = await outcome(text);
      assert.equal(r.ok, isObject, `${text}: ${r.ok ? 'accepted' : String(r.error)}`);
      if (isObject) assert.deepEqual(r.value, expected);
    }),
    { numRuns: 500 },
  );
});

test('yields between members: a header of 200,000 tensors is parsed in many slices', async () => {
  const entries: Record<string, unknown> = {};
  for (let i = 0; i < 200_000; i++) entries[`t${i}`] = { dtype: 'F32', shape: [1], data_offsets: [4 * i, 4 * i + 4] };
  const p = pacer();
  const parsed = await parseHeaderPaced(enc.encode(JSON.stringify(entries)), p.pacer);
  assert.equal(Object.keys(parsed).length, 200_000);
  assert.deepEqual(parsed.t199999, entries.t199999);
  assert.ok(p.yields >= 200_000, `${p.yields} yields`);
});

test('a member named __proto__ stays data, as with JSON.parse', async () => {
  const text = '{"__proto__": {"dtype": "F32"}, "a": 1}';
  const r = await parseHeaderPaced(enc.encode(text), pacer().pacer);
  assert.deepEqual(Object.keys(r), ['__proto__', 'a']);
  assert.equal(Object.getPrototypeOf(r), Object.prototype);
});
