// Conv networks in the NFA (docs/science.md §6): the patch-AGOP against central finite differences through
// the layer's convolution at each position, and forward outputs and correlations against PyTorch
// (test/fixtures/weights/make_conv.py: autograd on unfolded patches, independent of our code).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { InputError } from '../../src/core/errors';
import { mat, type Mat } from '../../src/core/mat';
import { CpuNfaBackend } from '../../src/core/nfa/backend';
import { computeNfa, convPatchAgops } from '../../src/core/nfa/compute';
import { convForwardCpu, convForwardImage } from '../../src/core/nfa/convCpu';
import {
  inferConvChain,
  loadConvNet,
  loadMatchingConvWeights,
  parseConvArch,
  parsePool,
  patchDim,
  positions,
  size3,
  type ConvNet,
  type NetLayer,
} from '../../src/core/nfa/convnet';
import { bytesSource, openWeights } from '../../src/core/weights';
import { randomConvNet, randomImages } from './conv-nets';

const DIR = join(__dirname, '../fixtures/weights');
const open = (f: string) => openWeights(bytesSource(new Uint8Array(readFileSync(join(DIR, f)))), f);
type Corr = Record<string, { agop: number; sqrt_agop: number }>;
interface ExpectedNet {
  outputs: number[];
  layers: {
    name: string;
    kind: string;
    shape: number[];
    correlation: Corr;
    correlation_minus_init?: Corr;
    agop?: number[];
  }[];
}
const expected = JSON.parse(readFileSync(join(DIR, 'conv_expected.json'), 'utf8')) as Record<string, ExpectedNet>;

async function images(): Promise<Mat> {
  const f = await open('conv_data.npz');
  const t = f.tensors.find((x) => x.name === 'X')!;
  return mat(t.shape[0], t.shape[1], await f.read('X'));
}

function closeCorr(got: Corr, want: Corr, what: string): void {
  for (const k of ['cosine', 'pearson', 'cosine_offdiag', 'pearson_offdiag'])
    for (const p of ['agop', 'sqrt_agop'] as const) {
      const tol = p === 'agop' ? 1e-9 : 1e-7;
      assert.ok(Math.abs(got[k][p] - want[k][p]) < tol, `${what} ${k}.${p}: ours ${got[k][p]}, torch ${want[k][p]}`);
    }
}

function scaledError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let scale = 1e-300,
    worst = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  return worst / scale;
}

const FIXTURES: { file: string; key: string; arch: unknown; init?: string }[] = [
  {
    file: 'conv_net.pt',
    key: 'conv_net',
    arch: JSON.parse(readFileSync(join(DIR, 'conv_net_arch.json'), 'utf8')),
    init: 'conv_net_init.pt',
  },
  {
    file: 'conv_stride.safetensors',
    key: 'conv_stride',
    arch: { layers: { '0': { stride: 2, padding: 1, pool: 'avg:2' } } },
  },
  { file: 'conv_plain.npz', key: 'conv_plain', arch: {} },
];

for (const fx of FIXTURES) {
  test(`${fx.file}: forward, patch-AGOPs and correlations match PyTorch`, async () => {
    const X = await images();
    const file = await open(fx.file);
    const chain = inferConvChain(file.tensors, fx.file, {
      inputDim: X.cols,
      arch: parseConvArch(fx.arch, 'arch'),
      fileOrder: file.savedOrder,
    });
    const want = expected[fx.key];
    assert.equal(chain.inputFrom, 'square');
    assert.deepEqual(chain.input, [2, 8, 8]);
    assert.deepEqual(
      chain.layers.map((l) => [l.name, l.kind]),
      want.layers.map((l) => [l.name, l.kind]),
    );
    assert.deepEqual(chain.ignored, []);
    const net = await loadConvNet(file, chain, 'relu');
    const out = convForwardCpu(net, X);
    assert.ok(scaledError(out.data, want.outputs) < 1e-12, `outputs: ${scaledError(out.data, want.outputs)}`);
    const got = await computeNfa(net, X, new CpuNfaBackend(), { chunkRows: 7 });
    got.layers.forEach((l, i) => {
      const w = want.layers[i];
      assert.equal(l.kind, w.kind);
      assert.deepEqual(l.shape, w.shape);
      if (w.agop)
        assert.ok(scaledError(l.agop, w.agop) < 1e-11, `${w.name} patch-AGOP: ${scaledError(l.agop, w.agop)}`);
      closeCorr(l.correlation as unknown as Corr, w.correlation, `${fx.file} ${w.name}`);
    });
    if (fx.init) {
      const W0 = await loadMatchingConvWeights(await open(fx.init), chain);
      const minus = await computeNfa(net, X, new CpuNfaBackend(), { initWeights: W0 });
      minus.layers.forEach((l, i) =>
        closeCorr(
          l.correlation as unknown as Corr,
          want.layers[i].correlation_minus_init!,
          `${fx.file} ${l.name} minus init`,
        ),
      );
    }
  });
}

