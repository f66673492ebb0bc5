// The shared iterative solvers (src/core/rfm/solvers.ts) over the WebGPU backend's kernel blocks and
// kernel-block x vector products (kernelMatrix.wgsl + kernelTimesCols.wgsl on row and column subsets:
// EigenPro's batches K(B, X) alpha and Nyström products K(S, B) r) against the same solvers over the
// float64 CPU backend, and against the direct solve.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CpuBackend } from '../../src/core/rfm/cpu';
import type { WebGpuBackend } from '../../src/core/rfm/webgpu';
import { fitRfm } from '../../src/core/rfm/fit';
import { targetMatrix } from '../../src/core/rfm/metrics';
import { standardize, standardizer } from '../../src/core/rfm/fit';
import { mat, type Mat } from '../../src/core/mat';
import { fixture, gpuBackend, randomMat, relErr } from './helpers';

const kernel = { name: 'laplace' as const, bandwidth: 3 };
const reg = 1e-3;

/** A smooth regression target on random points in [-1, 1]^5 (n = 700: s = n, q = 160 < s). */
function problem(): { X: Mat; Y: Mat } {
  const X = randomMat(700, 5, 11);
  const Y = mat(
    700,
    1,
    Float64Array.from({ length: 700 }, (_, i) => X.data[i * 5] * X.data[i * 5 + 1] + Math.sin(2 * X.data[i * 5 + 2])),
  );
  return { X, Y };
}

describe('iterative solvers on WebGPU equal them on the CPU', () => {
  let gpu: WebGpuBackend;
  before(async () => {
    gpu = await gpuBackend();
  });
  after(() => gpu.dispose());

  it('EigenPro: K alpha within 1e-3 relative of the CPU EigenPro and of the direct solve; residual reported truthfully', async () => {
    const { X, Y } = problem();
    const cpuDirect = await new CpuBackend().directSolve(X, kernel, Y, reg);
    const cpu = await new CpuBackend().solve(X, kernel, Y, reg, { solver: 'eigenpro' });
    const g = await gpu.solve(X, kernel, Y, reg, { solver: 'eigenpro' });
    assert.ok(g.ok && cpu.ok && cpuDirect.ok);
    assert.equal(g.info?.solver, 'eigenpro');
    assert.ok(g.info!.relResidual <= 2e-3, `residual ${g.info!.relResidual}`);
    const directFitted = Y.data.map((v, i) => v - reg * cpuDirect.alpha.data[i]);
    assert.ok(relErr(g.fitted!.data, cpu.fitted!.data) < 1e-3, 'vs CPU EigenPro');
    assert.ok(relErr(g.fitted!.data, directFitted) < 2e-3, 'vs direct');
    const log = gpu.solveLog[gpu.solveLog.length - 1];
    assert.equal(log.path, 'eigenpro');
    assert.equal(log.eigenpro?.s, 700);
  });

  it('CG (forced at small n) and EigenPro, several classes (wine): fits match the direct CPU fit', async () => {
    const data = fixture('wine');
    const direct = await fitRfm(data, { iters: 1, solver: 'direct' }, { backend: new CpuBackend(), valFraction: 0.25 });
    for (const [solver, tol] of [
      ['cg', 1e-3],
      ['eigenpro', 5e-2],
    ] as const) {
      const r = await fitRfm(data, { iters: 1, solver }, { backend: gpu, valFraction: 0.25 });
      assert.equal(r.solver, solver);
      assert.equal(r.backend, 'webgpu');
      const dMse = Math.abs(r.final.testMse! - direct.final.testMse!) / direct.final.testMse!;
      assert.ok(dMse < tol, `${solver}: test MSE ${r.final.testMse} vs ${direct.final.testMse}`);
      assert.ok(relErr(Array.from(r.M), Array.from(direct.M)) < tol, `${solver}: M`);
    }
  });

  it('EigenPro batches over several classes: the products on row and column subsets equal float64', async () => {
    const data = fixture('iris');
    const s = standardizer(data.X);
    const X = standardize(data.X, s);
    const Y = targetMatrix(data.y, data.task, 3);
    const cpu = await new CpuBackend({ eigenproMaxBatch: 32 }).solve(X, kernel, Y, reg, { solver: 'eigenpro' });
    const small = await gpuBackend({ eigenproMaxBatch: 32 });
    const g = await small.solve(X, kernel, Y, reg, { solver: 'eigenpro' }).finally(() => small.dispose());
    assert.ok(g.ok && cpu.ok);
    // Batches of 32 of 150 rows: K(B, X) alpha and K(S, B) r on subsets every step.
    assert.ok(relErr(g.fitted!.data, cpu.fitted!.data) < 1e-3);
    assert.ok(relErr(g.alpha.data, cpu.alpha.data) < 2e-2);
  });
});
