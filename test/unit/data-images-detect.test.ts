// Image-shaped features: which tables are images (and of what shape), and diag(M) / M's eigenvectors as
// images, checked on hand-built matrices and on an RFM fitted to 300 of sklearn's 8 x 8 digits.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { detectImageShape, matrixImages } from '../../src/core/data/images';
import { readDatasetFile } from '../../src/core/data/node';
import { CpuBackend } from '../../src/core/rfm/cpu';
import { fitRfm } from '../../src/core/rfm/fit';
import { fitConvRfm } from '../../src/core/rfm/conv-fit';
import { CpuConvRfmBackend } from '../../src/core/rfm/conv-backend';

const grid = (h: number, w: number, name: (r: number, c: number) => string) =>
  [...Array(h * w).keys()].map((i) => name(Math.floor(i / w), i % w));

test('px_r_c and pixel_r_c names in row-major order are an H x W image, from 0 or 1', () => {
  assert.deepEqual(detectImageShape(grid(8, 8, (r, c) => `px_${r}_${c}`)), { shape: [1, 8, 8], source: 'names' });
  assert.deepEqual(detectImageShape(grid(4, 6, (r, c) => `pixel_${r + 1}_${c + 1}`))?.shape, [1, 4, 6]);
  assert.deepEqual(detectImageShape(grid(3, 3, (r, c) => `PX${r}x${c}`))?.shape, [1, 3, 3]);
  // With a channel index: C, H, W.
  const rgb = [0, 1, 2].flatMap((ch) => grid(2, 2, (r, c) => `px_${ch}_${r}_${c}`));
  assert.deepEqual(detectImageShape(rgb)?.shape, [3, 2, 2]);
});

test('pixel names out of row-major order, with a gap, or mixed with other columns are not an image', () => {
  const names = grid(4, 4, (r, c) => `px_${r}_${c}`);
  assert.equal(
    detectImageShape(
      grid(4, 4, (r, c) => `px_${c}_${r}`)
        .slice(0, 15)
        .concat('px_3_3'),
    ),
    null,
  );
  assert.equal(detectImageShape([...names.slice(0, 15), 'age']), null);
  assert.equal(detectImageShape(names.filter((n) => n !== 'px_2_2')), null);
  // Column-major order: the layout would be transposed, so no guess.
  assert.equal(detectImageShape(grid(4, 4, (r, c) => `px_${c}_${r}`)), null);
});

test('numbered pixel names on a square count: pixel0..pixel783 and pixel1..pixel784 are 28 x 28', () => {
  const n = (from: number, k: number, p = 'pixel') => [...Array(k).keys()].map((i) => `${p}${i + from}`);
  assert.deepEqual(detectImageShape(n(0, 784)), { shape: [1, 28, 28], source: 'numbered' });
  assert.deepEqual(detectImageShape(n(1, 784))?.shape, [1, 28, 28]);
  assert.deepEqual(detectImageShape(n(0, 16, 'px_'))?.shape, [1, 4, 4]);
  assert.equal(detectImageShape(n(0, 783)), null); // not a square
  assert.equal(detectImageShape(n(2, 784)), null); // does not start at 0 or 1
});

test('anonymous numbered columns are an image only from 8 x 8 up; iris is never one', () => {
  const cols = (k: number, p: string) => [...Array(k).keys()].map((i) => `${p}${i}`);
  assert.deepEqual(detectImageShape(cols(64, 'col')), { shape: [1, 8, 8], source: 'square' });
  assert.deepEqual(detectImageShape(cols(64, 'x'))?.shape, [1, 8, 8]);
  assert.deepEqual(detectImageShape(cols(100, ''))?.shape, [1, 10, 10]);
  assert.equal(detectImageShape(cols(16, 'col')), null);
  assert.equal(detectImageShape(cols(63, 'col')), null);
  assert.equal(detectImageShape(['sepal_length', 'sepal_width', 'petal_length', 'petal_width']), null);
});

test('a declared shape (Dataset.imageShape, --image-shape) wins when it fits the feature count', () => {
  const names = [...Array(48).keys()].map((i) => `f${i}`);
  assert.deepEqual(detectImageShape(names, [3, 4, 4]), { shape: [3, 4, 4], source: 'declared' });
  assert.equal(detectImageShape(names, [3, 4, 5]), null); // 60 pixels for 48 features: ignored
});

