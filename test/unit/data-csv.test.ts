import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspectDataset, loadDataset } from '../../src/core/data/index';
import type { Dataset } from '../../src/core/data/dataset';
import { assertClose, fixture, fixtureJson, rejectsWith, text } from './data-helpers';

interface Expected {
  csv: Record<string, { rows: string[][] }>;
  sklearn: Record<
    string,
    {
      shape: number[];
      column_sums: number[];
      first_row: number[];
      last_row: number[];
      label_counts: Record<string, number>;
    }
  >;
}
const expected = fixtureJson<Expected>('expected_tables.json');

function column(ds: Dataset, name: string): number[] {
  const k = ds.featureNames.indexOf(name);
  assert.ok(k >= 0, `no feature ${name} in ${ds.featureNames.join(', ')}`);
  return Array.from({ length: ds.X.rows }, (_, i) => ds.X.data[i * ds.X.cols + k]);
}

/** Compare a loaded dataset with the cells Python's csv module read from the same file. */
function assertMatchesCells(ds: Dataset, header: string[], body: string[][]): void {
  assert.equal(ds.X.rows, body.length);
  const cells = (name: string) => body.map((r) => r[header.indexOf(name)].trim());
  for (const name of ds.featureNames) {
    const eq = name.indexOf('=');
    if (eq > 0 && header.includes(name.slice(0, eq))) {
      const value = name.slice(eq + 1);
      assert.deepEqual(
        column(ds, name),
        cells(name.slice(0, eq)).map((c) => (c === value ? 1 : 0)),
        name,
      );
    } else {
      assert.deepEqual(column(ds, name), cells(name).map(Number), name);
    }
  }
  const targetCells = cells(ds.targetName);
  if (ds.task === 'classification')
    assert.deepEqual(
      Array.from(ds.y, (k) => ds.classes![k]),
      targetCells.map((c) => (String(Number(c)) === 'NaN' ? c : String(Number(c)))),
    );
  else assert.deepEqual(Array.from(ds.y), targetCells.map(Number));
}

describe('CSV files read like Python csv reads them', () => {
  for (const [name, { rows }] of Object.entries(expected.csv)) {
    if (name === 'csv/missing.csv') continue;
    it(name, async () => {
      const { dataset } = await loadDataset(fixture(name), name);
      const header = name === 'csv/noheader.csv' ? rows[0].map((_, j) => `col${j}`) : rows[0];
      const body = name === 'csv/noheader.csv' ? rows : rows.slice(1);
      assertMatchesCells(dataset, header, body);
    });
  }

  it('sniffs ; tab and | and finds the same table in each', async () => {
    const loaded = await Promise.all(
      ['csv/semicolon.csv', 'csv/tabs.tsv', 'csv/pipes.txt', 'csv/crlf_bom.csv'].map((f) => loadDataset(fixture(f), f)),
    );
    for (const { dataset } of loaded) {
      assert.deepEqual(dataset.featureNames, ['width', 'height']);
      assertClose(dataset.X.data, [1.5, 2, 2.5, -300, 3.5, 4]);
      assert.deepEqual(dataset.classes, ['a', 'b']);
    }
  });

  it('keeps quoted delimiters, quotes and newlines inside a field', async () => {
    const { dataset } = await loadDataset(fixture('csv/quoted.csv'), 'quoted.csv');
    assert.ok(dataset.featureNames.includes('name=Smith, John'));
    assert.ok(dataset.featureNames.includes('name=Doe\nJane'));
    assert.ok(dataset.featureNames.includes('note=said "hi"'));
    assert.ok(dataset.featureNames.includes('note=a,b;c|d'));
  });

  it('one-hot encodes categorical features as col=value, sorted', async () => {
    const { dataset } = await loadDataset(fixture('csv/categorical.csv'), 'categorical.csv');
    assert.deepEqual(dataset.featureNames, [
      'colour=blue',
      'colour=green',
      'colour=red',
      'size=L',
      'size=M',
      'size=S',
      'weight',
    ]);
    assert.equal(dataset.task, 'regression');
    assert.deepEqual(column(dataset, 'colour=red'), [1, 0, 1, 0, 0, 1]);
  });
});

