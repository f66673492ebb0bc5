// The training lab on WebGPU against the CPU float64 trainer: one step's gradients and updated weights
// for every activation and both optimizers, whole training runs (loss curves, the ansatz appearing),
// a device lost mid-training continuing on the CPU, and buffer hygiene.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BackendError } from '../../src/core/errors';
import { hostGpu } from '../../src/core/node';
import { CancelledError } from '../../src/core/errors';
import { ACTIVATIONS } from '../../src/core/nfa/activation';
import { CpuNfaBackend, type Optimizer, type OptimizerSpec } from '../../src/core/nfa/backend';
import { initMlp, trainMlp, type EpochRecord, type TrainOptions, type TrainProgress } from '../../src/core/nfa/train';
import { runPlaced } from '../../src/core/compute';
import { WebGpuNfaBackend, type WebGpuNfaOptions } from '../../src/core/nfa/webgpu';
import { lowRankTask } from '../unit/nfa-tasks';
import { randomMat, relErr } from './helpers';

const cpu = new CpuNfaBackend();

/** A missing adapter fails here (hostGpu() throws), never skips. */
async function gpuNfa(options: WebGpuNfaOptions = {}): Promise<WebGpuNfaBackend> {
  const gpu = await hostGpu();
  return WebGpuNfaBackend.create(gpu, { ...options, keepAlive: gpu });
}

const spec = (kind: Optimizer): OptimizerSpec => ({
  kind,
  lr: 0.01,
  momentum: 0.9,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  // AdamW's decay moves each weight by lr wd w = 5e-3 w per step: far above the tolerances below.
  weightDecay: 0.5,
});

