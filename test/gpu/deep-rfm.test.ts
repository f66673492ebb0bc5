// Deep RFM on WebGPU (the RFM backend's kernel solve and gradient moments) against the float64 CPU
// backend: the same per-layer neural-collapse metrics within float32 rounding, through the placement
// table (core/node.ts hostDeepRfm) as well.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostDeepRfm } from '../../src/core/node';
import { CpuBackend } from '../../src/core/rfm/cpu';
import { deepRfm, type DeepRfmResult } from '../../src/core/rfm/deep';
import { gaussianMixture } from '../helpers/mixture';
import { gpuBackend } from './helpers';

const metrics = (r: DeepRfmResult) => r.layers.flatMap((l) => [l.nc1, l.nc1Classic, l.nc2]);

test('WebGPU and CPU give the same NC1/NC2 per layer (10-class mixture, depth 6, width 128)', async () => {
  const data = gaussianMixture(10, 20, 15, 7);
  const o = { depth: 6, width: 128 };
  const cpu = await deepRfm(data, o, { backend: new CpuBackend() });
  const backend = await gpuBackend();
  let gpu: DeepRfmResult;
  try {
    gpu = await deepRfm(data, o, { backend });
  } finally {
    backend.dispose();
  }
  assert.equal(gpu.backend, 'webgpu');
  const a = metrics(gpu),
    b = metrics(cpu);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.abs(b[i]));
  // float32 gradient moments (the solve at n <= 1000 is the host's float64): measured worst relative
  // difference 1.2e-6 over the 21 values.
  assert.ok(worst < 1e-4, `worst relative difference ${worst}`);
  assert.ok(gpu.layers[6].nc1 < gpu.layers[0].nc1 / 10);
});

test('hostDeepRfm places on the host GPU for auto and webgpu, on the CPU for cpu', async () => {
  const data = gaussianMixture(3, 5, 8, 2);
  const seen: number[] = [];
  const placed = await hostDeepRfm(
    data,
    { depth: 2, width: 16 },
    { choice: 'auto', onLayer: (l) => seen.push(l.layer) },
  );
  assert.equal(placed.placement, 'host-gpu');
  assert.equal(placed.value.backend, 'webgpu');
  assert.deepEqual(seen, [0, 1, 2]);
  const cpu = await hostDeepRfm(data, { depth: 2, width: 16 }, { choice: 'cpu' });
  assert.equal(cpu.placement, 'host-cpu');
  assert.equal(cpu.value.backend, 'cpu');
});
