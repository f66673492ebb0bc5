// `feature-lens grok` end to end: the grokking transition (docs/science.md §4) at a small prime through the
// CLI's JSON report, its fields, and the refusals of bad flags (exit code 1).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli } from '../helpers/cli';
import { circulantDeviation, frobeniusAlignment } from '../../src/core/rfm/grokking/measures';
import type { GrokJson } from '../../src/core/rfm/grokking/serialize';

const tmp = mkdtempSync(join(tmpdir(), 'fl-grok-'));

// p = 23 with 70% of the pairs training groks within ~12 iterations (p = 13 or 17 at r = 0.5 have too
// few training pairs to reach 0.9; measured: 17/0.5 stays at 0.11 after 20, 23/0.7 reaches 1.0 at 12).
test('grok --p 23 --train-frac 0.7: test accuracy near chance first, then >= 0.9; train accuracy 1 throughout', () => {
  const out = join(tmp, 'add.json');
  const r = cli(['grok', '--p', '23', '--train-frac', '0.7', '--iters', '14', '--backend', 'cpu', '--json', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /iter\s+train acc\s+test acc/);
  const j = JSON.parse(readFileSync(out, 'utf8')) as GrokJson;
  for (const k of ['op', 'p', 'train_frac', 'kernel', 'n_train', 'n_test', 'backend', 'iterations', 'M'])
    assert.ok(k in j, k);
  assert.equal(j.op, 'add');
  assert.equal(j.p, 23);
  assert.equal(j.kernel, 'gaussian');
  assert.equal(j.backend, 'cpu');
  assert.equal(j.n_train + j.n_test, 23 * 23);
  assert.equal(j.n_train, Math.round(0.7 * 529));
  assert.equal(j.iterations.length, 15);
  for (const it of j.iterations)
    for (const k of [
      'iter',
      'train_acc',
      'test_acc',
      'test_mse',
      'circulant_deviation',
      'agop_alignment',
      'alignment_prev',
      'trace_m',
      'seconds',
    ])
      assert.ok(k in it, k);
  const acc = j.iterations.map((it) => it.test_acc);
  for (const it of j.iterations) assert.equal(it.train_acc, 1);
  // Chance is 1/23 = 0.043.
  for (const a of acc.slice(0, 5)) assert.ok(a < 0.1, `early test accuracy ${acc.join(' ')}`);
  assert.ok(acc[acc.length - 1] >= 0.9, `final test accuracy ${acc.join(' ')}`);
  // The progress measures move before the accuracy does: the circulant deviation falls well below its
  // first value while the test accuracy is still near chance, and the alignment with the final M rises.
  const D = j.iterations.map((it) => it.circulant_deviation);
  assert.equal(D[0], null); // M_0 = I has a zero cross block
  const firstJump = acc.findIndex((a) => a >= 0.5);
  assert.ok(firstJump > 3);
  assert.ok(D[firstJump - 1]! < 0.5 * D[1]!, `deviation ${D.join(' ')}`);
  assert.ok(D[D.length - 1]! < 0.05 * D[1]!);
  const A = j.iterations.map((it) => it.agop_alignment);
  assert.ok(A[A.length - 1] > 0.999999 && A[1] < A[firstJump]);
  assert.equal(j.iterations[0].alignment_prev, null);
  // The reported M: 2p x 2p, symmetric, and its measures are the last iteration's.
  assert.equal(j.M.length, 46);
  assert.equal(j.M[0].length, 46);
  const M = j.M.flat();
  for (let a = 0; a < 46; a++) for (let b = 0; b < a; b++) assert.equal(M[a * 46 + b], M[b * 46 + a]);
  assert.ok(Math.abs(circulantDeviation(M, 23, 'add') - D[D.length - 1]!) < 1e-12);
  let tr = 0;
  for (let a = 0; a < 46; a++) tr += M[a * 46 + a];
  assert.ok(Math.abs(tr - j.iterations[14].trace_m) < 1e-9 * tr);
  assert.ok(Math.abs(frobeniusAlignment(M, M) - 1) < 1e-12);
});

test('grok refuses bad flags with exit code 1 and a message naming the flag', () => {
  const existing = join(tmp, 'exists.json');
  writeFileSync(existing, '{}');
  for (const [args, message] of [
    [['--p', '60'], /--p: expected a prime 3\.\.127, got 60/],
    [['--op', 'pow'], /--op: expected one of add, sub, mul, div, got "pow"/],
    [['--train-frac', '1.5'], /--train-frac: expected a number > 0 and < 1, got 1.5/],
    [['--kernel', 'rbf'], /--kernel: expected one of gaussian, laplace, quadratic/],
    [['--bandwidth', '0'], /--bandwidth: expected a positive number/],
    [['--iters', '2.5'], /--iters: expected an integer 0\.\.200/],
    [['--agop-power', '2'], /--agop-power: expected 0.5 or 1/],
    [['--backend', 'tpu'], /--backend: expected auto, cpu or webgpu/],
    [['--bogus'], /unknown option '--bogus'; see feature-lens grok --help/],
    [['--p', '5', '--json', existing], /exists/],
  ] as const) {
    const r = cli(['grok', ...args]);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});

test('grok --op mul --no-center-grads --kernel quadratic --json -: the JSON alone on stdout', () => {
  const r = cli([
    'grok',
    '--op',
    'mul',
    '--p',
    '7',
    '--iters',
    '2',
    '--kernel',
    'quadratic',
    '--no-center-grads',
    '--agop-power',
    '1',
    '--backend',
    'cpu',
    '--json',
    '-',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as GrokJson;
  assert.equal(j.op, 'mul');
  assert.equal(j.kernel, 'quadratic');
  assert.equal(j.center_grads, false);
  assert.equal(j.agop_power, 1);
  assert.equal(j.n_train + j.n_test, 49);
  assert.match(r.stderr, /iter\s+train acc/);
});
