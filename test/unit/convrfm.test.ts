// ConvRFM (SCIENCE.md §6): the aligned-patch kernel and the patch-AGOP against their definitions, the
// patch grid, the budget, and the fit learning a local motif.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CpuConvRfmBackend, patchKernelMatrix } from '../../src/core/rfm/conv-backend';
import { fitConvRfm, patchAgop, parseConvRfmOptions } from '../../src/core/rfm/conv-fit';
import { patchGeometry, transformedPatches } from '../../src/core/rfm/conv-patches';
import { convRfmResultToJson } from '../../src/core/rfm/conv-report';
import { toConvRfmView } from '../../src/protocol/convrfm';
import { InputError } from '../../src/core/errors';
import { mat, type Mat } from '../../src/core/mat';
import { normal, rng } from '../../src/core/random';
import { eighSym } from '../../src/core/linalg/eigh';
import { motifImages } from '../helpers/motif';

const gauss = (seed: number) => normal(rng(seed));

function randomImages(n: number, shape: readonly [number, number, number], seed: number): Mat {
  const g = gauss(seed);
  const d = shape[0] * shape[1] * shape[2];
  return mat(
    n,
    d,
    Float64Array.from({ length: n * d }, () => g()),
  );
}

/** A random symmetric positive definite D x D matrix and R with RᵀR = M. */
function randomMetric(D: number, seed: number): { M: Float64Array; R: Mat } {
  const g = gauss(seed);
  const A = Float64Array.from({ length: D * D }, () => 0.4 * g());
  const M = new Float64Array(D * D);
  for (let i = 0; i < D; i++)
    for (let j = 0; j < D; j++) {
      let s = i === j ? 0.5 : 0;
      for (let k = 0; k < D; k++) s += A[i * D + k] * A[j * D + k];
      M[i * D + j] = s;
    }
  const { values, vectors } = eighSym(M, D);
  const R = new Float64Array(D * D);
  for (let r = 0; r < D; r++) for (let j = 0; j < D; j++) R[r * D + j] = Math.sqrt(values[r]) * vectors[j * D + r];
  return { M, R: mat(D, D, R) };
}

/** Pixel (c, y, x) of image i, straight from the (C, H, W) flattening. */
const pixel = (X: Mat, shape: readonly number[], i: number, c: number, y: number, x: number) =>
  X.data[i * X.cols + (c * shape[1] + y) * shape[2] + x];

/** The patch of image i at corner (y0, x0): C·q·q values in (channel, row, column) order, written out plainly. */
function patchOf(X: Mat, shape: readonly number[], i: number, y0: number, x0: number, q: number): number[] {
  const out: number[] = [];
  for (let c = 0; c < shape[0]; c++)
    for (let a = 0; a < q; a++) for (let b = 0; b < q; b++) out.push(pixel(X, shape, i, c, y0 + a, x0 + b));
  return out;
}

function mDistance(u: number[], v: number[], M: Float64Array): number {
  const D = u.length;
  let s = 0;
  for (let a = 0; a < D; a++) for (let b = 0; b < D; b++) s += (u[a] - v[a]) * M[a * D + b] * (u[b] - v[b]);
  return Math.sqrt(Math.max(s, 0));
}

/** K(x, z) = (1/P) Σ_p κ(|x_p - z_p|_M) over the positions of a stride-s grid, from the definition. */
function directKernel(
  A: Mat,
  i: number,
  B: Mat,
  j: number,
  shape: readonly [number, number, number],
  q: number,
  s: number,
  M: Float64Array,
  kappa: (r: number) => number,
): number {
  let sum = 0,
    P = 0;
  for (let y = 0; y + q <= shape[1]; y += s)
    for (let x = 0; x + q <= shape[2]; x += s) {
      sum += kappa(mDistance(patchOf(A, shape, i, y, x, q), patchOf(B, shape, j, y, x, q), M));
      P++;
    }
  return sum / P;
}

describe('patch grid', () => {
  it('counts positions with the stride and orders patch entries (channel, row, column)', () => {
    const g = patchGeometry([2, 7, 6], 3, 2, 'data');
    assert.equal(g.down, 3); // rows 0, 2, 4
    assert.equal(g.across, 2); // columns 0, 2
    assert.equal(g.P, 6);
    assert.equal(g.D, 18);
    const X = randomImages(2, [2, 7, 6], 1);
    const I = mat(
      18,
      18,
      Float64Array.from({ length: 18 * 18 }, (_, k) => (k % 19 === 0 ? 1 : 0)),
    );
    const S = transformedPatches(X, g, I);
    // Position 3 = row 1, column 1 of the grid: corner (2, 2); image 1.
    const got = Array.from(S.data.subarray((3 * 2 + 1) * 18, (3 * 2 + 2) * 18));
    assert.deepEqual(got, patchOf(X, [2, 7, 6], 1, 2, 2, 3));
  });

  it('refuses a patch larger than the image, naming the data and the flag', () => {
    assert.throws(
      () => patchGeometry([1, 5, 4], 5, 1, 'imgs.npz'),
      (e: Error) => {
        assert.ok(e instanceof InputError);
        assert.match(
          e.message,
          /imgs\.npz: patch size 5 does not fit images of 5 x 4 pixels; expected --patch between 1 and 4/,
        );
        return true;
      },
    );
  });
});

