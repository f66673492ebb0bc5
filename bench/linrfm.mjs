// lin-RFM matrix completion benchmark (docs/science.md §8, issue 17 item 5): planted rank-r matrices
// U Vᵀ (Gaussian factors) at several observation rates, completed by completeMatrix on each host
// backend (the CPU float64 oracle; WebGPU through Dawn, lavapipe on a machine without a GPU). Each
// (backend, case) runs in its own process and prints one JSON line: iterations (validated + refit),
// converged, validation error, held-out relative MSE against the truth (the unobserved entries), rank
// estimate, seconds and seconds per iteration (wall), cpu_seconds (the process's CPU time over the
// run, all threads, lavapipe's included: less load-dependent than wall time on a shared machine),
// peak_rss_mib (the process's maxRSS: input, CPU state, Dawn's host copies) and the load average
// (1, 5, 15 min) before and after, which says how shared the machine was.
// Usage: npm run bench:linrfm -- [--cases anchor|rates|large|all] [--backends cpu,webgpu] [--max-iters N]
// anchor: 100 x 100 rank 3 at 15% for α = ½ and 1 (docs/science.md: ~360 and ~74 iterations);
// rates: 100 x 100 rank 3 at 8..30% (the degrees of freedom r(m + d − r) = 591 are 5.9%);
// large: 1000 x 1000 rank 5 at 5% (the performance case).
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : process.argv[i + 1];
};
const maxIters = Number(arg('--max-iters', '3000'));

async function one(name, c) {
  const { completeMatrix } = await import('../src/core/linrfm/complete.ts');
  const { hostLinRfmBackend } = await import('../src/core/node.ts');
  const { heldOutError, lowRank } = await import('../test/unit/linrfm-helpers.ts');
  const { truth, matrix } = lowRank(c.m, c.d, c.r, c.p, c.seed);
  const backend = await hostLinRfmBackend(name === 'cpu' ? 'host-cpu' : 'host-gpu');
  const cpu0 = process.cpuUsage();
  try {
    const r = await completeMatrix(matrix, { alpha: c.alpha, maxIters }, { backend });
    const cpu = process.cpuUsage(cpu0);
    const total = r.iterations + r.refitIterations;
    return {
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
      held_out_rel_mse: heldOutError(r.completed, truth, matrix),
      rank_estimate: r.rankEstimate,
      seconds: r.seconds,
      seconds_per_iteration: r.seconds / total,
      cpu_seconds: (cpu.user + cpu.system) / 1e6,
      peak_rss_mib: process.resourceUsage().maxRSS / 1024,
    };
  } finally {
    backend.dispose();
  }
}

if (process.argv.includes('--one')) {
  const r = await one(arg('--one'), JSON.parse(arg('--case')));
  process.stdout.write(JSON.stringify(r) + '\n');
  process.exit(0);
}

const which = arg('--cases', 'anchor');
const cases = [];
if (which === 'anchor' || which === 'all')
  for (const alpha of [0.5, 1]) cases.push({ m: 100, d: 100, r: 3, p: 0.15, alpha, seed: 7 });
if (which === 'rates' || which === 'all')
  for (const p of [0.08, 0.12, 0.2, 0.3])
    for (const alpha of [0.5, 1]) cases.push({ m: 100, d: 100, r: 3, p, alpha, seed: 7 });
if (which === 'large' || which === 'all')
  for (const alpha of [0.5, 1]) cases.push({ m: 1000, d: 1000, r: 5, p: 0.05, alpha, seed: 7 });

for (const name of arg('--backends', 'cpu').split(','))
  for (const c of cases) {
    const loadavg_before = os.loadavg();
    const p = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--import',
        './test/register-wgsl.mjs',
        fileURLToPath(import.meta.url),
        '--one',
        name,
        '--case',
        JSON.stringify(c),
        '--max-iters',
        String(maxIters),
      ],
      { encoding: 'utf8', maxBuffer: 1 << 24 },
    );
    const line = p.stdout.trim().split('\n').pop();
    const r = p.status === 0 && line ? JSON.parse(line) : { backend: name, ...c, error: p.stderr.slice(-2000) };
    console.log(JSON.stringify({ ...r, cores: os.cpus().length, loadavg_before, loadavg_after: os.loadavg() }));
  }
