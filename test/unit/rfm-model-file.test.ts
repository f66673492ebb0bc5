// A model file read back by `predict` is checked against ModelFileSchema before any number is used: a bandwidth
// of 0 or "abc", a std of 0, a ragged matrix used to print NaN scores with exit code 0.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InputError } from '../../src/core/errors';
import { mat } from '../../src/core/mat';
import { modelFromJson, modelToJson } from '../../src/core/rfm/serialize';
import type { RfmModel } from '../../src/core/rfm/types';
import { cli } from '../helpers/cli';

const model: RfmModel = {
  task: 'classification',
  kernel: 'laplace',
  bandwidth: 10,
  featureNames: ['a', 'b'],
  targetName: 'y',
  classes: ['no', 'yes'],
  standardize: { mean: Float64Array.of(0, 1), std: Float64Array.of(1, 2) },
  M: { diag: false, d: 2, data: Float64Array.of(1, 0, 0, 1) },
  centers: mat(3, 2, Float64Array.of(0, 0, 1, 1, 2, 0)),
  alpha: mat(3, 2, Float64Array.of(1, 0, 0, 1, 0.5, 0.5)),
};
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a parsed model file, spoiled field by field
type Json = any;
const schema = { target: 'y', task: 'classification', features: [], classes: ['no', 'yes'] };
const good = (): Json => JSON.parse(modelToJson(model, { schema }));

const BAD: [string, (j: Json) => void, RegExp][] = [
  ['bandwidth 0', (j) => (j.bandwidth = 0), /field bandwidth .*got 0/],
  ['bandwidth "abc"', (j) => (j.bandwidth = 'abc'), /field bandwidth .*got "abc"/],
  ['bandwidth missing', (j) => delete j.bandwidth, /field bandwidth .*got missing/],
  ['negative bandwidth', (j) => (j.bandwidth = -1), /field bandwidth/],
  ['std 0', (j) => (j.standardize.std[1] = 0), /field standardize\.std\.1 .*got 0/],
  ['std null (NaN written as null)', (j) => (j.standardize.std[0] = null), /field standardize\.std\.0/],
  ['mean too short', (j) => j.standardize.mean.pop(), /field standardize\.mean must be 2 finite numbers/],
  ['unknown kernel', (j) => (j.kernel = 'rbf'), /field kernel/],
  ['unknown task', (j) => (j.task = 'ranking'), /field task/],
  ['M.d 0', (j) => (j.M.d = 0), /field M\.d/],
  ['M.data ragged', (j) => j.M.data.pop(), /field M\.data must be 4 finite numbers/],
  ['M.data string', (j) => (j.M.data[0] = '1'), /field M\.data\.0/],
  ['centers.cols not d', (j) => (j.centers.cols = 3), /field centers\.cols must be 2/],
  ['alpha rows differ', (j) => (j.alpha.rows = 2), /field alpha\.rows must be 3/],
  ['alpha.data short', (j) => j.alpha.data.pop(), /field alpha\.data must be 6/],
  ['feature_names count', (j) => j.feature_names.push('c'), /field feature_names must be 2 names/],
  ['classes count', (j) => j.classes.push('maybe'), /field classes must be 2 names/],
  ['target_name number', (j) => (j.target_name = 3), /field target_name/],
];

describe('model file schema', () => {
  it('reads back what modelToJson wrote, with the extra fields', () => {
    const { model: m, extra } = modelFromJson(modelToJson(model, { schema }), 'm.json');
    assert.deepEqual(m, model);
    assert.deepEqual(extra, { schema });
  });
  for (const [name, spoil, message] of BAD)
    it(`refuses ${name}`, () => {
      const j = good();
      spoil(j);
      assert.throws(
        () => modelFromJson(JSON.stringify(j), 'm.json'),
        (e: unknown) => e instanceof InputError && /^m\.json: /.test(e.message) && message.test(e.message),
      );
    });
  it('refuses a foreign JSON and a non-JSON file, naming the file', () => {
    assert.throws(() => modelFromJson('{"a":1}', 'm.json'), /m\.json: not a Feature Lens model/);
    assert.throws(() => modelFromJson('[1,', 'm.json'), /m\.json: not a JSON file/);
    assert.throws(() => modelFromJson('null', 'm.json'), /m\.json: not a Feature Lens model/);
  });
});

describe('feature-lens predict with a spoiled model', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fl-model-'));
  const data = join(dir, 'x.csv');
  writeFileSync(data, 'a,b,y\n0,0,no\n1,1,yes\n');
  for (const [name, spoil] of [
    ['bandwidth 0', (j: Json) => (j.bandwidth = 0)],
    ['bandwidth "abc"', (j: Json) => (j.bandwidth = 'abc')],
    ['std 0', (j: Json) => (j.standardize.std[0] = 0)],
  ] as const)
    it(`${name}: exit 1, the field named, no scores printed`, () => {
      const j = good();
      spoil(j);
      const path = join(dir, 'model.json');
      writeFileSync(path, JSON.stringify(j));
      const r = cli(['predict', path, data]);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /model\.json: field (bandwidth|standardize\.std\.0) /);
      assert.equal(r.stdout, '');
    });
});
