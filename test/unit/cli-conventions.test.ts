// One convention across the CLI's commands: --help generated from each command's option spec (every
// option listed with its meaning and default), --version, negative numbers as values, a table on stdout
// by default and --json OUT for machines, --backend auto, and honest defaults for `fit` (a validation
// metric, the target and task it inferred, warnings). The built dist/cli.js runs as a user would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { helpText, parseCommand, type CommandSpec } from '../../src/cli/io';
import * as fit from '../../src/cli/commands/fit';
import * as predict from '../../src/cli/commands/predict';
import * as nfa from '../../src/cli/commands/nfa';
import * as spikes from '../../src/cli/commands/spikes';
import * as catapult from '../../src/cli/commands/catapult';
import * as fitLeaf from '../../src/cli/commands/fit-leaf';
import * as merge from '../../src/cli/commands/merge';
import * as grok from '../../src/cli/commands/grok';
import * as convrfm from '../../src/cli/commands/convrfm';
import * as collapse from '../../src/cli/commands/collapse';
import { noiseFilter } from '../../src/cli/stderrFilter';
import { cliOption, InputError, option, phraseOptions } from '../../src/core/errors';
import { readDatasetFile } from '../../src/core/data/node';
import { CpuBackend } from '../../src/core/rfm/cpu';
import { fitRfm } from '../../src/core/rfm/fit';
import { DEFAULT_VAL_FRACTION } from '../../src/core/rfm/types';
import { targetLooksLikeFeature } from '../../src/core/data/table';

const cli = (...args: string[]) => spawnSync(process.execPath, ['dist/cli.js', ...args], { encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'fl-conv-'));
const SPECS: CommandSpec[] = [
  fit.SPEC,
  predict.SPEC,
  nfa.SPEC,
  spikes.SPEC,
  catapult.SPEC,
  fitLeaf.SPEC,
  merge.SPEC,
  grok.SPEC,
  convrfm.SPEC,
  collapse.SPEC,
];

test('--help of every command lists every option it accepts, with its meaning and default', () => {
  for (const spec of SPECS) {
    const help = helpText(spec);
    for (const [name, o] of Object.entries(spec.options)) {
      assert.ok(o.help.length > 5 && o.default.length > 0, `${spec.name} --${name} has a meaning and a default`);
      const head = `  --${name}${o.arg ? ` ${o.arg}` : ''}`;
      const line = help.split('\n').findIndex((l) => l === head || l.startsWith(`${head} `));
      assert.ok(line >= 0, `${spec.name} --help lists --${name}`);
      // The default is stated in the option's own entry (which may wrap over a few lines).
      const entry = help
        .split('\n')
        .slice(line, line + 5)
        .join(' ')
        .replace(/\s+/g, ' ');
      assert.ok(entry.includes(`(default: ${o.default.replace(/\s+/g, ' ')})`), `${spec.name} --${name}: ${entry}`);
      // ...and the parser accepts exactly the options listed.
      const args = o.type === 'boolean' ? [`--${name}`] : [`--${name}`, 'x'];
      assert.doesNotThrow(() => parseCommand(args, spec), `${spec.name} accepts --${name}`);
    }
    assert.throws(
      () => parseCommand(['--not-an-option'], spec),
      (e: Error) =>
        e instanceof InputError &&
        e.message === `unknown option '--not-an-option'; see feature-lens ${spec.name} --help`,
    );
    // The same backend default everywhere it applies.
    // (fit-leaf runs where its plan says.)
    if ('backend' in spec.options && spec.name !== 'fit-leaf')
      assert.equal((spec.options as Record<string, { default: string }>).backend.default, 'auto');
    if (spec.name !== 'fit-leaf')
      assert.equal((spec.options as Record<string, { arg?: string }>).json?.arg, 'OUT', `${spec.name} --json OUT`);
  }
  const r = cli('fit', '--help');
  assert.equal(r.status, 0);
  assert.equal(r.stdout, helpText(fit.SPEC) + '\n');
  assert.match(r.stdout, /--val-fraction F .*\n.*\n.*\(default: 0\.2\)/);
});

test('--version prints the version of package.json, baked in at build', () => {
  const version = JSON.parse(readFileSync('package.json', 'utf8')).version;
  const r = cli('--version');
  assert.equal(r.status, 0);
  assert.equal(r.stdout, `feature-lens ${version}\n`);
});