/** A network that starts at layer `from`'s convolution output: identity 1x1 conv with that layer's pooling. */
function tailFrom(net: ConvNet, from: number): ConvNet {
  const l = net.layers[from];
  const k = l.k;
  const I = new Float64Array(k * k);
  for (let i = 0; i < k; i++) I[i * k + i] = 1;
  const id: NetLayer = {
    ...l,
    name: 'identity',
    c: k,
    kh: 1,
    kw: 1,
    stride: 1,
    padding: 0,
    inShape: l.outShape,
    W: I,
    b: null,
  };
  return { ...net, input: l.outShape, layers: [id, ...net.layers.slice(from + 1)] };
}

/** Layers before `to`, then an identity 1x1 conv (so the activation and pooling of layer to-1 apply): layer `to`'s input. */
function headTo(net: ConvNet, to: number): ConvNet {
  const prev = net.layers[to - 1];
  const [c, h, w] = prev.nextShape;
  const I = new Float64Array(c * c);
  for (let i = 0; i < c; i++) I[i * c + i] = 1;
  const id: NetLayer = {
    ...prev,
    kind: 'conv',
    name: 'identity',
    k: c,
    c,
    kh: 1,
    kw: 1,
    stride: 1,
    padding: 0,
    pool: null,
    inShape: [c, h, w],
    outShape: [c, h, w],
    nextShape: [c, h, w],
    W: I,
    b: null,
  };
  return { ...net, layers: [...net.layers.slice(0, to), id] };
}

/**
 * Patch-AGOP of layer l by central differences: perturb the layer's convolution output at position p
 * by W (eps e_j) (the patch moved along e_j, through the convolution at p alone) and difference every output.
 */
function finiteDifferencePatchAgop(net: ConvNet, X: Mat, l: number, eps = 1e-5): Float64Array {
  const layer = net.layers[l];
  const d = patchDim(layer),
    P = positions(layer),
    k = layer.k;
  const tail = tailFrom(net, l);
  const G = new Float64Array(d * d);
  for (let n = 0; n < X.rows; n++) {
    const x = mat(1, X.cols, X.data.slice(n * X.cols, (n + 1) * X.cols));
    const a = l === 0 ? x.data : convForwardCpu(headTo(net, l), x).data;
    const z = convForwardImage(layer, a);
    for (let p = 0; p < P; p++) {
      const outDim = size3(tail.layers[tail.layers.length - 1].nextShape);
      const grads = new Float64Array(outDim * d); // [o][j]
      for (let j = 0; j < d; j++) {
        const f = [1, -1].map((sgn) => {
          const zz = Float64Array.from(z);
          for (let kk = 0; kk < k; kk++) zz[kk * P + p] += sgn * eps * layer.W[kk * d + j];
          return convForwardCpu(tail, mat(1, zz.length, zz)).data;
        });
        for (let o = 0; o < outDim; o++) grads[o * d + j] = (f[0][o] - f[1][o]) / (2 * eps);
      }
      for (let o = 0; o < outDim; o++)
        for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) G[i * d + j] += grads[o * d + i] * grads[o * d + j];
    }
  }
  for (let i = 0; i < G.length; i++) G[i] /= X.rows * P;
  return G;
}

const VARIANTS: { what: string; shapes: number[][]; input: [number, number, number]; arch: unknown }[] = [
  {
    what: 'defaults, dense head',
    shapes: [
      [3, 2, 3, 3],
      [4, 3, 2, 2],
      [3, 36],
    ],
    input: [2, 6, 6],
    arch: {},
  },
  {
    what: 'stride 2, padding 1, max pool',
    shapes: [
      [4, 2, 3, 3],
      [3, 4, 2, 2],
      [2, 3],
    ],
    input: [2, 7, 7],
    arch: { layers: { '0': { stride: 2, padding: 1, pool: 'max:2' } } },
  },
  {
    what: 'padding everywhere, avg pool 3 stride 2, rectangular kernel, fully convolutional',
    shapes: [
      [3, 1, 3, 2],
      [2, 3, 3, 3],
    ],
    input: [1, 7, 6],
    arch: { padding: 1, layers: { '0': { pool: { kind: 'avg', size: 3, stride: 2 } } } },
  },
];

