// The lin-RFM view's pictures: a matrix small enough is shown whole, a larger one as block means
// computed independently here (every cell the mean of its block's finite entries), the mask as 1/0.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { matrixPicture, observedMask, pictureNames, PICTURE_MAX } from '../../src/protocol/linrfm';

test('a matrix within the picture size is shown whole, entry for entry', () => {
  const v = Float64Array.from({ length: 12 }, (_, k) => k * 0.5 - 2);
  const p = matrixPicture(v, 3, 4);
  assert.deepEqual([p.shownRows, p.shownCols, p.rowStep, p.colStep], [3, 4, 1, 1]);
  assert.deepEqual(Array.from(new Float64Array(p.data)), Array.from(v));
  assert.deepEqual(pictureNames(4, 1), ['0', '1', '2', '3']);
});

test('a 1000 x 90 matrix is drawn as block means of 13 x 2 blocks (the last blocks smaller), NaN skipped', () => {
  const rows = 1000;
  const cols = 90;
  const v = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) v[i * cols + j] = (i * 7 + j * 3) % 11 === 0 ? NaN : Math.sin(i) * j;
  const p = matrixPicture(v, rows, cols, PICTURE_MAX);
  assert.equal(p.rowStep, Math.ceil(rows / PICTURE_MAX));
  assert.equal(p.colStep, Math.ceil(cols / PICTURE_MAX));
  assert.equal(p.shownRows, Math.ceil(rows / p.rowStep));
  assert.equal(p.shownCols, Math.ceil(cols / p.colStep));
  assert.ok(p.shownRows <= PICTURE_MAX && p.shownCols <= PICTURE_MAX);
  const got = new Float64Array(p.data);
  for (const [bi, bj] of [
    [0, 0],
    [5, 17],
    [p.shownRows - 1, p.shownCols - 1],
  ]) {
    let sum = 0;
    let n = 0;
    for (let i = bi * p.rowStep; i < Math.min(rows, (bi + 1) * p.rowStep); i++)
      for (let j = bj * p.colStep; j < Math.min(cols, (bj + 1) * p.colStep); j++) {
        const x = v[i * cols + j];
        if (Number.isNaN(x)) continue;
        sum += x;
        n++;
      }
    assert.ok(Math.abs(got[bi * p.shownCols + bj] - sum / n) < 1e-12, `block ${bi},${bj}`);
  }
  const names = pictureNames(rows, p.rowStep);
  assert.equal(names.length, p.shownRows);
  assert.equal(names[0], `0–${p.rowStep - 1}`);
  assert.equal(names[names.length - 1], `${(p.shownRows - 1) * p.rowStep}–999`);
});

test('the observed mask is 1 where a value is present and 0 where it is missing; an all-missing block is NaN', () => {
  const v = Float64Array.from([1, NaN, -0, NaN, NaN, 3]);
  assert.deepEqual(Array.from(observedMask(v)), [1, 0, 1, 0, 0, 1]);
  const p = matrixPicture(Float64Array.from([NaN, NaN, 1, 2]), 1, 4, 2);
  assert.deepEqual(Array.from(new Float64Array(p.data)), [NaN, 1.5]);
  // Crosses the channel (structured clone) intact.
  assert.deepEqual(Array.from(new Float64Array(structuredClone(p).data)), [NaN, 1.5]);
});