test('a negative number as a value reaches the option check; a missing value and an unknown flag are one line', () => {
  const neg = cli('fit', 'test/fixtures/iris.csv', '--bandwidth', '-3');
  assert.equal(neg.status, 1);
  assert.equal(neg.stderr, "feature-lens fit: --bandwidth: expected a positive number, got '-3'\n");
  const w = cli('spikes', 'test/fixtures/logs/metrics.csv', '--window', '-1e2');
  assert.equal(w.status, 1);
  assert.match(w.stderr, /--window: expected an integer >= 3, got '-1e2'/);
  const missing = cli('fit', 'test/fixtures/iris.csv', '--target');
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /^feature-lens fit: --target: expected a value \(COL\).*see feature-lens fit --help\n$/);
  const flagValue = cli('fit', 'test/fixtures/iris.csv', '--diag=yes');
  assert.match(flagValue.stderr, /--diag is a switch and takes no value/);
});

test('fit by default: the target and task it inferred, a seeded validation split, "validation" in text and JSON', () => {
  const out = join(dir, 'fit.json');
  const r = cli('fit', 'test/fixtures/iris.csv', '--backend', 'cpu', '--iters', '1', '--json', out);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.equal(
    lines[0],
    "target 'species' (inferred from its name; --target to choose another), task classification (3 classes; inferred; --task to choose)",
  );
  assert.match(r.stdout, /^validation: 30 rows held out of TRAIN \(20%, seed 0\)$/m);
  assert.match(r.stdout, /^iter +train acc +validation acc +validation mse +seconds$/m);
  assert.match(r.stdout, /^final \(iteration 1\): validation acc \d\.\d{4}, validation mse/m);
  assert.doesNotMatch(r.stdout, /\btest\b/);
  assert.equal(r.stderr, '');
  const j = JSON.parse(readFileSync(out, 'utf8'));
  assert.deepEqual(j.held_out, { kind: 'split', fraction: DEFAULT_VAL_FRACTION, seed: 0, rows: 30 });
  assert.equal(j.n_train, 120);
  assert.equal(j.final.validation_metric, j.final.test_metric);
  assert.equal(typeof j.iterations[0].train_mse, 'number');
});

test('fit --val-fraction 0 says the metrics are training metrics; --early-stop says where it chose', () => {
  const none = cli('fit', 'test/fixtures/iris.csv', '--backend', 'cpu', '--iters', '1', '--val-fraction', '0');
  assert.equal(none.status, 0, none.stderr);
  assert.match(none.stdout, /no rows held out: the metrics below are training metrics/);
  assert.doesNotMatch(none.stdout, /validation acc/);
  const es = cli('fit', 'test/fixtures/iris.csv', '--backend', 'cpu', '--iters', '2', '--early-stop');
  assert.equal(es.status, 0, es.stderr);
  assert.match(
    es.stdout,
    /early stopping: the round is chosen on 24 rows set aside from the training rows \(not the validation rows\)/,
  );
  assert.match(es.stdout, /96 training rows/);
});

/** A little-endian float64 C-order .npy. */
function npy(shape: number[], data: number[]): Buffer {
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(Float64Array.from(data).buffer)]);
}

test('fit on a plain .npy asks for --target instead of regressing the last feature; a feature-like target is warned', () => {
  const rows = 40,
    cols = 4;
  const data = Array.from(
    { length: rows * cols },
    (_, k) => Math.sin(k * 12.9898) * 43758.5453 - Math.floor(Math.sin(k * 12.9898) * 43758.5453),
  );
  const X = join(dir, 'X.npy');
  writeFileSync(X, npy([rows, cols], data));
  const r = cli('fit', X, '--backend', 'cpu');
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /X\.npy: a \.npy array has no column names, so no column is known to be the target; pass --target INDEX/,
  );
  const given = cli('fit', X, '--backend', 'cpu', '--target', '3', '--iters', '0');
  assert.equal(given.status, 0, given.stderr);
  assert.match(given.stdout, /^target 'col3' \(given\)/);
  assert.match(
    given.stderr,
    /warning: the target 'col3' is named like the features \(col0, col1, col2, \.\.\.\): is it a feature\?/,
  );
  assert.ok(targetLooksLikeFeature('x10', ['x1', 'x2', 'x3']));
  assert.ok(!targetLooksLikeFeature('y', ['x1', 'x2']) && !targetLooksLikeFeature('price', ['x1', 'x2']));
});

test('a negative validation R2 is warned about', async () => {
  const { dataset } = await readDatasetFile('test/fixtures/iris.csv', { target: 'sepal_width_cm', task: 'regression' });
  const r = await fitRfm(dataset, { iters: 0 }, { backend: new CpuBackend(), valFraction: 0.2 });
  const bad = { ...r, final: { ...r.final, testMetric: -0.157 } };
  assert.deepEqual(fit.fitWarnings(bad), [
    'validation R2 is -0.1570 (< 0): the model predicts the held-out rows worse than their mean does; check the target, --bandwidth and --reg',
  ]);
  assert.deepEqual(fit.fitWarnings({ ...r, final: { ...r.final, testMetric: 0.5 } }), []);
});

