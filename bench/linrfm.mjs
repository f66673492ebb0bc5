// lin-RFM matrix completion benchmark (issue 17 item 5): a seeded m x d rank-r matrix (Gaussian
// factors), each entry observed with probability `rate`, completed by completeMatrix on the CPU float64
// backend and on the WebGPU backend (Dawn; lavapipe on a machine without a GPU), each in its own process.
// Prints JSON per backend: seconds (wall, the whole completeMatrix), iterations, seconds per iteration,
// converged / stop reason, validation error, held-out relative MSE on the unobserved entries against
// the truth, peak RSS (MiB, the process's maxRSS: input, CPU state, Dawn's host copies), and
// cpu_seconds (the process's CPU time over the run, all threads, lavapipe's included): less
// load-dependent than wall time on a shared machine; loadavg (1, 5, 15 min) before and after says how
// shared it was. Usage:
//   npm run bench:linrfm -- [--m 1000 --d 1000 --rank 5
//     --rate 0.05 --alpha 0.5 --max-iters 3000 --backends cpu,webgpu]
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : process.argv[i + 1];
};
const cfg = {
  m: Number(arg('--m', 1000)),
  d: Number(arg('--d', 1000)),
  rank: Number(arg('--rank', 5)),
  rate: Number(arg('--rate', 0.05)),
  alpha: Number(arg('--alpha', 0.5)),
  maxIters: Number(arg('--max-iters', 3000)),
  seed: 1,
};

async function one(backendName) {
  const { completeMatrix } = await import('../src/core/linrfm/complete.ts');
  const { hostLinRfmBackend } = await import('../src/core/node.ts');
  const { normal, rng } = await import('../src/core/random.ts');
  const { m, d, rank: r, rate } = cfg;
  const u = rng(cfg.seed);
  const g = normal(u);
  const U = Float64Array.from({ length: m * r }, g);
  const V = Float64Array.from({ length: d * r }, g);
  const truth = new Float64Array(m * d);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k < r; k++) s += U[i * r + k] * V[j * r + k];
      truth[i * d + j] = s;
    }
  const data = Float64Array.from(truth, (v) => (u() < rate ? v : NaN));
  const backend = await hostLinRfmBackend(backendName === 'cpu' ? 'host-cpu' : 'host-gpu');
  const cpu0 = process.cpuUsage();
  const res = await completeMatrix(
    { rows: m, cols: d, data },
    { alpha: cfg.alpha, maxIters: cfg.maxIters },
    { backend },
  );
  const cpu = process.cpuUsage(cpu0);
  backend.dispose();
  let e = 0,
    s = 0;
  for (let f = 0; f < truth.length; f++)
    if (Number.isNaN(data[f])) {
      e += (res.completed[f] - truth[f]) ** 2;
      s += truth[f] ** 2;
    }
  return {
    backend: backendName,
    device: res.device,
    seconds: res.seconds,
    iterations: res.iterations,
    seconds_per_iteration: res.seconds / res.iterations,
    converged: res.converged,
    stop_reason: res.stopReason,
    validation_error: res.validationError,
    held_out_relative_mse: e / s,
    rank_estimate: res.rankEstimate,
    cpu_seconds: (cpu.user + cpu.system) / 1e6,
    peak_rss_mib: process.resourceUsage().maxRSS / 1024,
  };
}

if (process.argv.includes('--one')) {
  const r = await one(arg('--one'));
  process.stdout.write(JSON.stringify(r) + '\n');
  process.exit(0);
} else {
  const loadBefore = os.loadavg();
  const runs = [];
  for (const b of arg('--backends', 'cpu,webgpu').split(',')) {
    const p = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--import',
        './test/register-wgsl.mjs',
        fileURLToPath(import.meta.url),
        '--one',
        b,
        ...process.argv.slice(2),
      ],
      { encoding: 'utf8', maxBuffer: 1 << 24 },
    );
    const line = p.stdout.trim().split('\n').pop();
    runs.push(p.status === 0 && line ? JSON.parse(line) : { backend: b, error: p.stderr.slice(-2000) });
  }
  const out = {
    matrix: { rows: cfg.m, cols: cfg.d, rank: cfg.rank, observed_rate: cfg.rate, alpha: cfg.alpha },
    cores: os.cpus().length,
    loadavg_before: loadBefore,
    loadavg_after: os.loadavg(),
    runs,
  };
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}