test('matrixImages: diag(M) unsigned, then the top eigenvectors signed with their largest loading positive', () => {
  // M = diag(p) + 5 u u^T with u a unit "vertical bar" in a 3 x 3 image: the top eigenvector is close to u.
  const d = 9;
  const u = new Float64Array(d);
  [1, 4, 7].forEach((i) => (u[i] = -1 / Math.sqrt(3))); // negative: the image must flip it
  const p = [0.1, 0.2, 0.1, 0.2, 0.3, 0.2, 0.1, 0.2, 0.1];
  const M = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) M[i * d + j] = (i === j ? p[i] : 0) + 5 * u[i] * u[j];
  const imgs = matrixImages(M, [1, 3, 3], 2);
  assert.equal(imgs.length, 3);
  assert.equal(imgs[0].title, 'diag(M)');
  assert.equal(imgs[0].signed, false);
  imgs[0].data.forEach((v, i) => assert.ok(Math.abs(v - M[i * d + i]) < 1e-15));
  const v1 = imgs[1].data;
  assert.equal(imgs[1].signed, true);
  // Rayleigh quotient of v1 is the top eigenvalue; v1 is within a small angle of -u (sign flipped).
  let dot = 0;
  for (let i = 0; i < d; i++) dot += v1[i] * -u[i];
  assert.ok(dot > 0.99, `cos(v1, -u) = ${dot}`);
  assert.match(imgs[1].title, /^v1 of M \(λ=5\.\d\d\)$/);
  assert.ok(Math.max(...v1) === Math.max(...v1.map(Math.abs)));
  assert.throws(() => matrixImages(M, [1, 2, 2]), /4 x 4 matrix/);
});

test('digits (300 rows, px_r_c): an 8 x 8 image, and the RFM gives the always-blank border pixels no weight', async () => {
  const { dataset } = await readDatasetFile('test/fixtures/digits.csv', { target: 'digit' });
  const det = detectImageShape(dataset.featureNames);
  assert.deepEqual(det, { shape: [1, 8, 8], source: 'names' });
  const r = await fitRfm(
    dataset,
    { iters: 1, bandwidth: 10, reg: 1e-3, normalize: 'none', agopPower: 1, standardize: false },
    { backend: new CpuBackend() },
  );
  const [diag, v1] = matrixImages(r.M, det!.shape, 1);
  // A pixel that is 0 in every training row: every kernel derivative along it is (x_j - z_j) = 0, so the
  // AGOP (diag(M) after round 0) is exactly 0 there; px_0_0 is blank in all of digits.
  const X = dataset.X;
  const blank = [...Array(64).keys()].filter((j) => {
    for (let i = 0; i < X.rows; i++) if (X.data[i * X.cols + j] !== 0) return false;
    return true;
  });
  assert.ok(blank.includes(0), 'px_0_0 is blank');
  const max = Math.max(...diag.data);
  assert.ok(max > 0);
  for (const j of blank) assert.ok(Math.abs(diag.data[j]) <= 1e-12 * max, `blank pixel ${j}: ${diag.data[j]}`);
  for (const j of blank) assert.ok(Math.abs(v1.data[j]) < 1e-9, `v1 has no loading on blank pixel ${j}`);
  // The weight sits inside the frame: the centre 4 x 4 holds more than the outer ring.
  const centre = [2, 3, 4, 5].flatMap((rr) => [2, 3, 4, 5].map((c) => diag.data[rr * 8 + c]));
  const ring = [...Array(64).keys()].filter((j) => [0, 7].includes(j % 8) || [0, 7].includes(Math.floor(j / 8)));
  const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
  assert.ok(mean(centre) > 2 * mean(ring.map((j) => diag.data[j])));
});

test('ConvRFM reads a table with px_r_c columns as images without a declared shape (digits: 1 x 8 x 8)', async () => {
  const { dataset } = await readDatasetFile('test/fixtures/digits.csv', { target: 'digit' });
  assert.equal(dataset.imageShape, undefined, 'nothing declared');
  const r = await fitConvRfm(dataset, { iters: 1, patch: 3 }, { backend: new CpuConvRfmBackend() });
  assert.deepEqual(r.imageShape, [1, 8, 8]);
  // 3 x 3 patches at stride 1 over 8 x 8: a 9 x 9 patch feature matrix.
  assert.equal(r.M.length, 81);
});