describe('the sklearn datasets', () => {
  for (const [name, e] of Object.entries(expected.sklearn)) {
    it(`${name} matches numpy/sklearn`, async () => {
      const { dataset } = await loadDataset(fixture(name), name);
      assert.deepEqual([dataset.X.rows, dataset.X.cols], e.shape);
      const sums = new Array<number>(dataset.X.cols).fill(0);
      for (let i = 0; i < dataset.X.rows; i++)
        for (let j = 0; j < dataset.X.cols; j++) sums[j] += dataset.X.data[i * dataset.X.cols + j];
      assertClose(sums, e.column_sums, 1e-12, 'column sums');
      assertClose(dataset.X.data.subarray(0, e.shape[1]), e.first_row, 0, 'first row');
      assertClose(dataset.X.data.subarray((e.shape[0] - 1) * e.shape[1]), e.last_row, 0, 'last row');
      assert.equal(dataset.task, 'classification');
      const counts: Record<string, number> = {};
      for (const k of dataset.y) counts[dataset.classes![k]] = (counts[dataset.classes![k]] ?? 0) + 1;
      assert.deepEqual(counts, e.label_counts);
    });
  }

  it('infers the task and target, and both can be overridden', async () => {
    const wine = (await loadDataset(fixture('wine.csv'), 'wine.csv')).dataset;
    assert.equal(wine.targetName, 'target');
    assert.deepEqual(wine.classes, ['0', '1', '2']);
    const wineReg = (await loadDataset(fixture('wine.csv'), 'wine.csv', { task: 'regression' })).dataset;
    assert.equal(wineReg.task, 'regression');
    assert.equal(wineReg.classes, undefined);
    assertClose(wineReg.y.subarray(0, 3), [0, 0, 0]);
    const byIndex = (await loadDataset(fixture('iris.csv'), 'iris.csv', { target: 0 })).dataset;
    assert.equal(byIndex.targetName, 'sepal_length_cm');
    assert.equal(byIndex.task, 'regression'); // 35 distinct non-integer lengths
    assert.ok(byIndex.featureNames.includes('species=setosa'));
    const byName = (await loadDataset(fixture('iris.csv'), 'iris.csv', { target: 'PETAL_WIDTH_CM' })).dataset;
    assert.equal(byName.targetName, 'petal_width_cm');
    await rejectsWith(
      () => loadDataset(fixture('iris.csv'), 'iris.csv', { task: 'regression' }),
      'iris.csv',
      'row 2',
      "column 'species'",
      'regression target must be numeric',
    );
  });

  it('inspectDataset suggests the target and task without encoding', async () => {
    const info = await inspectDataset(fixture('breast_cancer.csv'), 'breast_cancer.csv');
    assert.equal(info.rows, 569);
    assert.equal(info.columns.length, 31);
    assert.equal(info.suggestedTarget, 'diagnosis');
    assert.equal(info.suggestedTask, 'classification');
    assert.deepEqual(info.columns[30], { name: 'diagnosis', kind: 'categorical' });
    const reg = await inspectDataset(fixture('csv/categorical.csv'), 'categorical.csv');
    assert.deepEqual([reg.suggestedTarget, reg.suggestedTask], ['price', 'regression']);
    assert.deepEqual(
      reg.columns.map((c) => c.kind),
      ['categorical', 'categorical', 'numeric', 'numeric'],
    );
  });
});

describe('missing values', () => {
  it('are rejected by default, naming file, row and column', async () => {
    await rejectsWith(
      () => loadDataset(fixture('csv/missing.csv'), 'missing.csv'),
      'missing.csv',
      'row 3',
      "column 'a'",
      "'NA'",
      // Neutral in core; the CLI says --impute, the extension names its choice (cli-conventions.test.ts).
      'use the impute option',
    );
    const noA = text('b,c,target\nx,10,0\n,20,1\nx,30,1\n');
    await rejectsWith(() => loadDataset(noA, 'blank.csv'), 'blank.csv', 'row 3', "column 'b'", 'missing value');
    await rejectsWith(() => loadDataset(text('a,t\n1,0\n?,1\n3,1\n'), 'q.csv'), 'q.csv', 'row 3', "column 'a'", "'?'");
  });

  it('are imputed on request: mean for numbers, most frequent for categories', async () => {
    const { dataset, schema } = await loadDataset(fixture('csv/missing.csv'), 'missing.csv', { impute: true });
    assert.deepEqual(dataset.featureNames, ['a', 'b=x', 'b=y', 'c']);
    assert.deepEqual(column(dataset, 'a'), [1, (1 + 3 + 5 + 7 + 9) / 5, 3, 5, 7, 9]);
    assert.deepEqual(column(dataset, 'b=x'), [1, 0, 1, 1, 0, 1]);
    assert.deepEqual(column(dataset, 'c'), [10, 20, 30, (10 + 20 + 30 + 60) / 4, (10 + 20 + 30 + 60) / 4, 60]);
    assert.deepEqual(
      schema.features.map((f) => f.fill),
      [5, 'x', 30],
    );
  });

  it('a missing target is never imputed', async () => {
    await rejectsWith(
      () => loadDataset(text('a,target\n1,0\n2,\n3,1\n4,1\n'), 't.csv', { impute: true }),
      't.csv',
      'row 3',
      "column 'target'",
      'missing target',
    );
  });
});