describe('aligned-patch kernel', () => {
  for (const kernel of ['laplace', 'gaussian'] as const)
    it(`${kernel}: equals (1/P) Σ_p κ(|x_p - z_p|_M) computed from the images`, () => {
      const shape = [2, 6, 5] as const;
      const q = 3,
        s = 2;
      const g = patchGeometry(shape, q, s, 'data');
      const { M, R } = randomMetric(g.D, 7);
      const A = randomImages(4, shape, 2);
      const B = randomImages(3, shape, 3);
      const spec = { name: kernel, bandwidth: 2.5 };
      const kappa =
        kernel === 'laplace' ? (r: number) => Math.exp(-r / 2.5) : (r: number) => Math.exp(-(r * r) / (2 * 2.5 * 2.5));
      const Ka = transformedPatches(A, g, R);
      const cross = patchKernelMatrix(Ka, transformedPatches(B, g, R), spec);
      const self = patchKernelMatrix(Ka, undefined, spec);
      for (let i = 0; i < 4; i++) {
        for (let j = 0; j < 3; j++) {
          const want = directKernel(A, i, B, j, shape, q, s, M, kappa);
          assert.ok(Math.abs(cross[i * 3 + j] - want) < 1e-12, `K(A${i}, B${j}) = ${cross[i * 3 + j]}, want ${want}`);
        }
        for (let j = 0; j < 4; j++) {
          const want = i === j ? 1 : directKernel(A, i, A, j, shape, q, s, M, kappa);
          assert.ok(Math.abs(self[i * 4 + j] - want) < 1e-12, `K(A${i}, A${j}) = ${self[i * 4 + j]}, want ${want}`);
        }
      }
    });
});

describe('patch-AGOP', () => {
  it('equals the mean over images and positions of ∇_{z_p} f ∇_{z_p} fᵀ by finite differences', async () => {
    const shape = [1, 5, 5] as const;
    const q = 3;
    const g = patchGeometry(shape, q, 1, 'data');
    const { M, R } = randomMetric(g.D, 11);
    const X = randomImages(12, shape, 4);
    const Z = randomImages(3, shape, 5);
    const gz = gauss(6);
    const alpha = mat(
      12,
      2,
      Float64Array.from({ length: 24 }, () => gz()),
    );
    const L = 3;
    const G = await patchAgop(
      new CpuConvRfmBackend(),
      transformedPatches(Z, g, R),
      transformedPatches(X, g, R),
      R,
      { name: 'laplace', bandwidth: L },
      alpha,
    );
    // f_c with the patch at position (y0, x0) of z replaced by `zp` (the other patches stay z's).
    const f = (z: number, y0: number, x0: number, zp: number[], c: number) => {
      let s = 0;
      for (let i = 0; i < 12; i++) {
        let k = 0;
        for (let y = 0; y + q <= 5; y++)
          for (let x = 0; x + q <= 5; x++) {
            const mine = y === y0 && x === x0 ? zp : patchOf(Z, shape, z, y, x, q);
            k += Math.exp(-mDistance(mine, patchOf(X, shape, i, y, x, q), M) / L);
          }
        s += alpha.data[i * 2 + c] * (k / g.P);
      }
      return s;
    };
    const want = new Float64Array(g.D * g.D);
    const h = 1e-5;
    for (let z = 0; z < 3; z++)
      for (let y = 0; y + q <= 5; y++)
        for (let x = 0; x + q <= 5; x++)
          for (let c = 0; c < 2; c++) {
            const base = patchOf(Z, shape, z, y, x, q);
            const grad = base.map((_, t) => {
              const up = [...base],
                down = [...base];
              up[t] += h;
              down[t] -= h;
              return (f(z, y, x, up, c) - f(z, y, x, down, c)) / (2 * h);
            });
            for (let a = 0; a < g.D; a++)
              for (let b = 0; b < g.D; b++) want[a * g.D + b] += (grad[a] * grad[b]) / (3 * g.P);
          }
    const scale = Math.max(...want.map(Math.abs));
    assert.ok(scale > 0);
    for (let i = 0; i < want.length; i++)
      assert.ok(Math.abs(G.data[i] - want[i]) < 1e-7 * scale, `G[${i}] = ${G.data[i]}, finite differences ${want[i]}`);
  });
});

