// GpuContext's paced read-backs (mapWhenDone): on a CPU-emulated adapter a read-back of a kind seen
// before sleeps 3/4 of its last time per unit of work before mapping, so that Dawn's event-loop poll
// does not take a core from the emulated device; elsewhere it maps at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GpuContext } from '../../src/core/gpu/context';

/** A device whose queue does nothing and whose staging buffers map `gpuMs` after being asked. */
function fakeDevice(gpuMs: number) {
  const mapCalls: number[] = [];
  const device = {
    limits: { maxStorageBufferBindingSize: 1 << 30, maxBufferSize: 1 << 30 },
    lost: new Promise(() => {}),
    queue: { submit() {} },
  };
  const staging = {
    mapAsync: () => {
      mapCalls.push(performance.now());
      return new Promise<void>((r) => setTimeout(r, gpuMs));
    },
    getMappedRange: () => new ArrayBuffer(16),
    unmap() {},
  };
  const enc = { copyBufferToBuffer() {}, finish: () => ({}) };
  return { device: device as unknown as GPUDevice, staging: staging as unknown as GPUBuffer, enc, mapCalls };
}

test('a read-back of a kind seen before sleeps before mapping on a CPU-emulated adapter, in proportion to its work', async () => {
  const f = fakeDevice(40);
  const ctx = new GpuContext(f.device, undefined, { vendor: 'mesa', architecture: 'llvmpipe', fallback: true });
  assert.equal(ctx.paceSleeps, true);
  const read = async (work: number) => {
    const t0 = performance.now();
    await ctx.readWith(f.enc as unknown as GPUCommandEncoder, {} as GPUBuffer, 16, f.staging, () => {}, {
      kind: 'k',
      work,
    });
    return f.mapCalls[f.mapCalls.length - 1] - t0;
  };
  assert.ok((await read(100)) < 10, 'the first of a kind maps at once');
  // 40 ms for 100 units: half the work sleeps 0.75 x 20 = 15 ms first.
  const waited = await read(50);
  assert.ok(waited >= 13 && waited < 35, `slept ${waited} ms before mapping`);
  assert.ok((await read(1)) < 5, 'under 2 ms of expected sleep it maps at once');
});

test('on a hardware adapter read-backs map at once', async () => {
  const f = fakeDevice(20);
  const ctx = new GpuContext(f.device, undefined, { vendor: 'nvidia', architecture: 'ampere' });
  assert.equal(ctx.paceSleeps, false);
  for (let k = 0; k < 2; k++) {
    const t0 = performance.now();
    await ctx.readWith(f.enc as unknown as GPUCommandEncoder, {} as GPUBuffer, 16, f.staging, () => {}, {
      kind: 'k',
      work: 100,
    });
    assert.ok(f.mapCalls[k] - t0 < 5);
  }
});
