// ConvRFM on WebGPU against the float64 CPU backend: the patch kernel matrix (both kernels, with and
// without a second set, row tiles) and whole fits on the motif task.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hostGpu } from '../../src/core/node';
import { CpuConvRfmBackend, patchKernelMatrix } from '../../src/core/rfm/conv-backend';
import { fitConvRfm } from '../../src/core/rfm/conv-fit';
import { patchGeometry, transformedPatches } from '../../src/core/rfm/conv-patches';
import { WebGpuConvRfmBackend } from '../../src/core/rfm/conv-webgpu';
import { mat } from '../../src/core/mat';
import { motifImages } from '../helpers/motif';
import { randomMat, relErr } from './helpers';

describe('ConvRFM WebGPU vs CPU float64', () => {
  let gpu: WebGpuConvRfmBackend;
  let tiled: WebGpuConvRfmBackend;
  before(async () => {
    const g = await hostGpu();
    gpu = await WebGpuConvRfmBackend.create(g, { keepAlive: g });
    tiled = await WebGpuConvRfmBackend.create(g, { keepAlive: g, maxTileRows: 8 });
  });
  after(() => {
    gpu?.dispose();
    tiled?.dispose();
  });

  for (const name of ['laplace', 'gaussian'] as const)
    it(`${name}: the patch kernel matrix within f32 rounding`, async () => {
      const shape = [3, 9, 7] as const;
      const g = patchGeometry(shape, 3, 2, 'data');
      const R = randomMat(g.D - 5, g.D, 3, 0.4); // rank-deficient R, as after an AGOP update
      const A = transformedPatches(randomMat(37, 3 * 9 * 7, 1), g, mat(R.rows, R.cols, R.data));
      const B = transformedPatches(randomMat(21, 3 * 9 * 7, 2), g, R);
      const kernel = { name, bandwidth: name === 'laplace' ? 4 : 2 };
      const self = await gpu.kernelMatrix(A, undefined, kernel);
      const cross = await gpu.kernelMatrix(A, B, kernel);
      const errSelf = relErr(self, patchKernelMatrix(A, undefined, kernel));
      const errCross = relErr(cross, patchKernelMatrix(A, B, kernel));
      assert.ok(errSelf < 1e-5, `self ${errSelf}`);
      assert.ok(errCross < 1e-5, `cross ${errCross}`);
      // Row tiles of 8 (5 dispatches for 37 rows) give the same matrix.
      assert.deepEqual(await tiled.kernelMatrix(A, B, kernel), cross);
      assert.equal(gpu.liveBuffers, 0);
      assert.equal(tiled.liveBuffers, 0);
    });

  it('a whole fit on the motif task: the same accuracies, M within 1e-3', async () => {
    const train = motifImages(120, 8, 1, 0.3, 1, 3);
    const test = motifImages(100, 8, 2, 0.3, 1, 3);
    const opts = { iters: 2, patch: 3 };
    const onCpu = await fitConvRfm(train, opts, { backend: new CpuConvRfmBackend(), test });
    const onGpu = await fitConvRfm(train, opts, { backend: gpu, test });
    assert.equal(onGpu.backend, 'webgpu');
    assert.deepEqual(
      onGpu.iterations.map((it) => it.testMetric),
      onCpu.iterations.map((it) => it.testMetric),
    );
    const errM = relErr(onGpu.M, onCpu.M);
    assert.ok(errM < 1e-3, `M relative error ${errM}`);
    assert.equal(gpu.liveBuffers, 0);
  });
});
