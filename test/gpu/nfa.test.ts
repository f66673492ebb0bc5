// WebGpuNfaBackend against the CPU float64 NFA backend: forward passes and per-layer AGOP sums for
// every activation, row batching, the computeNfa correlations, buffer hygiene and BackendErrors.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BackendError } from '../../src/core/errors';
import { hostGpu, hostNfaBackend, hostNfaStudy } from '../../src/core/node';
import { mat, type Mat } from '../../src/core/mat';
import { ACTIVATIONS } from '../../src/core/nfa/activation';
import { CpuNfaBackend } from '../../src/core/nfa/backend';
import { computeNfa } from '../../src/core/nfa/compute';
import type { Mlp } from '../../src/core/nfa/network';
import { initMlp } from '../../src/core/nfa/train';
import { DEFAULT_RFM_ROWS, runNfaStudy } from '../../src/core/nfa/study';
import type { Dataset } from '../../src/core/data/dataset';
import { lowRankTask } from '../unit/nfa-tasks';
import { WebGpuNfaBackend, type WebGpuNfaOptions } from '../../src/core/nfa/webgpu';
import { randomMat, relErr } from './helpers';

const cpu = new CpuNfaBackend();

/** A missing adapter fails here (hostGpu() throws), never skips. */
async function gpuNfa(options: WebGpuNfaOptions = {}): Promise<WebGpuNfaBackend> {
  const gpu = await hostGpu();
  return WebGpuNfaBackend.create(gpu, { ...options, keepAlive: gpu });
}

/** Random inputs scaled so that pre-activations span the nonlinear range of every activation. */
function inputs(rows: number, d: number, seed: number): Mat {
  return randomMat(rows, d, seed, 1.5);
}

function withoutBiases(net: Mlp): Mlp {
  return { ...net, layers: net.layers.map((l) => ({ ...l, b: null, biasName: null })) };
}

/** Each layer's rel. Frobenius error; f32 accumulation over widths <= 64 stays well below 1e-5. */
async function compareAgops(gpu: WebGpuNfaBackend, net: Mlp, X: Mat, tol = 1e-5): Promise<number[]> {
  const [g, c] = [await gpu.agopSums(net, X), await cpu.agopSums(net, X)];
  assert.equal(g.length, c.length);
  const errs = g.map((s, l) => relErr(s, c[l]));
  errs.forEach((e, l) => assert.ok(e < tol, `layer ${l}: AGOP sum rel. error ${e}`));
  g.forEach((s, l) => {
    const n = net.layers[l].inDim;
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) assert.equal(s[i * n + j], s[j * n + i], 'symmetric');
  });
  return errs;
}

