// `feature-lens nfa` end to end on the PyTorch fixtures: the JSON report carries torch's numbers.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { run } from '../../src/cli/commands/nfa';
import { InputError } from '../../src/core/errors';
import { matrixCorrelation } from '../../src/core/nfa/correlation';
import type { NfaLayerJson } from '../helpers/cli';

const DIR = join(__dirname, '../fixtures/weights');
const f = (name: string) => join(DIR, name);
const expected = JSON.parse(readFileSync(f('expected.json'), 'utf8'));
const out = mkdtempSync(join(tmpdir(), 'nfa-cli-'));

test('nfa CLI: JSON report per layer matches the torch computation, with and without --init', async () => {
  for (const [weights, act, data] of [
    ['mlp.pt', 'relu', 'nfa_data.csv'],
    ['mlp.safetensors', 'tanh', 'nfa_data.npz'],
    ['mlp_compressed.npz', 'gelu', 'nfa_data.csv'],
  ] as const) {
    const json = join(out, `${weights}.json`);
    assert.equal(
      await run([
        f(weights),
        f(data),
        '--target',
        'y',
        '--activation',
        act,
        '--json',
        json,
        '--matrices',
        '--backend',
        'cpu',
      ]),
      0,
    );
    const report = JSON.parse(readFileSync(json, 'utf8'));
    assert.equal(report.rows, 40);
    assert.equal(report.minus_init, false);
    report.layers.forEach((layer: NfaLayerJson, l: number) => {
      const want = expected.nfa[act].layers[l];
      assert.equal(layer.name, want.name);
      assert.deepEqual(layer.shape, want.shape);
      for (const k of ['cosine', 'pearson'] as const) {
        assert.ok(Math.abs(layer.correlation[k].agop - want.correlation[k].agop) < 1e-10, `${weights} ${k}`);
        assert.ok(
          Math.abs(layer.correlation[k].sqrt_agop - want.correlation[k].sqrt_agop) < 1e-7,
          `${weights} ${k} sqrt`,
        );
      }
    });
    // RFM: fitted on the same 5 input columns, compared with NFM_1 (torch's) through the reported M
    const M = report.rfm.M.flat();
    assert.equal(report.rfm.compared_with, '0.weight');
    assert.ok(
      Math.abs(
        report.rfm.correlation.pearson.m -
          matrixCorrelation(expected.nfa[act].layers[0].nfm, M, 5, { center: true, offDiagonal: false }),
      ) < 1e-9,
    );
  }
  const std = join(out, 'std.json');
  await run([
    f('mlp.pt'),
    f('nfa_data.csv'),
    '--target',
    'y',
    '--standardize',
    '--no-rfm',
    '--json',
    std,
    '--backend',
    'cpu',
  ]);
  JSON.parse(readFileSync(std, 'utf8')).layers.forEach((layer: NfaLayerJson, l: number) => {
    const want = expected.nfa_standardized_relu.layers[l].correlation;
    assert.ok(Math.abs(layer.correlation.pearson.agop - want.pearson.agop) < 1e-10, `standardised layer ${l}`);
    assert.ok(
      Math.abs(layer.correlation.cosine.sqrt_agop - want.cosine.sqrt_agop) < 1e-7,
      `standardised layer ${l} sqrt`,
    );
  });
  const json = join(out, 'init.json');
  await run([
    f('mlp.pt'),
    f('nfa_data.csv'),
    '--target',
    'y',
    '--init',
    f('mlp_init.safetensors'),
    '--no-rfm',
    '--json',
    json,
    '--backend',
    'cpu',
  ]);
  const report = JSON.parse(readFileSync(json, 'utf8'));
  assert.equal(report.minus_init, true);
  assert.equal(report.rfm, null);
  report.layers.forEach((layer: NfaLayerJson, l: number) => {
    assert.ok(
      Math.abs(layer.correlation.pearson.agop - expected.nfa.relu.layers[l].correlation_minus_init.pearson.agop) <
        1e-10,
    );
  });
});

async function fails(args: string[], pattern: RegExp): Promise<void> {
  await assert.rejects(run(args), (e: unknown) =>
    e instanceof InputError && pattern.test(e.message) ? true : assert.fail(`${String(e)} !~ ${pattern}`),
  );
}

test('nfa CLI: clear errors for bad flags, mismatched data and hostile files', async () => {
  await fails([f('mlp.pt'), f('nfa_data.csv')], /--target: required/);
  await fails(
    [f('mlp.pt'), f('nfa_data.csv'), '--target', 'y', '--activation', 'swish'],
    /--activation: expected one of relu, gelu, tanh, sigmoid, identity, quadratic, got 'swish'/,
  );
  await fails([f('mlp.pt'), f('nfa_data.csv'), '--target', 'nope'], /no target column named 'nope'/);
  await fails(
    [f('evil_system.pt'), f('nfa_data.csv'), '--target', 'y'],
    /refusing to load: the pickle references the global 'posix\.system'/,
  );
  await fails(
    [f('mlp.pt'), f('nfa_data.csv'), '--target', 'y', '--json', f('nfa_data.csv')],
    /--json: .*nfa_data\.csv is an input file/,
  );
  await fails([f('missing.pt'), f('nfa_data.csv'), '--target', 'y'], /missing\.pt: cannot be read \(ENOENT\)/);
  await fails(
    [f('mlp.pt'), f('nfa_data.csv'), '--target', 'y', '--init', f('dtypes.safetensors')],
    /dtypes\.safetensors: no tensor '0\.weight'/,
  );
  await fails(
    [f('mlp.pt'), f('nfa_data.csv'), '--target', 'y', '--layers', '4.weight,0.weight'],
    /first layer '4\.weight' \[2, 8\] takes 8 inputs but the data has 5 input columns/,
  );
  await fails(
    [f('mlp.pt'), f('nfa_data.csv'), '--target', 'y', '--layers', '0.weight,4.weight'],
    /layer '4\.weight' \[2, 8\] takes 8 inputs but the previous layer '0\.weight' \[12, 5\] gives 12 outputs$/,
  );
  const bad = join(out, 'bad.csv');
  writeFileSync(bad, 'x0,x1,x2,x3,x4,y\n1,2,3,4,oops,1\n1,2,3,4,5,1\n');
  await fails([f('mlp.pt'), bad, '--target', 'y'], /row 2, column 'x4': expected a number, got 'oops'/);
  const narrow = join(out, 'narrow.csv');
  writeFileSync(narrow, 'x0,x1,x2,x3,y\n1,2,3,4,1\n');
  await fails(
    [f('mlp.pt'), narrow, '--target', 'y'],
    /first layer '0\.weight' \[12, 5\] takes 5 inputs but the data has 4 input columns \(.*narrow\.csv: x0, x1, x2, x3 besides the target 'y'\)/,
  );
});
