// The NFA training lab, CPU float64 vs WebGPU (Dawn; lavapipe on machines without a GPU): seconds per
// epoch of trainMlp (minibatch steps + the epoch's loss over all rows; NFA correlations off, they are
// bench/nfa-backends.mjs's business) for a few network sizes. Epoch 1 includes WebGPU's shader
// compilation and is reported apart; the per-epoch figure is the median of the later epochs.
// Usage: node --import tsx --import ./test/register-wgsl.mjs bench/nfa-train.mjs [--epochs 4] [--only small|medium|large]
import { performance } from 'node:perf_hooks';
import { mat } from '../src/core/mat.ts';
import { rng } from '../src/core/random.ts';
import { trainMlp } from '../src/core/nfa/train.ts';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : process.argv[i + 1];
};
const epochs = Number(arg('--epochs', 4));
const only = arg('--only', null);
const sizes = [
  { name: 'small', n: 2000, d: 20, width: 64, depth: 1, outputs: 1, batch: 32, optimizer: 'adam' },
  { name: 'medium', n: 4000, d: 100, width: 256, depth: 2, outputs: 10, batch: 128, optimizer: 'adam' },
  { name: 'large', n: 4000, d: 200, width: 512, depth: 2, outputs: 10, batch: 256, optimizer: 'sgd' },
].filter((s) => !only || s.name === only);

// Imported dynamically: a static import of this .ts module from .mjs makes its own import('webgpu') unresolvable.
const { hostNfaBackend } = await import('../src/core/node.ts');
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
};

const runs = [];
for (const size of sizes) {
  const r = rng(1);
  const X = mat(
    size.n,
    size.d,
    Float64Array.from({ length: size.n * size.d }, () => 2 * r() - 1),
  );
  const Y = mat(
    size.n,
    size.outputs,
    Float64Array.from({ length: size.n * size.outputs }, () => 2 * r() - 1),
  );
  const row = { ...size, seconds_per_epoch: {}, first_epoch_seconds: {}, final_loss: {} };
  for (const kind of ['cpu', 'webgpu']) {
    const backend = await hostNfaBackend(kind === 'webgpu' ? 'host-gpu' : 'host-cpu');
    const stamps = [];
    const res = await trainMlp(
      X,
      Y,
      {
        width: size.width,
        depth: size.depth,
        activation: 'relu',
        optimizer: size.optimizer,
        lr: 1e-3,
        momentum: 0.9,
        batch: size.batch,
        epochs,
        seed: 0,
        nfaRows: 0,
      },
      { backend, onEpoch: () => stamps.push(performance.now()) },
    );
    const per = stamps.slice(2).map((t, i) => (t - stamps[i + 1]) / 1000);
    row.seconds_per_epoch[kind] = +median(per).toFixed(4);
    row.first_epoch_seconds[kind] = +((stamps[1] - stamps[0]) / 1000).toFixed(4);
    row.final_loss[kind] = res.history[epochs].loss;
    row.device ??= {};
    row.device[kind] = res.device;
    backend.dispose();
  }
  row.speedup_webgpu_over_cpu = +(row.seconds_per_epoch.cpu / row.seconds_per_epoch.webgpu).toFixed(2);
  runs.push(row);
}
console.log(JSON.stringify({ bench: 'nfa-train', node: process.version, epochs, runs }, null, 1));
