// Modular-arithmetic tasks of docs/science.md §4: x = [onehot(a), onehot(b)] in R^{2p}, label (a o b) mod p,
// a seeded fraction of all pairs trains and the rest tests.
import { InputError } from '../../errors';
import { MAX_GROK_P } from '../../limits';
import { permutation } from '../../random';
import type { IndicatorRows } from '../indicator';

export type ModOp = 'add' | 'sub' | 'mul' | 'div';
export const MOD_OPS: readonly ModOp[] = ['add', 'sub', 'mul', 'div'];

export { MAX_GROK_P };

export function isPrime(p: number): boolean {
  if (!Number.isInteger(p) || p < 2) return false;
  for (let q = 2; q * q <= p; q++) if (p % q === 0) return false;
  return true;
}

/** b^e mod p for small p (exact in doubles while p^2 < 2^53). */
export function powMod(b: number, e: number, p: number): number {
  let r = 1,
    x = b % p;
  for (let k = e; k > 0; k >>= 1) {
    if (k & 1) r = (r * x) % p;
    x = (x * x) % p;
  }
  return r;
}

/** The smallest generator of Z_p^* (p prime). */
export function generator(p: number): number {
  if (p === 2) return 1;
  const m = p - 1;
  const factors: number[] = [];
  for (let q = 2, r = m; q <= r; q++)
    if (r % q === 0) {
      factors.push(q);
      while (r % q === 0) r /= q;
    }
  for (let g = 2; g < p; g++) if (factors.every((q) => powMod(g, m / q, p) !== 1)) return g;
  throw new Error(`no generator of Z_${p}^*`);
}

/**
 * The discrete-logarithm order of 0..p-1: [0, g^0, g^1, ..., g^{p-2}] for the generator g. Under it
 * x becomes + of exponents, so x and / blocks become circulant / Hankel (docs/science.md §4).
 */
export function discreteLogOrder(p: number): Int32Array {
  const g = generator(p);
  const out = new Int32Array(p);
  for (let k = 0, v = 1; k < p - 1; k++, v = (v * g) % p) out[k + 1] = v;
  return out;
}

export function applyOp(op: ModOp, a: number, b: number, p: number): number {
  switch (op) {
    case 'add':
      return (a + b) % p;
    case 'sub':
      return (((a - b) % p) + p) % p;
    case 'mul':
      return (a * b) % p;
    case 'div':
      return (a * powMod(b, p - 2, p)) % p;
  }
}

export interface ModSplit {
  /** Indices [a, p + b] per row (IndicatorRows of width 2 in R^{2p}). */
  rows: IndicatorRows;
  a: Int32Array;
  b: Int32Array;
  /** Labels (a o b) mod p as class indices. */
  y: Float64Array;
}

export interface ModTask {
  op: ModOp;
  p: number;
  trainFrac: number;
  seed: number;
  train: ModSplit;
  test: ModSplit;
}

function split(op: ModOp, p: number, pairs: [number, number][]): ModSplit {
  const n = pairs.length;
  const idx = new Int32Array(2 * n),
    a = new Int32Array(n),
    b = new Int32Array(n),
    y = new Float64Array(n);
  pairs.forEach(([u, v], i) => {
    a[i] = u;
    b[i] = v;
    idx[2 * i] = u;
    idx[2 * i + 1] = p + v;
    y[i] = applyOp(op, u, v, p);
  });
  return { rows: { n, width: 2, idx, d: 2 * p }, a, b, y };
}

/**
 * All pairs (a, b) of 0..p-1 (b != 0 for div) in row-major order, a seeded permutation of them, the
 * first round(trainFrac * count) training. `where` prefixes messages (a flag or a setting).
 */
export function modularTask(op: ModOp, p: number, trainFrac: number, seed: number, where = ''): ModTask {
  const w = (k: string) => (where ? `${where}${k}` : k);
  if (!MOD_OPS.includes(op)) throw new InputError(`${w('op')}: expected one of ${MOD_OPS.join(', ')}, got '${op}'`);
  if (!isPrime(p) || p < 3 || p > MAX_GROK_P)
    throw new InputError(`${w('p')}: expected a prime 3..${MAX_GROK_P}, got ${p}`);
  if (!(trainFrac > 0 && trainFrac < 1))
    throw new InputError(`${w('train-frac')}: expected a number > 0 and < 1, got ${trainFrac}`);
  if (!Number.isInteger(seed)) throw new InputError(`${w('seed')}: expected an integer, got ${seed}`);
  const all: [number, number][] = [];
  for (let a = 0; a < p; a++) for (let b = op === 'div' ? 1 : 0; b < p; b++) all.push([a, b]);
  const perm = permutation(all.length, seed);
  const nTrain = Math.round(trainFrac * all.length);
  if (nTrain < 2 || nTrain >= all.length)
    throw new InputError(
      `${w('train-frac')}: ${trainFrac} of ${all.length} pairs leaves ${nTrain} for training and ${all.length - nTrain} for testing; expected at least 2 and 1`,
    );
  const pick = (from: number, to: number) => Array.from(perm.subarray(from, to), (k) => all[k]);
  return {
    op,
    p,
    trainFrac,
    seed,
    train: split(op, p, pick(0, nTrain)),
    test: split(op, p, pick(nTrain, all.length)),
  };
}
