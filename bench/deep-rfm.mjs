// Deep RFM (docs/science.md §7), CPU float64 vs WebGPU (Dawn; lavapipe on machines without a GPU): one
// whole run on a seeded Gaussian mixture with the backends the CLI uses (core/node.ts hostRfmBackend:
// the threaded CPU backend, the leased device). Prints JSON: shape, wall and process-CPU seconds per backend, NC1 first/last.
// Usage: node --import tsx --import ./test/register-wgsl.mjs bench/deep-rfm.mjs [--n 500] [--depth 8] [--width 512] [--classes 10] [--d 20]
import { performance } from 'node:perf_hooks';
import { deepRfm } from '../src/core/rfm/deep.ts';
import { gaussianMixture } from '../test/helpers/mixture.ts';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
};
const n = arg('--n', 500),
  depth = arg('--depth', 8),
  width = arg('--width', 512),
  K = arg('--classes', 10),
  d = arg('--d', 20);
const data = gaussianMixture(K, d, Math.ceil(n / K), 7);
// Imported dynamically: a static import of this .ts module from .mjs makes its own import('webgpu') unresolvable.
const { hostRfmBackend, hostGpuLease } = await import('../src/core/node.ts');
const out = { n: data.X.rows, d, classes: K, depth, width, seconds: {}, cpu_seconds: {}, nc1: {}, device: {} };
for (const placement of ['host-cpu', 'host-gpu']) {
  const name = placement === 'host-cpu' ? 'cpu' : 'webgpu';
  let backend;
  try {
    backend = await hostRfmBackend(placement);
  } catch (e) {
    out.seconds[name] = null;
    out.device[name] = `unavailable: ${e.message}`;
    continue;
  }
  try {
    const t = performance.now();
    const u = process.cpuUsage();
    const r = await deepRfm(data, { depth, width }, { backend });
    out.seconds[name] = +((performance.now() - t) / 1000).toFixed(2);
    // Process CPU time (all threads: the CPU backend's workers, lavapipe's driver threads): the
    // wall time above grows with the machine's load, this much less.
    const used = process.cpuUsage(u);
    out.cpu_seconds[name] = +((used.user + used.system) / 1e6).toFixed(2);
    out.nc1[name] = { first: r.layers[0].nc1, last: r.layers[depth].nc1 };
    out.device[name] = r.device;
  } finally {
    backend.dispose();
  }
}
hostGpuLease().dispose();
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
