// Patch-AGOPs of a conv network (docs/science.md §6), WebGPU (Dawn; lavapipe on machines without a GPU) vs
// the CPU float64 oracle. Network: conv(3->16, 3, pad 1) relu maxpool 2, conv(16->32, 3, pad 1) relu
// maxpool 2, conv(32->32, 3, pad 1) relu maxpool 2, flatten, linear(512->10), on N random 32x32x3 images.
// WebGPU runs all N rows; the CPU runs --cpu-rows of them (it is ~linear in rows) and the JSON gives its
// measured seconds and the extrapolation to N, plus the relative error of WebGPU on the CPU's rows. Each run
// also gives its process CPU seconds (lavapipe's threads are this process's) and the load average.
// --profile R adds webgpu_profile: R rows again with every kernel step its own submit, awaited
// (queue.onSubmittedWorkDone), its wall and process CPU seconds summed per step name (lavapipe runs in
// this process, so CPU seconds are the work whatever the machine's load; slower than the batched run).
// Usage: node --import tsx --import ./test/register-wgsl.mjs bench/conv-nfa.mjs [--n 1000] [--cpu-rows 100] [--profile 0]
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import { mat } from '../src/core/mat.ts';
import { CpuNfaBackend } from '../src/core/nfa/backend.ts';
import { convPatchAgops } from '../src/core/nfa/compute.ts';
import { convNfaMacs, size3 } from '../src/core/nfa/convnet.ts';
import { randomConvNet, randomImages } from '../test/unit/conv-nets.ts';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
};
const n = arg('--n', 1000),
  cpuRows = Math.min(n, arg('--cpu-rows', 100)),
  profileRows = Math.min(n, arg('--profile', 0));
const input = [3, 32, 32];
const net = randomConvNet(
  [
    [16, 3, 3, 3],
    [32, 16, 3, 3],
    [32, 32, 3, 3],
    [10, 512],
  ],
  input,
  { padding: 1, pool: 'max:2' },
  'relu',
  0,
);
const X = randomImages(n, size3(input), 1);
// Process CPU seconds (this process's threads, lavapipe's included): the work, whatever the machine's load.
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
let lastCpu = 0;
const sec = async (f) => {
  const t0 = performance.now(),
    c0 = cpuNow();
  const v = await f();
  lastCpu = cpuNow() - c0;
  return [(performance.now() - t0) / 1000, v];
};
const relErr = (a, b) => {
  let num = 0,
    den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
};

// Imported dynamically: a static import of this .ts module from .mjs makes its own import('webgpu') unresolvable.
const { hostNfaBackend } = await import('../src/core/node.ts');
const gpu = await hostNfaBackend('host-gpu');
const sub = mat(cpuRows, X.cols, X.data.subarray(0, cpuRows * X.cols));
const [gpuFirst] = await sec(() => convPatchAgops(net, mat(2, X.cols, X.data.subarray(0, 2 * X.cols)), gpu));
const [gpuSeconds] = await sec(() => convPatchAgops(net, X, gpu));
const gpuCpuSeconds = lastCpu;
const [, gpuSub] = await sec(() => convPatchAgops(net, sub, gpu));
const [cpuSeconds, cpuSub] = await sec(() => convPatchAgops(net, sub, new CpuNfaBackend()));
const cpuCpuSeconds = lastCpu;
gpu.dispose();
let profile;
if (profileRows > 0) {
  const { hostGpu } = await import('../src/core/node.ts');
  const { GpuContext } = await import('../src/core/gpu/context.ts');
  const { ConvGpu } = await import('../src/core/nfa/convWebgpu.ts');
  const g = await hostGpu();
  const ctx = await GpuContext.open(g, 'conv-nfa profile', g);
  const rows = mat(profileRows, X.cols, X.data.subarray(0, profileRows * X.cols));
  const cpuClock = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const wall = { seconds: new Map() },
    cpu = { seconds: new Map(), clock: cpuClock };
  for (const p of [wall, cpu])
    await ctx.run('profile', (op) => new ConvGpu(ctx, 32 * 1024 ** 2, p).outputGradGrams(op, net, rows));
  ctx.dispose();
  profile = Object.fromEntries(
    [...wall.seconds].map(([k, v]) => [k, { wall: +v.toFixed(3), cpu: +cpu.seconds.get(k).toFixed(3) }]),
  );
}

console.log(
  JSON.stringify(
    {
      network: net.layers.map((l) => `${l.kind} ${l.name} [${l.k}x${l.c}x${l.kh}x${l.kw}] -> ${l.nextShape.join('x')}`),
      rows: n,
      multiply_adds: convNfaMacs(net.layers, n),
      device: gpu.device,
      webgpu_first_call_seconds: +gpuFirst.toFixed(3),
      webgpu_seconds: +gpuSeconds.toFixed(3),
      webgpu_process_cpu_seconds: +gpuCpuSeconds.toFixed(3),
      cpu_rows: cpuRows,
      cpu_seconds: +cpuSeconds.toFixed(3),
      cpu_process_cpu_seconds: +cpuCpuSeconds.toFixed(3),
      cpu_seconds_extrapolated_to_rows: +((cpuSeconds * n) / cpuRows).toFixed(1),
      cpu_multiply_adds_per_second: +(convNfaMacs(net.layers, cpuRows) / cpuSeconds).toExponential(2),
      speedup: +((cpuSeconds * n) / cpuRows / gpuSeconds).toFixed(1),
      load_average: os.loadavg().map((v) => +v.toFixed(1)),
      webgpu_rel_error_per_layer: gpuSub.map((g, l) => +relErr(g, cpuSub[l]).toExponential(2)),
      ...(profile ? { webgpu_profile_rows: profileRows, webgpu_profile_seconds: profile } : {}),
    },
    null,
    1,
  ),
);
