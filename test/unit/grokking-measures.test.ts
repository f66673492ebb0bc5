// Grokking progress measures and tasks (docs/science.md §4): circulant deviation on exactly structured and
// random blocks, the discrete-log reordering, and the modular tasks themselves.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  blockCirculantDeviation,
  circulantDeviation,
  crossBlock,
  frobeniusAlignment,
  reorderForView,
} from '../../src/core/rfm/grokking/measures';
import { applyOp, discreteLogOrder, generator, isPrime, modularTask, powMod } from '../../src/core/rfm/grokking/tasks';
import { rng } from '../../src/core/random';

/** A 2p x 2p matrix whose bottom-left block is A_lj = f(l, j) and whose other entries are random. */
function withBlock(p: number, f: (l: number, j: number) => number, seed = 1): Float64Array {
  const r = rng(seed),
    d = 2 * p;
  const M = Float64Array.from({ length: d * d }, () => r());
  for (let l = 0; l < p; l++) for (let j = 0; j < p; j++) M[(p + l) * d + j] = f(l, j);
  return M;
}

test('circulant deviation: 0 for a circulant block (add) and a Hankel one (sub), about 1/p for a random one', () => {
  const p = 13,
    r = rng(7);
  const h = Array.from({ length: p }, () => r() - 0.5);
  const circ = withBlock(p, (l, j) => h[(((j - l) % p) + p) % p]);
  const hank = withBlock(p, (l, j) => h[(j + l) % p]);
  assert.ok(circulantDeviation(circ, p, 'add') < 1e-15);
  assert.ok(circulantDeviation(hank, p, 'sub') < 1e-15);
  // The other convention does not align them.
  assert.ok(circulantDeviation(circ, p, 'sub') > 0.1 / p);
  assert.ok(circulantDeviation(hank, p, 'add') > 0.1 / p);
  // Random block: D = sum_j Var_l / |A|_F^2, about (1 - 1/p) Var / (Var + mean^2) / p for iid entries.
  const rand = withBlock(p, () => r() - 0.5, 3);
  const D = circulantDeviation(rand, p, 'add');
  assert.ok(D > 0.3 / p && D < 2 / p, `random D = ${D}`);
});

test('circulant deviation: matches the definition with np.roll written out', () => {
  const m = 5,
    r = rng(11);
  const A = Float64Array.from({ length: m * m }, () => r());
  for (const hankel of [false, true]) {
    // np.roll(row, -l) (circulant) or np.roll(row, +l) (Hankel), then np.var down each column.
    const rolled = Array.from({ length: m }, (_, l) =>
      Array.from({ length: m }, (_, j) => A[l * m + ((((hankel ? j - l : j + l) % m) + m) % m)]),
    );
    let num = 0,
      fro = 0;
    for (let j = 0; j < m; j++) {
      const col = rolled.map((row) => row[j]);
      const mean = col.reduce((s, v) => s + v, 0) / m;
      num += col.reduce((s, v) => s + (v - mean) ** 2, 0) / m;
    }
    for (const v of A) fro += v * v;
    assert.ok(Math.abs(blockCirculantDeviation(A, m, hankel) - num / fro) < 1e-14);
  }
});

test('discrete-log reordering turns a known multiplicative structure circulant (mul) and Hankel (div)', () => {
  const p = 11,
    r = rng(5);
  const h = Array.from({ length: p }, () => r() - 0.5);
  const inv = (x: number) => powMod(x, p - 2, p);
  // A_lj depends on j / l (mul: circulant in log j - log l) or on j * l (div: Hankel in log j + log l).
  const mulM = withBlock(p, (l, j) => (l && j ? h[(j * inv(l)) % p] : r()));
  const divM = withBlock(p, (l, j) => (l && j ? h[(j * l) % p] : r()));
  assert.ok(circulantDeviation(mulM, p, 'mul') < 1e-15);
  assert.ok(circulantDeviation(divM, p, 'div') < 1e-15);
  // Without the reordering the same blocks are not circulant.
  assert.ok(circulantDeviation(mulM, p, 'add') > 0.1 / p);
  assert.ok(circulantDeviation(divM, p, 'sub') > 0.1 / p);
  // The block the measure reads: (p-1) x (p-1) in log order.
  const { A, m } = crossBlock(mulM, p, 'mul');
  assert.equal(m, p - 1);
  const g = generator(p);
  assert.equal(A[0 * m + 1], h[g % p]); // l = g^0 = 1, j = g^1
});

