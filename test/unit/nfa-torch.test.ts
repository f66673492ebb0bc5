// NFA numbers against an independent PyTorch computation (autograd Jacobians, torch.linalg.eigh),
// written by test/fixtures/weights/make_weights.py for the MLP stored in every weight format.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { InputError } from '../../src/core/errors';
import { eighSym } from '../../src/core/linalg/eigh';
import { mat, type Mat } from '../../src/core/mat';
import { ACTIVATIONS } from '../../src/core/nfa/activation';
import { CpuNfaBackend } from '../../src/core/nfa/backend';
import { computeNfa } from '../../src/core/nfa/compute';
import { forwardTrace } from '../../src/core/nfa/mlp';
import { inferLayerChain, loadMatchingWeights, loadMlp, suspiciousIgnored } from '../../src/core/nfa/network';
import { bytesSource, openWeights, type TensorInfo } from '../../src/core/weights';

const DIR = join(__dirname, '../fixtures/weights');
type Corr = Record<string, { agop: number; sqrt_agop: number }>;
interface ExpectedLayer {
  eigen: { cosines: number[]; subspace_overlap: number };
  name: string;
  shape: number[];
  agop: number[];
  nfm: number[];
  sqrt_agop: number[];
  correlation: Corr;
  correlation_minus_init: Corr;
}
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as {
  nfa: Record<string, { layers: ExpectedLayer[]; outputs: number[] }>;
};
const open = (f: string) => openWeights(bytesSource(new Uint8Array(readFileSync(join(DIR, f)))), f);

function readCsv(): Mat {
  const lines = readFileSync(join(DIR, 'nfa_data.csv'), 'utf8').trim().split('\n').slice(1);
  const rows = lines.map((l) => l.split(',').map(Number).slice(0, 5));
  return mat(rows.length, 5, Float64Array.from(rows.flat()));
}

/** |got - want| <= tol * max(1, max|want|): relative to the matrix scale. */
function close(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): number {
  assert.equal(got.length, want.length, `${what}: length`);
  let scale = 1,
    worst = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / scale);
  assert.ok(worst <= tol, `${what}: worst scaled error ${worst} > ${tol}`);
  return worst;
}

function closeCorr(got: Corr, want: Corr, what: string): void {
  for (const k of ['cosine', 'pearson', 'cosine_offdiag', 'pearson_offdiag']) {
    for (const p of ['agop', 'sqrt_agop'] as const) {
      // sqrt_agop inherits the ~sqrt(eps) spread of AGOP^1/2 (see below).
      const tol = p === 'agop' ? 1e-10 : 1e-7;
      assert.ok(Math.abs(got[k][p] - want[k][p]) < tol, `${what} ${k}.${p}: ours ${got[k][p]}, torch ${want[k][p]}`);
    }
  }
}

const X = readCsv();
const backend = new CpuNfaBackend();

for (const format of ['mlp.pt', 'mlp.safetensors', 'mlp.npz']) {
  test(`${format}: per-layer NFM, AGOP, AGOP^1/2 and correlations match torch for every activation`, async () => {
    const file = await open(format);
    const chain = inferLayerChain(file.tensors, format);
    assert.deepEqual(
      chain.layers.map((l) => l.name),
      ['0.weight', '2.weight', '4.weight'],
    );
    assert.equal(chain.orderedBy, 'names');
    assert.deepEqual(chain.ignored, []);
    const W0 = await loadMatchingWeights(await open('mlp_init.safetensors'), chain);
    let compared = 0;
    // make_weights.py has no quadratic network: its derivatives are checked against finite differences (nfa-math).
    for (const act of ACTIVATIONS.filter((a) => a !== 'quadratic')) {
      const net = await loadMlp(file, chain, act);
      const want = expected.nfa[act];
      close(forwardTrace(net, X).out.data, want.outputs, 1e-12, `${act} outputs`);
      const got = await computeNfa(net, X, backend, { chunkRows: 7 });
      const minusInit = await computeNfa(net, X, backend, { initWeights: W0 });
      got.layers.forEach((layer, l) => {
        const w = want.layers[l];
        assert.equal(layer.name, w.name);
        assert.deepEqual(layer.shape, w.shape);
        close(layer.nfm, w.nfm, 1e-12, `${act} ${w.name} NFM`);
        close(layer.agop, w.agop, 1e-11, `${act} ${w.name} AGOP`);
        // Rank-deficient AGOPs (dead ReLUs, c = 2 outputs): eigenvalues at rounding level (~1e-17) turn into
        // ~sqrt(1e-17) entries after the square root, in torch as in ours; hence 1e-7 here.
        close(layer.sqrtAgop, w.sqrt_agop, 1e-7, `${act} ${w.name} AGOP^1/2`);
        closeCorr(layer.correlation as unknown as Corr, w.correlation, `${act} ${w.name}`);
        closeCorr(
          minusInit.layers[l].correlation as unknown as Corr,
          w.correlation_minus_init,
          `${act} ${w.name} minus init`,
        );
        // Only eigenvectors fixed by the matrices are comparable: not those of repeated or zero
        // eigenvalues (rank-2 AGOPs of the identity network, the last layer's rank-2 NFM).
        const d = w.shape[1];
        const defined = (i: number) =>
          isolated(Float64Array.from(w.nfm), d, i) && isolated(Float64Array.from(w.agop), d, i);
        for (let i = 0; i < 3; i++) {
          if (defined(i))
            assert.ok(
              Math.abs(layer.eigen.cosines[i] - w.eigen.cosines[i]) < 1e-7,
              `${act} ${w.name} eigenvector ${i}: ${layer.eigen.cosines[i]} vs ${w.eigen.cosines[i]}`,
            );
        }
        if (isolated(Float64Array.from(w.nfm), d, 2, true) && isolated(Float64Array.from(w.agop), d, 2, true)) {
          assert.ok(
            Math.abs(layer.eigen.subspace_overlap - w.eigen.subspace_overlap) < 1e-7,
            `${act} ${w.name} subspace overlap`,
          );
        }
        compared += [0, 1, 2].filter(defined).length;
      });
    }
    assert.ok(compared >= 25, `only ${compared} eigenvectors were comparable`);
  });
}

