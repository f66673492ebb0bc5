// RFM options are parsed in one place (src/core/rfm/options.ts) for the CLI, the extension's command
// arguments and settings, and fitRfm itself; each names its source in the messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRfmOptions, parseTask, parseValFraction, rfmOptionProblem } from '../../src/core/rfm/options';
import { DEFAULT_RFM_OPTIONS } from '../../src/core/rfm/types';
import { fitRfm } from '../../src/core/rfm/fit';
import { CpuBackend } from '../../src/core/rfm/cpu';
import { InputError } from '../../src/core/errors';

test('values over a base; other keys and undefined ones are ignored; key order is the base order', () => {
  const base = { ...DEFAULT_RFM_OPTIONS, bandwidth: 3 };
  const o = parseRfmOptions({ iters: 5, kernel: 'gaussian', target: 'y', reg: undefined }, 'arg', base);
  assert.deepEqual(o, { ...base, iters: 5, kernel: 'gaussian' });
  assert.deepEqual(Object.keys(o), Object.keys(DEFAULT_RFM_OPTIONS));
});

test('command-line text: numbers parsed from strings, messages name the flag and quote the text', () => {
  const flag = (k: string) => `--${k}`;
  const o = parseRfmOptions({ bandwidth: '2.5', agopPower: '0.5', iters: '4', kernel: 'laplace' }, flag, undefined, {
    text: true,
  });
  assert.equal(o.bandwidth, 2.5);
  assert.equal(o.agopPower, 0.5);
  assert.equal(o.iters, 4);
  assert.throws(
    () => parseRfmOptions({ bandwidth: '0' }, flag, undefined, { text: true }),
    /^InputError: --bandwidth: expected a positive number, got '0'$/,
  );
  assert.throws(() => parseRfmOptions({ iters: '' }, flag, undefined, { text: true }), /--iters: expected an integer/);
});

test('typed arguments: strings are not numbers, choices and booleans are checked', () => {
  const where = 'featureLens.fitRfm option';
  assert.throws(
    () => parseRfmOptions({ kernel: 'cosine' }, where),
    (e: Error) => {
      assert.ok(e instanceof InputError);
      assert.equal(e.message, 'featureLens.fitRfm option kernel: expected one of laplace, gaussian, got "cosine"');
      return true;
    },
  );
  assert.throws(() => parseRfmOptions({ bandwidth: '2' }, where), /bandwidth: expected a positive number, got "2"/);
  assert.throws(() => parseRfmOptions({ diag: 'yes' }, where), /diag: expected true or false/);
  assert.throws(() => parseRfmOptions({ iters: 101 }, where), /iters: expected an integer 0\.\.100, got 101/);
  assert.throws(() => parseRfmOptions({ reg: -1 }, where), /reg: expected a number >= 0/);
  assert.throws(() => parseRfmOptions({ agopPower: 2 }, where), /agopPower: expected one of 1, 0\.5/);
  assert.throws(() => parseRfmOptions({ agopSamples: 0 }, where), /agopSamples: expected a positive integer/);
  assert.throws(() => parseRfmOptions({ bandwidth: Infinity }, where), /bandwidth/);
});

test('settings name the setting; the input-box check says what is expected', () => {
  assert.throws(
    () => parseRfmOptions({ normalize: 'l2' }, (k) => `setting featureLens.rfm.${k}`),
    /^InputError: setting featureLens\.rfm\.normalize: expected one of max, none, got "l2"$/,
  );
  assert.equal(rfmOptionProblem('iters', '3'), undefined);
  assert.equal(rfmOptionProblem('iters', '3.5'), 'an integer 0..100');
  assert.equal(rfmOptionProblem('valFraction', '1'), 'a number >= 0 and < 1');
  assert.equal(parseValFraction(0, 'v'), 0);
  assert.equal(parseTask('regression', '--task', { text: true }), 'regression');
  assert.throws(() => parseTask('ranking', '--task', { text: true }), /--task: expected one of .*got 'ranking'/);
});

test('fitRfm rejects a bad option before any work', async () => {
  const ds = {
    source: 'mem',
    X: { rows: 2, cols: 1, data: Float64Array.of(0, 1) },
    y: Float64Array.of(0, 1),
    featureNames: ['x'],
    targetName: 'y',
    task: 'regression' as const,
  };
  await assert.rejects(
    fitRfm(ds, { bandwidth: -1 }, { backend: new CpuBackend() }),
    /^InputError: option bandwidth: expected a positive number, got -1$/,
  );
});

test('one validation default: the setting featureLens.valFraction declares the core default the CLI uses', async () => {
  const { DEFAULT_VAL_FRACTION } = await import('../../src/core/rfm/types');
  const { readFileSync } = await import('node:fs');
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
  const props = pkg.contributes.configuration.properties ?? pkg.contributes.configuration[0].properties;
  assert.equal(props['featureLens.valFraction'].default, DEFAULT_VAL_FRACTION);
  assert.ok(DEFAULT_VAL_FRACTION > 0 && DEFAULT_VAL_FRACTION < 1);
});