describe('fitConvRfm', () => {
  it('learns the local motif: test accuracy rises over its first iteration', async () => {
    // Plus vs cross motifs near the centre (±1 pixel), a large random brightness per image hiding them.
    const train = motifImages(200, 8, 1, 0.3, 1, 3);
    const test = motifImages(300, 8, 2, 0.3, 1, 3);
    const r = await fitConvRfm(train, { iters: 3, patch: 3 }, { backend: new CpuConvRfmBackend(), test });
    const acc = r.iterations.map((it) => it.testMetric!);
    assert.equal(acc.length, 4);
    assert.ok(acc[3] >= acc[0] + 0.05, `test accuracy per iteration ${acc.join(', ')}`);
    assert.ok(r.iterations[3].testMse! < r.iterations[0].testMse!);
    // M is the patch metric: 9 x 9, symmetric, max-normalised, and it ignores the brightness direction
    // (a constant patch) far more than the plus-minus-cross direction.
    assert.equal(r.patchDim, 9);
    assert.equal(Math.max(...r.M), 1);
    const quad = (v: number[]) => v.reduce((s, a, i) => s + v.reduce((t, b, j) => t + a * r.M[i * 9 + j] * b, 0), 0);
    const ones = Array(9).fill(1 / 3);
    const plusMinusCross = [-1, 1, -1, 1, 0, 1, -1, 1, -1].map((v) => v / Math.sqrt(8));
    assert.ok(quad(plusMinusCross) > 3 * quad(ones), `v'Mv ${quad(plusMinusCross)} vs 1'M1 ${quad(ones)}`);
  });

  it('the JSON report carries the contract fields', async () => {
    const data = motifImages(30, 6, 3, 0.3, 1, 1);
    const r = await fitConvRfm(
      data,
      { iters: 1, patch: 2, stride: 2 },
      { backend: new CpuConvRfmBackend(), valFraction: 0.2 },
    );
    const j = convRfmResultToJson(r);
    assert.equal(j.task, 'classification');
    assert.equal(j.n_train + j.n_test, 30);
    assert.equal(j.n_test, 6);
    assert.equal(j.patch, 2);
    assert.equal(j.positions, 9);
    assert.deepEqual(j.image_shape, [1, 6, 6]);
    assert.deepEqual(
      j.iterations.map((it) => it.iter),
      [0, 1],
    );
    assert.equal(j.final.test_metric, j.iterations[1].test_metric);
    assert.equal(j.M.length, 4);
    assert.ok(j.M.every((row) => row.length === 4));
    // The view's message carries the same numbers (M as a float64 buffer).
    const v = toConvRfmView(r, { title: 't', data: 'd', report: JSON.stringify(j) });
    assert.deepEqual(Array.from(new Float64Array(v.M)), j.M.flat());
    assert.deepEqual(
      v.iterations.map((it) => it.testMetric),
      j.iterations.map((it) => it.test_metric),
    );
    assert.deepEqual(v.imageShape, [1, 6, 6]);
    assert.equal(v.patchDim, 4);
  });

  it('refuses data without an image shape, and a fit over the CPU budget before allocating patches', async () => {
    const { imageShape: _, ...flat } = motifImages(10, 6, 1);
    await assert.rejects(
      fitConvRfm(flat, {}, { backend: new CpuConvRfmBackend() }),
      (e: Error) => e instanceof InputError && /motif-1: has no image shape.*--image-shape/.test(e.message),
    );
    const big = motifImages(3000, 32, 1);
    await assert.rejects(
      fitConvRfm(big, { patch: 3 }, { backend: new CpuConvRfmBackend() }),
      (e: Error) =>
        e instanceof InputError &&
        /motif-1: a ConvRFM fit of 3000 rows, 900 positions.*over the limit of 600 s/.test(e.message),
    );
  });

  it('options are checked with the flag named', () => {
    assert.deepEqual(parseConvRfmOptions({ patch: '5', stride: '2' }, (k) => `--${k}`, { text: true }).patch, 5);
    assert.throws(
      () => parseConvRfmOptions({ patch: '0' }, (k) => `--${k}`, { text: true }),
      /--patch: expected an integer 1..1024, got '0'/,
    );
    assert.throws(
      () => parseConvRfmOptions({ kernel: 'rbf' }, (k) => `--${k}`, { text: true }),
      /--kernel: expected one of laplace, gaussian/,
    );
  });
});
