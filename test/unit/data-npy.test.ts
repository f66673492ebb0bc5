import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { zipSync } from 'fflate';
import { inspectDataset, loadDataset } from '../../src/core/data/index';
import { parseNpy } from '../../src/core/data/npy';
import { npzTable } from '../../src/core/data/npz';
import { assertClose, fixture, fixtureJson, rejectsWith } from './data-helpers';

interface NpyExpect {
  descr: string;
  fortran_order: boolean;
  version: number[];
  shape: number[];
  values: number[];
}
interface NpzExpect {
  compression: number[];
  arrays: Record<string, { shape: number[]; values: number[] }>;
}
// numpy's values; non-finite ones are spelled as strings ("NaN", "-Infinity") in the JSON.
const expected = fixtureJson<Record<string, NpyExpect & NpzExpect>>('npy/expected.json', (k, v) =>
  k === 'values' ? (v as (number | string)[]).map(Number) : v,
);
const npyNames = Object.keys(expected).filter((n) => n.endsWith('.npy'));

describe('.npy written by numpy', () => {
  it('covers every dtype, both orders, both byte orders and versions 1-3', () => {
    const descrs = new Set(npyNames.map((n) => expected[n].descr));
    for (const d of [
      '<f4',
      '>f4',
      '<f8',
      '>f8',
      '|i1',
      '<i2',
      '>i2',
      '<i4',
      '>i4',
      '<i8',
      '>i8',
      '|u1',
      '<u2',
      '>u2',
      '<u4',
      '>u4',
      '<u8',
      '>u8',
      '|b1',
    ]) {
      assert.ok(descrs.has(d), `no fixture with dtype ${d}`);
    }
    assert.ok(npyNames.some((n) => expected[n].fortran_order));
    assert.deepEqual(new Set(npyNames.map((n) => expected[n].version[0])), new Set([1, 2, 3]));
  });

  for (const name of npyNames.filter((n) => !['nan.npy', 'inf.npy'].includes(n))) {
    it(`decodes ${name} to numpy's values`, () => {
      const e = expected[name];
      const a = parseNpy(fixture(`npy/${name}`), name);
      assert.equal(a.descr, e.descr);
      assert.equal(a.fortranOrder, e.fortran_order);
      assert.deepEqual([...a.shape], e.shape);
      assertClose(a.data, e.values, 0, name);
    });
  }

  it('loads a matrix with the last column as the target by default, or a chosen column', async () => {
    const e = expected['f8_f_be.npy'];
    const { dataset } = await loadDataset(fixture('npy/f8_f_be.npy'), 'f8_f_be.npy');
    assert.deepEqual(dataset.featureNames, ['col0', 'col1']);
    assert.equal(dataset.targetName, 'col2');
    assert.equal(dataset.task, 'classification');
    assert.deepEqual(dataset.classes, ['0', '1', '2']);
    assertClose(
      dataset.X.data,
      e.values.filter((_, k) => k % 3 !== 2),
      0,
      'X',
    );
    assertClose(dataset.y, [0, 1, 2, 1], 0, 'y');
    const byIndex = (await loadDataset(fixture('npy/f8_f_be.npy'), 'f8_f_be.npy', { target: 1, task: 'regression' }))
      .dataset;
    assert.deepEqual(byIndex.featureNames, ['col0', 'col2']);
    assertClose(
      byIndex.y,
      e.values.filter((_, k) => k % 3 === 1),
      0,
      'y',
    );
  });
});

describe('.npz written by numpy', () => {
  it('reads a deflated archive: X and y by their default names', async () => {
    const e = expected['xy_deflated.npz'];
    assert.deepEqual(e.compression, [8]);
    const { dataset } = await loadDataset(fixture('npy/xy_deflated.npz'), 'xy_deflated.npz');
    assert.deepEqual(dataset.featureNames, ['x0', 'x1', 'x2']);
    assert.equal(dataset.targetName, 'y');
    assertClose(dataset.X.data, e.arrays.X.values, 0, 'X');
    assertClose(dataset.y, e.arrays.y.values, 0, 'y');
  });

  it('reads a stored archive (Fortran-order big-endian float32 X, uint8 y)', async () => {
    const e = expected['xy_stored.npz'];
    assert.deepEqual(e.compression, [0]);
    const { dataset } = await loadDataset(fixture('npy/xy_stored.npz'), 'xy_stored.npz');
    assertClose(dataset.X.data, e.arrays.X.values, 0, 'X');
    assertClose(dataset.y, e.arrays.y.values, 0, 'y');
  });

  it('chooses arrays by name when told, else the first two', async () => {
    const e = expected['named.npz'];
    const named = (await loadDataset(fixture('npy/named.npz'), 'named.npz', { xArray: 'features', yArray: 'labels' }))
      .dataset;
    assertClose(named.X.data, e.arrays.features.values, 0, 'features');
    assertClose(named.y, e.arrays.labels.values, 0, 'labels');
    assert.equal(named.targetName, 'labels');
    const p = expected['positional.npz'];
    const positional = (await loadDataset(fixture('npy/positional.npz'), 'positional.npz')).dataset;
    assertClose(positional.X.data, p.arrays.arr_0.values, 0, 'arr_0');
    assertClose(positional.y, p.arrays.arr_1.values, 0, 'arr_1');
  });
});

