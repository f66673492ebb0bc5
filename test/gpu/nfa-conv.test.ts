// The conv-network NFA on WebGPU (convForward, convActPool, convRouteBackward, convActPoolBackward,
// convBackwardInput, convGram kernels) against the CPU float64 oracle: outputs, the output-gradient Grams per
// layer for every activation and stride/padding/pooling variant (overlapping windows and not, channel
// blocks and partial position tiles), row batching with reused buffers, and the correlations of computeNfa.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hostGpu } from '../../src/core/node';
import { ACTIVATIONS } from '../../src/core/nfa/activation';
import { CpuNfaBackend } from '../../src/core/nfa/backend';
import { computeNfa } from '../../src/core/nfa/compute';
import { size3 } from '../../src/core/nfa/convnet';
import { WebGpuNfaBackend } from '../../src/core/nfa/webgpu';
import { randomConvNet, randomImages } from '../unit/conv-nets';
import { relErr } from './helpers';

const cpu = new CpuNfaBackend();

const VARIANTS: { what: string; shapes: number[][]; input: [number, number, number]; arch: unknown }[] = [
  {
    what: 'defaults, dense head',
    shapes: [
      [4, 3, 3, 3],
      [5, 4, 3, 3],
      [6, 180],
      [3, 6],
    ],
    input: [3, 10, 10],
    arch: {},
  },
  {
    what: 'stride 2, padding 1, max pool, dense head',
    shapes: [
      [6, 3, 3, 3],
      [4, 6, 3, 3],
      [10, 64],
    ],
    input: [3, 16, 16],
    arch: { padding: 1, layers: { '0': { stride: 2, pool: 'max:2' } } },
  },
  {
    what: 'avg pool 3 stride 2, rectangular kernel, fully convolutional',
    shapes: [
      [5, 2, 3, 2],
      [3, 5, 3, 3],
    ],
    input: [2, 11, 9],
    arch: { padding: 1, layers: { '0': { pool: { kind: 'avg', size: 3, stride: 2 } } } },
  },
  {
    // Two channel blocks of 16 (k = 20 out of layer 1, c = 20 into layer 2), rows 19 and 10 wide (tiles of 8
    // with a partial last one), a strided layer that is back-propagated through, and a 5-wide one.
    what: 'stride 2 and max pool inside the network, 20 channels, partial position tiles',
    shapes: [
      [4, 3, 3, 3],
      [20, 4, 3, 3],
      [5, 20, 3, 3],
      [3, 15],
    ],
    input: [3, 12, 19],
    arch: { padding: 1, layers: { '1': { stride: 2, pool: 'max:2' }, '2': { padding: 0 } } },
  },
];

describe('WebGPU conv NFA vs CPU float64', () => {
  let gpu: WebGpuNfaBackend;
  before(async () => {
    const g = await hostGpu();
    gpu = await WebGpuNfaBackend.create(g, { keepAlive: g });
  });
  after(() => gpu?.dispose());

  for (const v of VARIANTS)
    it(`outputs and output-gradient Grams match for every activation (${v.what})`, async () => {
      for (const act of ACTIVATIONS) {
        const net = randomConvNet(v.shapes, v.input, v.arch, act, 11);
        const X = randomImages(9, size3(v.input), 12);
        const [fg, fc] = [await gpu.convForward(net, X), await cpu.convForward(net, X)];
        assert.ok(relErr(fg.data, fc.data) < 1e-5, `${act} outputs: ${relErr(fg.data, fc.data)}`);
        const [hg, hc] = [await gpu.outputGradGrams(net, X), await cpu.outputGradGrams(net, X)];
        hc.forEach((h, l) => {
          const e = relErr(hg[l], h);
          // max pooling may route a near-tie differently in f32 than in float64: rare, and small.
          assert.ok(e < 1e-4, `${act} layer ${net.layers[l].name}: Gram rel. error ${e}`);
        });
        assert.equal(gpu.liveBuffers, 0);
      }
    });

  it('row batches add up: a small batch buffer gives the same Grams and correlations', async () => {
    const v = VARIANTS[1];
    const net = randomConvNet(v.shapes, v.input, v.arch, 'relu', 5);
    const X = randomImages(23, size3(v.input), 6);
    const g = await WebGpuNfaBackend.create(await hostGpu(), { maxBatchBytes: 64 * 1024 });
    try {
      const [a, b] = [await computeNfa(net, X, g), await computeNfa(net, X, cpu)];
      a.layers.forEach((l, i) => {
        assert.equal(l.kind, b.layers[i].kind);
        assert.ok(relErr(l.agop, b.layers[i].agop) < 1e-4, `${l.name} patch-AGOP`);
        assert.ok(Math.abs(l.correlation.pearson.sqrt_agop - b.layers[i].correlation.pearson.sqrt_agop) < 1e-4);
      });
    } finally {
      g.dispose();
    }
  });
});