test('predict: a table with 4-digit scores by default, full precision in --json and --out', () => {
  const model = join(dir, 'model.json');
  assert.equal(
    cli('fit', 'test/fixtures/iris.csv', '--backend', 'cpu', '--iters', '1', '--quiet', '--save-model', model).status,
    0,
  );
  const r = cli('predict', model, 'test/fixtures/iris.csv', '--backend', 'cpu', '--rows', '3');
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0], /^row +prediction +score setosa +score versicolor +score virginica$/);
  assert.equal(lines.length, 1 + 3 + 2);
  for (const l of lines.slice(1, 4)) for (const v of l.trim().split(/ +/).slice(2)) assert.match(v, /^-?\d+\.\d{4}$/);
  assert.match(lines[4], /^\.\.\. 147 more rows/);
  assert.match(lines[5], /^accuracy \d\.\d{4}, mse/);
  const json = join(dir, 'pred.json'),
    csv = join(dir, 'pred.csv');
  const p = cli(
    'predict',
    model,
    'test/fixtures/iris.csv',
    '--backend',
    'cpu',
    '--json',
    json,
    '--out',
    csv,
    '--rows',
    '0',
  );
  assert.equal(p.status, 0, p.stderr);
  const j = JSON.parse(readFileSync(json, 'utf8'));
  assert.equal(j.predictions.length, 150);
  const csvScore = Number(readFileSync(csv, 'utf8').split('\n')[1].split(',')[2]);
  assert.equal(j.predictions[0].scores[0], csvScore);
  assert.ok(String(csvScore).replace(/^-?0\./, '').length > 6, `full precision: ${csvScore}`);
});

test('spikes: a table on stdout by default, JSON with --json; a lightning_logs folder follows its newest version', () => {
  const logs = join(dir, 'lightning_logs');
  for (const v of ['version_0', 'version_1']) mkdirSync(join(logs, v), { recursive: true });
  copyFileSync('test/fixtures/logs/metrics.csv', join(logs, 'version_0', 'metrics.csv'));
  copyFileSync('test/fixtures/logs/metrics.csv', join(logs, 'version_1', 'metrics.csv'));
  // version_0 written last: the newest run is by modification time, not by name.
  const t = Date.now() / 1000;
  utimesSync(join(logs, 'version_1', 'metrics.csv'), t - 100, t - 100);
  utimesSync(join(logs, 'version_0', 'metrics.csv'), t, t);
  const r = cli('spikes', logs);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /column '.*' \(\d+ points, steps from/);
  assert.throws(() => JSON.parse(r.stdout));
  assert.match(r.stderr, /note: .*lightning_logs: the most recently written run: .*version_0/);
  const j = cli('spikes', logs, '--json', '-');
  assert.equal(j.status, 0, j.stderr);
  assert.ok(Array.isArray(JSON.parse(j.stdout).spikes));
});

test("Dawn's known informational lines are dropped from stderr, any other line kept in order", () => {
  const seen: string[] = [];
  const f = noiseFilter((t) => seen.push(t));
  f.push(
    'note: one\nWarning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic ',
  );
  f.push(
    'offset allocation limit.\nWarning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.\n',
  );
  f.push('Warning: something else\nerror: last');
  f.end();
  assert.equal(seen.join(''), 'note: one\nWarning: something else\nerror: last');
  // A WebGPU fit (lavapipe on CI) has a quiet stderr; the backend is one short phrase.
  const r = cli('fit', 'test/fixtures/iris.csv', '--backend', 'webgpu', '--iters', '1');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /on WebGPU \(f32\)\n/);
});

test('a way out names the option as each front end spells it: --impute in the CLI, never "(impute: true)"', async () => {
  const r = cli('fit', 'test/fixtures/csv/missing.csv', '--backend', 'cpu');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /use --impute to fill missing features/);
  assert.doesNotMatch(r.stderr, /impute: true|\{option:/);
  const e = new InputError(`x.csv: row 3 is missing; use ${option('impute')} or a larger ${option('agopSamples')}`);
  assert.equal(e.message, 'x.csv: row 3 is missing; use the impute option or a larger the agopSamples option');
  assert.equal(e.phrased(cliOption), 'x.csv: row 3 is missing; use --impute or a larger --agop-samples');
  assert.equal(
    phraseOptions(`try ${option('reg')}`, (k) => `the setting featureLens.rfm.${k}`),
    'try the setting featureLens.rfm.reg',
  );
});
