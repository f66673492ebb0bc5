// Image-shaped datasets: 3-/4-D arrays in .npz, channels-last, and 2-D tables with a declared shape.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadDataset } from '../../src/core/data/index';
import { parseImageShape } from '../../src/core/data/images';
import { splitDataset } from '../../src/core/data/split';
import { npyOf, npzOf } from '../helpers/npy';
import { rejectsWith, text } from './data-helpers';

/** Pixel value that encodes its own (image, channel, row, column): easy to check after any reordering. */
const tag = (i: number, c: number, y: number, x: number) => i * 1000 + c * 100 + y * 10 + x;

function images(n: number, c: number, h: number, w: number, channelsLast = false): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++)
    if (channelsLast) {
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) out.push(tag(i, k, y, x));
    } else {
      for (let k = 0; k < c; k++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out.push(tag(i, k, y, x));
    }
  return out;
}

/** The row-major (C, H, W) flattening every image dataset must end up with. */
function expectCHW(X: { rows: number; cols: number; data: Float64Array }, n: number, c: number, h: number, w: number) {
  assert.equal(X.rows, n);
  assert.equal(X.cols, c * h * w);
  assert.deepEqual(Array.from(X.data), images(n, c, h, w));
}

const labels = (n: number) => Array.from({ length: n }, (_, i) => i % 2);

describe('image arrays in an .npz', () => {
  it('(N, C, H, W) keeps its order and sets imageShape', async () => {
    const bytes = npzOf({
      X: { shape: [4, 2, 3, 5], values: images(4, 2, 3, 5) },
      y: { shape: [4], values: labels(4) },
    });
    const { dataset } = await loadDataset(bytes, 'imgs.npz', { target: 'y' });
    assert.deepEqual(dataset.imageShape, [2, 3, 5]);
    expectCHW(dataset.X, 4, 2, 3, 5);
    assert.deepEqual(Array.from(dataset.y), [0, 1, 0, 1]);
    assert.equal(dataset.task, 'classification');
  });

  it('(N, H, W) is one channel', async () => {
    const bytes = npzOf({ X: { shape: [3, 4, 2], values: images(3, 1, 4, 2) }, y: { shape: [3], values: [1, 2, 1] } });
    const { dataset } = await loadDataset(bytes, 'grey.npz');
    assert.deepEqual(dataset.imageShape, [1, 4, 2]);
    expectCHW(dataset.X, 3, 1, 4, 2);
  });

  it('(N, H, W, C) with channelsLast is reordered to (C, H, W)', async () => {
    const bytes = npzOf({
      X: { shape: [2, 6, 5, 3], values: images(2, 3, 6, 5, true) },
      y: { shape: [2], values: [0.5, 1.5] },
    });
    const { dataset } = await loadDataset(bytes, 'rgb.npz', { channelsLast: true });
    assert.deepEqual(dataset.imageShape, [3, 6, 5]);
    expectCHW(dataset.X, 2, 3, 6, 5);
  });

  it('infers channels-last only when the last axis looks like channels and axis 1 does not', async () => {
    const last = npzOf({
      X: { shape: [2, 8, 8, 3], values: images(2, 3, 8, 8, true) },
      y: { shape: [2], values: [0, 1] },
    });
    assert.deepEqual((await loadDataset(last, 'a.npz')).dataset.imageShape, [3, 8, 8]);
    expectCHW((await loadDataset(last, 'a.npz')).dataset.X, 2, 3, 8, 8);
    const first = npzOf({ X: { shape: [2, 3, 8, 4], values: images(2, 3, 8, 4) }, y: { shape: [2], values: [0, 1] } });
    assert.deepEqual((await loadDataset(first, 'b.npz')).dataset.imageShape, [3, 8, 4]);
    // channelsLast: false overrides the guess.
    const forced = await loadDataset(last, 'a.npz', { channelsLast: false });
    assert.deepEqual(forced.dataset.imageShape, [8, 8, 3]);
  });

  it('a declared shape must agree with the array', async () => {
    const bytes = npzOf({ X: { shape: [2, 1, 2, 2], values: images(2, 1, 2, 2) }, y: { shape: [2], values: [0, 1] } });
    assert.deepEqual((await loadDataset(bytes, 'ok.npz', { imageShape: [1, 2, 2] })).dataset.imageShape, [1, 2, 2]);
    await rejectsWith(
      () => loadDataset(bytes, 'bad.npz', { imageShape: [1, 4, 1] }),
      'bad.npz',
      '1,2,2',
      '--image-shape',
      '1,4,1',
    );
  });

  it('labels that do not match the images and 5-D arrays are refused naming the file and array', async () => {
    const rows = npzOf({ X: { shape: [3, 1, 2, 2], values: images(3, 1, 2, 2) }, y: { shape: [2], values: [0, 1] } });
    await rejectsWith(() => loadDataset(rows, 'rows.npz'), 'rows.npz', "array 'y' has 2 rows", "'X' has 3");
    const five = npzOf({ X: { shape: [1, 1, 1, 2, 2], values: [1, 2, 3, 4] }, y: { shape: [1], values: [0] } });
    await rejectsWith(() => loadDataset(five, 'five.npz'), 'five.npz', "array 'X'", '(1, 1, 1, 2, 2)', '(N, C, H, W)');
    const yImg = npzOf({
      X: { shape: [2, 1, 2, 2], values: images(2, 1, 2, 2) },
      y: { shape: [2, 2], values: [0, 1, 1, 0] },
    });
    await rejectsWith(() => loadDataset(yImg, 'y2.npz'), 'y2.npz', "array 'y'", 'one target value per row');
  });

  it('a lone 4-D .npy has no labels: refused with the way out', async () => {
    await rejectsWith(
      () => loadDataset(npyOf([2, 1, 2, 2], images(2, 1, 2, 2)), 'imgs.npy'),
      'imgs.npy',
      '(2, 1, 2, 2)',
      'np.savez',
      '--image-shape',
    );
  });

  it('the split keeps the image shape', async () => {
    const bytes = npzOf({
      X: { shape: [10, 1, 2, 2], values: images(10, 1, 2, 2) },
      y: { shape: [10], values: labels(10) },
    });
    const { train, held } = splitDataset((await loadDataset(bytes, 's.npz')).dataset, 0.3, 1);
    assert.deepEqual(train.imageShape, [1, 2, 2]);
    assert.deepEqual(held.imageShape, [1, 2, 2]);
  });
});

