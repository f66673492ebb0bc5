// Every WebGPU op against the float64 CPU backend, on random data and on standardised fixtures.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BackendError } from '../../src/core/errors';
import type { KernelSpec } from '../../src/core/rfm/backend';
import { CpuBackend } from '../../src/core/rfm/cpu';
import { runPlaced } from '../../src/core/compute';
import { hostGpu, hostPlan, hostRfmBackend } from '../../src/core/node';
import { GpuContext, requestGpuDevice } from '../../src/core/gpu/context';
import { WebGpuBackend } from '../../src/core/rfm/webgpu';
import { standardize, standardizer } from '../../src/core/rfm/fit';
import { mat, type Mat } from '../../src/core/mat';
import { fixture, gpuBackend, randomMat, relErr } from './helpers';

const cpu = new CpuBackend();
const kernels: KernelSpec[] = [
  { name: 'laplace', bandwidth: 10 },
  { name: 'gaussian', bandwidth: 3 },
];

function oneHot(y: Float64Array, c: number): Mat {
  const out = new Float64Array(y.length * c);
  y.forEach((v, i) => (out[i * c + v] = 1));
  return mat(y.length, c, out);
}

describe('WebGPU ops vs CPU float64', () => {
  let gpu: WebGpuBackend;
  let gpuCg: WebGpuBackend;
  before(async () => {
    // Every predict on the device, whatever the coefficients (see maxPredictError).
    gpu = await gpuBackend({ maxPredictError: Infinity });
    // Same device type, but every solve through Nyström-preconditioned CG (the large-n path).
    gpuCg = await gpuBackend({ directSolveMaxN: 0, nystromRank: 64 });
  });
  after(() => {
    gpu?.dispose();
    gpuCg?.dispose();
  });

  it('reports a real adapter', () => {
    assert.match(gpu.device, /^webgpu \S+\/\S+/);
  });

  for (const kernel of kernels) {
    it(`solve, predict, gradMoments on random data (${kernel.name})`, async () => {
      const X = randomMat(203, 7, 1, 1.5);
      const Y = randomMat(203, 3, 2);
      const Z = randomMat(77, 7, 3, 1.5);
      for (const backend of [gpu, gpuCg]) {
        const [a, b] = await Promise.all([backend.solve(X, kernel, Y, 1e-3), cpu.solve(X, kernel, Y, 1e-3)]);
        assert.ok(a.ok && b.ok);
        // The fitted values are what the model uses. The Gaussian case is ill-conditioned enough
        // (cond ~ 1e5) that rounding K to f32 alone moves them by ~2.4e-4 even with an exact float64
        // solve of the rounded K (the direct path), so its bound is looser.
        const fa = await cpu.predict(X, X, kernel, a.alpha);
        const fb = await cpu.predict(X, X, kernel, b.alpha);
        const bound = kernel.name === 'laplace' ? 1e-4 : 1e-3;
        assert.ok(relErr(fa.data, fb.data) < bound, `fitted values ${relErr(fa.data, fb.data)}`);
        assert.ok(relErr(a.alpha.data, b.alpha.data) < 10 * bound, `alpha ${relErr(a.alpha.data, b.alpha.data)}`);
      }
      const alpha = randomMat(203, 3, 4);
      const [p, q] = await Promise.all([gpu.predict(Z, X, kernel, alpha), cpu.predict(Z, X, kernel, alpha)]);
      assert.ok(relErr(p.data, q.data) < 1e-5, `predict ${relErr(p.data, q.data)}`);
      for (const diagOnly of [false, true]) {
        const [g, h] = await Promise.all([
          gpu.gradMoments(Z, X, kernel, alpha, diagOnly),
          cpu.gradMoments(Z, X, kernel, alpha, diagOnly),
        ]);
        assert.equal(g.outer.length, h.outer.length);
        assert.ok(relErr(g.outer, h.outer) < 1e-4, `outer ${relErr(g.outer, h.outer)}`);
        assert.ok(relErr(g.sum.data, h.sum.data) < 1e-4, `sum ${relErr(g.sum.data, h.sum.data)}`);
      }
    });
  }

  it('gradMoments with d > 32 (weight tile + gradAccumulate path) and d = 32 (fused path, odd row count)', async () => {
    for (const d of [41, 32]) {
      const X = randomMat(150, d, 11, 1.5);
      const Z = randomMat(61, d, 12, 1.5);
      const alpha = randomMat(150, 2, 13);
      for (const kernel of kernels) {
        const [g, h] = await Promise.all([
          gpu.gradMoments(Z, X, kernel, alpha, false),
          cpu.gradMoments(Z, X, kernel, alpha, false),
        ]);
        assert.ok(relErr(g.outer, h.outer) < 1e-4, `d ${d} ${kernel.name}: outer ${relErr(g.outer, h.outer)}`);
        assert.ok(
          relErr(g.sum.data, h.sum.data) < 1e-4,
          `d ${d} ${kernel.name}: sum ${relErr(g.sum.data, h.sum.data)}`,
        );
      }
    }
  });

  it('gradMoments drops exact duplicates (no NaN) and matches CPU when Z = X', async () => {
    const base = randomMat(40, 5, 9);
    const X = mat(80, 5, new Float64Array([...base.data, ...base.data]));
    const alpha = randomMat(80, 2, 10);
    for (const kernel of kernels) {
      const [g, h] = await Promise.all([
        gpu.gradMoments(X, X, kernel, alpha, false),
        cpu.gradMoments(X, X, kernel, alpha, false),
      ]);
      assert.ok(g.outer.every(Number.isFinite));
      assert.ok(relErr(g.outer, h.outer) < 1e-4, `outer ${relErr(g.outer, h.outer)}`);
    }
  });

  for (const name of ['iris', 'wine', 'breast_cancer'] as const) {
    it(`fixture ${name}: solve, predict and gradMoments match`, async () => {
      const ds = fixture(name);
      const X = standardize(ds.X, standardizer(ds.X));
      const Y = oneHot(ds.y, ds.classes!.length);
      const kernel: KernelSpec = { name: 'laplace', bandwidth: 10 };
      const ref = await cpu.solve(X, kernel, Y, 1e-3);
      assert.ok(ref.ok);
      for (const backend of [gpu, gpuCg]) {
        const s = await backend.solve(X, kernel, Y, 1e-3);
        assert.ok(s.ok);
        const fa = await cpu.predict(X, X, kernel, s.alpha);
        const fb = await cpu.predict(X, X, kernel, ref.alpha);
        assert.ok(
          relErr(fa.data, fb.data) < 1e-4,
          `${backend === gpu ? 'direct' : 'cg'} fitted ${relErr(fa.data, fb.data)}`,
        );
      }
      const [p, q] = await Promise.all([gpu.predict(X, X, kernel, ref.alpha), cpu.predict(X, X, kernel, ref.alpha)]);
      assert.ok(relErr(p.data, q.data) < 1e-4, `predict ${relErr(p.data, q.data)}`);
      const [g, h] = await Promise.all([
        gpu.gradMoments(X, X, kernel, ref.alpha, false),
        cpu.gradMoments(X, X, kernel, ref.alpha, false),
      ]);
      assert.ok(relErr(g.outer, h.outer) < 1e-4, `outer ${relErr(g.outer, h.outer)}`);
    });
  }

  it('routes predictions with strongly cancelling coefficients to float64', async () => {
    const X = randomMat(50, 3, 41);
    const Z = randomMat(20, 3, 42);
    const alpha = randomMat(50, 1, 43, 1e5);
    const routed = await gpuBackend();
    try {
      const [p, q] = await Promise.all([routed.predict(Z, X, kernels[1], alpha), cpu.predict(Z, X, kernels[1], alpha)]);
      assert.ok(relErr(p.data, q.data) < 1e-12, `routed ${relErr(p.data, q.data)}`);
    } finally {
      routed.dispose();
    }
  });

  it('tiles queries larger than one tile', async () => {
    const small = await gpuBackend({ queryTileRows: 64 });
    try {
      const X = randomMat(150, 6, 21);
      const Z = randomMat(333, 6, 22);
      const alpha = randomMat(150, 2, 23);
      const kernel = kernels[0];
      const [p, q] = await Promise.all([small.predict(Z, X, kernel, alpha), cpu.predict(Z, X, kernel, alpha)]);
      assert.ok(relErr(p.data, q.data) < 1e-5);
      const [g, h] = await Promise.all([
        small.gradMoments(Z, X, kernel, alpha, false),
        cpu.gradMoments(Z, X, kernel, alpha, false),
      ]);
      assert.ok(relErr(g.outer, h.outer) < 1e-4);
    } finally {
      small.dispose();
    }
  });

  it('reports a non positive definite system as ok: false with the CPU row sum', async () => {
    // Duplicated rows make K singular; with a negative ridge it is indefinite for both backends.
    const base = randomMat(30, 3, 31);
    const X = mat(60, 3, new Float64Array([...base.data, ...base.data]));
    const Y = randomMat(60, 1, 32);
    const kernel = kernels[0];
    const [a, b] = await Promise.all([gpu.solve(X, kernel, Y, -1e-3), cpu.solve(X, kernel, Y, -1e-3)]);
    assert.equal(a.ok, false);
    assert.equal(b.ok, false);
    if (!a.ok && !b.ok) assert.ok(Math.abs(a.maxAbsRowSum - b.maxAbsRowSum) / b.maxAbsRowSum < 1e-5);
  });

  it('tiles the kernel matrix, queries and gradients under a small storage-binding limit', async () => {
    // 256 KiB bindings: K(X, X) of 300 points splits into 2 row tiles, queries into tiles of 192 rows.
    const small = await gpuBackend({ maxBindingBytes: 256 * 1024, directSolveMaxN: 0, maxPredictError: Infinity });
    try {
      const X = randomMat(300, 5, 51, 1.5);
      const Y = randomMat(300, 2, 52);
      const Z = randomMat(450, 5, 53, 1.5);
      const kernel = kernels[0];
      const [a, b] = await Promise.all([small.solve(X, kernel, Y, 1e-3), cpu.solve(X, kernel, Y, 1e-3)]);
      assert.ok(a.ok && b.ok);
      const [fa, fb] = await Promise.all([cpu.predict(X, X, kernel, a.alpha), cpu.predict(X, X, kernel, b.alpha)]);
      assert.ok(relErr(fa.data, fb.data) < 1e-4, `fitted ${relErr(fa.data, fb.data)}`);
      const [p, q] = await Promise.all([small.predict(Z, X, kernel, b.alpha), cpu.predict(Z, X, kernel, b.alpha)]);
      assert.ok(relErr(p.data, q.data) < 1e-4, `predict ${relErr(p.data, q.data)}`);
      const [g, h] = await Promise.all([
        small.gradMoments(Z, X, kernel, b.alpha, false),
        cpu.gradMoments(Z, X, kernel, b.alpha, false),
      ]);
      assert.ok(relErr(g.outer, h.outer) < 1e-4, `outer ${relErr(g.outer, h.outer)}`);
    } finally {
      small.dispose();
    }
  });

  it('recomputes kernel tiles per CG product when K exceeds the memory budget', async () => {
    const lean = await gpuBackend({ maxDeviceBytes: 1, directSolveMaxN: 0, hostProducts: false });
    try {
      const X = randomMat(250, 6, 71, 1.5);
      const Y = randomMat(250, 1, 72);
      const kernel = kernels[0];
      const [a, b] = await Promise.all([lean.solve(X, kernel, Y, 1e-3), cpu.solve(X, kernel, Y, 1e-3)]);
      assert.ok(a.ok && b.ok);
      const [fa, fb] = await Promise.all([cpu.predict(X, X, kernel, a.alpha), cpu.predict(X, X, kernel, b.alpha)]);
      assert.ok(relErr(fa.data, fb.data) < 1e-4, `fitted ${relErr(fa.data, fb.data)}`);
      assert.equal(lean.liveBuffers, 0);
    } finally {
      lean.dispose();
    }
  });

  it('the stored K built from its upper half (one tile, mirrored) equals recomputed tiles bit for bit: same CG solution', async () => {
    // Same solver settings; `lean` recomputes every product's tiles with the general kernel-matrix
    // shader, so any difference in the stored K would change alpha.
    const opts = { directSolveMaxN: 0, nystromRank: 64 };
    const stored = await gpuBackend({ ...opts, symmetricProduct: false, hostProducts: false });
    const lean = await gpuBackend({ ...opts, maxDeviceBytes: 1, hostProducts: false });
    try {
      for (const kernel of kernels)
        for (const n of [203, 1000]) {
          const X = randomMat(n, 6, 80 + n, 1.5);
          const Y = randomMat(n, 2, 81 + n);
          const a = await stored.solve(X, kernel, Y, 1e-3, { solver: 'cg' });
          const b = await lean.solve(X, kernel, Y, 1e-3, { solver: 'cg' });
          assert.ok(a.ok && b.ok);
          assert.deepEqual(Array.from(a.alpha.data), Array.from(b.alpha.data), `${kernel.name} n = ${n}`);
        }
    } finally {
      stored.dispose();
      lean.dispose();
    }
  });

  it('the symmetric CG product (half of K read, subgroup column sums) equals float64 K P and the full product, in one tile and several', async () => {
    const kernel = kernels[0];
    // n = 1300 under 2.5 MiB bindings: 256-row bands in tiles of 512, 512 and 276 rows.
    const cases = [
      { n: 203, maxBindingBytes: Infinity },
      { n: 1000, maxBindingBytes: Infinity },
      { n: 1300, maxBindingBytes: 600 * 1304 * 4 },
    ];
    for (const { n, maxBindingBytes } of cases) {
      const sym = await gpuBackend({ maxBindingBytes, hostProducts: false });
      const full = await gpuBackend({ maxBindingBytes, symmetricProduct: false, hostProducts: false });
      try {
        const X = randomMat(n, 7, 90 + n, 1.5);
        for (const c of [1, 3, 5]) {
          const P = randomMat(n, c, 91 + n + c);
          const exact = (await cpu.predict(X, X, kernel, P)).data;
          const a = await sym.storedKernelTimes(X, kernel, P);
          const b = await full.storedKernelTimes(X, kernel, P);
          // lavapipe has subgroups; a device without them runs the full product under both names.
          assert.equal(a.symmetric, sym.hasSubgroups, `n = ${n}, c = ${c}`);
          assert.equal(b.symmetric, false);
          assert.ok(relErr(a.out, exact) < 2e-6, `symmetric vs float64 n = ${n}, c = ${c}: ${relErr(a.out, exact)}`);
          assert.ok(relErr(a.out, b.out) < 2e-6, `symmetric vs full n = ${n}, c = ${c}: ${relErr(a.out, b.out)}`);
        }
      } finally {
        sym.dispose();
        full.dispose();
      }
    }
  });

  it('host CG products (K built in bands on the device, read back, multiplied by WebAssembly SIMD) equal float64 K P and the device product, in one tile and several', async () => {
    const kernel = kernels[0];
    // n = 1300 under 2.5 MiB bindings: 256-row bands read back in tiles of 512, 512 and 276 rows.
    for (const { n, maxBindingBytes } of [
      { n: 203, maxBindingBytes: Infinity },
      { n: 1300, maxBindingBytes: 600 * 1304 * 4 },
    ]) {
      // The default on lavapipe (a CPU-emulated adapter) is the host product.
      const host = await gpuBackend({ maxBindingBytes });
      const device = await gpuBackend({ maxBindingBytes, hostProducts: false });
      try {
        const X = randomMat(n, 7, 190 + n, 1.5);
        for (const c of [1, 3]) {
          const P = randomMat(n, c, 191 + n + c);
          const exact = (await cpu.predict(X, X, kernel, P)).data;
          const a = await host.storedKernelTimes(X, kernel, P);
          const b = await device.storedKernelTimes(X, kernel, P);
          assert.equal(a.onHost, true, `n = ${n}: lavapipe is a CPU-emulated adapter`);
          assert.equal(b.onHost, false);
          // Only K's f32 rounding differs from float64 (the host accumulates in float64).
          assert.ok(relErr(a.out, exact) < 1e-6, `host vs float64 n = ${n}, c = ${c}: ${relErr(a.out, exact)}`);
          assert.ok(relErr(a.out, b.out) < 2e-6, `host vs device n = ${n}, c = ${c}: ${relErr(a.out, b.out)}`);
        }
        assert.equal(host.liveBuffers, 0);
      } finally {
        host.dispose();
        device.dispose();
      }
    }
  });

  it("host CG products across a fit's rounds (kept buffers) solve like the float64 CPU, and a refused size falls back to the device", async () => {
    const host = await gpuBackend({ hostProducts: true, directSolveMaxN: 0 });
    const noRoom = await gpuBackend({ hostProducts: true, maxHostBytes: 1, directSolveMaxN: 0 });
    try {
      const kernel = kernels[0];
      for (const [i, n] of [700, 700, 700].entries()) {
        // Rounds of one fit: the first two keep K's buffers for the next (agopNext), the last frees them.
        const X = randomMat(n, 5, 300 + i, 1.5 + i * 0.1);
        const Y = randomMat(n, 1, 310 + i);
        const hints = { solver: 'cg' as const, agopNext: i < 2, final: i === 2 };
        const [a, b] = await Promise.all([host.solve(X, kernel, Y, 1e-3, hints), cpu.solve(X, kernel, Y, 1e-3)]);
        assert.ok(a.ok && b.ok);
        const [fa, fb] = await Promise.all([cpu.predict(X, X, kernel, a.alpha), cpu.predict(X, X, kernel, b.alpha)]);
        assert.ok(relErr(fa.data, fb.data) < 1e-4, `round ${i}: fitted ${relErr(fa.data, fb.data)}`);
      }
      assert.equal(host.liveBuffers, 0);
      const X = randomMat(300, 5, 320, 1.5);
      const P = randomMat(300, 1, 321);
      const r = await noRoom.storedKernelTimes(X, kernel, P);
      assert.equal(r.onHost, false);
      assert.ok(relErr(r.out, (await cpu.predict(X, X, kernel, P)).data) < 2e-6);
    } finally {
      host.dispose();
      noRoom.dispose();
    }
  });

  it('a CG solve with host products hands the event loop back: no stretch of 250 ms', async () => {
    // With the products on the host nothing in CG waits for a macrotask but the pacer's turns (in the
    // products, CG's loop and the Nyström factorization); without them this n = 6000 solve held the
    // loop for 330 ms at a time (measured). What remains, 100-160 ms, is ~45 ms of factorization steps
    // slowed by lavapipe's 8 threads building K on the same 2 cores, then Dawn's wait for the first K tile.
    const host = await gpuBackend({ hostProducts: true, directSolveMaxN: 0 });
    try {
      const X = randomMat(6000, 8, 401, 1.5);
      const Y = randomMat(6000, 1, 402);
      await host.solve(randomMat(300, 8, 403, 1.5), kernels[0], randomMat(300, 1, 404), 1e-3, { solver: 'cg' });
      const t0 = performance.now();
      let last = performance.now(),
        longest = 0;
      const timer = setInterval(() => {
        const t = performance.now();
        longest = Math.max(longest, t - last);
        last = t;
      }, 2);
      const r = await host.solve(X, kernels[0], Y, 1e-3, { solver: 'cg' });
      const total = performance.now() - t0;
      clearInterval(timer);
      assert.ok(r.ok);
      assert.equal(host.solveLog.at(-1)?.path, 'cg');
      assert.ok(longest < 250, `the event loop waited ${longest.toFixed(0)} ms of a ${total.toFixed(0)} ms solve`);
    } finally {
      host.dispose();
    }
  });

  it('subgroups smaller than the adapter stated: the symmetric product flags it and CG goes on with the full K', async () => {
    // A device whose subgroups are narrower than its stated minimum (lavapipe runs 8 and says 16):
    // the column-partial slots would collide, so the shader raises its flag and the backend rebuilds K.
    const { device } = await requestGpuDevice(await hostGpu(), 'narrow subgroups');
    assert.ok(device.features.has('subgroups'), 'the adapter has subgroups (lavapipe, the CI adapter, does)');
    const ctx = new GpuContext(device, undefined, { vendor: 'test', architecture: 'narrow', subgroupMinSize: 16 });
    const narrow = new WebGpuBackend(ctx, {}, () => ctx.dispose());
    try {
      const X = randomMat(700, 5, 95, 1.5);
      const P = randomMat(700, 2, 96);
      const first = await narrow.storedKernelTimes(X, kernels[0], P);
      assert.equal(first.symmetric, false);
      assert.ok(relErr(first.out, (await cpu.predict(X, X, kernels[0], P)).data) < 2e-6);
      const Y = randomMat(700, 1, 97);
      const [a, b] = await Promise.all([
        narrow.solve(X, kernels[0], Y, 1e-3, { solver: 'cg' }),
        cpu.solve(X, kernels[0], Y, 1e-3),
      ]);
      assert.ok(a.ok && b.ok);
      assert.ok(relErr(a.alpha.data, b.alpha.data) < 1e-3, `alpha ${relErr(a.alpha.data, b.alpha.data)}`);
    } finally {
      narrow.dispose();
    }
  });

  it('a problem beyond the binding limit fails with a BackendError naming the largest n', async () => {
    const tiny = await gpuBackend({ maxBindingBytes: 16 * 1024, directSolveMaxN: 0 });
    try {
      // 64 rows of K over ld points must fit 16 KiB: ld <= 64, so the largest n is 64.
      const X = randomMat(100, 3, 61);
      await assert.rejects(
        tiny.solve(X, kernels[0], randomMat(100, 1, 62), 1e-3),
        (e: unknown) => e instanceof BackendError && /largest n this device can tile is 64\b/.test(e.message),
      );
      const ok = await tiny.solve(randomMat(64, 3, 63), kernels[0], randomMat(64, 1, 64), 1e-3);
      assert.ok(ok.ok);
    } finally {
      tiny.dispose();
    }
  });

  it('WebGpuBackend.create without any adapter is a clear BackendError', async () => {
    const noAdapters = { requestAdapter: async () => null } as unknown as GPU;
    await assert.rejects(
      WebGpuBackend.create(noAdapters),
      (e: unknown) => e instanceof BackendError && /no WebGPU adapter/.test(e.message),
    );
  });

  it('host placement: auto runs on WebGPU when an adapter exists, cpu on the float64 backend', async () => {
    const X = randomMat(8, 2, 1);
    const fit = (choice: 'auto' | 'cpu') =>
      runPlaced(hostPlan('rfm', choice), async (p) => {
        const b = await hostRfmBackend(p as 'host-gpu' | 'host-cpu');
        try {
          await b.predict(X, X, kernels[0], randomMat(8, 1, 2));
          return b.name;
        } finally {
          b.dispose();
        }
      });
    const auto = await fit('auto');
    assert.equal(auto.value, 'webgpu');
    assert.equal(auto.placement, 'host-gpu');
    assert.equal(auto.reason, 'WebGPU in the extension host');
    const cpu = await fit('cpu');
    assert.deepEqual([cpu.value, cpu.placement], ['cpu', 'host-cpu']);
  });

  it('a disposed backend fails with a BackendError', async () => {
    const b = await gpuBackend();
    b.dispose();
    await assert.rejects(
      b.predict(randomMat(4, 2, 1), randomMat(4, 2, 2), kernels[0], randomMat(4, 1, 3)),
      BackendError,
    );
  });
});
