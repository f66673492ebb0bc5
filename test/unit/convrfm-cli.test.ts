// `feature-lens convrfm` end to end: the JSON report's fields, the table, and the exit codes.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli } from '../helpers/cli';
import { motifImages } from '../helpers/motif';
import { npzOf } from '../helpers/npy';

/** The CLI on the CPU (the WebGPU placement is tested in test/gpu). */
const convrfm = (args: string[]) => cli(['convrfm', ...args, '--backend', 'cpu']);
const dir = mkdtempSync(join(tmpdir(), 'convrfm-cli-'));
const data = motifImages(60, 6, 4, 0.3, 1, 2);
const npz = join(dir, 'motif.npz');
writeFileSync(npz, npzOf({ X: { shape: [60, 6, 6], values: data.X.data }, y: { shape: [60], values: data.y } }));
// The same pixels as a CSV table with a label column.
const csv = join(dir, 'motif.csv');
writeFileSync(
  csv,
  [
    [...data.featureNames, 'label'].join(','),
    ...Array.from({ length: 60 }, (_, i) => [...data.X.data.subarray(i * 36, (i + 1) * 36), data.y[i]].join(',')),
  ].join('\n') + '\n',
);

test('convrfm --json -: the report fields, one iteration per fit, M of (C·q·q)²', () => {
  const r = convrfm([npz, '--target', 'y', '--patch', '2', '--iters', '2', '--json', '-', '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.task, 'classification');
  assert.equal(j.n_train, 48);
  assert.equal(j.n_test, 12);
  assert.equal(j.patch, 2);
  assert.equal(j.stride, 1);
  assert.equal(j.positions, 25);
  assert.deepEqual(j.image_shape, [1, 6, 6]);
  assert.deepEqual(
    j.iterations.map((it: { iter: number }) => it.iter),
    [0, 1, 2],
  );
  for (const it of j.iterations) {
    assert.ok(it.train_metric >= 0 && it.train_metric <= 1);
    assert.ok(it.test_metric >= 0 && it.test_metric <= 1);
    assert.ok(it.test_mse > 0);
  }
  assert.deepEqual(j.final, {
    train_metric: j.iterations[2].train_metric,
    test_metric: j.iterations[2].test_metric,
    test_mse: j.iterations[2].test_mse,
  });
  assert.equal(j.M.length, 4);
  for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) assert.equal(j.M[a][b], j.M[b][a]);
  assert.equal(Math.max(...j.M.flat()), 1);
});

test('convrfm on a CSV with --image-shape gives the same fit as the .npz; the table by default', () => {
  const a = convrfm([npz, '--target', 'y', '--iters', '1', '--json', join(dir, 'a.json'), '--quiet']);
  const b = convrfm([csv, '--target', 'label', '--image-shape', '6,6', '--iters', '1', '--json', join(dir, 'b.json')]);
  assert.equal(a.status, 0, a.stderr);
  assert.equal(b.status, 0, b.stderr);
  const ja = JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8'));
  const jb = JSON.parse(readFileSync(join(dir, 'b.json'), 'utf8'));
  assert.deepEqual(jb.M, ja.M);
  assert.deepEqual(jb.final, ja.final);
  assert.match(
    b.stdout,
    /Feature Lens ConvRFM: classification, 48 train \/ 12 test images of 1 x 6 x 6, patches 1 x 3 x 3/,
  );
  assert.match(b.stdout, /^iter\s+train acc\s+test acc\s+test mse/m);
  assert.match(b.stdout, /M \(9 x 9\) top eigenvalues: /);
});

test('convrfm exit codes: 1 with a message naming the file or flag, 0 for --help', () => {
  const cases: [string[], RegExp][] = [
    [[csv, '--target', 'label'], /motif\.csv: has no image shape.*--image-shape/],
    [
      [csv, '--target', 'label', '--image-shape', '5,5'],
      /motif\.csv: image shape C,H,W = 1,5,5 .*needs 25 pixel columns/,
    ],
    [[npz, '--patch', '7'], /motif\.npz: patch size 7 does not fit images of 6 x 6 pixels/],
    [[npz, '--patch', 'x'], /--patch: expected an integer 1\.\.1024, got 'x'/],
    [[npz, '--kernel', 'rbf'], /--kernel: expected one of laplace, gaussian/],
    [[npz, '--image-shape', '3,x,2'], /--image-shape: '3,x,2' is not an image shape; expected C,H,W/],
    [[npz, '--json', join(dir, 'a.json')], /a\.json.*--force/],
    [[join(dir, 'none.npz')], /none\.npz: no such file/],
  ];
  for (const [args, message] of cases) {
    const r = convrfm([...args, '--iters', '0']);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  const help = convrfm(['--help']);
  assert.equal(help.status, 0);
  for (const flag of [
    '--patch',
    '--stride',
    '--kernel',
    '--bandwidth',
    '--iters',
    '--val-fraction',
    '--json',
    '--image-shape',
    '--channels-last',
    '--backend',
    '--seed',
    '--force',
  ])
    assert.ok(help.stdout.includes(flag), `--help lacks ${flag}`);
});