for (const v of VARIANTS) {
  test(`patch-AGOP equals central finite differences (${v.what})`, async () => {
    const net = randomConvNet(v.shapes, v.input, v.arch, 'tanh', 3);
    const X = randomImages(3, size3(v.input), 4);
    const agops = await convPatchAgops(net, X, new CpuNfaBackend(), { chunkRows: 2 });
    net.layers.forEach((layer, l) => {
      const fd = finiteDifferencePatchAgop(net, X, l);
      const err = scaledError(agops[l], fd);
      assert.ok(err < 1e-7, `${layer.name} (${layer.kind}): scaled error ${err}`);
      assert.ok(Math.max(...fd.map(Math.abs)) > 1e-3, `${layer.name}: a vanishing AGOP proves nothing`);
    });
  });
}

test('architecture file and flags: errors name the field and the way out', () => {
  assert.throws(
    () => parseConvArch({ strid: 2 }, 'a.json'),
    (e: Error) => e instanceof InputError && /a\.json: field '\(top level\)'|strid/.test(e.message),
  );
  assert.throws(
    () => parseConvArch({ layers: { c1: { padding: -1 } } }, 'a.json'),
    /a\.json: field 'layers\.c1\.padding'/,
  );
  assert.throws(() => parseConvArch({ pool: 'mean:2' }, 'a.json'), /a\.json: field 'pool': expected max:K/);
  assert.deepEqual(parsePool('max:3:2', '--pool'), { kind: 'max', size: 3, stride: 2 });
  assert.equal(parsePool('none', '--pool'), null);
  assert.throws(() => parsePool('max', '--pool'), /--pool: expected/);
  const t = (name: string, shape: number[]) => ({ name, dtype: 'F64' as const, shape, byteLength: 8 });
  const tensors = [t('c.weight', [4, 3, 3, 3]), t('fc.weight', [2, 100])];
  // 3 x 10 x 10 -> 4 x 8 x 8 = 256 flattened, but fc takes 100.
  assert.throws(
    () => inferConvChain(tensors, 'w.pt', { inputDim: 300 }),
    /w\.pt: first layer 'fc\.weight' \[2, 100\] takes 100 inputs.*flattened output of conv layer 'c\.weight', 4x8x8/,
  );
  // With stride 2 and padding 1: 4 x 5 x 5 = 100.
  const ok = inferConvChain(tensors, 'w.pt', { inputDim: 300, arch: parseConvArch({ stride: 2, padding: 1 }, 'a') });
  assert.deepEqual(
    ok.layers.map((l) => l.nextShape),
    [
      [4, 5, 5],
      [2, 1, 1],
    ],
  );
  assert.throws(
    () => inferConvChain(tensors, 'w.pt', { inputDim: 301 }),
    /301 input columns.*not 3 channels.*square image; declare the image shape/,
  );
  assert.throws(
    () => inferConvChain(tensors, 'w.pt', { inputDim: 300, arch: parseConvArch({ layers: { conv9: {} } }, 'a') }),
    /field 'layers\.conv9' names no conv layer/,
  );
});

test('nfa CLI on conv networks: kind per layer, PyTorch correlations, --arch, flags and --init', async () => {
  const { run } = await import('../../src/cli/commands/nfa');
  const dir = mkdtempSync(join(tmpdir(), 'nfa-conv-'));
  const arch = join(dir, 'stride.json');
  writeFileSync(arch, JSON.stringify(FIXTURES[1].arch));
  const cases: [string, string[], string, keyof ExpectedNet['layers'][number]][] = [
    [
      'conv_net.pt',
      ['--arch', join(DIR, 'conv_net_arch.json'), '--init', join(DIR, 'conv_net_init.pt')],
      'conv_net',
      'correlation_minus_init',
    ],
    ['conv_stride.safetensors', ['--arch', arch], 'conv_stride', 'correlation'],
    ['conv_plain.npz', [], 'conv_plain', 'correlation'],
  ];
  for (const [weights, flags, key, field] of cases) {
    const out = join(dir, `${weights}.json`);
    const code = await run([
      join(DIR, weights),
      join(DIR, 'conv_data.npz'),
      '--target',
      'y',
      '--backend',
      'cpu',
      '--matrices',
      '--json',
      out,
      ...flags,
    ]);
    assert.equal(code, 0);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(report.rfm, null);
    report.layers.forEach(
      (
        l: {
          name: string;
          kind: string;
          shape: number[];
          weight_shape?: number[];
          nfm: number[][];
          agop: number[][];
          correlation: Corr;
        },
        i: number,
      ) => {
        const w = expected[key].layers[i];
        assert.equal(l.name, w.name);
        assert.equal(l.kind, w.kind);
        assert.deepEqual(l.shape, w.shape);
        assert.equal(l.nfm.length, w.shape[1]);
        assert.equal(l.agop[0].length, w.shape[1]);
        if (l.kind === 'conv')
          assert.equal(
            l.weight_shape!.reduce((a, b) => a * b, 1),
            w.shape[0] * w.shape[1],
          );
        closeCorr(l.correlation, w[field] as Corr, `${weights} ${l.name}`);
      },
    );
  }
  // Flags apply to every conv layer: padding 1 and max:2 pooling after both also give 6x2x2 = 24 into the head.
  const flagged = join(dir, 'flags.json');
  const args = [join(DIR, 'conv_net.pt'), join(DIR, 'conv_data.npz'), '--target', 'y', '--backend', 'cpu'];
  assert.equal(await run([...args, '--padding', '1', '--pool', 'max:2', '--json', flagged]), 0);
  const layers = JSON.parse(readFileSync(flagged, 'utf8')).layers;
  assert.deepEqual(
    layers.map((l: { padding?: number; pool?: unknown }) => [l.padding, l.pool]),
    [
      [1, { kind: 'max', size: 2, stride: 2 }],
      [1, { kind: 'max', size: 2, stride: 2 }],
      [undefined, undefined],
      [undefined, undefined],
    ],
  );
  // Stride 2 everywhere does not fit the head: the error says what was assumed and the way out.
  await assert.rejects(
    run([...args, '--stride', '2']),
    (e: Error) =>
      e instanceof InputError &&
      /gives? 6 .*assumed here: stride 2, padding 0, no pooling.*--arch FILE/.test(e.message),
  );
});

