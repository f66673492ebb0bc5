// GpuContext's paced read-backs (mapWhenDone): on a CPU-emulated adapter a read-back that repeats
// the kind and size of an earlier one sleeps half the shortest time that took before mapping, so that
// Dawn's event-loop poll does not take a core from the emulated device; anything else maps at once.
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

async function waitBeforeMap(ctx: GpuContext, f: ReturnType<typeof fakeDevice>, work: number): Promise<number> {
  const t0 = performance.now();
  await ctx.readWith(f.enc as unknown as GPUCommandEncoder, {} as GPUBuffer, 16, f.staging, () => {}, {
    kind: 'k',
    work,
  });
  return f.mapCalls[f.mapCalls.length - 1] - t0;
}

test('on a CPU-emulated adapter a repeated read-back sleeps half its shortest earlier time before mapping; a new size does not', async () => {
  const f = fakeDevice(40);
  const ctx = new GpuContext(f.device, undefined, { vendor: 'mesa', architecture: 'llvmpipe', fallback: true });
  assert.equal(ctx.paceSleeps, true);
  assert.ok((await waitBeforeMap(ctx, f, 100)) < 10, 'the first of a kind and size maps at once');
  const waited = await waitBeforeMap(ctx, f, 100);
  assert.ok(waited >= 18 && waited < 35, `slept ${waited} ms before mapping (half of ~40)`);
  assert.ok((await waitBeforeMap(ctx, f, 50)) < 10, 'another size maps at once');
});

test('on a hardware adapter read-backs map at once', async () => {
  const f = fakeDevice(20);
  const ctx = new GpuContext(f.device, undefined, { vendor: 'nvidia', architecture: 'ampere' });
  assert.equal(ctx.paceSleeps, false);
  for (let k = 0; k < 2; k++) assert.ok((await waitBeforeMap(ctx, f, 100)) < 5);
});