describe('bad .npy / .npz input', () => {
  const good = fixture('npy/f8_c_le.npy');

  it('truncated data names the file, shape and byte counts', async () => {
    await rejectsWith(
      () => loadDataset(good.subarray(0, good.length - 5), 'cut.npy'),
      'cut.npy',
      'truncated .npy data',
      '(4, 3)',
      '96 bytes',
      '91',
    );
  });

  it('truncated header', async () => {
    await rejectsWith(() => loadDataset(good.subarray(0, 40), 'cut.npy'), 'cut.npy', 'truncated .npy header');
    await rejectsWith(() => loadDataset(good.subarray(0, 9), 'tiny.npy'), 'tiny.npy', 'not a .npy array');
  });

  it('a file that is not .npy', async () => {
    await rejectsWith(
      () => loadDataset(new TextEncoder().encode('a,b,c\n1,2,3\n4,5,6\n'), 'x.npy'),
      'x.npy',
      '\\x93NUMPY',
    );
  });

  it('an unsupported dtype names it', async () => {
    const bytes = good.slice();
    const at = Buffer.from(bytes).indexOf('<f8');
    bytes.set(new TextEncoder().encode('<c8'), at);
    await rejectsWith(() => loadDataset(bytes, 'complex.npy'), 'complex.npy', "dtype '<c8'", 'float32');
  });

  it('NaN is a missing value naming row and column; imputing fills the column mean', async () => {
    await rejectsWith(
      () => loadDataset(fixture('npy/nan.npy'), 'nan.npy'),
      'nan.npy',
      'row 3',
      'column 1 (0-based)',
      'missing value',
    );
    const { dataset } = await loadDataset(fixture('npy/nan.npy'), 'nan.npy', { impute: true });
    const col1 = expected['nan.npy'].values.filter((_, k) => k % 3 === 1);
    const present = col1.filter((v) => !Number.isNaN(v));
    assert.equal(dataset.X.data[2 * 2 + 1], present.reduce((a, b) => a + b, 0) / present.length);
  });

  it('Inf names row and column', async () => {
    await rejectsWith(
      () => loadDataset(fixture('npy/inf.npy'), 'inf.npy'),
      'inf.npy',
      'row 2',
      'column 0 (0-based)',
      'finite',
    );
  });

  it('a 1-D .npy is not a table', async () => {
    await rejectsWith(() => loadDataset(fixture('npy/vector_f8.npy'), 'vector.npy'), 'vector.npy', '(3,)', '2-D');
  });

  it('a zip bomb is refused from its declared size before inflating', async () => {
    await rejectsWith(
      () => loadDataset(fixture('npy/bomb_declared.npz'), 'bomb.npz'),
      'bomb.npz',
      "array 'X'",
      '3221225472',
      'limit',
    );
  });

  it('an entry inflating past its declared size is stopped (lying zip headers)', async () => {
    // Patch the uncompressed sizes of a real numpy archive down to 100 bytes, local and central headers alike.
    const bytes = fixture('npy/xy_deflated.npz').slice();
    const view = new DataView(bytes.buffer);
    for (let i = 0; i + 4 <= bytes.length; i++) {
      const sig = view.getUint32(i, true);
      if (sig === 0x04034b50) view.setUint32(i + 22, 100, true);
      if (sig === 0x02014b50) view.setUint32(i + 24, 100, true);
    }
    await rejectsWith(() => loadDataset(bytes, 'liar.npz'), 'liar.npz', 'inflates past', '100 bytes');
  });

  it('the total inflated size is capped', async () => {
    const zeros = new Uint8Array(4 << 20);
    const npy = fixture('npy/f8_c_le.npy');
    const bomb = zipSync({ 'X.npy': [zeros, { level: 9 }], 'y.npy': npy });
    assert.ok(bomb.length < 64 << 10);
    await rejectsWith(() => npzTable(bomb, 'bomb.npz', {}, 1 << 20), 'bomb.npz', "array 'X'", String(4 << 20), 'limit');
  });

  it('X and y row counts must agree; unknown array names are listed', async () => {
    const X = fixture('npy/f8_c_le.npy');
    const y = fixture('npy/vector_f8.npy');
    await rejectsWith(
      () => loadDataset(zipSync({ 'X.npy': X, 'y.npy': y }), 'rows.npz'),
      'rows.npz',
      "array 'y' has 3 rows",
      "'X' has 4",
    );
    await rejectsWith(
      () => loadDataset(fixture('npy/xy_stored.npz'), 'xy.npz', { xArray: 'feat' }),
      'xy.npz',
      "no array named 'feat'",
      "'X', 'y'",
    );
  });

  it('two members with one name are refused, naming the member (np.savez never writes them)', async () => {
    const X = fixture('npy/f8_c_le.npy');
    const y = fixture('npy/vector_f8.npy');
    const good = zipSync({ 'X.npy': X, 'y.npy': y }, { level: 0 });
    const at = (from: number) =>
      good.findIndex((_, i) => i >= from && String.fromCharCode(...good.subarray(i, i + 5)) === 'y.npy');
    const local = at(0);
    const central = at(local + 1);
    assert.ok(local > 0 && central > local);
    for (const [where, pos] of [
      ['central directory', [central]],
      ['local and central headers', [local, central]],
    ] as const) {
      const twice = good.slice();
      for (const p of pos) twice[p] = 'X'.charCodeAt(0);
      const message = await rejectsWith(() => loadDataset(twice, 'twice.npz'), 'twice.npz', "'X.npy'", 'twice');
      assert.doesNotMatch(message, /internal/, where);
    }
  });

  it('a damaged or empty archive', async () => {
    await rejectsWith(() => loadDataset(new Uint8Array(0), 'empty.npz'), 'empty.npz');
    await rejectsWith(() => loadDataset(zipSync({}), 'none.npz'), 'none.npz', 'no arrays');
    const cut = fixture('npy/xy_deflated.npz').subarray(0, 200);
    await rejectsWith(() => loadDataset(cut, 'cut.npz'), 'cut.npz');
  });
});