describe('2-D tables with a declared image shape', () => {
  const csv = (channelsLast: boolean) => {
    const [c, h, w] = [2, 2, 3];
    const px = images(3, c, h, w, channelsLast);
    const header = [...Array.from({ length: c * h * w }, (_, j) => `p${j}`), 'label'].join(',');
    const rows = [0, 1, 2].map((i) => [...px.slice(i * 12, (i + 1) * 12), i === 1 ? 'cat' : 'dog'].join(','));
    return text([header, ...rows].join('\n') + '\n');
  };

  it('CSV pixels + a label column with --image-shape C,H,W', async () => {
    const { dataset } = await loadDataset(csv(false), 'px.csv', { target: 'label', imageShape: [2, 2, 3] });
    assert.deepEqual(dataset.imageShape, [2, 2, 3]);
    expectCHW(dataset.X, 3, 2, 2, 3);
    assert.deepEqual(dataset.classes, ['cat', 'dog']);
    assert.deepEqual(dataset.featureNames.slice(0, 3), ['p0', 'p1', 'p2']);
  });

  it('CSV pixels in (H, W, C) order with channelsLast are reordered, names with them', async () => {
    const { dataset, schema } = await loadDataset(csv(true), 'hwc.csv', {
      target: 'label',
      imageShape: [2, 2, 3],
      channelsLast: true,
    });
    expectCHW(dataset.X, 3, 2, 2, 3);
    // (C, H, W) position 1 is channel 0, row 0, column 1: column (0·3 + 1)·2 + 0 = 2 of the file.
    assert.equal(dataset.featureNames[1], 'p2');
    // A second file encoded with the training schema comes out the same way.
    const again = await loadDataset(csv(true), 'hwc2.csv', { imageShape: [2, 2, 3], channelsLast: true }, schema);
    assert.deepEqual(Array.from(again.dataset.X.data), Array.from(dataset.X.data));
    assert.deepEqual(again.dataset.featureNames, dataset.featureNames);
    assert.deepEqual(again.dataset.imageShape, [2, 2, 3]);
  });

  it('a 2-D .npy with the label as last column', async () => {
    const px = images(2, 1, 3, 3);
    const values = [...px.slice(0, 9), 0, ...px.slice(9), 1];
    const { dataset } = await loadDataset(npyOf([2, 10], values), 'flat.npy', { imageShape: [1, 3, 3] });
    assert.deepEqual(dataset.imageShape, [1, 3, 3]);
    expectCHW(dataset.X, 2, 1, 3, 3);
  });

  it('a wrong pixel count or a text feature is refused naming the file and the shape', async () => {
    await rejectsWith(
      () => loadDataset(csv(false), 'px.csv', { target: 'label', imageShape: [1, 3, 3] }),
      'px.csv',
      '1,3,3',
      'needs 9 pixel columns',
      "target 'label'",
      'there are 12',
    );
    await rejectsWith(
      () => loadDataset(csv(false), 'px.csv', { target: 'p0', imageShape: [2, 2, 3] }),
      'px.csv',
      "column 'label'",
      'text',
      '--image-shape',
    );
  });

  it('without a declared shape a table is not an image', async () => {
    const { dataset } = await loadDataset(csv(false), 'px.csv', { target: 'label' });
    assert.equal(dataset.imageShape, undefined);
  });
});

describe('parseImageShape', () => {
  it('reads C,H,W and H,W', () => {
    assert.deepEqual(parseImageShape('3,32,32', '--image-shape'), [3, 32, 32]);
    assert.deepEqual(parseImageShape('28, 28', '--image-shape'), [1, 28, 28]);
  });
  for (const bad of ['', '3', '3,0,2', '1,2,3,4', '3,2.5,2', 'a,b,c', '-1,2,2'])
    it(`refuses '${bad}'`, () => {
      assert.throws(
        () => parseImageShape(bad, '--image-shape'),
        /--image-shape: '.*' is not an image shape; expected C,H,W/,
      );
    });
});