describe('WebGPU NFA backend vs CPU float64', () => {
  let gpu: WebGpuNfaBackend;
  before(async () => {
    gpu = await gpuNfa();
  });
  after(() => gpu?.dispose());

  it('reports a real adapter', () => {
    assert.equal(gpu.name, 'webgpu');
    assert.match(gpu.device, /^webgpu /);
  });

  for (const activation of ACTIVATIONS) {
    it(`forward and AGOP sums of every layer (${activation}, widths not multiples of 4, with and without biases)`, async (t) => {
      const net = initMlp([7, 13, 9, 3], activation, 11);
      const X = inputs(53, 7, 12);
      const fg = await gpu.forward(net, X),
        fc = await cpu.forward(net, X);
      assert.deepEqual([fg.rows, fg.cols], [53, 3]);
      assert.ok(relErr(fg.data, fc.data) < 1e-5, `forward rel. error ${relErr(fg.data, fc.data)}`);
      const errs = await compareAgops(gpu, net, X);
      await compareAgops(gpu, withoutBiases(net), X);
      t.diagnostic(
        `${activation}: forward ${relErr(fg.data, fc.data).toExponential(1)}, AGOP ${errs.map((e) => e.toExponential(1)).join(' ')}`,
      );
    });
  }

  it('one layer, a wide input layer (d = 100 > width) and a deep narrow network', async () => {
    await compareAgops(gpu, initMlp([5, 2], 'relu', 1), inputs(9, 5, 2));
    await compareAgops(gpu, initMlp([100, 16, 4], 'gelu', 3), inputs(40, 100, 4));
    await compareAgops(gpu, initMlp([6, 8, 8, 8, 8, 1], 'tanh', 5), inputs(31, 6, 6));
  });

  it('a first layer that narrows (d = 300 -> 32) takes the V^T V path with the same sums, also batched', async () => {
    for (const activation of ['relu', 'sigmoid'] as const) {
      const net = initMlp([300, 32, 3], activation, 41);
      await compareAgops(gpu, net, inputs(150, 300, 42));
      await compareAgops(gpu, initMlp([300, 32, 24, 3], activation, 43), inputs(150, 300, 44));
    }
    const small = await gpuNfa({ maxBatchBytes: 16384 });
    await compareAgops(small, initMlp([300, 32, 3], 'gelu', 45), inputs(101, 300, 46));
    small.dispose();
  });

  it('splits rows into batches under a small buffer budget with the same sums', async () => {
    const small = await gpuNfa({ maxBatchBytes: 4096 });
    const net = initMlp([10, 32, 20, 5], 'sigmoid', 7);
    const X = inputs(203, 10, 8);
    await compareAgops(small, net, X);
    const f = await small.forward(net, X);
    assert.ok(relErr(f.data, (await cpu.forward(net, X)).data) < 1e-5);
    assert.equal(small.liveBuffers, 0);
    small.dispose();
  });

  it('computeNfa correlations equal the CPU ones within 1e-4', async () => {
    const net = initMlp([12, 48, 24, 2], 'relu', 21);
    const X = inputs(300, 12, 22);
    const [g, c] = [await computeNfa(net, X, gpu, { chunkRows: 128 }), await computeNfa(net, X, cpu)];
    assert.equal(g.backend, 'webgpu');
    g.layers.forEach((lg, l) => {
      const lc = c.layers[l];
      assert.ok(relErr(lg.agop, lc.agop) < 1e-5, `layer ${l} AGOP`);
      for (const kind of ['cosine', 'pearson', 'cosine_offdiag', 'pearson_offdiag'] as const) {
        for (const power of ['agop', 'sqrt_agop'] as const) {
          const a = lg.correlation[kind][power],
            b = lc.correlation[kind][power];
          assert.ok(Math.abs(a - b) < 1e-4, `layer ${l} ${kind}.${power}: ${a} vs ${b}`);
        }
      }
    });
  });

  it('holds no buffers between calls over repeated runs', async () => {
    const net = initMlp([8, 16, 2], 'gelu', 31);
    const X = inputs(64, 8, 32);
    for (let k = 0; k < 5; k++) {
      await gpu.agopSums(net, X);
      await gpu.forward(net, X);
      assert.equal(gpu.liveBuffers, 0, `after run ${k}`);
    }
  });

  it('a layer too wide for the batch budget, a disposed backend and a missing adapter are BackendErrors', async () => {
    const tiny = await gpuNfa({ maxBatchBytes: 64 });
    await assert.rejects(
      tiny.agopSums(initMlp([40, 8, 2], 'relu', 1), inputs(4, 40, 1)),
      (e: unknown) => e instanceof BackendError && /batch buffer limit/.test(e.message),
    );
    tiny.dispose();
    const gone = await gpuNfa();
    gone.dispose();
    await assert.rejects(gone.agopSums(initMlp([3, 4, 1], 'relu', 1), inputs(4, 3, 1)), BackendError);
    await assert.rejects(
      WebGpuNfaBackend.create({ requestAdapter: async () => null } as unknown as GPU),
      (e: unknown) => e instanceof BackendError && /no WebGPU adapter/.test(e.message),
    );
  });

  it('hostNfaBackend: host-gpu is WebGPU on the shared host lease, host-cpu the float64 backend', async () => {
    const net = initMlp([4, 6, 2], 'tanh', 3);
    const X = mat(
      5,
      4,
      Float64Array.from({ length: 20 }, (_, i) => Math.sin(i)),
    );
    const g = await hostNfaBackend('host-gpu');
    const c = await hostNfaBackend('host-cpu');
    try {
      assert.equal(g.name, 'webgpu');
      assert.match(g.device, /^webgpu /);
      assert.equal(c.name, 'cpu');
      assert.equal(c.device, 'cpu float64');
      const [sg, sc] = [await g.agopSums(net, X), await c.agopSums(net, X)];
      sg.forEach((s, l) => assert.ok(relErr(s, sc[l]) < 1e-5, `layer ${l}: ${relErr(s, sc[l])}`));
    } finally {
      g.dispose();
      c.dispose();
    }
  });

  it('input with the wrong width is refused before any GPU work', async () => {
    await assert.rejects(gpu.forward(initMlp([3, 2], 'relu', 1), mat(2, 4, new Float64Array(8))), /X has 4 columns/);
  });
});

describe('the NFA study on the host placements', () => {
  it('under auto the network AGOPs and the comparison RFM both run on the host WebGPU, near the CPU study', async () => {
    const { X, Y } = lowRankTask(600, 5, 4);
    const dataset: Dataset = {
      source: 'low-rank',
      X,
      featureNames: ['a', 'b', 'c', 'd', 'e'],
      y: Y.data,
      targetName: 'y',
      task: 'regression',
    };
    const net = initMlp([5, 16, 1], 'gelu', 2);
    const rfm = { kind: 'fit', iters: 3, bandwidth: 10, rows: DEFAULT_RFM_ROWS, seed: 0 } as const;
    const input = { net, dataset, X, rfm };
    const gpuStudy = await runNfaStudy(input, hostNfaStudy('auto'));
    const cpuStudy = await runNfaStudy(input, hostNfaStudy('cpu'));
    assert.equal(gpuStudy.note, null);
    assert.equal(gpuStudy.nfa.backend, 'webgpu');
    assert.equal(gpuStudy.rfm?.origin.kind === 'fit' && gpuStudy.rfm.origin.device.startsWith('webgpu'), true);
    assert.equal(cpuStudy.nfa.backend, 'cpu');
    gpuStudy.nfa.layers.forEach((l, i) =>
      assert.ok(
        Math.abs(l.correlation.pearson.sqrt_agop - cpuStudy.nfa.layers[i].correlation.pearson.sqrt_agop) < 1e-4,
      ),
    );
    // f32 kernels and solves against float64: the comparison agrees to a few 1e-3 (measured 1e-5 here).
    const [pg, pc] = [gpuStudy.rfm?.correlation.pearson.agop ?? NaN, cpuStudy.rfm?.correlation.pearson.agop ?? NaN];
    assert.ok(Math.abs(pg - pc) < 5e-3, `${pg} vs ${pc}`);
  });
});
