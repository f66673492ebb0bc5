// NFA mathematics on constructed cases (erf references from Python math.erf): finite-difference Jacobians, the deep linear network's
// closed-form AGOP, erf reference values, hand-computed correlations.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mat, type Mat } from '../../src/core/mat';
import { rng } from '../../src/core/random';
import { erf, type Activation } from '../../src/core/nfa/activation';
import { CpuNfaBackend } from '../../src/core/nfa/backend';
import { computeNfa, networkAgops } from '../../src/core/nfa/compute';
import { eigenAlignment, matrixCorrelation } from '../../src/core/nfa/correlation';
import { agopSumsCpu, forwardTrace, mseGradients } from '../../src/core/nfa/mlp';
import type { DenseLayer, Mlp } from '../../src/core/nfa/network';

function randomNet(dims: number[], activation: Activation, seed: number, bias = true): Mlp {
  const r = rng(seed);
  const layers: DenseLayer[] = [];
  for (let l = 0; l + 1 < dims.length; l++) {
    const W = Float64Array.from({ length: dims[l + 1] * dims[l] }, () => (2 * r() - 1) / Math.sqrt(dims[l]));
    const b = bias ? Float64Array.from({ length: dims[l + 1] }, () => 0.3 * (2 * r() - 1)) : null;
    layers.push({
      name: `${2 * l}.weight`,
      biasName: bias ? `${2 * l}.bias` : null,
      outDim: dims[l + 1],
      inDim: dims[l],
      W,
      b,
    });
  }
  return { layers, activation };
}

function randomMat(rows: number, cols: number, seed: number): Mat {
  const r = rng(seed);
  return mat(
    rows,
    cols,
    Float64Array.from({ length: rows * cols }, () => 2 * r() - 1),
  );
}

/** Central-difference Jacobian of the sub-network from layer l, at the input h (d_l values): c x d_l. */
function fdJacobian(net: Mlp, l: number, h: Float64Array, eps = 1e-5): Float64Array {
  const tail: Mlp = { layers: net.layers.slice(l), activation: net.activation };
  const d = h.length;
  const c = net.layers[net.layers.length - 1].outDim;
  const J = new Float64Array(c * d);
  for (let j = 0; j < d; j++) {
    const plus = Float64Array.from(h),
      minus = Float64Array.from(h);
    plus[j] += eps;
    minus[j] -= eps;
    const fp = forwardTrace(tail, mat(1, d, plus)).out.data;
    const fm = forwardTrace(tail, mat(1, d, minus)).out.data;
    for (let o = 0; o < c; o++) J[o * d + j] = (fp[o] - fm[o]) / (2 * eps);
  }
  return J;
}

function gram(J: Float64Array, rows: number, d: number): Float64Array {
  const G = new Float64Array(d * d);
  for (let r = 0; r < rows; r++)
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) G[i * d + j] += J[r * d + i] * J[r * d + j];
  return G;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

for (const act of ['gelu', 'tanh', 'sigmoid', 'relu', 'quadratic'] as const) {
  test(`${act}: per-layer J^T J equals finite differences of the sub-network`, () => {
    const net = randomNet([4, 9, 7, 3], act, 11);
    const X = randomMat(3, 4, 5);
    for (let row = 0; row < X.rows; row++) {
      const x = mat(1, 4, X.data.slice(row * 4, row * 4 + 4));
      const trace = forwardTrace(net, x);
      const sums = agopSumsCpu(net, x);
      for (let l = 0; l < net.layers.length; l++) {
        const d = net.layers[l].inDim;
        const J = fdJacobian(net, l, trace.inputs[l]);
        const err = maxAbsDiff(sums[l], gram(J, 3, d));
        assert.ok(err < 1e-7, `${act} row ${row} layer ${l}: |J^T J - FD| = ${err}`);
      }
    }
  });
}

test('deep linear network: AGOP at layer l is (W_L...W_l)^T (W_L...W_l) for any data', async () => {
  const net = randomNet([6, 5, 7, 4, 3], 'identity', 3);
  const product = (from: number): { P: Float64Array; rows: number } => {
    // P = W_{L-1} ... W_from (c x inDim_from)
    let P = Float64Array.from(net.layers[net.layers.length - 1].W);
    let cols = net.layers[net.layers.length - 1].inDim;
    const rows = net.layers[net.layers.length - 1].outDim;
    for (let k = net.layers.length - 2; k >= from; k--) {
      const W = net.layers[k].W,
        n = net.layers[k].inDim;
      const next = new Float64Array(rows * n);
      for (let i = 0; i < rows; i++)
        for (let m = 0; m < cols; m++) for (let j = 0; j < n; j++) next[i * n + j] += P[i * cols + m] * W[m * n + j];
      P = next;
      cols = n;
    }
    return { P, rows };
  };
  const backend = new CpuNfaBackend();
  for (const seed of [1, 2]) {
    const X = randomMat(17, 6, 100 + seed);
    for (let i = 0; i < X.data.length; i++) X.data[i] *= 10 * seed;
    const agops = await networkAgops(net, X, backend, { chunkRows: 5 });
    for (let l = 0; l < net.layers.length; l++) {
      const { P, rows } = product(l);
      const want = gram(P, rows, net.layers[l].inDim);
      const err = maxAbsDiff(agops[l], want);
      assert.ok(err < 1e-13, `layer ${l}: ${err}`);
    }
  }
  // and the last layer's NFM equals its AGOP exactly: correlation 1 at alpha = 1
  const res = await computeNfa(net, randomMat(4, 6, 9), backend);
  assert.ok(Math.abs(res.layers[3].correlation.pearson.agop - 1) < 1e-12);
});