/** Eigenvalue i (descending) is nonzero and apart from its neighbours (only from the next one if `subspace`). */
function isolated(m: Float64Array, d: number, i: number, subspace = false): boolean {
  const v = eighSym(m, d).values;
  const tol = 1e-6 * Math.abs(v[0]);
  if (!(v[i] > tol)) return false;
  if (i + 1 < d && v[i] - v[i + 1] <= tol) return false;
  return subspace || i === 0 || v[i - 1] - v[i] > tol;
}

test('layers named out of order are chained by their shapes', async () => {
  const file = await open('mlp_named.safetensors');
  const chain = inferLayerChain(file.tensors, 'mlp_named.safetensors');
  assert.equal(chain.orderedBy, 'shapes');
  assert.deepEqual(
    chain.layers.map((l) => [l.name, l.biasName]),
    [
      ['body.weight', 'body.bias'],
      ['mid.weight', 'mid.bias'],
      ['head.weight', 'head.bias'],
    ],
  );
  const got = await computeNfa(await loadMlp(file, chain, 'relu'), X, backend);
  closeCorr(got.layers[0].correlation as unknown as Corr, expected.nfa.relu.layers[0].correlation, 'named body');
});

const info = (name: string, shape: number[]): TensorInfo => ({ name, dtype: 'F32', shape, byteLength: 4 });

test('natural name order: fc2 before fc10, biases optional, other tensors reported as ignored', () => {
  const chain = inferLayerChain(
    [
      info('fc10.weight', [1, 4]),
      info('fc2.weight', [4, 3]),
      info('fc2.bias', [4]),
      info('fc1.weight', [3, 6]),
      info('norm.weight', [3]),
      info('fc1.bias', [7]),
    ],
    'net.pt',
  );
  assert.deepEqual(
    chain.layers.map((l) => [l.name, l.biasName, l.outDim, l.inDim]),
    [
      ['fc1.weight', null, 3, 6],
      ['fc2.weight', 'fc2.bias', 4, 3],
      ['fc10.weight', null, 1, 4],
    ],
  );
  assert.deepEqual(chain.ignored, ['norm.weight', 'fc1.bias']);
  const layers = inferLayerChain(
    [info('layers.10.weight', [2, 8]), info('layers.2.weight', [8, 8]), info('layers.0.weight', [8, 3])],
    'n.pt',
  );
  assert.deepEqual(
    layers.layers.map((l) => l.name),
    ['layers.0.weight', 'layers.2.weight', 'layers.10.weight'],
  );
});

