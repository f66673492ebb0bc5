import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMatrix } from '../../src/core/data/matrix';
import { encodeNpy } from '../../src/core/data/npy';

const te = new TextEncoder();
const same = (a: Float64Array, b: number[]) => assert.deepEqual(Array.from(a), b);

test('dense CSV with a header: empty cells, NA and NaN are missing', () => {
  const m = parseMatrix(te.encode('a,b,c\n1,,3.5\n4,5,NaN\nNA,8,9\n'), 'm.csv');
  assert.equal(m.format, 'csv');
  assert.deepEqual([m.rows, m.cols], [3, 3]);
  same(m.data, [1, NaN, 3.5, 4, 5, NaN, NaN, 8, 9]);
  assert.deepEqual(m.columnNames, ['a', 'b', 'c']);
});

test('dense CSV without a header keeps its first row as data', () => {
  const m = parseMatrix(te.encode('1.5,2,\n3,,4.25\n'), 'm.csv');
  assert.deepEqual([m.rows, m.cols], [2, 3]);
  same(m.data, [1.5, 2, NaN, 3, NaN, 4.25]);
  assert.equal(m.columnNames, undefined);
});

test('long format by header or by flag; absent entries are missing', () => {
  const m = parseMatrix(te.encode('row,col,value\n0,0,1.5\n2,1,-2\n1,3,4\n'), 'l.csv');
  assert.equal(m.format, 'long');
  assert.deepEqual([m.rows, m.cols], [3, 4]);
  same(m.data, [1.5, NaN, NaN, NaN, NaN, NaN, NaN, 4, NaN, -2, NaN, NaN]);
  const f = parseMatrix(te.encode('0,1,2.5\n1,0,3.5\n'), 'f.csv', { long: true });
  assert.deepEqual([f.rows, f.cols], [2, 2]);
  same(f.data, [NaN, 2.5, 3.5, NaN]);
});

test('long format errors name the file, line and field', () => {
  assert.throws(
    () => parseMatrix(te.encode('row,col,value\n0,0,1\n0,1.5,2\n'), 'l.csv'),
    /l\.csv: row 3, column 'col': expected a column index/,
  );
  assert.throws(
    () => parseMatrix(te.encode('row,col,value\n0,0,1\n0,0,2\n'), 'l.csv'),
    /l\.csv: row 3: entry \(0, 0\) is given a second time/,
  );
});

test('a word in a dense CSV is an error, not a missing entry', () => {
  assert.throws(
    () => parseMatrix(te.encode('1,2\n3,abc\n4,5\n'), 'w.csv'),
    /w\.csv: row 2, column 'col1': expected a number or an empty cell/,
  );
});

test('.npy: NaN is missing; 2-D only; infinities refused', () => {
  const m = parseMatrix(encodeNpy(Float64Array.from([1, NaN, 3, 4]), [2, 2]), 'm.npy');
  assert.equal(m.format, 'npy');
  same(m.data, [1, NaN, 3, 4]);
  assert.throws(
    () => parseMatrix(encodeNpy(Float64Array.from([1, 2]), [2]), 'v.npy'),
    /v\.npy: has shape \(2,\); expected a 2-D array/,
  );
  assert.throws(
    () => parseMatrix(encodeNpy(Float64Array.from([1, Infinity]), [1, 2]), 'i.npy'),
    /i\.npy: entry \[0, 1\]/,
  );
});
