// The modular-arithmetic tasks of docs/science.md §4 as the grokking RFM reads them: core/data/modular.ts
// makes the pairs and the seeded split (the same task the training lab's networks train on); here
// each split becomes indicator rows [a, p + b] in R^{2p}, and the discrete-log order of Z_p^* that
// turns x and / into + and - of exponents.
import { InputError } from '../../errors';
import { MAX_GROK_P } from '../../limits';
import {
  MODULAR_OPS,
  isPrime,
  modularLabel,
  modularTask as dataModularTask,
  powMod,
  type ModularOp,
  type ModularSplit as DataSplit,
} from '../../data/modular';
import type { IndicatorRows } from '../indicator';

export type ModOp = ModularOp;
export const MOD_OPS = MODULAR_OPS;
export { MAX_GROK_P, isPrime, powMod };
export const applyOp = modularLabel;

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

function rowsOf(s: DataSplit, p: number): ModSplit {
  const n = s.a.length;
  const idx = new Int32Array(2 * n);
  for (let i = 0; i < n; i++) {
    idx[2 * i] = s.a[i];
    idx[2 * i + 1] = p + s.b[i];
  }
  return { rows: { n, width: 2, idx, d: 2 * p }, a: s.a, b: s.b, y: Float64Array.from(s.label) };
}

/**
 * The task of core/data/modular.ts for the grokking RFM, after the grok's own checks (p a prime
 * 3..MAX_GROK_P, at least 2 training and 1 test pair); `where` prefixes the option names in messages.
 */
export function modularTask(op: ModOp, p: number, trainFrac: number, seed: number, where = ''): ModTask {
  const w = (k: string) => (where ? `${where}${k}` : k);
  if (!MOD_OPS.includes(op)) throw new InputError(`${w('op')}: expected one of ${MOD_OPS.join(', ')}, got '${op}'`);
  if (!isPrime(p) || p < 3 || p > MAX_GROK_P)
    throw new InputError(`${w('p')}: expected a prime 3..${MAX_GROK_P}, got ${p}`);
  if (!(trainFrac > 0 && trainFrac < 1))
    throw new InputError(`${w('train-frac')}: expected a number > 0 and < 1, got ${trainFrac}`);
  if (!Number.isInteger(seed)) throw new InputError(`${w('seed')}: expected an integer, got ${seed}`);
  const pairs = op === 'div' ? p * (p - 1) : p * p;
  const nTrain = Math.round(trainFrac * pairs);
  if (nTrain < 2 || nTrain >= pairs)
    throw new InputError(
      `${w('train-frac')}: ${trainFrac} of ${pairs} pairs leaves ${nTrain} for training and ${pairs - nTrain} for testing; expected at least 2 and 1`,
    );
  const t = dataModularTask({ op, p, trainFrac, seed });
  return { op, p, trainFrac, seed, train: rowsOf(t.train, p), test: rowsOf(t.test, p) };
}