test('erf matches reference values', () => {
  const cases: [number, number][] = [
    [0, 0],
    [0.1, 0.1124629160182849],
    [0.5, 0.5204998778130465],
    [1, 0.8427007929497149],
    [2, 0.9953222650189527],
    [2.9, 0.9999589021219005],
    [3, 0.9999779095030014],
    [3.5, 0.9999992569016276],
    [-1.5, -0.9661051464753108],
    [4.5, 0.9999999998033839],
    [7, 1],
  ];
  for (const [x, want] of cases) assert.ok(Math.abs(erf(x) - want) < 1e-15, `erf(${x}) = ${erf(x)}, want ${want}`);
});

test('correlations: hand-computed cosine, Pearson and off-diagonal variants', () => {
  const A = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  const B = [2, 1, 0, 1, 2, 1, 0, 1, 2];
  // <A,B> = 6, |A| = sqrt 3, |B| = sqrt(12 + 4) = 4
  assert.ok(
    Math.abs(matrixCorrelation(A, B, 3, { center: false, offDiagonal: false }) - 6 / (Math.sqrt(3) * 4)) < 1e-15,
  );
  // centred: A - 1/3, B - 10/9
  const a = A.map((v) => v - 1 / 3),
    b = B.map((v) => v - 10 / 9);
  const dot = a.reduce((s, v, i) => s + v * b[i], 0),
    na = Math.hypot(...a),
    nb = Math.hypot(...b);
  assert.ok(Math.abs(matrixCorrelation(A, B, 3, { center: true, offDiagonal: false }) - dot / (na * nb)) < 1e-15);
  // off-diagonal entries of A are all zero: undefined, reported as NaN rather than a made-up number
  assert.ok(Number.isNaN(matrixCorrelation(A, B, 3, { center: false, offDiagonal: true })));
  const C = [5, 1, 2, 1, 5, 3, 2, 3, 5];
  // off-diagonals of C: (1,2,1,3,2,3), of B: (1,0,1,1,0,1): cosine = (1+1+3+3)/(sqrt 28 * 2)
  assert.ok(
    Math.abs(matrixCorrelation(C, B, 3, { center: false, offDiagonal: true }) - 8 / (Math.sqrt(28) * 2)) < 1e-15,
  );
});

for (const act of ['tanh', 'quadratic'] as const)
  test(`MSE gradients equal finite differences of the loss (${act})`, () => {
    const net = randomNet([3, 6, 2], act, 4);
    const X = randomMat(5, 3, 8),
      Y = randomMat(5, 2, 9);
    const { gradW, gradB } = mseGradients(net, X, Y);
    const loss = () => mseGradients(net, X, Y).loss;
    for (let l = 0; l < 2; l++) {
      for (const [arr, grad] of [
        [net.layers[l].W, gradW[l]],
        [net.layers[l].b!, gradB[l]],
      ] as const) {
        for (let i = 0; i < arr.length; i++) {
          const keep = arr[i];
          arr[i] = keep + 1e-6;
          const up = loss();
          arr[i] = keep - 1e-6;
          const down = loss();
          arr[i] = keep;
          assert.ok(Math.abs((up - down) / 2e-6 - grad[i]) < 1e-8, `layer ${l} entry ${i}`);
        }
      }
    }
  });

test('narrowing layers (the W^T (V^T V) W path) agree with finite differences and with the direct path', async () => {
  // 30 -> 4 -> 3 -> 2: layers 0 and 1 narrow, so their sums go through V^T V
  const net = randomNet([30, 4, 3, 2], 'tanh', 21);
  const X = randomMat(6, 30, 22);
  const sums = agopSumsCpu(net, X);
  const want = [new Float64Array(900), new Float64Array(16), new Float64Array(9)];
  for (let row = 0; row < X.rows; row++) {
    const x = mat(1, 30, X.data.slice(row * 30, row * 30 + 30));
    const trace = forwardTrace(net, x);
    for (let l = 0; l < 3; l++) {
      const d = net.layers[l].inDim;
      const g = gram(fdJacobian(net, l, trace.inputs[l]), 2, d);
      for (let i = 0; i < g.length; i++) want[l][i] += g[i];
    }
  }
  for (let l = 0; l < 3; l++)
    assert.ok(maxAbsDiff(sums[l], want[l]) < 1e-7, `layer ${l}: ${maxAbsDiff(sums[l], want[l])}`);
  // one row at a time takes the direct path for layer 0 (B = 1 makes W^T H W not worth it)
  const rowByRow = new Float64Array(900);
  for (let row = 0; row < X.rows; row++) {
    const s = agopSumsCpu(net, mat(1, 30, X.data.slice(row * 30, row * 30 + 30)))[0];
    for (let i = 0; i < s.length; i++) rowByRow[i] += s[i];
  }
  assert.ok(maxAbsDiff(sums[0], rowByRow) < 1e-12, `paths differ by ${maxAbsDiff(sums[0], rowByRow)}`);
});

test('eigenAlignment: identical, swapped and partially shared top directions', () => {
  const A = Float64Array.from([3, 0, 0, 0, 2, 0, 0, 0, 1]);
  const B = Float64Array.from([1, 0, 0, 0, 2, 0, 0, 0, 3]);
  const same = eigenAlignment(A, A, 3, 2);
  assert.deepEqual(same.cosines, [1, 1]);
  assert.equal(same.subspace_overlap, 1);
  const swapped = eigenAlignment(A, B, 3, 2);
  assert.deepEqual(swapped.cosines, [0, 1]); // e0 vs e2, then e1 vs e1
  assert.equal(swapped.subspace_overlap, 0.5); // span{e0, e1} vs span{e2, e1}
  assert.equal(eigenAlignment(A, B, 3, 9).k, 3);
});