describe('bad CSV input', () => {
  it('ragged rows name the row and the expected field count', async () => {
    await rejectsWith(
      () => loadDataset(fixture('csv/ragged.csv'), 'ragged.csv'),
      'ragged.csv',
      'row 4',
      '2 fields',
      'expected 3',
    );
  });

  it('a word among numbers names row and column', async () => {
    await rejectsWith(
      () => loadDataset(fixture('csv/word_in_numbers.csv'), 'w.csv'),
      'w.csv',
      'row 4',
      "column 'b'",
      "'six'",
      'expected a number',
    );
  });

  it('row numbers are editor lines, past multi-line quoted fields and blank lines', async () => {
    const bytes = text('a,b,label\r\n"multi\r\nline",1,x\r\n\r\nz,2,y\r\nq,oops,x\r\n');
    await rejectsWith(() => loadDataset(bytes, 'lines.csv'), 'lines.csv', 'row 6', "column 'b'", "'oops'");
  });

  it('Inf names row and column', async () => {
    await rejectsWith(() => loadDataset(fixture('csv/inf.csv'), 'inf.csv'), 'inf.csv', 'row 3', "column 'b'", 'finite');
  });

  it('empty, blank and header-only files', async () => {
    await rejectsWith(() => loadDataset(new Uint8Array(0), 'empty.csv'), 'empty.csv', 'empty');
    await rejectsWith(() => loadDataset(fixture('csv/blank.csv'), 'blank.csv'), 'blank.csv', 'empty');
    await rejectsWith(() => loadDataset(fixture('csv/header_only.csv'), 'h.csv'), 'h.csv', 'no data rows');
  });

  it('an unterminated quote names its row', async () => {
    await rejectsWith(() => loadDataset(fixture('csv/unterminated.csv'), 'u.csv'), 'u.csv', 'row 3', 'quoted field');
  });

  it('a target that does not exist lists the columns', async () => {
    await rejectsWith(
      () => loadDataset(fixture('iris.csv'), 'iris.csv', { target: 'kind' }),
      'iris.csv',
      "'kind'",
      "'species'",
    );
    await rejectsWith(() => loadDataset(fixture('iris.csv'), 'iris.csv', { target: 7 }), 'iris.csv', 'index 7', '0..4');
  });

  it('binary bytes and UTF-16 are not taken for text', async () => {
    await rejectsWith(() => loadDataset(fixture('npy/f8_c_le.npy'), 'renamed.csv'), 'renamed.csv', 'binary');
    await rejectsWith(() => loadDataset(new Uint8Array([0xff, 0xfe, 0x61, 0]), 'wide.csv'), 'wide.csv', 'UTF-16');
  });

  it('an unknown extension lists the supported ones', async () => {
    await rejectsWith(() => loadDataset(text('a'), 'data.xlsx'), 'data.xlsx', "'.xlsx'", '.csv', '.parquet', '.npz');
  });

  it('a column with too many distinct words to one-hot', async () => {
    const lines = ['id,v,t', ...Array.from({ length: 1200 }, (_, i) => `name${i},${i},${i % 2}`)];
    await rejectsWith(() => loadDataset(text(lines.join('\n')), 'ids.csv'), 'ids.csv', "column 'id'", 'more than 1000');
  });
});

describe('CSV details', () => {
  it('a trailing delimiter does not make a column; repeated names get .1', async () => {
    const { dataset } = await loadDataset(text('a,a,t,\n1,2,0,\n3,4,1,\n5,6,1,\n'), 'x.csv');
    assert.deepEqual(dataset.featureNames, ['a', 'a.1']);
    assert.equal(dataset.targetName, 't');
  });

  it('a column of words with a few numbers among them is categorical', async () => {
    const { dataset } = await loadDataset(text('size,t\nS,0\nM,1\nL,0\n10,1\nS,0\n'), 'sizes.csv');
    assert.deepEqual(dataset.featureNames, ['size=10', 'size=L', 'size=M', 'size=S']);
  });

  it("pandas' to_csv output: integer column names and the index column", async () => {
    // df.to_csv() of a frame built from a numpy array: a blank-named index column, names 0..k-1.
    const withIndex = await loadDataset(text(',0,1,target\n7,0.5,1.5,a\n3,2.5,3.5,b\n9,4.5,5.5,a\n'), 'pandas.csv');
    assert.deepEqual(withIndex.dataset.featureNames, ['0', '1']);
    assert.deepEqual(Array.from(withIndex.dataset.X.data), [0.5, 1.5, 2.5, 3.5, 4.5, 5.5]);
    const noIndex = await loadDataset(text('0,1,2\n0.5,1.5,1\n2.5,3.5,0\n4.5,5.5,1\n'), 'pandas.csv');
    assert.deepEqual([noIndex.dataset.featureNames, noIndex.dataset.targetName], [['0', '1'], '2']);
    const mixed = await loadDataset(text('0,1,label\n0.5,1.5,x\n2.5,3.5,y\n'), 'mixed.csv');
    assert.deepEqual([mixed.dataset.featureNames, mixed.dataset.X.rows], [['0', '1'], 2]);
    for (const rows of ['5,1.5,x\n2,3.5,y\n7,0.5,x\n', '1,2,0\n1.5,3.5,1\n2.5,0.5,0\n', '0,1,yes\n1,0,no\n1,1,no\n']) {
      assert.equal((await loadDataset(text(rows), 'data.csv')).dataset.X.rows, 3, rows);
    }
  });

  it('headerless all-text files are not mistaken for a header', async () => {
    const { dataset } = await loadDataset(text('red,small\nblue,large\nred,large\n'), 'cats.csv');
    assert.deepEqual(dataset.featureNames, ['col0=blue', 'col0=red']);
    assert.deepEqual(dataset.classes, ['large', 'small']);
  });
});
