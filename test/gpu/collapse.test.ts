// Neural-collapse features on WebGPU (NfaBackend.features / convFeatures: the mlpForward and
// convForward/convActPool passes read back at every hidden layer) against the CPU float64 oracle, and the
// whole study on the PyTorch fixture through the host placement.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readDatasetFile } from '../../src/core/data/node';
import { hostCollapseCompute, hostGpu } from '../../src/core/node';
import { ACTIVATIONS } from '../../src/core/nfa/activation';
import { CpuNfaBackend } from '../../src/core/nfa/backend';
import { collapseStudy } from '../../src/core/nfa/collapse';
import { size3 } from '../../src/core/nfa/convnet';
import { inferLayerChain, loadMlp, networkView } from '../../src/core/nfa/network';
import { WebGpuNfaBackend } from '../../src/core/nfa/webgpu';
import { bytesSource, openWeights } from '../../src/core/weights';
import { randomConvNet, randomImages } from '../unit/conv-nets';
import { randomMat, relErr } from './helpers';

const cpu = new CpuNfaBackend();
const DIR = join(__dirname, '../fixtures/weights');

describe('WebGPU collapse features vs CPU float64', () => {
  let gpu: WebGpuNfaBackend;
  before(async () => {
    const g = await hostGpu();
    gpu = await WebGpuNfaBackend.create(g, { keepAlive: g });
  });
  after(() => gpu?.dispose());

  it('dense: every hidden activation for every activation function, across row batches', async () => {
    const file = networkView(
      await openWeights(bytesSource(new Uint8Array(readFileSync(join(DIR, 'collapse_net.pt')))), 'collapse_net.pt'),
    );
    const chain = inferLayerChain(file.tensors, 'collapse_net.pt', { inputDim: 6, fileOrder: file.savedOrder });
    const X = randomMat(37, 6, 3, 2);
    for (const act of ACTIVATIONS) {
      const net = await loadMlp(file, chain, act);
      const [g, c] = [await gpu.features(net, X), await cpu.features(net, X)];
      assert.equal(g.length, 3);
      c.forEach((h, l) => {
        const e = relErr(g[l], h);
        assert.ok(e < 1e-5, `${act} layer ${l}: ${e}`);
      });
      assert.equal(gpu.liveBuffers, 0);
    }
    // A batch buffer of 1 KiB: 8 rows per batch (widest layer 32) over 37 rows — the batches add up.
    const small = await WebGpuNfaBackend.create(await hostGpu(), { maxBatchBytes: 4 * 32 * 4 * 2 });
    try {
      const net = await loadMlp(file, chain, 'relu');
      const [g, c] = [await small.features(net, X), await cpu.features(net, X)];
      c.forEach((h, l) => assert.ok(relErr(g[l], h) < 1e-5, `small batches layer ${l}`));
    } finally {
      small.dispose();
    }
  });

  it('conv: every hidden output after activation and pooling', async () => {
    const shapes = [
      [4, 2, 3, 3],
      [5, 4, 3, 3],
      [6, 80],
      [3, 6],
    ];
    for (const act of ACTIVATIONS) {
      const net = randomConvNet(shapes, [2, 9, 9], { padding: 1, layers: { '0': { pool: 'max:2' } } }, act, 4);
      const X = randomImages(9, size3(net.input), 5);
      const [g, c] = [await gpu.convFeatures(net, X), await cpu.convFeatures(net, X)];
      assert.equal(g.length, 3);
      c.forEach((h, l) => {
        const e = relErr(g[l], h);
        assert.ok(e < 1e-4, `${act} conv layer ${l}: ${e}`);
      });
      assert.equal(gpu.liveBuffers, 0);
    }
  });

  it('the study on the PyTorch fixture: WebGPU metrics within 1e-4 of the float64 ones', async () => {
    const loaded = await readDatasetFile(join(DIR, 'collapse_train.csv'), { target: 'y' });
    const held = (await readDatasetFile(join(DIR, 'collapse_test.csv'), { target: 'y' }, loaded.schema)).dataset;
    const file = networkView(
      await openWeights(bytesSource(new Uint8Array(readFileSync(join(DIR, 'collapse_net.pt')))), 'collapse_net.pt'),
    );
    const net = await loadMlp(file, inferLayerChain(file.tensors, 'x', { inputDim: 6 }), 'relu');
    const input = {
      net,
      classes: loaded.dataset.classes!,
      train: { X: loaded.dataset.X, labels: Int32Array.from(loaded.dataset.y) },
      test: { X: held.X, labels: Int32Array.from(held.y) },
    };
    const [g, c] = [
      await collapseStudy(input, hostCollapseCompute('webgpu')),
      await collapseStudy(input, hostCollapseCompute('cpu')),
    ];
    assert.equal(g.backend, 'webgpu');
    assert.equal(c.backend, 'cpu');
    g.layers.forEach((l, i) => {
      for (const k of ['nc1', 'nc1Classic', 'nc2'] as const) {
        const [a, b] = [l.train[k], c.layers[i].train[k]];
        assert.ok(Math.abs(a - b) <= 1e-4 * Math.abs(b), `${l.name} ${k}: ${a} vs ${b}`);
        const [at, bt] = [l.test![k], c.layers[i].test![k]];
        assert.ok(Math.abs(at - bt) <= 1e-4 * Math.abs(bt), `${l.name} test ${k}: ${at} vs ${bt}`);
      }
    });
  });
});
