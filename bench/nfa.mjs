// NFA benchmark, CPU float64: network AGOP for every layer, the AGOP^(1/2) eigendecompositions,
// one training epoch, and listing a (claimed) 40 GB .safetensors. Prints JSON.
// Usage: node --import tsx bench/nfa.mjs [--n 2000] [--d 100] [--width 256] [--depth 2] [--outputs 10]
import { performance } from 'node:perf_hooks';
import { mat } from '../src/core/mat.ts';
import { rng } from '../src/core/random.ts';
import { symPow } from '../src/core/linalg/eigh.ts';
import { CpuNfaBackend } from '../src/core/nfa/backend.ts';
import { networkAgops } from '../src/core/nfa/compute.ts';
import { initMlp, trainMlp } from '../src/core/nfa/train.ts';
import { listTensors } from '../src/core/weights/index.ts';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
};
const n = arg('--n', 2000),
  d = arg('--d', 100),
  width = arg('--width', 256),
  depth = arg('--depth', 2),
  c = arg('--outputs', 10);
const r = rng(0);
const X = mat(
  n,
  d,
  Float64Array.from({ length: n * d }, () => 2 * r() - 1),
);
const net = initMlp([d, ...new Array(depth).fill(width), c], 'relu', 0);
const sec = (t0) => (performance.now() - t0) / 1000;

let t0 = performance.now();
const agops = await networkAgops(net, X, new CpuNfaBackend());
const agopSeconds = sec(t0);
t0 = performance.now();
for (const [l, g] of agops.entries()) symPow(g, net.layers[l].inDim, 0.5);
const sqrtSeconds = sec(t0);

const Y = mat(
  n,
  c,
  Float64Array.from({ length: n * c }, () => r()),
);
t0 = performance.now();
await trainMlp(X, Y, { width, depth, epochs: 1, batch: 64, nfaRows: 0 });
const epochSeconds = sec(t0);

const header = new TextEncoder().encode(
  JSON.stringify(
    Object.fromEntries(
      Array.from({ length: 1000 }, (_, i) => [
        `layers.${i}.weight`,
        { dtype: 'F32', shape: [100, 100000], data_offsets: [i * 4e7, (i + 1) * 4e7] },
      ]),
    ),
  ),
);
const head = new Uint8Array(8 + header.length);
new DataView(head.buffer).setBigUint64(0, BigInt(header.length), true);
head.set(header, 8);
t0 = performance.now();
const listed = await listTensors(
  { size: head.length + 4e10, read: async (o, len) => head.subarray(o, Math.min(o + len, head.length)) },
  'huge.safetensors',
);
const listSeconds = sec(t0);

console.log(
  JSON.stringify(
    {
      bench: 'nfa',
      node: process.version,
      device: 'cpu float64',
      network: { n, d, width, depth, outputs: c },
      seconds: {
        agop_all_layers: agopSeconds,
        sqrt_agop_eigh_all_layers: sqrtSeconds,
        train_epoch_batch64: epochSeconds,
        list_40GB_safetensors_1000_tensors: listSeconds,
      },
      listed_tensors: listed.length,
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    },
    null,
    1,
  ),
);
