// Damage to a valid file, as fast-check arbitraries: truncation, bit flips, and size fields that lie
// (a binary integer window overwritten with a huge or zero count, or a decimal number in a text header
// such as an .npy shape or a CSV cell replaced). A Mutation is plain data, so a shrunk counterexample can
// be kept verbatim as a regression case.
import fc from 'fast-check';

export type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; bits: { pos: number; bit: number }[] }
  | { kind: 'lie'; pos: number; width: 2 | 4 | 8; value: string }
  | { kind: 'digits'; nth: number; value: string };

/** Counts a hostile file declares: huge, 2^31 boundaries, all ones, zero. Strings so they stay JSON-able. */
export const LIES = [
  '0',
  '1',
  '255',
  '65535',
  '30000000',
  '67000000',
  '2147483647',
  '2147483648',
  '4294967295',
  '1099511627776',
  '18446744073709551615',
];
const DIGIT_LIES = ['0', '-1', '99999999999', '30000000', '1e308', '4294967296'];

export function mutation(length: number): fc.Arbitrary<Mutation> {
  const pos = fc.nat({ max: Math.max(0, length - 1) });
  return fc.oneof(
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat({ max: Math.max(0, length - 1) }) }),
    fc.record({
      kind: fc.constant('flip' as const),
      bits: fc.array(fc.record({ pos, bit: fc.nat({ max: 7 }) }), { minLength: 1, maxLength: 4 }),
    }),
    fc.record({
      kind: fc.constant('lie' as const),
      pos,
      width: fc.constantFrom(2 as const, 4 as const, 8 as const),
      value: fc.constantFrom(...LIES),
    }),
    fc.record({
      kind: fc.constant('digits' as const),
      nth: fc.nat({ max: 40 }),
      value: fc.constantFrom(...DIGIT_LIES),
    }),
  );
}

export function applyMutation(good: Uint8Array, m: Mutation): Uint8Array {
  switch (m.kind) {
    case 'truncate':
      return good.slice(0, m.at);
    case 'flip': {
      const bad = good.slice();
      for (const { pos, bit } of m.bits) if (pos < bad.length) bad[pos] ^= 1 << bit;
      return bad;
    }
    case 'lie': {
      const bad = good.slice();
      let v = BigInt(m.value);
      for (let k = 0; k < m.width && m.pos + k < bad.length; k++, v >>= 8n) bad[m.pos + k] = Number(v & 0xffn);
      return bad;
    }
    case 'digits': {
      // The nth run of ASCII digits (wrapping around), replaced: a declared shape, length, count or cell.
      const runs: [number, number][] = [];
      for (let i = 0; i < good.length;) {
        if (good[i] >= 0x30 && good[i] <= 0x39) {
          const s = i;
          while (i < good.length && good[i] >= 0x30 && good[i] <= 0x39) i++;
          runs.push([s, i]);
        } else i++;
      }
      if (!runs.length) return good.slice();
      const [s, e] = runs[m.nth % runs.length];
      const value = new TextEncoder().encode(m.value);
      const bad = new Uint8Array(good.length - (e - s) + value.length);
      bad.set(good.subarray(0, s));
      bad.set(value, s);
      bad.set(good.subarray(e), s + value.length);
      return bad;
    }
  }
}
