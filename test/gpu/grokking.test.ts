// The grokking lab's WebGPU Gram sums (rfm/indicatorWebgpu.ts, transposeProduct.wgsl on gradient
// columns) against the float64 CPU oracle, and a whole short grokking run on both: same accuracies,
// progress measures within f32 rounding.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostGpu } from '../../src/core/node';
import { GpuContext } from '../../src/core/gpu/context';
import { CpuGramSums } from '../../src/core/rfm/indicator';
import { WebGpuGramSums } from '../../src/core/rfm/indicatorWebgpu';
import { parseGrokOptions, runGrokking } from '../../src/core/rfm/grokking/run';
import { relErr, rng } from './helpers';

async function gpuGram(): Promise<WebGpuGramSums> {
  const gpu = await hostGpu();
  const ctx = await GpuContext.open(gpu, 'grokking test', gpu);
  return new WebGpuGramSums(ctx, () => ctx.dispose());
}

test('WebGpuGramSums: G G^T over blocks equals the float64 sums (d not a multiple of 4, several calls)', async () => {
  const gram = await gpuGram();
  try {
    const r = rng(3);
    for (const [d, cols] of [
      [10, 7],
      [46, 300],
      [122, 1000],
    ]) {
      const want = new Float64Array(d * d),
        got = new Float64Array(d * d);
      for (let call = 0; call < 2; call++) {
        const G = Float64Array.from({ length: d * cols }, () => r() - 0.5);
        await new CpuGramSums().addGram(G, d, cols, want);
        await gram.addGram(G, d, cols, got);
      }
      assert.ok(relErr(got, want) < 1e-5, `d ${d} cols ${cols}: ${relErr(got, want)}`);
    }
  } finally {
    gram.dispose();
  }
});

test('a grokking run on WebGPU matches the CPU run (p = 13, 6 iterations)', async () => {
  const o = parseGrokOptions({ p: 13, trainFrac: 0.8, iters: 6 });
  const cpu = await runGrokking(o, { gram: new CpuGramSums() });
  const gram = await gpuGram();
  try {
    const gpu = await runGrokking(o, { gram });
    assert.equal(gpu.backend, 'webgpu');
    for (let t = 0; t < cpu.iterations.length; t++) {
      const a = cpu.iterations[t],
        b = gpu.iterations[t];
      assert.equal(b.trainAcc, a.trainAcc);
      assert.ok(Math.abs(b.testAcc - a.testAcc) <= 1 / 34, `iter ${t} test acc ${b.testAcc} vs ${a.testAcc}`);
      assert.ok(Math.abs(b.traceM - a.traceM) < 1e-4 * a.traceM);
      if (t > 0) assert.ok(Math.abs(b.circulantDeviation - a.circulantDeviation) < 1e-3 * a.circulantDeviation);
    }
    assert.ok(relErr(gpu.Ms[6], cpu.Ms[6]) < 1e-4);
  } finally {
    gram.dispose();
  }
});
