// The training lab's grokking side (docs/science.md §4, network side): the modular-arithmetic task,
// AdamW's decoupled weight decay, networks without biases, and a quadratic network on x + y mod 11 that
// generalises and whose first-layer NFM correlates with AGOP^(1/2).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../../src/core/errors';
import { isPrime, modularLabel, modularTask, powMod } from '../../src/core/data/modular';
import { CpuNfaBackend, optimizerUpdate, type OptimizerSpec } from '../../src/core/nfa/backend';
import { inferLayerChain, loadMlp } from '../../src/core/nfa/network';
import { mlpToSafetensors, trainMlp } from '../../src/core/nfa/train';
import { bytesSource, openWeights } from '../../src/core/weights';

test('modular labels: the four operations by their definitions mod 7', () => {
  for (let a = 0; a < 7; a++)
    for (let b = 0; b < 7; b++) {
      assert.equal(modularLabel('add', a, b, 7), (a + b) % 7);
      assert.equal(modularLabel('sub', a, b, 7), (a - b + 7) % 7);
      assert.equal(modularLabel('mul', a, b, 7), (a * b) % 7);
      // c = a / b is the residue with c * b = a (mod 7).
      if (b) assert.equal((modularLabel('div', a, b, 7) * b) % 7, a);
    }
  assert.equal(powMod(3, 5, 7), 243 % 7);
  assert.deepEqual([2, 3, 4, 9, 11, 61, 401].map(isPrime), [true, true, false, false, true, true, true]);
});

test('modular task: every pair once, seeded split of the requested fraction, one-hot rows', () => {
  const t = modularTask({ op: 'div', p: 5, trainFrac: 0.3, seed: 4 });
  // p (p - 1) = 20 pairs for division; round(0.3 * 20) = 6 train.
  assert.equal(t.train.X.rows, 6);
  assert.equal(t.test.X.rows, 14);
  const seen = new Set<string>();
  for (const s of [t.train, t.test]) {
    assert.equal(s.X.cols, 10);
    assert.equal(s.Y.cols, 5);
    for (let r = 0; r < s.X.rows; r++) {
      const x = Array.from(s.X.data.subarray(r * 10, r * 10 + 10));
      const y = Array.from(s.Y.data.subarray(r * 5, r * 5 + 5));
      assert.equal(
        x.reduce((u, v) => u + v, 0),
        2,
      );
      assert.equal(x[s.a[r]], 1);
      assert.equal(x[5 + s.b[r]], 1);
      assert.notEqual(s.b[r], 0, 'no division by 0');
      assert.equal(y.indexOf(1), s.label[r]);
      assert.equal((s.label[r] * s.b[r]) % 5, s.a[r]);
      seen.add(`${s.a[r]},${s.b[r]}`);
    }
  }
  assert.equal(seen.size, 20);
  // The same seed gives the same split; another seed another.
  const again = modularTask({ op: 'div', p: 5, trainFrac: 0.3, seed: 4 });
  assert.deepEqual(again.train.a, t.train.a);
  const other = modularTask({ op: 'div', p: 5, trainFrac: 0.3, seed: 5 });
  assert.notDeepEqual([...other.train.a, ...other.train.b], [...t.train.a, ...t.train.b]);
  assert.throws(() => modularTask({ op: 'add', p: 12, trainFrac: 0.5, seed: 0 }), InputError);
  // 409 is prime, but 409^2 pairs x 818 inputs is over the cell limit.
  assert.throws(() => modularTask({ op: 'add', p: 409, trainFrac: 0.5, seed: 0 }), /between 2 and 401/);
  assert.throws(() => modularTask({ op: 'add', p: 7, trainFrac: 1, seed: 0 }), InputError);
});

test('AdamW: w <- (1 - lr wd) w - lr m^ / (sqrt(v^) + eps), two steps written out', () => {
  const o: OptimizerSpec = {
    kind: 'adamw',
    lr: 0.1,
    momentum: 0,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weightDecay: 0.5,
  };
  const w = Float64Array.from([1, -2]),
    m1 = new Float64Array(2),
    m2 = new Float64Array(2);
  const g1 = [0.5, -1],
    g2 = [0.25, 2];
  optimizerUpdate(o, 1, w, g1, m1, m2);
  optimizerUpdate(o, 2, w, g2, m1, m2);
  for (let i = 0; i < 2; i++) {
    let x = [1, -2][i];
    let a = 0,
      b = 0;
    for (const [t, g] of [
      [1, g1[i]],
      [2, g2[i]],
    ]) {
      a = 0.9 * a + 0.1 * g;
      b = 0.999 * b + 0.001 * g * g;
      x = x * (1 - 0.1 * 0.5) - (0.1 * (a / (1 - 0.9 ** t))) / (Math.sqrt(b / (1 - 0.999 ** t)) + 1e-8);
    }
    assert.ok(Math.abs(w[i] - x) < 1e-15, `w[${i}] ${w[i]} vs ${x}`);
  }
  // Adam is AdamW without the decay: with wd = 0 the two agree exactly.
  const wa = Float64Array.from([1, -2]),
    wb = Float64Array.from([1, -2]);
  optimizerUpdate({ ...o, kind: 'adam' }, 1, wa, g1, new Float64Array(2), new Float64Array(2));
  optimizerUpdate({ ...o, weightDecay: 0 }, 1, wb, g1, new Float64Array(2), new Float64Array(2));
  assert.deepEqual(wa, wb);
});

