// NFA and catapult-lab compute, CPU float64 vs WebGPU (Dawn; lavapipe on machines without a GPU).
// Prints JSON seconds per backend; the first WebGPU call (shader compilation) is timed separately.
// Usage: node --import tsx --import ./test/register-wgsl.mjs bench/nfa-backends.mjs
//          [--n 2000] [--d 100] [--width 256] [--depth 2] [--outputs 10] [--cat-n 512] [--cat-width 512] [--cat-steps 50]
import { performance } from 'node:perf_hooks';
import { mat } from '../src/core/mat.ts';
import { rng } from '../src/core/random.ts';
import { networkAgops } from '../src/core/nfa/compute.ts';
import { initMlp } from '../src/core/nfa/train.ts';
import { lowRankTask, topEigenvalue } from '../src/core/catapult/index.ts';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
};
const n = arg('--n', 2000),
  d = arg('--d', 100),
  width = arg('--width', 256),
  depth = arg('--depth', 2),
  c = arg('--outputs', 10);
const catN = arg('--cat-n', 512),
  catWidth = arg('--cat-width', 512),
  catSteps = arg('--cat-steps', 50),
  catD = 20;
const r = rng(0);
const X = mat(
  n,
  d,
  Float64Array.from({ length: n * d }, () => 2 * r() - 1),
);
const net = initMlp([d, ...new Array(depth).fill(width), c], 'relu', 0);
const sec = async (f) => {
  const t0 = performance.now();
  await f();
  return (performance.now() - t0) / 1000;
};

const task = lowRankTask(catN, catD, 0);
const draw = rng(1);
const problem = {
  X: task.X,
  y: task.y,
  W: Float64Array.from({ length: catWidth * catD }, () => 2 * draw() - 1),
  a: Float64Array.from({ length: catWidth }, () => 2 * draw() - 1),
  width: catWidth,
};

// Imported dynamically: a static import of this .ts module from .mjs makes its own import('webgpu') unresolvable.
const { hostCatapultBackend, hostNfaBackend } = await import('../src/core/node.ts');
const results = {};
for (const kind of ['cpu', 'webgpu']) {
  const nfa = await hostNfaBackend(kind === 'webgpu' ? 'host-gpu' : 'host-cpu');
  const small = mat(8, d, X.data.subarray(0, 8 * d));
  const first = kind === 'webgpu' ? await sec(() => nfa.agopSums(net, small)) : null;
  const agop = await sec(() => networkAgops(net, X, nfa));
  const forward = await sec(() => nfa.forward(net, X));
  const device = nfa.device;
  nfa.dispose();

  const cat = await hostCatapultBackend(kind === 'webgpu' ? 'host-gpu' : 'host-cpu');
  const s = await cat.createSession(problem);
  const catFirst =
    kind === 'webgpu'
      ? await sec(async () => {
          await s.residuals();
          await s.ntkMatVec(new Float64Array(catN));
          await s.agop();
        })
      : null;
  const lanczos = await sec(() => topEigenvalue((v) => s.ntkMatVec(v), catN));
  const steps = await sec(async () => {
    for (let t = 0; t < catSteps; t++) {
      await s.residuals();
      await s.step(0.1);
    }
    await s.residuals();
  });
  const agopCat = await sec(() => s.agop());
  s.dispose();
  cat.dispose();
  results[kind] = {
    device,
    seconds: {
      nfa_agop_all_layers: agop,
      nfa_forward: forward,
      catapult_lanczos_lambda_max: lanczos,
      [`catapult_${catSteps}_gd_steps_with_losses`]: steps,
      catapult_agop: agopCat,
      ...(first === null ? {} : { first_calls_incl_shader_compilation: first + catFirst }),
    },
  };
}
console.log(
  JSON.stringify(
    {
      bench: 'nfa-backends',
      node: process.version,
      nfa_network: { n, d, width, depth, outputs: c, activation: 'relu' },
      catapult_problem: { n: catN, d: catD, width: catWidth, steps: catSteps },
      ...results,
      speedup_webgpu_over_cpu: Object.fromEntries(
        Object.keys(results.cpu.seconds).map((k) => [
          k,
          +(results.cpu.seconds[k] / results.webgpu.seconds[k]).toFixed(2),
        ]),
      ),
    },
    null,
    1,
  ),
);
