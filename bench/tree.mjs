// Tree benchmark: an xRFM tree (src/core/rfm/tree.ts) on the synthetic task (bench/synthetic.mjs), by
// default n = 100,000 x d = 20, leaves of the largest size the backend holds. Prints JSON: seconds
// (partition, leaves, total), peak RSS, leaves and the R^2 of 2000 fresh rows predicted by routing.
// Usage: npm run bench:tree [-- --n 100000 --backend webgpu|cpu --leaf-size N --iters 3]
import { hostRfmBackend } from '../src/core/node.ts';
import { evaluate } from '../src/core/rfm/metrics.ts';
import { defaultLeafSize, fitTree, predictTree } from '../src/core/rfm/tree.ts';
import { syntheticTask } from './synthetic.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : process.argv[i + 1];
};
const n = Number(arg('--n', 100000)),
  d = Number(arg('--d', 20)),
  iters = Number(arg('--iters', 3));
const backend = await hostRfmBackend(arg('--backend', 'webgpu') === 'cpu' ? 'host-cpu' : 'host-gpu');
const shape = { d, classes: 1, iters, agopSamples: 20000, diag: false, valFraction: 0.1 };
const leafSize = Number(arg('--leaf-size', defaultLeafSize(shape, backend.name)));
const train = syntheticTask(n, d, 1),
  test = syntheticTask(2000, d, 2);
const t0 = performance.now();
let partitioned = 0;
const { result, model } = await fitTree(
  train,
  { iters, earlyStop: true },
  { leafSize, splitSamples: 2000, temperature: 0 },
  {
    backend,
    valFraction: 0.1,
    onLeaf: (l, L, r) => {
      if (l === 0) partitioned = (performance.now() - t0) / 1000 - r.seconds;
      process.stderr.write(`leaf ${l + 1}/${L}: ${r.nTrain + r.nTest} rows in ${r.seconds.toFixed(1)} s\n`);
    },
  },
);
const fitSeconds = (performance.now() - t0) / 1000;
const tp = performance.now();
const pred = await predictTree(model, test.X, backend);
const r2 = evaluate(pred, test.y, 'regression').metric;
process.stdout.write(
  JSON.stringify({
    n,
    d,
    iters,
    backend: backend.name,
    device: backend.device,
    leaf_size: leafSize,
    leaves: result.tree.leaves,
    depth: result.tree.depth,
    seconds: { partition: partitioned, fit: fitSeconds, predict_2000: (performance.now() - tp) / 1000 },
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    validation_r2: result.final.testMetric,
    test_r2: r2,
  }) + '\n',
);
backend.dispose();
process.exit(0);