test('generator and discrete-log order: g has order p - 1 and the order is a permutation', () => {
  for (const p of [3, 5, 7, 11, 13, 17, 61, 97, 127]) {
    const g = generator(p);
    for (let k = 1; k < p - 1; k++) assert.notEqual(powMod(g, k, p), 1, `p ${p} g ${g} k ${k}`);
    assert.equal(powMod(g, p - 1, p), 1);
    const order = discreteLogOrder(p);
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      Array.from({ length: p }, (_, i) => i),
    );
    assert.equal(order[0], 0);
  }
  assert.equal(generator(61), 2);
  assert.equal(generator(7), 3);
});

test('reorderForView: identity for add, log order on both blocks for mul', () => {
  const p = 5,
    d = 10,
    r = rng(2);
  const M = Float64Array.from({ length: d * d }, () => r());
  assert.deepEqual(reorderForView(M, p, 'add'), M);
  const R = reorderForView(M, p, 'mul');
  const o = discreteLogOrder(p); // [0, 1, 2, 4, 3]
  assert.deepEqual([...o], [0, 1, 2, 4, 3]);
  assert.equal(R[3 * d + (p + 4)], M[4 * d + (p + 3)]);
});

test('frobeniusAlignment: 1 for positive multiples, -1 for negatives, 0 for orthogonal', () => {
  assert.equal(frobeniusAlignment([1, 2, 3], [2, 4, 6]), 1);
  assert.ok(Math.abs(frobeniusAlignment([1, 2], [-1, -2]) + 1) < 1e-15);
  assert.equal(frobeniusAlignment([1, 0], [0, 1]), 0);
});

test('modular tasks: every pair once, labels, seeded split, div without b = 0', () => {
  assert.ok(isPrime(61) && !isPrime(60) && !isPrime(1) && isPrime(2));
  for (const op of ['add', 'sub', 'mul', 'div'] as const) {
    const t = modularTask(op, 7, 0.5, 3);
    const all = [...t.train.a].map((a, i) => [a, t.train.b[i], t.train.y[i]]);
    all.push(...[...t.test.a].map((a, i) => [a, t.test.b[i], t.test.y[i]]));
    assert.equal(all.length, op === 'div' ? 42 : 49);
    assert.equal(new Set(all.map(([a, b]) => a * 7 + b)).size, all.length);
    for (const [a, b, y] of all) {
      if (op === 'div') assert.ok(b !== 0);
      const want = op === 'add' ? a + b : op === 'sub' ? a - b : op === 'mul' ? a * b : NaN;
      if (op === 'div') assert.equal((y * b) % 7, a);
      else assert.equal(y, ((want % 7) + 7) % 7);
    }
    assert.equal(t.train.rows.n, Math.round(0.5 * all.length));
    assert.deepEqual([...t.train.rows.idx.subarray(0, 2)], [t.train.a[0], 7 + t.train.b[0]]);
  }
  assert.deepEqual(modularTask('add', 7, 0.5, 3).train.a, modularTask('add', 7, 0.5, 3).train.a);
  assert.notDeepEqual(modularTask('add', 7, 0.5, 3).train.a, modularTask('add', 7, 0.5, 4).train.a);
  assert.equal(applyOp('div', 3, 5, 7), (3 * powMod(5, 5, 7)) % 7);
  assert.throws(() => modularTask('add', 60, 0.5, 0), /p: expected a prime/);
  assert.throws(() => modularTask('add', 7, 1, 0), /train-frac/);
});
