// `feature-lens complete` and `feature-lens sparse-regress` end to end through dist/cli.js: a planted
// low-rank matrix and a planted sparse vector, read back from the JSON reports and --out files.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli } from '../helpers/cli';
import { parseMatrix } from '../../src/core/data/matrix';
import { encodeNpy, parseNpy } from '../../src/core/data/npy';
import { normal, rng } from '../../src/core/random';
import { heldOutError, lowRank } from './linrfm-helpers';

const tmp = mkdtempSync(join(tmpdir(), 'fl-linrfm-'));

test('complete MATRIX.npy: converged, the completed matrix matches the truth, observed entries kept', () => {
  const { truth, matrix } = lowRank(60, 50, 2, 0.4, 3);
  const input = join(tmp, 'm.npy');
  writeFileSync(input, encodeNpy(matrix.data, [60, 50]));
  const json = join(tmp, 'm.json');
  const out = join(tmp, 'm.out.npy');
  const r = cli(['complete', input, '--backend', 'cpu', '--json', json, '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /converged/);
  const j = JSON.parse(readFileSync(json, 'utf8')) as Record<string, unknown>;
  for (const k of [
    'rows',
    'cols',
    'observed',
    'alpha',
    'iterations',
    'converged',
    'observed_mse',
    'rank_estimate',
    'singular_values',
    'seconds',
    'validation_error',
  ])
    assert.ok(k in j, k);
  assert.equal(j.rows, 60);
  assert.equal(j.cols, 50);
  assert.equal(j.observed, Array.from(matrix.data).filter((v) => !Number.isNaN(v)).length);
  assert.equal(j.alpha, 0.5);
  assert.equal(j.converged, true);
  assert.equal(j.rank_estimate, 2);
  assert.equal((j.singular_values as number[]).length, 50);
  const completed = parseNpy(new Uint8Array(readFileSync(out)), out);
  assert.deepEqual(completed.shape, [60, 50]);
  assert.ok(heldOutError(completed.data, truth, matrix) < 1e-2);
  for (let f = 0; f < truth.length; f++)
    if (!Number.isNaN(matrix.data[f])) assert.equal(completed.data[f], matrix.data[f]);
  // Never overwrites without --force.
  const again = cli(['complete', input, '--backend', 'cpu', '--json', json]);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /--force/);
});

test('complete long-format CSV, alpha 1, --out .csv', () => {
  const { truth, matrix } = lowRank(30, 30, 1, 0.5, 4);
  const lines = ['row,col,value'];
  for (let f = 0; f < matrix.data.length; f++)
    if (!Number.isNaN(matrix.data[f])) lines.push(`${Math.floor(f / 30)},${f % 30},${matrix.data[f]}`);
  const input = join(tmp, 'long.csv');
  writeFileSync(input, lines.join('\n') + '\n');
  const out = join(tmp, 'long.out.csv');
  const r = cli(['complete', input, '--alpha', '1', '--backend', 'cpu', '--json', '-', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { converged: boolean; alpha: number; rows: number; cols: number };
  assert.equal(j.alpha, 1);
  assert.equal(j.converged, true);
  assert.deepEqual([j.rows, j.cols], [30, 30]);
  const back = parseMatrix(new Uint8Array(readFileSync(out)), out);
  assert.ok(heldOutError(back.data, truth, matrix) < 1e-2);
});

test('complete below the degrees of freedom: converged false in the report, exit 0, said on stdout', () => {
  // 30 x 30 rank 6: r(m + d − r) = 324 degrees of freedom, ~15% of 900 = 135 observed.
  const { matrix } = lowRank(30, 30, 6, 0.15, 5);
  const input = join(tmp, 'under.npy');
  writeFileSync(input, encodeNpy(matrix.data, [30, 30]));
  const r = cli(['complete', input, '--backend', 'cpu', '--max-iters', '300', '--json', '-']);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { converged: boolean; validation_error: number };
  assert.equal(j.converged, false);
  assert.ok(j.validation_error > 1e-3);
  assert.match(r.stderr, /not converged/);
});

test('complete refuses a bad file and bad flags with exit 1', () => {
  const bad = join(tmp, 'bad.csv');
  writeFileSync(bad, '1,2\n3,x\n4,5\n');
  const r = cli(['complete', bad, '--backend', 'cpu']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /bad\.csv: row 2, column 'col1': expected a number/);
  assert.equal(cli(['complete', bad, '--alpha', '-1']).status, 1);
  assert.equal(existsSync(join(tmp, 'nothing.json')), false);
});

test('sparse-regress --target y: the planted support, test R² near 1', () => {
  const g = normal(rng(8));
  const n = 150,
    d = 20;
  const rows = ['x0,x1,x2,x3,x4,x5,x6,x7,x8,x9,x10,x11,x12,x13,x14,x15,x16,x17,x18,x19,y'];
  for (let i = 0; i < n; i++) {
    const x = Array.from({ length: d }, g);
    rows.push([...x, 2 * x[4] - 3 * x[9] + 0.5 * x[17] + 1].join(','));
  }
  const input = join(tmp, 'sparse.csv');
  writeFileSync(input, rows.join('\n') + '\n');
  const json = join(tmp, 'sparse.json');
  const r = cli(['sparse-regress', input, '--target', 'y', '--json', json]);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(readFileSync(json, 'utf8')) as {
    coef: number[];
    support: number[];
    iterations: number;
    train_r2: number;
    test_r2: number;
  };
  assert.deepEqual(j.support, [4, 9, 17]);
  assert.ok(Math.abs(j.coef[4] - 2) < 1e-6 && Math.abs(j.coef[9] + 3) < 1e-6 && Math.abs(j.coef[17] - 0.5) < 1e-6);
  assert.equal(j.coef.filter((c) => c !== 0).length, 3);
  assert.ok(j.test_r2 > 0.9999 && j.train_r2 > 0.9999);
  assert.ok(j.iterations >= 1);
});