describe('WebGPU training lab vs CPU float64', () => {
  let gpu: WebGpuNfaBackend;
  before(async () => {
    gpu = await gpuNfa();
  });
  after(() => gpu?.dispose());

  for (const activation of ACTIVATIONS) {
    for (const kind of ['sgd', 'adam', 'adamw'] as const) {
      // AdamW runs on a network without biases (the grokking networks): their slots must stay empty.
      const bias = kind !== 'adamw';
      it(`one step on a 5-16-16-2 net: loss, gradients and updated weights (${activation}, ${kind}${bias ? '' : ', no bias'})`, async (t) => {
        const net = initMlp([5, 16, 16, 2], activation, 3, bias);
        const X = randomMat(40, 5, 1, 1.5),
          Y = randomMat(40, 2, 2);
        const problem = { X, Y, net, optimizer: spec(kind) };
        const [sg, sc] = [await gpu.createTrainSession(problem), await cpu.createTrainSession(problem)];
        t.after(() => {
          sg.dispose();
          sc.dispose();
        });
        const rows = Uint32Array.from([3, 7, 1, 0, 22, 39, 17, 5, 9, 11, 30]);
        const [gg, gc] = [await sg.gradients(rows), await sc.gradients(rows)];
        assert.ok(Math.abs(gg.loss - gc.loss) < 1e-6 * gc.loss, `loss ${gg.loss} vs ${gc.loss}`);
        // f32 products summed over 11 rows and back-propagated through 3 layers: a few ulp (1e-7) per entry.
        const errs = [
          ...gg.gradW.map((g, l) => relErr(g, gc.gradW[l])),
          ...(bias ? gg.gradB.map((g, l) => relErr(g, gc.gradB[l])) : []),
        ];
        errs.forEach((e, i) => assert.ok(e < 2e-6, `gradient tensor ${i}: rel. error ${e}`));

        await sg.steps(rows, rows.length);
        await sc.steps(rows, rows.length);
        const [kg, kc] = [await sg.checkpoint(), await sc.checkpoint()];
        assert.equal(kg.state.step, 1);
        const lr = problem.optimizer.lr;
        let worst = 0;
        kg.net.layers.forEach((lg, l) => {
          const lc = kc.net.layers[l];
          const g = gc.gradW[l],
            b = gc.gradB[l];
          const gScale = Math.max(...g.map(Math.abs), ...b.map(Math.abs));
          const check = (wg: ArrayLike<number>, wc: ArrayLike<number>, grad: ArrayLike<number>, what: string) => {
            for (let i = 0; i < wc.length; i++) {
              // SGD moves w by lr g: f32 storage of w (|w| < 1, 6e-8) plus lr times the gradient error.
              // Adam's first step is lr g / (|g| + eps): scale-free, so its error is lr times g's
              // *relative* error, large only where g is near 0 against the tensor's scale.
              const gErr = 2e-6 * gScale;
              const tol =
                1e-7 + (kind === 'sgd' ? lr * gErr : lr * Math.min(2, (2 * gErr) / (Math.abs(grad[i]) + 1e-8)));
              const diff = Math.abs(wg[i] - wc[i]);
              worst = Math.max(worst, diff);
              assert.ok(
                diff <= tol,
                `layer ${l} ${what}[${i}]: ${wg[i]} vs ${wc[i]} (|g| ${Math.abs(grad[i])}, tol ${tol})`,
              );
            }
          };
          check(lg.W, lc.W, g, 'W');
          if (bias) check(lg.b as Float64Array, lc.b as Float64Array, b, 'b');
          else assert.ok(lg.b === null && lc.b === null && b.length === 0, `layer ${l}: no bias, no bias gradient`);
          // The step moved every layer's weights by far more than the tolerance: the test can fail.
          const moved = Math.max(...lc.W.map((w, i) => Math.abs(w - problem.net.layers[l].W[i])));
          assert.ok(moved > 1e-5, `layer ${l} moved ${moved}`);
        });
        assert.ok(
          relErr(
            kg.state.m1.flatMap((a) => [...a]),
            kc.state.m1.flatMap((a) => [...a]),
          ) < 2e-6,
          'first moments',
        );
        if (kind !== 'sgd')
          assert.ok(
            relErr(
              kg.state.m2.flatMap((a) => [...a]),
              kc.state.m2.flatMap((a) => [...a]),
            ) < 5e-6,
            'second moments',
          );
        assert.ok(
          Math.abs((await sg.loss()) - (await sc.loss())) < 1e-5 * (await sc.loss()),
          'loss over all rows after the step',
        );
        t.diagnostic(
          `${activation}/${kind}: gradient rel. errors ${errs.map((e) => e.toExponential(1)).join(' ')}; max |w_gpu - w_cpu| ${worst.toExponential(1)}`,
        );
      });
    }
  }

  it('several minibatches with a shorter last one, momentum and Adam state carried between calls (also a wide input)', async () => {
    for (const [kind, dims] of [
      ['sgd', [7, 13, 3]],
      ['adam', [7, 13, 3]],
      ['adam', [37, 24, 5]],
    ] as const) {
      const net = initMlp([...dims], 'gelu', 5);
      const X = randomMat(70, dims[0], 6, 1.5),
        Y = randomMat(70, dims[2], 7);
      const problem = { X, Y, net, optimizer: { ...spec(kind), lr: 1e-3 } };
      const [sg, sc] = [await gpu.createTrainSession(problem), await cpu.createTrainSession(problem)];
      const order = Uint32Array.from({ length: 70 }, (_, i) => (i * 37) % 70);
      // Issued without waiting: each call's rows must reach the device with its own op, in order.
      await Promise.all([sg.steps(order.subarray(0, 40), 8), sg.steps(order.subarray(40), 8)]);
      for (const part of [order.subarray(0, 40), order.subarray(40)]) await sc.steps(part, 8);
      const [kg, kc] = [await sg.checkpoint(), await sc.checkpoint()];
      assert.equal(kg.state.step, 5 + 4);
      assert.equal(kc.state.step, 9);
      kg.net.layers.forEach((l, i) =>
        assert.ok(relErr(l.W, kc.net.layers[i].W) < 1e-5, `${kind} layer ${i}: ${relErr(l.W, kc.net.layers[i].W)}`),
      );
      sg.dispose();
      sc.dispose();
    }
    assert.equal(gpu.liveBuffers, 0);
  });

  it('the epoch loss in row chunks (a small buffer budget) equals the CPU one', async () => {
    const small = await gpuNfa({ maxBatchBytes: 4096 });
    const net = initMlp([6, 40, 3], 'sigmoid', 8);
    const X = randomMat(301, 6, 9, 1.5),
      Y = randomMat(301, 3, 10);
    const problem = { X, Y, net, optimizer: spec('adam') };
    const [sg, sc] = [await small.createTrainSession(problem), await cpu.createTrainSession(problem)];
    // 4096 bytes / (4 x 40 units) = 25 rows per chunk: 13 chunks, the last of 1 row.
    const [lg, lc] = [await sg.loss(), await sc.loss()];
    assert.ok(Math.abs(lg - lc) < 1e-6 * lc, `${lg} vs ${lc}`);
    sg.dispose();
    assert.equal(small.liveBuffers, 0);
    small.dispose();
  });

  const task = lowRankTask(512, 20, 1);
  const labRun: Partial<TrainOptions> = {
    width: 64,
    depth: 1,
    activation: 'relu',
    optimizer: 'adam',
    lr: 3e-3,
    batch: 32,
    epochs: 20,
    seed: 0,
    nfaRows: 256,
  };

  it('a full run on the low-rank task follows the CPU loss curve and reaches Pearson NFA (alpha 1/2) > 0.9', async (t) => {
    const seen: number[] = [];
    const rg = await trainMlp(task.X, task.Y, labRun, { backend: gpu, onEpoch: (e) => seen.push(e.epoch) });
    const rc = await trainMlp(task.X, task.Y, labRun, { backend: cpu });
    assert.deepEqual(
      seen,
      Array.from({ length: 21 }, (_, i) => i),
    );
    assert.equal(rg.backend, 'webgpu');
    assert.match(rg.device, /^webgpu /);
    assert.equal(rc.backend, 'cpu');
    assert.equal(rg.fallback, undefined);
    const gaps = curveGaps(rg.history, rc.history);
    // 320 Adam steps in f32 from the same start: each step's rounding (~1e-7 relative) nudges the
    // trajectory and the nudges add up (measured: 1.4e-6 of the loss after 20 epochs). 1e-4 leaves 70x
    // room for that drift on other drivers, while one wrong gradient entry or update rule moves the loss
    // by percents.
    gaps.forEach((g, e) => assert.ok(g < 1e-4, `epoch ${e}: loss ${rg.history[e].loss} vs ${rc.history[e].loss}`));
    const first = (k: number) => rg.history[k].nfa[0].correlation.pearson.sqrt_agop;
    assert.ok(first(0) < 0.8, `random network: ${first(0)}`);
    assert.ok(first(20) > 0.9, `trained on WebGPU: ${first(20)}`);
    assert.ok(Math.abs(first(20) - rc.history[20].nfa[0].correlation.pearson.sqrt_agop) < 1e-2);
    assert.ok(rg.history[20].loss < 0.1 * rg.history[0].loss);
    assert.equal(gpu.liveBuffers, 0);
    t.diagnostic(
      `max relative loss gap ${Math.max(...gaps).toExponential(2)}; Pearson at epoch 20 ${first(20).toFixed(4)} (CPU ${rc.history[20].nfa[0].correlation.pearson.sqrt_agop.toFixed(4)})`,
    );
  });

  it('SGD with momentum, two tanh hidden layers and a batch that does not divide the rows: the same curve', async (t) => {
    const small = lowRankTask(250, 5, 2);
    const o: Partial<TrainOptions> = {
      width: 32,
      depth: 2,
      activation: 'tanh',
      optimizer: 'sgd',
      momentum: 0.9,
      lr: 0.01,
      batch: 16,
      epochs: 10,
      seed: 3,
      nfaRows: 0,
    };
    const rg = await trainMlp(small.X, small.Y, o, { backend: gpu });
    const rc = await trainMlp(small.X, small.Y, o, { backend: cpu });
    const gaps = curveGaps(rg.history, rc.history);
    // 160 SGD steps, momentum 0.9: the same f32 drift (measured 1.6e-6), same bound.
    gaps.forEach((g, e) => assert.ok(g < 1e-4, `epoch ${e}: loss ${rg.history[e].loss} vs ${rc.history[e].loss}`));
    assert.ok(rg.history[10].loss < 0.5 * rg.history[0].loss);
    t.diagnostic(`max relative loss gap ${Math.max(...gaps).toExponential(2)}`);
  });

  it('a device lost mid-training is one clear error, and training continues on the CPU from the last epoch without losing history', async () => {
    const victim = await gpuNfa();
    const o = { ...labRun, epochs: 6, nfaRows: 64 };
    const errors: Error[] = [];
    const progress: TrainProgress = { history: [] };
    const { value: res } = await runPlaced(
      ['host-gpu', 'host-cpu'],
      (p) =>
        trainMlp(task.X, task.Y, o, {
          backend: p === 'host-gpu' ? victim : cpu,
          progress,
          // The device dies between epochs 2 and 3, as a driver reset would.
          onEpoch: (e) => {
            if (e.epoch === 2 && p === 'host-gpu')
              (Reflect.get(victim, 'ctx') as { device: GPUDevice }).device.destroy();
          },
        }),
      { onFallback: (_from, e) => errors.push(e) },
    );
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof BackendError);
    assert.match(errors[0].message, /^webgpu backend: /);
    assert.equal(res.backend, 'cpu');
    assert.match(res.fallback ?? '', /continued on cpu \(cpu float64\) from the weights after epoch 2/);
    assert.deepEqual(
      res.history.map((h) => h.epoch),
      [0, 1, 2, 3, 4, 5, 6],
    );
    const ref = await trainMlp(task.X, task.Y, o, { backend: cpu });
    curveGaps(res.history, ref.history).forEach((g, e) =>
      assert.ok(g < 1e-4, `epoch ${e}: ${res.history[e].loss} vs ${ref.history[e].loss}`),
    );
    victim.dispose();
  });

  it('cancel between epochs ends WebGPU training with CancelledError and frees the session', async () => {
    const cancel = { cancelled: false };
    const seen: number[] = [];
    await assert.rejects(
      trainMlp(
        task.X,
        task.Y,
        { ...labRun, epochs: 50, nfaRows: 0 },
        {
          backend: gpu,
          cancel,
          onEpoch: (e) => {
            seen.push(e.epoch);
            if (e.epoch === 2) cancel.cancelled = true;
          },
        },
      ),
      CancelledError,
    );
    assert.deepEqual(seen, [0, 1, 2]);
    assert.equal(gpu.liveBuffers, 0);
  });

  it('without a next placement the device failure is thrown as a BackendError', async () => {
    const victim = await gpuNfa();
    (Reflect.get(victim, 'ctx') as { device: GPUDevice }).device.destroy();
    await assert.rejects(trainMlp(task.X, task.Y, { ...labRun, epochs: 1 }, { backend: victim }), BackendError);
    victim.dispose();
  });
});

function curveGaps(a: EpochRecord[], b: EpochRecord[]): number[] {
  assert.equal(a.length, b.length);
  return a.map((r, e) => Math.abs(r.loss - b[e].loss) / b[e].loss);
}
