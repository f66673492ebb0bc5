// Modular arithmetic tasks (docs/science.md §4, the grokking experiments): every pair (a, b) of
// residues mod a prime p, encoded x = [onehot(a), onehot(b)] in R^{2p}, labelled onehot((a o b) mod p)
// in R^p for o in {+, -, x, /} (/ over b != 0: p(p - 1) pairs); a seeded random fraction of the pairs
// trains, the rest tests. Pure: shared by the grokking RFM and the training lab's networks.
import { InputError } from '../errors';
import { MAX_MODULUS } from '../limits';
import { mat, type Mat } from '../mat';
import { permutation } from '../random';

export type ModularOp = 'add' | 'sub' | 'mul' | 'div';
export const MODULAR_OPS: readonly ModularOp[] = ['add', 'sub', 'mul', 'div'];
export const MODULAR_SYMBOL: Readonly<Record<ModularOp, string>> = { add: '+', sub: '−', mul: '×', div: '÷' };

export interface ModularTaskOptions {
  op: ModularOp;
  /** A prime modulus. */
  p: number;
  /** Fraction of all pairs in the training set (0 < trainFrac < 1). */
  trainFrac: number;
  seed: number;
}

export interface ModularSplit {
  /** rows x 2p: [onehot(a), onehot(b)]. */
  X: Mat;
  /** rows x p: onehot(label). */
  Y: Mat;
  a: Int32Array;
  b: Int32Array;
  label: Int32Array;
}

export interface ModularTask extends ModularTaskOptions {
  train: ModularSplit;
  test: ModularSplit;
  /** Feature names a_0..a_{p-1}, b_0..b_{p-1}. */
  featureNames: string[];
}

export const DEFAULT_MODULAR_OPTIONS: ModularTaskOptions = { op: 'add', p: 61, trainFrac: 0.5, seed: 0 };

export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  for (let k = 2; k * k <= n; k++) if (n % k === 0) return false;
  return true;
}

/** b^e mod p for p < 2^26 (products stay exact in float64). */
export function powMod(b: number, e: number, p: number): number {
  let r = 1,
    x = b % p;
  for (let k = e; k > 0; k = Math.floor(k / 2)) {
    if (k % 2 === 1) r = (r * x) % p;
    x = (x * x) % p;
  }
  return r;
}

/** (a o b) mod p; for 'div' b must be non-zero (b^{-1} = b^{p-2} by Fermat). */
export function modularLabel(op: ModularOp, a: number, b: number, p: number): number {
  switch (op) {
    case 'add':
      return (a + b) % p;
    case 'sub':
      return (((a - b) % p) + p) % p;
    case 'mul':
      return (a * b) % p;
    case 'div':
      if (b % p === 0) throw new RangeError('modularLabel: division by 0');
      return (a * powMod(b, p - 2, p)) % p;
  }
}

export function checkModularOptions(o: ModularTaskOptions, where = 'modular task'): void {
  if (!MODULAR_OPS.includes(o.op))
    throw new InputError(`${where}: op must be one of ${MODULAR_OPS.join(', ')}, got ${JSON.stringify(o.op)}`);
  if (!isPrime(o.p) || o.p > MAX_MODULUS)
    throw new InputError(
      `${where}: p must be a prime between 2 and ${MAX_MODULUS}, got ${JSON.stringify(o.p)} (e.g. 7, 11, 31, 61)`,
    );
  if (!(o.trainFrac > 0 && o.trainFrac < 1))
    throw new InputError(`${where}: the training fraction must be in (0, 1), got ${JSON.stringify(o.trainFrac)}`);
  if (!Number.isInteger(o.seed))
    throw new InputError(`${where}: seed must be an integer, got ${JSON.stringify(o.seed)}`);
}

/** All pairs of the operation, shuffled by the seed; the first round(trainFrac N) (at least 1, at most N - 1) train. */
export function modularTask(options: ModularTaskOptions): ModularTask {
  checkModularOptions(options);
  const { op, p, trainFrac, seed } = options;
  const pairs: [number, number][] = [];
  for (let a = 0; a < p; a++) for (let b = op === 'div' ? 1 : 0; b < p; b++) pairs.push([a, b]);
  const order = permutation(pairs.length, seed);
  const nTrain = Math.min(pairs.length - 1, Math.max(1, Math.round(trainFrac * pairs.length)));
  const split = (idx: Uint32Array): ModularSplit => {
    const n = idx.length;
    const X = mat(n, 2 * p),
      Y = mat(n, p);
    const a = new Int32Array(n),
      b = new Int32Array(n),
      label = new Int32Array(n);
    idx.forEach((k, r) => {
      const [x, y] = pairs[k];
      a[r] = x;
      b[r] = y;
      label[r] = modularLabel(op, x, y, p);
      X.data[r * 2 * p + x] = 1;
      X.data[r * 2 * p + p + y] = 1;
      Y.data[r * p + label[r]] = 1;
    });
    return { X, Y, a, b, label };
  };
  return {
    ...options,
    train: split(order.subarray(0, nTrain)),
    test: split(order.subarray(nTrain)),
    featureNames: [...Array.from({ length: p }, (_, i) => `a_${i}`), ...Array.from({ length: p }, (_, i) => `b_${i}`)],
  };
}
