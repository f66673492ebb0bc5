// Grokking benchmark: `feature-lens grok` (docs/science.md §4 defaults: add mod p = 61, r = 0.5, Gaussian
// L = 2.5, 30 AGOP iterations: n_train = 1860, d = 122, 61 outputs) on the float64 CPU and on WebGPU
// (Dawn; the AGOP's Gram sums on the device), each in its own process through the CLI from the
// sources. Prints JSON: wall seconds of the process, the run's own seconds and per-iteration mean,
// the iteration where test accuracy first reaches 0.9, the final accuracies, and loadavg (1, 5, 15
// min) before and after (the machine may be shared), and cpu_seconds: the child's user + system CPU
// time over all its threads (lavapipe's included) from /usr/bin/time when present, less
// load-dependent than wall time on a shared machine.
// Usage: node bench/grok.mjs [--p 61] [--iters 30] [--backends cpu,webgpu] [--op add] [--kernel gaussian]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { loadavg } from 'node:os';

const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const scratch = mkdtempSync(join(tmpdir(), 'grok-bench-'));
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : process.argv[i + 1];
};
const p = arg('--p', '61'),
  iters = arg('--iters', '30'),
  op = arg('--op', 'add'),
  kernel = arg('--kernel', 'gaussian');
const results = [];
for (const backend of arg('--backends', 'cpu,webgpu').split(',')) {
  const load0 = loadavg();
  const t0 = performance.now();
  const timeFile = join(scratch, `${backend}.time`);
  const node = [
    process.execPath,
    '--import',
    'tsx',
    '--import',
    join(root, 'test', 'register-wgsl.mjs'),
    join(root, 'src', 'cli', 'main.ts'),
    'grok',
    '--p',
    p,
    '--iters',
    iters,
    '--op',
    op,
    '--kernel',
    kernel,
    '--backend',
    backend,
    '--json',
    '-',
  ];
  const cmd = TIME ? [TIME, '-f', '%U %S', '-o', timeFile, ...node] : node;
  const r = spawnSync(cmd[0], cmd.slice(1), { cwd: root, encoding: 'utf8', maxBuffer: 256 * 2 ** 20 });
  const cpu = TIME && existsSync(timeFile) ? readFileSync(timeFile, 'utf8').trim().split(/\s+/).map(Number) : null;
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) {
    results.push({ backend, error: r.stderr.trim().split('\n').slice(-3).join(' ') });
    continue;
  }
  const j = JSON.parse(r.stdout);
  const its = j.iterations;
  const acc = its.map((it) => it.test_acc);
  results.push({
    backend: j.backend,
    device: j.device,
    p: j.p,
    op: j.op,
    kernel: j.kernel,
    n_train: j.n_train,
    n_test: j.n_test,
    d: 2 * j.p,
    iterations: its.length - 1,
    wall_seconds: +wall.toFixed(2),
    cpu_seconds: cpu ? +(cpu[0] + cpu[1]).toFixed(2) : null,
    run_seconds: +j.seconds.toFixed(2),
    seconds_per_iteration: +(j.seconds / its.length).toFixed(3),
    first_iter_test_acc_0_9: acc.findIndex((a) => a >= 0.9) < 0 ? null : acc.findIndex((a) => a >= 0.9),
    final_train_acc: its[its.length - 1].train_acc,
    final_test_acc: acc[acc.length - 1],
    max_jitter: Math.max(...its.map((it) => it.jitter)),
    loadavg_before: load0.map((v) => +v.toFixed(2)),
    loadavg_after: loadavg().map((v) => +v.toFixed(2)),
  });
}
rmSync(scratch, { recursive: true, force: true });
process.stdout.write(JSON.stringify({ bench: 'grok', results }, null, 2) + '\n');
