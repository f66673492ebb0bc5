// Fit benchmark: the CPU float64 RFM on synthetic data, n in {2000, 4000, 8000}, d = 20.
// Prints JSON: seconds per phase (kernel, solve, agop, predict) summed over iterations, and peak RSS.
// Each size runs in its own process so peak RSS belongs to that size.  Usage: npm run bench [-- --sizes 2000,4000]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CpuBackend } from '../src/core/rfm/cpu.ts';
import { fitRfm } from '../src/core/rfm/fit.ts';
import { syntheticTask } from './synthetic.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : process.argv[i + 1];
};

if (process.argv.includes('--one')) {
  const n = Number(arg('--one')),
    d = 20,
    iters = Number(arg('--iters', 3));
  const train = syntheticTask(n, d, 1),
    test = syntheticTask(1000, d, 2);
  const r = await fitRfm(train, { iters }, { backend: new CpuBackend(), test });
  const sum = (k) => r.iterations.reduce((s, it) => s + it.phases[k], 0);
  process.stdout.write(
    JSON.stringify({
      n,
      d,
      iters,
      backend: r.device,
      seconds: {
        kernel: sum('kernel'),
        solve: sum('solve'),
        agop: sum('agop'),
        predict: sum('predict'),
        total: r.seconds,
      },
      test_r2: r.final.test_metric,
      test_mse: r.final.test_mse,
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    }),
  );
} else {
  const sizes = arg('--sizes', '2000,4000,8000').split(',').map(Number);
  const results = [];
  for (const n of sizes) {
    const p = spawnSync(
      process.execPath,
      [...process.execArgv, fileURLToPath(import.meta.url), '--one', String(n), '--iters', arg('--iters', '3')],
      { encoding: 'utf8', maxBuffer: 1 << 26 },
    );
    if (p.status !== 0) {
      process.stderr.write(p.stderr);
      process.exit(1);
    }
    results.push(JSON.parse(p.stdout));
  }
  console.log(
    JSON.stringify(
      { bench: 'fit', node: process.version, cpus: (await import('node:os')).cpus().length, results },
      null,
      1,
    ),
  );
}
