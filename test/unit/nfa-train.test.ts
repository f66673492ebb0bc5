// The training lab: the ansatz appears on a synthetic low-rank task (docs/science.md §2: trained MLPs > 0.9,
// much lower at initialisation), weights round-trip through .safetensors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BackendError } from '../../src/core/errors';
import { runPlaced } from '../../src/core/compute';
import { CpuNfaBackend, type NfaBackend } from '../../src/core/nfa/backend';
import { computeNfa } from '../../src/core/nfa/compute';
import { inferLayerChain, loadMlp } from '../../src/core/nfa/network';
import { initMlp, mlpToSafetensors, trainMlp, type TrainProgress } from '../../src/core/nfa/train';
import { bytesSource, openWeights } from '../../src/core/weights';
import { lowRankTask } from './nfa-tasks';

test('lab-trained MLP reaches Pearson NFA correlation (alpha 1/2) > 0.9; at initialisation it does not', async () => {
  const { X, Y } = lowRankTask(512, 20, 1);
  const epochs: number[] = [];
  const res = await trainMlp(
    X,
    Y,
    {
      width: 64,
      depth: 1,
      activation: 'relu',
      optimizer: 'adam',
      lr: 3e-3,
      batch: 32,
      epochs: 20,
      seed: 0,
      nfaRows: 256,
    },
    { onEpoch: (e) => epochs.push(e.epoch) },
  );
  assert.deepEqual(
    epochs,
    Array.from({ length: 21 }, (_, i) => i),
  );
  const first = (k: number) => res.history[k].nfa[0].correlation.pearson.sqrt_agop;
  assert.ok(first(0) < 0.8, `random network: ${first(0)}`);
  assert.ok(first(20) > 0.9, `trained network: ${first(20)}`);
  assert.ok(res.history[20].loss < 0.1 * res.history[0].loss, `loss ${res.history[0].loss} -> ${res.history[20].loss}`);
  // an untrained network of another seed on the same data stays below as well
  const fresh = await computeNfa(initMlp([20, 64, 1], 'relu', 5), X, new CpuNfaBackend());
  assert.ok(
    fresh.layers[0].correlation.pearson.sqrt_agop < 0.8,
    `fresh: ${fresh.layers[0].correlation.pearson.sqrt_agop}`,
  );
});

test('SGD with momentum lowers the loss too', async () => {
  const { X, Y } = lowRankTask(256, 5, 2);
  const res = await trainMlp(X, Y, {
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
  });
  assert.equal(res.history[0].nfa.length, 0);
  assert.ok(res.history[10].loss < 0.5 * res.history[0].loss, `loss ${res.history[0].loss} -> ${res.history[10].loss}`);
});

test('trained weights saved as .safetensors reload as the same network', async () => {
  const { X } = lowRankTask(64, 5, 3);
  const net = initMlp([5, 16, 16, 2], 'gelu', 9);
  const bytes = mlpToSafetensors(net, 'F64', { activation: 'gelu' });
  const file = await openWeights(bytesSource(bytes), 'lab.safetensors');
  assert.deepEqual(
    file.tensors.map((t) => t.name),
    ['0.weight', '0.bias', '2.weight', '2.bias', '4.weight', '4.bias'],
  );
  const again = await loadMlp(file, inferLayerChain(file.tensors, 'lab.safetensors'), 'gelu');
  net.layers.forEach((l, i) => {
    assert.deepEqual(again.layers[i].W, l.W);
    assert.deepEqual(again.layers[i].b, l.b);
  });
  const a = await computeNfa(net, X, new CpuNfaBackend());
  const b = await computeNfa(again, X, new CpuNfaBackend());
  assert.deepEqual(
    a.layers.map((l) => l.correlation),
    b.layers.map((l) => l.correlation),
  );
});

/** The CPU backend whose training session fails with a BackendError at the given epoch's steps (a device failure). */
function failingAt(epochSteps: number, failures: { count: number }): NfaBackend {
  const cpu = new CpuNfaBackend();
  return {
    name: 'webgpu',
    device: 'webgpu test double',
    forward: (n, X) => cpu.forward(n, X),
    agopSums: (n, X) => cpu.agopSums(n, X),
    convForward: (n, X) => cpu.convForward(n, X),
    features: (n, X) => cpu.features(n, X),
    convFeatures: (n, X) => cpu.convFeatures(n, X),
    outputGradGrams: (n, X) => cpu.outputGradGrams(n, X),
    dispose: () => {},
    async createTrainSession(p) {
      const s = await cpu.createTrainSession(p);
      let calls = 0;
      return {
        steps: async (rows, batch) => {
          if (++calls === epochSteps) {
            failures.count++;
            throw new BackendError('webgpu', 'device lost (unknown): test');
          }
          return s.steps(rows, batch);
        },
        gradients: (rows) => s.gradients(rows),
        loss: () => s.loss(),
        checkpoint: () => s.checkpoint(),
        dispose: () => s.dispose(),
      };
    },
  };
}

test('a BackendError mid-training continues on the fallback from the last epoch: the float64 history equals an uninterrupted run', async () => {
  const { X, Y } = lowRankTask(200, 6, 4);
  const o = {
    width: 16,
    depth: 2,
    activation: 'gelu' as const,
    optimizer: 'adam' as const,
    lr: 3e-3,
    batch: 16,
    epochs: 5,
    seed: 2,
    nfaRows: 50,
  };
  const ref = await trainMlp(X, Y, o);
  assert.equal(ref.backend, 'cpu');
  assert.equal(ref.device, 'cpu float64');
  assert.equal(ref.fallback, undefined);
  const failures = { count: 0 };
  const seen: number[] = [];
  // 200 rows in one steps call per epoch: the third call is epoch 3's.
  // The device failure ends the first placement; the next one continues from the shared progress.
  const progress: TrainProgress = { history: [] };
  const { value: res, placement } = await runPlaced(['host-gpu', 'host-cpu'], (p) =>
    trainMlp(X, Y, o, {
      backend: p === 'host-gpu' ? failingAt(3, failures) : new CpuNfaBackend(),
      progress,
      onEpoch: (e) => seen.push(e.epoch),
    }),
  );
  assert.equal(placement, 'host-cpu');
  assert.equal(failures.count, 1);
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5]);
  assert.equal(res.backend, 'cpu');
  assert.match(
    res.fallback ?? '',
    /^webgpu backend: device lost \(unknown\): test; continued on cpu \(cpu float64\) from the weights after epoch 2$/,
  );
  // Resumed with the same weights, moments and step count: bit-identical to never failing.
  assert.deepEqual(res.history, ref.history);
  res.net.layers.forEach((l, i) => assert.deepEqual(l.W, ref.net.layers[i].W));
});

test('without a next placement a BackendError ends training', async () => {
  const { X, Y } = lowRankTask(64, 4, 5);
  await assert.rejects(
    trainMlp(X, Y, { width: 8, epochs: 3, nfaRows: 0 }, { backend: failingAt(2, { count: 0 }) }),
    /device lost/,
  );
});
