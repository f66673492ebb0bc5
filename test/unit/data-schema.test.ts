// A test file loaded with the training file's schema must be encoded exactly like the training file.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadDataset, type DatasetSchema } from '../../src/core/data/index';
import { fixture, rejectsWith, text } from './data-helpers';

const TRAIN = 'colour,size,weight,price\nred,S,1.0,10.5\nblue,M,2.0,20.25\nred,L,3.0,30\ngreen,M,4.0,41\n';

async function trainSchema(): Promise<DatasetSchema> {
  // Through JSON, as a saved model carries it.
  const { schema } = await loadDataset(text(TRAIN), 'train.csv');
  return JSON.parse(JSON.stringify(schema)) as DatasetSchema;
}

describe('encoding a test file with the training schema', () => {
  it('gives the same columns in the same order, whatever the test file holds', async () => {
    const schema = await trainSchema();
    // Columns reordered, an extra column, only some categories present, one unseen ('purple').
    const test = text('extra,weight,price,size,colour\n9,5.5,1,M,purple\n9,6.5,2,S,blue\n');
    const { dataset } = await loadDataset(test, 'test.csv', {}, schema);
    assert.deepEqual(dataset.featureNames, [
      'colour=blue',
      'colour=green',
      'colour=red',
      'size=L',
      'size=M',
      'size=S',
      'weight',
    ]);
    assert.deepEqual(Array.from(dataset.X.data), [
      0,
      0,
      0,
      0,
      1,
      0,
      5.5, // purple: no colour column set
      1,
      0,
      0,
      0,
      0,
      1,
      6.5,
    ]);
    assert.deepEqual(Array.from(dataset.y), [1, 2]);
  });

  it('maps class labels to training indices, -1 for a label training never saw', async () => {
    const { schema } = await loadDataset(fixture('iris.csv'), 'iris.csv');
    const test = text(
      'species,petal_width_cm,petal_length_cm,sepal_width_cm,sepal_length_cm\nvirginica,1,2,3,4\nunknown,1,2,3,4\nsetosa,1,2,3,4\n',
    );
    const { dataset } = await loadDataset(test, 'test.csv', {}, schema);
    assert.deepEqual(Array.from(dataset.y), [2, -1, 0]);
    assert.deepEqual(dataset.classes, ['setosa', 'versicolor', 'virginica']);
    assert.deepEqual(Array.from(dataset.X.data.subarray(0, 4)), [4, 3, 2, 1]);
  });

  it('imputes a test file from the training statistics, not its own', async () => {
    const { schema } = await loadDataset(fixture('csv/missing.csv'), 'missing.csv', { impute: true });
    const test = text('a,b,c,target\nNA,,NaN,1\n100,y,1000,0\n');
    const { dataset } = await loadDataset(test, 'test.csv', { impute: true }, schema);
    assert.deepEqual(Array.from(dataset.X.data), [5, 1, 0, 30, 100, 0, 1, 1000]);
    await rejectsWith(
      () => loadDataset(test, 'test.csv', {}, schema),
      'test.csv',
      'row 2',
      "column 'a'",
      'missing value',
    );
  });

  it('matches categories even when the test file has more distinct values than a training column may', async () => {
    const { schema } = await loadDataset(text('city,v,t\nOslo,1,0\nLima,2,1\nOslo,3,0\n'), 'train.csv');
    const lines = ['t,v,city', '0,1,Lima', ...Array.from({ length: 1500 }, (_, i) => `1,2,town${i}`), '0,3,Oslo'];
    const { dataset } = await loadDataset(text(lines.join('\n')), 'test.csv', {}, schema);
    assert.deepEqual(dataset.featureNames, ['city=Lima', 'city=Oslo', 'v']);
    const row = (i: number) => Array.from(dataset.X.data.subarray(i * 3, i * 3 + 3));
    assert.deepEqual(
      [row(0), row(1), row(1501)],
      [
        [1, 0, 1],
        [0, 0, 2],
        [0, 1, 3],
      ],
    );
  });

  it('a missing feature column is named', async () => {
    const schema = await trainSchema();
    await rejectsWith(
      () => loadDataset(text('colour,size,price\nred,S,1\n'), 'test.csv', {}, schema),
      'test.csv',
      "missing feature column 'weight'",
    );
  });

  it('a missing target column is an error unless the rows are only to predict', async () => {
    const schema = await trainSchema();
    const rows = text('colour,size,weight\nred,S,1\n');
    await rejectsWith(() => loadDataset(rows, 'test.csv', {}, schema), 'test.csv', "missing target column 'price'");
    const { dataset } = await loadDataset(rows, 'test.csv', { targetOptional: true }, schema);
    assert.equal(dataset.hasTarget, false);
    assert.ok(Number.isNaN(dataset.y[0]));
    assert.deepEqual(Array.from(dataset.X.data), [0, 0, 1, 0, 0, 1, 1]);
  });

  it('text where training had numbers is named', async () => {
    const schema = await trainSchema();
    await rejectsWith(
      () => loadDataset(text('colour,size,weight,price\nred,S,heavy,1\n'), 'test.csv', {}, schema),
      'test.csv',
      'row 2',
      "column 'weight'",
      'numeric in the training file',
    );
  });

  it('works across formats: a Parquet test file against a CSV-trained schema', async () => {
    const { schema } = await loadDataset(fixture('iris.csv'), 'iris.csv');
    const { dataset } = await loadDataset(fixture('iris.parquet'), 'iris.parquet', {}, schema);
    assert.deepEqual(dataset.featureNames, schema.featureNames);
    assert.equal(dataset.X.cols, 4);
    assert.deepEqual(dataset.classes, ['setosa', 'versicolor', 'virginica']);
    assert.deepEqual([dataset.y[0], dataset.y[149]], [0, 2]);
  });

  it('a damaged schema is refused', async () => {
    const bad = {
      features: [{ column: 'a', kind: 'numeric', fill: 0 }],
      featureNames: [],
      targetName: 't',
      task: 'regression',
    } as unknown as DatasetSchema;
    await rejectsWith(
      () => loadDataset(text('a,t\n1,2\n'), 'x.csv', {}, bad),
      'x.csv: dataset schema field featureNames must be 1 names',
    );
  });

  it('a schema edited by hand names the field that is wrong (zod)', async () => {
    const base = { featureNames: ['a'], targetName: 't', task: 'regression' };
    const cases: [unknown, string][] = [
      [{ ...base, features: [{ column: 'a', kind: 'text', fill: 0 }] }, 'field features.0.kind'],
      [{ ...base, features: [{ column: 'a', kind: 'numeric', fill: 'x' }] }, 'field features.0.fill'],
      [{ ...base, features: [{ column: 'a', kind: 'numeric', fill: 0 }], task: 'ranking' }, 'field task'],
      [{ ...base, features: [{ column: 'a', kind: 'numeric', fill: 0 }], task: 'classification' }, 'field classes'],
      [null, 'field (top level)'],
    ];
    for (const [bad, field] of cases)
      await rejectsWith(
        () => loadDataset(text('a,t\n1,2\n'), 'x.csv', {}, bad as DatasetSchema),
        `x.csv: dataset schema ${field}`,
      );
  });
});
