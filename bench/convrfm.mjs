// ConvRFM, CPU float64 vs WebGPU (Dawn; lavapipe on machines without a GPU): one patch kernel matrix
// and one patch-AGOP of n images, and a whole fit. Prints JSON seconds per backend.
// Usage: node --import tsx --import ./test/register-wgsl.mjs bench/convrfm.mjs [--n 400] [--side 16] [--channels 1] [--patch 3] [--iters 1]
import { performance } from 'node:perf_hooks';
import { mat } from '../src/core/mat.ts';
import { normal, rng } from '../src/core/random.ts';
import { fitConvRfm, patchAgop } from '../src/core/rfm/conv-fit.ts';
import { patchGeometry, transformedPatches } from '../src/core/rfm/conv-patches.ts';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
};
const n = arg('--n', 400),
  side = arg('--side', 16),
  c = arg('--channels', 1),
  q = arg('--patch', 3),
  iters = arg('--iters', 1);
const g = normal(rng(0));
const d = c * side * side;
const X = mat(
  n,
  d,
  Float64Array.from({ length: n * d }, () => g()),
);
const y = Float64Array.from({ length: n }, (_, i) => i % 2);
const data = {
  source: 'bench',
  X,
  featureNames: Array.from({ length: d }, (_, j) => `p${j}`),
  y,
  targetName: 'y',
  task: 'classification',
  classes: ['0', '1'],
  imageShape: [c, side, side],
};
const geo = patchGeometry([c, side, side], q, 1, 'bench');
const I = mat(
  geo.D,
  geo.D,
  Float64Array.from({ length: geo.D * geo.D }, (_, k) => (k % (geo.D + 1) === 0 ? 1 : 0)),
);
const P = transformedPatches(X, geo, I);
const kernel = { name: 'laplace', bandwidth: 10 };
const alpha = mat(
  n,
  2,
  Float64Array.from({ length: 2 * n }, () => g()),
);

async function time(fn) {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

async function measure(backend) {
  const warm = await time(() => backend.kernelMatrix(P, undefined, kernel));
  const kernelS = await time(() => backend.kernelMatrix(P, undefined, kernel));
  const agopS = await time(() => patchAgop(backend, P, P, I, kernel, alpha));
  const fitS = await time(() => fitConvRfm(data, { iters, patch: q }, { backend, valFraction: 0.2 }));
  return { device: backend.device, first_kernel_s: warm, kernel_s: kernelS, agop_s: agopS, fit_s: fitS };
}

// Imported dynamically: a static import of this .ts module from .mjs makes its own import('webgpu') unresolvable.
const { hostConvRfmBackend, hostGpuLease } = await import('../src/core/node.ts');
const cpu = await hostConvRfmBackend('host-cpu');
const gpu = await hostConvRfmBackend('host-gpu');
const out = {
  n,
  image: [c, side, side],
  patch: q,
  positions: geo.P,
  patch_dim: geo.D,
  iters,
  cpu: await measure(cpu),
  webgpu: await measure(gpu),
};
cpu.dispose();
gpu.dispose();
hostGpuLease().dispose();
console.log(JSON.stringify(out, null, 1));