test('a network without biases trains without growing any and round-trips through .safetensors', async () => {
  const t = modularTask({ op: 'add', p: 5, trainFrac: 0.6, seed: 1 });
  const r = await trainMlp(t.train.X, t.train.Y, {
    width: 16,
    depth: 1,
    activation: 'quadratic',
    optimizer: 'adamw',
    bias: false,
    epochs: 3,
    nfaRows: 0,
  });
  assert.ok(r.net.layers.every((l) => l.b === null && l.biasName === null));
  const file = await openWeights(bytesSource(mlpToSafetensors(r.net, 'F64')), 'nobias.safetensors');
  assert.deepEqual(
    file.tensors.map((x) => x.name),
    ['0.weight', '2.weight'],
  );
  const back = await loadMlp(file, inferLayerChain(file.tensors, 'nobias.safetensors', { inputDim: 10 }), 'quadratic');
  assert.deepEqual(back.layers[0].W, r.net.layers[0].W);
  assert.equal(back.layers[1].b, null);
});

test('grokking network: quadratic, no bias, AdamW (lr 1e-3, wd 1), batch 32, MSE on x + y mod 11 generalises; NFM_1 ~ AGOP^1/2', async (tc) => {
  // p = 11 has 121 pairs; at r = 0.5 (60 rows) this small network memorises without generalising within
  // thousands of epochs, at r = 0.8 it generalises (measured: test accuracy 1 from epoch ~375, width 128).
  const t = modularTask({ op: 'add', p: 11, trainFrac: 0.8, seed: 0 });
  const epochs = 500;
  const r = await trainMlp(
    t.train.X,
    t.train.Y,
    {
      width: 128,
      depth: 1,
      activation: 'quadratic',
      optimizer: 'adamw',
      lr: 1e-3,
      weightDecay: 1,
      bias: false,
      batch: 32,
      epochs,
      seed: 0,
      // The correlations at the start and the end only (every epoch is the lab's job, not this test's).
      nfaRows: 0,
    },
    { heldOut: { X: t.test.X, Y: t.test.Y } },
  );
  const end = r.history[epochs].test!;
  assert.equal(end.trainAccuracy, 1);
  assert.ok(end.accuracy! >= 0.9, `test accuracy ${end.accuracy}`);
  // Near chance (1/11) before training.
  assert.ok(r.history[0].test!.accuracy! < 0.3, `test accuracy at initialisation ${r.history[0].test!.accuracy}`);
  const { computeNfa } = await import('../../src/core/nfa/compute');
  const init = { ...r.net, layers: r.net.layers.map((l, i) => ({ ...l, W: r.initial[i] })) };
  const X = t.train.X;
  const before = (await computeNfa(init, X, new CpuNfaBackend(), { layers: 1 })).layers[0].correlation;
  const after = (await computeNfa(r.net, X, new CpuNfaBackend(), { layers: 1 })).layers[0].correlation;
  // docs/science.md §4: corr(W1^T W1, AGOP^1/2) > 0.92 after grokking. On one-hot inputs both
  // matrices are diagonal-heavy, so the off-diagonal Pearson is the one that moves with training.
  tc.diagnostic(
    `test accuracy ${end.accuracy}; pearson ${before.pearson.sqrt_agop.toFixed(4)} -> ${after.pearson.sqrt_agop.toFixed(4)}; off-diagonal ${before.pearson_offdiag.sqrt_agop.toFixed(4)} -> ${after.pearson_offdiag.sqrt_agop.toFixed(4)}`,
  );
  assert.ok(after.pearson.sqrt_agop > 0.92, `pearson ${after.pearson.sqrt_agop}`);
  assert.ok(after.pearson_offdiag.sqrt_agop > 0.9, `off-diagonal pearson ${after.pearson_offdiag.sqrt_agop}`);
  assert.ok(
    after.pearson_offdiag.sqrt_agop > before.pearson_offdiag.sqrt_agop + 0.1,
    `off-diagonal pearson ${before.pearson_offdiag.sqrt_agop} -> ${after.pearson_offdiag.sqrt_agop}`,
  );
});
