import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspectDataset, loadDataset } from '../../src/core/data/index';
import { fixture, rejectsWith } from './data-helpers';

// iris.parquet was written by hyparquet-writer from iris.csv (see test/fixtures/README.md):
// DOUBLE, FLOAT (sepal width), INT64 sample_id = 1000 + row, STRING colour = red/green/blue by row % 3.
const csvRows = new TextDecoder()
  .decode(fixture('iris.csv'))
  .trim()
  .split(/\r?\n/)
  .slice(1)
  .map((l) => l.split(','));

describe('Parquet', () => {
  it('reads numeric, int64, float32 and string columns as the writer wrote them', async () => {
    const { dataset } = await loadDataset(fixture('iris.parquet'), 'iris.parquet');
    assert.deepEqual(dataset.featureNames, [
      'sepal_length_cm',
      'sepal_width_cm',
      'petal_length_cm',
      'petal_width_cm',
      'sample_id',
      'colour=blue',
      'colour=green',
      'colour=red',
    ]);
    assert.equal(dataset.X.rows, 150);
    const colours = ['red', 'green', 'blue'];
    for (let i = 0; i < 150; i++) {
      const row = Array.from(dataset.X.data.subarray(i * 8, (i + 1) * 8));
      const c = csvRows[i];
      const colour = colours[i % 3];
      assert.deepEqual(
        row,
        [
          Number(c[0]),
          Math.fround(Number(c[1])),
          Number(c[2]),
          Number(c[3]),
          1000 + i,
          colour === 'blue' ? 1 : 0,
          colour === 'green' ? 1 : 0,
          colour === 'red' ? 1 : 0,
        ],
        `row ${i + 1}`,
      );
      assert.equal(dataset.classes![dataset.y[i]], c[4]);
    }
  });

  it('nulls are missing values: rejected naming row and column, or imputed', async () => {
    await rejectsWith(
      () => loadDataset(fixture('missing.parquet'), 'missing.parquet'),
      'missing.parquet',
      'row 2',
      "column 'a'",
      'missing value',
    );
    const { dataset } = await loadDataset(fixture('missing.parquet'), 'missing.parquet', { impute: true });
    assert.deepEqual(dataset.featureNames, ['a', 'b=x', 'b=y', 'n']);
    assert.deepEqual(Array.from(dataset.X.data), [
      1.5,
      1,
      0,
      1,
      (1.5 + 3.5 + 4.5) / 3,
      0,
      1,
      2,
      3.5,
      1,
      0,
      3,
      4.5,
      1,
      0,
      4,
    ]);
    assert.equal(dataset.task, 'regression');
    assert.deepEqual(Array.from(dataset.y), [0.5, 1.5, 2.5, 3.5]);
  });

  it('inspect reports kinds and the target', async () => {
    const info = await inspectDataset(fixture('iris.parquet'), 'iris.parquet');
    assert.equal(info.rows, 150);
    assert.deepEqual(
      info.columns.map((c) => c.kind),
      ['numeric', 'numeric', 'numeric', 'numeric', 'numeric', 'categorical', 'categorical'],
    );
    assert.equal(info.suggestedTarget, 'species');
  });

  it('a file that is not Parquet, or cut short', async () => {
    await rejectsWith(
      () => loadDataset(fixture('iris.csv'), 'fake.parquet'),
      'fake.parquet',
      'not a readable Parquet file',
    );
    const pq = fixture('iris.parquet');
    await rejectsWith(() => loadDataset(pq.subarray(0, pq.length - 100), 'cut.parquet'), 'cut.parquet', 'Parquet');
    await rejectsWith(() => loadDataset(new Uint8Array(0), 'empty.parquet'), 'empty.parquet');
  });
});
