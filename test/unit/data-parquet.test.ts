import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspectDataset, loadDataset } from '../../src/core/data/index';
import { parquetTable } from '../../src/core/data/parquet';
import { fixture, rejectsWith } from './data-helpers';
import { parquetV1 } from './parquet-v1';

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

  it('version-1 data pages (uncompressed and Snappy, with nulls, RLE booleans and a dictionary) pass the page checks', async () => {
    for (const codec of ['UNCOMPRESSED', 'SNAPPY'] as const) {
      const t = await parquetTable(parquetV1(codec), 'v1.parquet');
      const col = (name: string) => t.columns.find((c) => c.name === name)!;
      assert.deepEqual(Array.from(col('x').numbers), [1.5, NaN, 3], codec);
      assert.deepEqual(Array.from(col('y').numbers), [10, 20, 30], codec);
      assert.deepEqual(Array.from(col('b').numbers), [1, 1, 1], codec);
      assert.deepEqual(
        [col('s').levels, Array.from(col('s').codes!)],
        [
          ['a', 'b'],
          [0, 1, 0],
        ],
        codec,
      );
    }
  });
});

// hyparquet writes out every value a run length declares: a run of 2^30 (one flipped bit) ran out of
// memory or looped for minutes. Each page is now checked against the row counts before it is decoded.
describe('Parquet pages that declare more than the file holds', () => {
  const le32 = (v: number) => [v & 255, (v >> 8) & 255, (v >> 16) & 255, (v >>> 24) & 255];
  const run = [0x80, 0x80, 0x80, 0x80, 0x08]; // RLE run header: 2^30 values
  const doubles = [...new Uint8Array(new Float64Array([1.5, 3]).buffer)];
  const cases: [column: string, body: number[], what: string][] = [
    ['x', [...le32(6), ...run, 1, ...doubles], 'definition levels declare a run of 1073741824 values'],
    ['b', [...le32(6), ...run, 1], 'boolean values declare a run of 1073741824 values'],
    ['s', [1, ...run, 0], 'dictionary indices declare a run of 1073741824 values'],
  ];
  for (const [column, body, what] of cases)
    it(`a run of 2^30 in column '${column}' of 3 rows is refused at once`, async () => {
      const bad = parquetV1('SNAPPY', (c, raw) => (c === column ? new Uint8Array(body) : raw));
      const t0 = performance.now();
      await rejectsWith(() => parquetTable(bad, 'runs.parquet'), 'runs.parquet', `column '${column}'`, what);
      assert.ok(performance.now() - t0 < 1000);
    });

  it('iris.parquet with a flipped bit in a page header, or a size overwritten, is refused at once', async () => {
    const flip = fixture('iris.parquet').slice();
    flip[2511] ^= 1 << 7;
    const lie = fixture('iris.parquet').slice();
    lie.set([1, 0, 0, 0, 0, 0, 0, 0], 3080);
    const t0 = performance.now();
    await rejectsWith(
      () => loadDataset(flip, 'flip.parquet'),
      'flip.parquet',
      "row group 3, column 'sepal_width_cm', page 1",
      'bytes of levels',
    );
    await rejectsWith(() => loadDataset(lie, 'lie.parquet'), 'lie.parquet', "column 'species'", 'damaged');
    assert.ok(performance.now() - t0 < 1000);
  });
});
