import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../helpers/cli';
import { linearToyInit, toyRecursion } from '../../src/core/catapult/index';

const tmp = mkdtempSync(join(tmpdir(), 'fl-catapult-'));

interface Out {
  lambda0: number;
  lr: number;
  losses: (number | null)[];
  lambdas: (number | null)[];
  phase: string;
}

for (const [factor, phase] of [
  ['1.5', 'lazy'],
  ['3', 'catapult'],
  ['5', 'divergent'],
] as const) {
  test(`catapult --model linear --lr-factor ${factor}: ${phase}, losses equal to the exact recursion`, async () => {
    const out = join(tmp, `lin${factor}.json`);
    assert.equal(
      cli([
        'catapult',
        '--model',
        'linear',
        '--width',
        '1000',
        '--lr-factor',
        factor,
        '--steps',
        '200',
        '--seed',
        '4',
        '--json',
        out,
      ]).status,
      0,
    );
    const r = JSON.parse(readFileSync(out, 'utf8')) as Out;
    const init = linearToyInit(1000, 4);
    assert.ok(Math.abs(r.lambda0 - init.lambda) < 1e-12);
    assert.ok(Math.abs(r.lr - Number(factor) / init.lambda) < 1e-12);
    assert.equal(r.phase, phase);
    const rec = toyRecursion(init, 0, r.lr, 1000, 200);
    for (let t = 0; t < Math.min(40, rec.losses.length); t++) {
      if (rec.losses[t] < 1e-16 * rec.losses[0] || rec.losses[t] > 1e100) continue;
      assert.ok(Math.abs(r.losses[t]! - rec.losses[t]) < 1e-6 * rec.losses[t], `step ${t}`);
    }
  });
}

test('catapult --model relu writes lambdas and a phase', async () => {
  const out = join(tmp, 'relu.json');
  assert.equal(
    cli([
      'catapult',
      '--model',
      'relu',
      '--width',
      '64',
      '--n',
      '32',
      '--d',
      '4',
      '--steps',
      '60',
      '--batch',
      '32',
      '--lr-factor',
      '3',
      '--seed',
      '1',
      '--json',
      out,
    ]).status,
    0,
  );
  const r = JSON.parse(readFileSync(out, 'utf8')) as Out & { lambda_steps: number[] };
  assert.equal(r.losses.length, 61);
  assert.equal(r.lambdas.length, r.lambda_steps.length);
  assert.ok(Math.abs(r.lr * r.lambda0 - 3) < 1e-12);
  assert.equal(r.phase, 'catapult');
});

test('catapult --model relu --data trains on a user table (iris, setosa vs rest) without an alignment', () => {
  const out = join(tmp, 'iris.json');
  const r = cli([
    'catapult',
    '--model',
    'relu',
    '--data',
    join(import.meta.dirname, '..', 'fixtures', 'iris.csv'),
    '--target',
    'species',
    '--width',
    '64',
    '--steps',
    '40',
    '--batch',
    '150',
    '--lr-factor',
    '1',
    '--json',
    out,
  ]);
  assert.equal(r.status, 0, r.stderr);
  const rep = JSON.parse(readFileSync(out, 'utf8')) as Out & { alignments: null };
  assert.equal(rep.alignments, null);
  assert.equal(rep.phase, 'lazy');
  assert.ok(rep.losses[40]! < rep.losses[0]!);
});

test('catapult CLI refuses bad flags with exit code 1 and a message', () => {
  for (const [args, message] of [
    [['--model', 'cnn'], /--model: expected linear or relu, got 'cnn'/],
    [['--model', 'linear', '--batch', '8'], /apply to --model relu only/],
    [['--model', 'linear', '--lr-factor', 'x'], /--lr-factor: expected a positive number, got 'x'/],
    [['--model', 'relu', '--data', 'missing.csv'], /missing\.csv: no such file/],
    [['--model', 'relu', '--target', 'y'], /--target and --positive-class need --data FILE/],
  ] as const) {
    const r = cli(['catapult', ...args]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, message);
  }
});