test('shapes that do not chain name the offending layer', () => {
  assert.throws(
    () => inferLayerChain([info('0.weight', [16, 5]), info('2.weight', [8, 12]), info('4.weight', [1, 8])], 'bad.pt'),
    (e: unknown) =>
      e instanceof InputError &&
      /bad\.pt: layer '2\.weight' \[8, 12\] takes 12 inputs but the previous layer '0\.weight' \[16, 5\] gives 16 outputs/.test(
        e.message,
      ),
  );
  assert.throws(
    () =>
      inferLayerChain([info('a.weight', [4, 4]), info('b.weight', [2, 4])], 'x.pt', {
        layers: ['b.weight', 'a.weight'],
      }),
    (e: unknown) =>
      e instanceof InputError &&
      /layer 'a\.weight' \[4, 4\] takes 4 inputs but the previous layer 'b\.weight' \[2, 4\] gives 2/.test(e.message),
  );
  assert.throws(
    () => inferLayerChain([info('conv.weight', [4, 3, 3, 3])], 'c.pt'),
    (e: unknown) => e instanceof InputError && /no dense layer weights/.test(e.message),
  );
});

test('a training checkpoint: the model.* dense layers chain, optimiser tensors are ignored', async () => {
  const file = await open('checkpoint.pt');
  const chain = inferLayerChain(file.tensors, 'checkpoint.pt');
  assert.deepEqual(
    chain.layers.map((l) => l.name),
    ['model.0.weight', 'model.2.weight', 'model.4.weight'],
  );
  assert.ok(
    chain.ignored.every((n) => n.startsWith('optimizer.')),
    chain.ignored.join(', '),
  );
  const got = await computeNfa(await loadMlp(file, chain, 'relu'), X, backend);
  closeCorr(got.layers[1].correlation as unknown as Corr, expected.nfa.relu.layers[1].correlation, 'checkpoint');
});

test('layer order: saved order, then name order, then shapes preferring name order; data width steers', () => {
  const head = info('head.weight', [3, 10]),
    l0 = info('layers.0.weight', [10, 6]),
    l2 = info('layers.2.weight', [10, 10]),
    l4 = info('layers.4.weight', [10, 10]);
  // a module with `layers` then `head`: torch.save keeps that order
  const saved = inferLayerChain([l0, l2, l4, head], 'm.pt', { fileOrder: true });
  assert.equal(saved.orderedBy, 'file');
  assert.deepEqual(
    saved.layers.map((l) => l.name),
    ['layers.0.weight', 'layers.2.weight', 'layers.4.weight', 'head.weight'],
  );
  // the same in a safetensors file (writer-sorted): name order fails at 'head', shapes fix it and keep 2 before 4
  const sorted = inferLayerChain([head, l0, l2, l4], 'm.safetensors', { fileOrder: false, inputDim: 6 });
  assert.equal(sorted.orderedBy, 'shapes');
  assert.deepEqual(
    sorted.layers.map((l) => l.name),
    ['layers.0.weight', 'layers.2.weight', 'layers.4.weight', 'head.weight'],
  );
  // lexicographic file order that happens to chain is not trusted for safetensors: natural order wins
  const sq = (n: string) => info(n, [8, 8]);
  const lex = inferLayerChain(
    [sq('layers.0.weight'), sq('layers.10.weight'), sq('layers.2.weight')],
    'sq.safetensors',
    { fileOrder: false },
  );
  assert.deepEqual(
    lex.layers.map((l) => l.name),
    ['layers.0.weight', 'layers.2.weight', 'layers.10.weight'],
  );
  // the data's width picks the first layer when names do not
  const ab = inferLayerChain([info('a.weight', [4, 7]), info('b.weight', [7, 4])], 'ab.pt', { inputDim: 4 });
  assert.deepEqual(
    ab.layers.map((l) => l.name),
    ['b.weight', 'a.weight'],
  );
  assert.throws(
    () => inferLayerChain([l0, l2, l4, head], 'm.pt', { fileOrder: true, inputDim: 5, inputLabel: 'd.csv: 5 columns' }),
    (e: unknown) =>
      e instanceof InputError &&
      e.message ===
        "m.pt: first layer 'layers.0.weight' [10, 6] takes 6 inputs but the data has 5 input columns (d.csv: 5 columns)",
  );
});

test('--layers takes module names; skipped norm layers are flagged, optimiser state is not', () => {
  const tensors = [
    info('fc1.weight', [8, 3]),
    info('fc1.bias', [8]),
    info('bn.weight', [8]),
    info('bn.bias', [8]),
    info('bn.running_mean', [8]),
    info('fc2.weight', [1, 8]),
    info('optimizer.state.0.weight', [8, 3]),
  ];
  const chain = inferLayerChain(tensors, 'n.pt', { layers: ['fc1', 'fc2'] });
  assert.deepEqual(
    chain.layers.map((l) => l.name),
    ['fc1.weight', 'fc2.weight'],
  );
  assert.deepEqual(suspiciousIgnored(chain, tensors), ['bn.weight', 'bn.bias']);
});