test('NFA view helpers: conv rows say their kind; eigenvectors become c x kh x kw filters (matrixImages)', async () => {
  const { correlationRows } = await import('../../webview/nfa/numbers');
  const { matrixImages } = await import('../../src/core/data/images');
  const X = await images();
  const file = await open('conv_plain.npz');
  const chain = inferConvChain(file.tensors, 'conv_plain.npz', { inputDim: X.cols });
  const nfa = await computeNfa(await loadConvNet(file, chain, 'relu'), X, new CpuNfaBackend());
  const rows = correlationRows(nfa.layers, null);
  assert.deepEqual(
    rows.map((r) => r.label),
    ['0.weight (conv)', '2.weight (conv)', '5.weight (dense)'],
  );
  assert.equal(rows[1].values[3], nfa.layers[1].correlation.pearson.sqrt_agop);
  // Dense-only networks keep their plain labels.
  assert.deepEqual(
    correlationRows([{ name: 'fc', correlation: nfa.layers[0].correlation }], null).map((r) => r.label),
    ['fc'],
  );
  const l = nfa.layers[1];
  // The view's filters: diag and top eigenvectors of the patch-AGOP as c x kh x kw images.
  const tiles = matrixImages(l.agop, l.conv!.filter, 3, 'patch-AGOP');
  assert.deepEqual(
    tiles.map((t) => [t.shape, t.data.length]),
    [
      [[3, 3, 3], 27],
      [[3, 3, 3], 27],
      [[3, 3, 3], 27],
      [[3, 3, 3], 27],
    ],
  );
  // The second tile is the top eigenvector: G v = lambda v with lambda the largest eigenvalue (>= every diagonal entry).
  const d = l.shape[1];
  const v = tiles[1].data;
  let lambda = 0;
  for (let i = 0; i < d; i++) lambda += v[i] * [...Array(d).keys()].reduce((s, j) => s + l.agop[i * d + j] * v[j], 0);
  for (let i = 0; i < d; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += l.agop[i * d + j] * v[j];
    assert.ok(Math.abs(s - lambda * v[i]) < 1e-9 * lambda);
    assert.ok(lambda >= l.agop[i * d + i] - 1e-12);
  }
});

test('nfa CLI: the image shape comes from an (N, C, H, W) array or --image-shape, and must match the first conv layer', async () => {
  const { run } = await import('../../src/cli/commands/nfa');
  const dir = mkdtempSync(join(tmpdir(), 'nfa-conv-shape-'));
  for (const [data, flags] of [
    ['conv_images.npz', []],
    ['conv_data.npz', ['--image-shape', '2,8,8']],
  ] as const) {
    const out = join(dir, `${data}.json`);
    assert.equal(
      await run([
        join(DIR, 'conv_plain.npz'),
        join(DIR, data),
        '--target',
        'y',
        '--backend',
        'cpu',
        '--json',
        out,
        ...flags,
      ]),
      0,
    );
    const report = JSON.parse(readFileSync(out, 'utf8'));
    report.layers.forEach((l: { name: string; correlation: Corr }, i: number) =>
      closeCorr(l.correlation, expected.conv_plain.layers[i].correlation, `${data} ${l.name}`),
    );
  }
  await assert.rejects(
    run([join(DIR, 'conv_plain.npz'), join(DIR, 'conv_data.npz'), '--target', 'y', '--image-shape', '1,8,16']),
    (e: Error) => e instanceof InputError && /takes 2 channels but the images have 1 \(shape 1x8x16\)/.test(e.message),
  );
});