describe('.npz for prediction and across train/test', () => {
  it('an archive with only X is rows to predict, refused as training data', async () => {
    const e = expected['xy_deflated.npz'];
    const { schema } = await loadDataset(fixture('npy/xy_deflated.npz'), 'train.npz');
    const onlyX = zipSync({ 'X.npy': fixture('npy/f4_c_le.npy') });
    await rejectsWith(() => loadDataset(onlyX, 'x.npz'), 'x.npz', "only the feature array 'X'", "'y'");
    const { dataset } = await loadDataset(onlyX, 'x.npz', { targetOptional: true }, schema);
    assert.equal(dataset.hasTarget, false);
    assertClose(dataset.X.data, expected['f4_c_le.npy'].values, 0, 'X');
    assert.equal(e.arrays.X.shape[1], 3);
  });

  it("a test archive's target is found by the training target's name", async () => {
    const { schema } = await loadDataset(fixture('npy/named.npz'), 'train.npz', {
      xArray: 'features',
      yArray: 'labels',
    });
    const e = expected['named.npz'];
    const { dataset } = await loadDataset(fixture('npy/named.npz'), 'test.npz', { xArray: 'features' }, schema);
    assertClose(dataset.y, e.arrays.labels.values, 0, 'labels');
  });
});

describe('degenerate .npy shapes', () => {
  it('no columns, one column, no rows', async () => {
    const header = (shape: string) => {
      let h = `{'descr': '<f8', 'fortran_order': False, 'shape': ${shape}, }`;
      h += ' '.repeat(64 - ((10 + h.length + 1) % 64)) + '\n';
      const out = new Uint8Array(10 + h.length + 8 * 4);
      out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, h.length, 0]);
      out.set(new TextEncoder().encode(h), 10);
      return out;
    };
    await rejectsWith(() => inspectDataset(header('(4, 0)'), 'none.npy'), 'none.npy', 'no columns');
    await rejectsWith(() => loadDataset(header('(4, 0)'), 'none.npy'), 'none.npy', '0 column');
    await rejectsWith(() => loadDataset(header('(4, 1)'), 'one.npy'), 'one.npy', '1 column');
    await rejectsWith(() => loadDataset(header('(0, 3)'), 'rows.npy'), 'rows.npy', 'no data rows');
  });
});

describe('bytes in a Node Buffer at an offset (as workspace.fs.readFile and the Buffer pool give them)', () => {
  for (const name of ['npy/f8_c_le.npy', 'iris.parquet']) {
    it(`${name} loads the same numbers as from a fresh Uint8Array`, async () => {
      const plain = new Uint8Array(fixture(name));
      const pooled = Buffer.alloc(plain.length + 3);
      pooled.set(plain, 3);
      const offset = pooled.subarray(3); // a Buffer view with byteOffset 3 into a larger ArrayBuffer
      const a = await loadDataset(plain, name);
      const b = await loadDataset(offset, name);
      assert.deepEqual(Array.from(b.dataset.X.data), Array.from(a.dataset.X.data));
      assert.deepEqual(Array.from(b.dataset.y), Array.from(a.dataset.y));
    });
  }
});
