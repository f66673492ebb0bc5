// lin-RFM matrix completion benchmark (docs/science.md §8): planted rank-r matrices U Vᵀ (Gaussian factors)
// at several observation rates, completed by completeMatrix on each available host backend (the CPU
// float64 oracle; WebGPU once core/linrfm/webgpu.ts is plugged into hostLinRfmBackend). Prints JSON per
// case: iterations (validated + refit), converged, validation error, held-out relative MSE against the
// truth (the unobserved entries), rank estimate, seconds and seconds per iteration.
// Usage: node --import tsx --import ./test/register-wgsl.mjs bench/linrfm.mjs
//          [--cases anchor|rates|large|all] [--backends cpu,webgpu] [--max-iters N]
// anchor: 100 x 100 rank 3 at 15% for α = ½ and 1 (docs/science.md: ~360 and ~74 iterations);
// rates: 100 x 100 rank 3 at 10..30% (the degrees of freedom r(m + d − r) = 591 are 5.9%);
// large: 1000 x 1000 rank 5 at 5% (the performance case).
import { completeMatrix } from '../src/core/linrfm/complete.ts';
import { hostLinRfmBackend } from '../src/core/node.ts';
import { heldOutError as heldOut, lowRank } from '../test/unit/linrfm-helpers.ts';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : process.argv[i + 1];
};

const which = arg('--cases', 'anchor');
const cases = [];
if (which === 'anchor' || which === 'all')
  for (const alpha of [0.5, 1]) cases.push({ m: 100, d: 100, r: 3, p: 0.15, alpha, seed: 7 });
if (which === 'rates' || which === 'all')
  for (const p of [0.08, 0.12, 0.2, 0.3])
    for (const alpha of [0.5, 1]) cases.push({ m: 100, d: 100, r: 3, p, alpha, seed: 7 });
if (which === 'large' || which === 'all')
  for (const alpha of [0.5, 1]) cases.push({ m: 1000, d: 1000, r: 5, p: 0.05, alpha, seed: 7 });
const maxIters = Number(arg('--max-iters', '3000'));

for (const name of arg('--backends', 'cpu').split(',')) {
  for (const c of cases) {
    const { truth, matrix } = lowRank(c.m, c.d, c.r, c.p, c.seed);
    let backend;
    try {
      backend = await hostLinRfmBackend(name === 'cpu' ? 'host-cpu' : 'host-gpu');
    } catch (e) {
      console.log(JSON.stringify({ backend: name, unavailable: e.message }));
      break;
    }
    try {
      const r = await completeMatrix(matrix, { alpha: c.alpha, maxIters }, { backend });
      const total = r.iterations + r.refitIterations;
      console.log(
        JSON.stringify({
          backend: name,
          device: r.device,
          ...c,
          observed: r.observed,
          dof: c.r * (c.m + c.d - c.r),
          iterations: r.iterations,
          refit_iterations: r.refitIterations,
          converged: r.converged,
          stop_reason: r.stopReason,
          validation_error: r.validationError,
          held_out_rel_mse: heldOut(r.completed, truth, matrix),
          rank_estimate: r.rankEstimate,
          seconds: r.seconds,
          seconds_per_iteration: r.seconds / total,
        }),
      );
    } finally {
      backend.dispose();
    }
  }
}
