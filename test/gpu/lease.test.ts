// The host's GPU lease: one device shared by runs (pipelines compiled once), handed back on dispose,
// freed when idle, replaced after a device loss.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BackendError } from '../../src/core/errors';
import { GpuLease } from '../../src/core/gpu/lease';
import { hostGpu } from '../../src/core/node';
import { WebGpuBackend } from '../../src/core/rfm/webgpu';
import { WebGpuNfaBackend } from '../../src/core/nfa/webgpu';
import { randomMat } from './helpers';
import { kernelMatrix } from '../../src/core/rfm/kernels/programs';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const lease = (idleMs = 50) =>
  new GpuLease({
    label: 'lease test',
    idleMs,
    gpu: async () => {
      const gpu = await hostGpu();
      return { gpu, keepAlive: gpu };
    },
  });

describe('GpuLease', () => {
  it('runs after one another and side by side share one device and its compiled pipelines', async () => {
    const l = lease(10_000);
    const kernel = { name: 'laplace' as const, bandwidth: 2 };
    const X = randomMat(16, 3, 1),
      alpha = randomMat(16, 1, 2);
    const a = await WebGpuBackend.leased(l);
    await a.predict(X, X, kernel, alpha);
    a.dispose();
    const [b, c] = await Promise.all([WebGpuBackend.leased(l), WebGpuNfaBackend.leased(l)]);
    await b.predict(X, X, kernel, alpha);
    assert.equal(l.created, 1);
    assert.equal(b.device, c.device);
    b.dispose();
    c.dispose();
    await assert.rejects(b.predict(X, X, kernel, alpha), BackendError);
    l.dispose();
  });

  it('pipelines warmed in the background are the ones later dispatches use (no second compile)', async () => {
    const l = lease(10_000);
    const ctx = await l.acquire();
    try {
      const constants = { KERNEL: 1, SYMMETRIC: 2, BAND: 256 };
      await ctx.warmPipelines([[kernelMatrix, constants]]);
      let syncCreates = 0;
      const device = ctx.device as GPUDevice & { createComputePipeline: GPUDevice['createComputePipeline'] };
      const create = device.createComputePipeline.bind(device);
      device.createComputePipeline = (desc) => {
        syncCreates++;
        return create(desc);
      };
      // Same constants in another key order: the cached pipeline.
      ctx.pipeline(kernelMatrix, { BAND: 256, SYMMETRIC: 2, KERNEL: 1 });
      assert.equal(syncCreates, 0);
      ctx.pipeline(kernelMatrix, { BAND: 256, SYMMETRIC: 0, KERNEL: 1 });
      assert.equal(syncCreates, 1, 'one not warmed is compiled on first use');
    } finally {
      l.release();
      l.dispose();
    }
  });

  it('frees the device after the idle period and makes a new one when asked again', async () => {
    const l = lease(30);
    const a = await WebGpuBackend.leased(l);
    a.dispose();
    await sleep(120);
    const b = await WebGpuBackend.leased(l);
    assert.equal(l.created, 2);
    b.dispose();
    l.dispose();
    await assert.rejects(l.acquire(), /disposed/);
  });

  it('a lost device is replaced at the next acquire', async () => {
    const l = lease(10_000);
    const ctx = await l.acquire();
    ctx.device.destroy();
    await sleep(20);
    assert.equal(ctx.isUsable, false);
    l.release();
    const next = await l.acquire();
    assert.notEqual(next, ctx);
    assert.equal(next.isUsable, true);
    l.release();
    l.dispose();
  });
});
