// The CLI end to end: the bundled dist/cli.js (built by `npm test` before the tests run) on fixtures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDatasetFile } from '../../src/core/data/node';
import { CpuBackend } from '../../src/core/rfm/cpu';
import { fitRfm } from '../../src/core/rfm/fit';

const cli = (...args: string[]) => spawnSync(process.execPath, ['dist/cli.js', ...args], { encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'fl-cli-'));

// wine.csv split into two files, as a user would pass a train/test split.
const lines = readFileSync('test/fixtures/wine.csv', 'utf8').trim().split('\n');
const [header, ...rows] = lines;
const trainPath = join(dir, 'train.csv'),
  testPath = join(dir, 'test.csv');
writeFileSync(trainPath, [header, ...rows.filter((_, i) => i % 4 !== 0)].join('\n'));
writeFileSync(testPath, [header, ...rows.filter((_, i) => i % 4 === 0)].join('\n'));

test('fit --test --json writes the documented report, equal to the library fit on the same split', async () => {
  const out = join(dir, 'fit.json'),
    model = join(dir, 'model.json');
  const p = cli(
    'fit',
    trainPath,
    '--test',
    testPath,
    '--target',
    'target',
    '--task',
    'classification',
    '--backend',
    'cpu',
    '--iters',
    '2',
    '--json',
    out,
    '--save-model',
    model,
  );
  assert.equal(p.status, 0, p.stderr);
  assert.match(p.stdout, /top features by diag\(M\)/);
  const j = JSON.parse(readFileSync(out, 'utf8'));
  for (const k of [
    'task',
    'n_train',
    'n_test',
    'd',
    'feature_names',
    'backend',
    'iterations',
    'final',
    'M',
    'importance',
  ])
    assert.ok(k in j, k);
  assert.equal(j.task, 'classification');
  assert.equal(j.n_train + j.n_test, 178);
  assert.equal(j.d, 13);
  assert.equal(j.backend, 'cpu');
  assert.equal(j.iterations.length, 3);
  for (const k of ['iter', 'train_metric', 'test_metric', 'test_mse', 'seconds']) assert.ok(k in j.iterations[0], k);

  const { dataset: train, schema } = await readDatasetFile(trainPath, { target: 'target', task: 'classification' });
  const { dataset: testDs } = await readDatasetFile(testPath, { target: 'target', task: 'classification' }, schema);
  const ref = await fitRfm(train, { iters: 2 }, { backend: new CpuBackend(), test: testDs });
  assert.equal(j.final.test_metric, ref.final.testMetric);
  assert.ok(Math.abs(j.final.test_mse - ref.final.testMse!) < 1e-12);
  assert.deepEqual(j.importance, Array.from(ref.importance));
  assert.ok(j.final.test_metric > 0.9, `wine test accuracy ${j.final.test_metric}`);

  // The saved model predicts the test file with the same accuracy.
  const pr = cli('predict', model, testPath, '--out', join(dir, 'pred.csv'));
  assert.equal(pr.status, 0, pr.stderr);
  const acc = Number(/accuracy ([\d.]+)/.exec(pr.stdout)?.[1]);
  assert.ok(Math.abs(acc - ref.final.testMetric!) < 1e-4, pr.stderr);
  assert.equal(readFileSync(join(dir, 'pred.csv'), 'utf8').trim().split('\n').length, testDs.X.rows + 1);
});

test('bad input exits non-zero with one message naming the file and what was expected', () => {
  const missing = cli('fit', 'test/fixtures/iris.csv', '--target', 'nope');
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /iris\.csv/);
  assert.match(missing.stderr, /nope/);
  assert.doesNotMatch(missing.stderr, /at .*\.js:\d+/); // no stack trace for user errors
  const badFlag = cli('fit', 'test/fixtures/iris.csv', '--bandwidth', '0');
  assert.equal(badFlag.status, 1);
  assert.match(badFlag.stderr, /--bandwidth: expected a positive number, got '0'/);
  const noFile = cli('fit', join(dir, 'absent.csv'));
  assert.equal(noFile.status, 1);
  assert.match(noFile.stderr, /absent\.csv/);
});
