// Deep RFM (docs/science.md §7, core/rfm/deep.ts): one layer against an independent float64 computation
// of the formulas, neural collapse through the AGOP on a seeded Gaussian mixture and none without it,
// determinism, the ridge-0 ladder, and the refusals.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { collapseMetrics } from '../../src/core/collapse/metrics';
import { InputError } from '../../src/core/errors';
import { symPow } from '../../src/core/linalg/eigh';
import { mat } from '../../src/core/mat';
import { normal, rng } from '../../src/core/random';
import { CpuBackend } from '../../src/core/rfm/cpu';
import { deepRfm, deepRfmToJson, type DeepRfmResult } from '../../src/core/rfm/deep';
import { solveWithRidgeLadder } from '../../src/core/rfm/solve';
import { gaussianMixture } from '../helpers/mixture';

const nc1s = (r: DeepRfmResult) => r.layers.map((l) => l.nc1);

/** Solves A x = B (A n x n, B n x c) by Gaussian elimination with partial pivoting (the test's own). */
function gaussSolve(A: number[][], B: number[][]): number[][] {
  const n = A.length;
  const a = A.map((r, i) => [...r, ...B[i]]);
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(a[i][k]) > Math.abs(a[p][k])) p = i;
    [a[k], a[p]] = [a[p], a[k]];
    for (let i = k + 1; i < n; i++) {
      const f = a[i][k] / a[k][k];
      for (let j = k; j < a[i].length; j++) a[i][j] -= f * a[k][j];
    }
  }
  const c = B[0].length;
  const x = Array.from({ length: n }, () => new Array<number>(c).fill(0));
  for (let i = n - 1; i >= 0; i--)
    for (let col = 0; col < c; col++) {
      let s = a[i][n + col];
      for (let j = i + 1; j < n; j++) s -= a[i][j] * x[j][col];
      x[i][col] = s / a[i][i];
    }
  return x;
}

test('one layer equals the formulas: unit rows, Laplace solve at ridge 0, AGOP, ReLU(W M^1/2 x) with the seeded W', async () => {
  const data = gaussianMixture(3, 4, 5, 11);
  const { rows: n, cols: d } = data.X;
  const K = 3,
    L = 2,
    width = 6,
    seed = 5;
  const r = await deepRfm(data, { depth: 1, width, bandwidth: L, seed }, { backend: new CpuBackend() });
  // The oracle: every step written out from docs/science.md §1 and §7.
  const x = Array.from({ length: n }, (_, i) => {
    const row = Array.from(data.X.data.subarray(i * d, (i + 1) * d));
    const norm = Math.hypot(...row);
    return row.map((v) => v / norm);
  });
  const dist = (a: number[], b: number[]) => Math.hypot(...a.map((v, j) => v - b[j]));
  const Kmat = x.map((a) => x.map((b) => Math.exp(-dist(a, b) / L)));
  const Y = Array.from({ length: n }, (_, i) => Array.from({ length: K }, (_, c) => (data.y[i] === c ? 1 : 0)));
  const alpha = gaussSolve(Kmat, Y);
  const G = new Float64Array(d * d);
  for (const z of x)
    for (let c = 0; c < K; c++) {
      const g = new Array<number>(d).fill(0);
      x.forEach((xi, i) => {
        const r0 = dist(z, xi);
        if (r0 < 1e-10) return;
        const w = (alpha[i][c] * Math.exp(-r0 / L)) / (L * r0);
        for (let j = 0; j < d; j++) g[j] += w * (xi[j] - z[j]);
      });
      for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) G[a * d + b] += (g[a] * g[b]) / n;
    }
  const S = symPow(G, d, 0.5);
  const gauss = normal(rng(seed));
  const W = Array.from({ length: width * d }, () => gauss() / Math.sqrt(d));
  const X1 = new Float64Array(n * width);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < width; k++) {
      let s = 0;
      for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) s += W[k * d + a] * S[a * d + b] * x[i][b];
      X1[i * width + k] = Math.max(s, 0);
    }
  const labels = Int32Array.from(data.y);
  const want0 = collapseMetrics(data.X.data, n, d, labels, K);
  const want1 = collapseMetrics(X1, n, width, labels, K);
  assert.equal(r.layers.length, 2);
  assert.deepEqual(
    [r.layers[0].nc1, r.layers[0].nc1Classic, r.layers[0].nc2],
    [want0.nc1, want0.nc1Classic, want0.nc2],
  );
  for (const [got, want] of [
    [r.layers[1].nc1, want1.nc1],
    [r.layers[1].nc1Classic, want1.nc1Classic],
    [r.layers[1].nc2, want1.nc2],
  ])
    assert.ok(Math.abs(got - want) <= 1e-8 * Math.abs(want), `${got} vs ${want}`);
  assert.equal(r.layers[0].ridge, 0);
  assert.equal(r.layers[1].ridge, null);
  assert.equal(r.layers[1].dim, width);
});

test('the control: X_1 = ReLU(W x) on the unit rows with the same seeded W, no fit', async () => {
  const data = gaussianMixture(3, 4, 5, 11);
  const { rows: n, cols: d } = data.X;
  const width = 6;
  const r = await deepRfm(data, { depth: 1, width, seed: 5, agop: false }, { backend: new CpuBackend() });
  const gauss = normal(rng(5));
  const W = Array.from({ length: width * d }, () => gauss() / Math.sqrt(d));
  const X1 = new Float64Array(n * width);
  for (let i = 0; i < n; i++) {
    const row = data.X.data.subarray(i * d, (i + 1) * d);
    const norm = Math.hypot(...row);
    for (let k = 0; k < width; k++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (W[k * d + j] * row[j]) / norm;
      X1[i * width + k] = Math.max(s, 0);
    }
  }
  const want = collapseMetrics(X1, n, width, Int32Array.from(data.y), 3);
  assert.ok(Math.abs(r.layers[1].nc1 - want.nc1) <= 1e-12 * want.nc1);
  assert.deepEqual(
    r.layers.map((l) => l.ridge),
    [null, null],
  );
});

// 10 classes, d = 20, 200 rows, width 256 (the paper's 512 gives ~700x at 300 rows but takes ~50 s on
// one core). Measured: NC1 1.04 -> 2.5e-3 over 8 layers (about 420x) with the AGOP; 1.04 -> 3.5
// (rising ~3.4x) without it.
test('NC1 falls by orders of magnitude over 8 layers with the AGOP step, and does not without it', async () => {
  const data = gaussianMixture(10, 20, 20, 7);
  const backend = new CpuBackend();
  const on = await deepRfm(data, { depth: 8, width: 256 }, { backend });
  const off = await deepRfm(data, { depth: 8, width: 256, agop: false }, { backend });
  const a = nc1s(on),
    b = nc1s(off);
  assert.equal(a.length, 9);
  assert.equal(a[0], b[0]); // layer 0 is the data itself
  assert.ok(a[8] < a[0] / 100, `with AGOP: ${a.join(' ')}`);
  // Falls layer after layer (each layer at least a little below the one before).
  for (let l = 1; l <= 8; l++) assert.ok(a[l] < a[l - 1], `with AGOP: ${a.join(' ')}`);
  assert.ok(b[8] > b[0] / 10 && b[8] < b[0] * 10, `without: ${b.join(' ')}`);
  // The classic NC1 falls too, and the means approach the simplex ETF (NC2 shrinks).
  assert.ok(on.layers[8].nc1Classic < on.layers[0].nc1Classic / 100);
  assert.ok(on.layers[8].nc2 < on.layers[0].nc2);
  // Ridge 0 factors on these distinct rows; the JSON names it per fitted layer.
  assert.deepEqual(
    on.layers.map((l) => l.ridge),
    [0, 0, 0, 0, 0, 0, 0, 0, null],
  );
  const j = deepRfmToJson(on) as { layers: Record<string, unknown>[]; agop: boolean };
  assert.equal(j.agop, true);
  assert.equal((deepRfmToJson(off) as { agop: boolean }).agop, false);
  for (const l of j.layers) for (const k of ['layer', 'nc1', 'nc1_classic', 'nc2']) assert.ok(k in l, k);
  assert.equal(j.layers[3].nc1, a[3]);
});

test('determinism: the same seed gives the same layers; another seed other W_l', async () => {
  const data = gaussianMixture(4, 6, 10, 3);
  const backend = new CpuBackend();
  const o = { depth: 3, width: 32, seed: 9 };
  const r1 = await deepRfm(data, o, { backend });
  const r2 = await deepRfm(data, o, { backend });
  const r3 = await deepRfm(data, { ...o, seed: 10 }, { backend });
  assert.deepEqual(nc1s(r1), nc1s(r2));
  assert.deepEqual(
    r1.layers.map((l) => l.nc2),
    r2.layers.map((l) => l.nc2),
  );
  assert.equal(nc1s(r3)[0], nc1s(r1)[0]);
  assert.notEqual(nc1s(r3)[1], nc1s(r1)[1]);
});

test('onLayer hears every layer in order; an aborted signal stops the run', async () => {
  const data = gaussianMixture(3, 4, 6, 1);
  const seen: number[] = [];
  const ctrl = { aborted: false };
  await assert.rejects(
    deepRfm(
      data,
      { depth: 4, width: 8 },
      {
        backend: new CpuBackend(),
        signal: ctrl,
        onLayer: (l) => {
          seen.push(l.layer);
          if (l.layer === 1) ctrl.aborted = true;
        },
      },
    ),
    { name: 'CancelledError' },
  );
  assert.deepEqual(seen, [0, 1]);
});

test('ridge ladder: ridge 0 kept when it factors, else the smallest of 1e-10 x 10^k (x trace/n) that does', async () => {
  const seconds = { kernel: 0, solve: 0 };
  const tried: number[] = [];
  // A solve that factors only from ridge 1e-7 on.
  const solve = async (reg: number) => {
    tried.push(reg);
    return reg >= 1e-7 * 0.999
      ? { ok: true as const, alpha: mat(1, 1, new Float64Array([reg])), seconds }
      : { ok: false as const, maxAbsRowSum: 1, seconds };
  };
  const r = await solveWithRidgeLadder(solve, 0, 1);
  assert.ok(Math.abs(r.reg - 1e-7) < 1e-20);
  assert.equal(tried.length, 5); // 0, 1e-10, 1e-9, 1e-8, 1e-7
  const never = async () => ({ ok: false as const, maxAbsRowSum: 1, seconds });
  await assert.rejects(solveWithRidgeLadder(never, 0, 1), InputError);
  tried.length = 0;
  const first = await solveWithRidgeLadder(solve, 1e-3, 1);
  assert.equal(first.reg, 1e-3);
});

test('refusals: a regression target, a width over the limit, a run over the CPU limits', async () => {
  const backend = new CpuBackend();
  const data = gaussianMixture(3, 4, 5, 1);
  await assert.rejects(
    deepRfm({ ...data, task: 'regression', classes: undefined }, {}, { backend }),
    (e: Error) => e instanceof InputError && /classification/.test(e.message),
  );
  await assert.rejects(
    deepRfm(data, { width: 100_000 }, { backend }),
    (e: Error) => e instanceof InputError && /width/.test(e.message),
  );
  await assert.rejects(
    deepRfm(data, { depth: 0 }, { backend }),
    (e: Error) => e instanceof InputError && /depth/.test(e.message),
  );
  // 20,000 rows: a 3.2 GB kernel matrix solved 8 times, refused on the CPU before anything is allocated.
  const big = gaussianMixture(2, 1, 10_000, 2);
  await assert.rejects(
    deepRfm(big, { width: 4 }, { backend }),
    (e: Error) => e instanceof InputError && /20000 rows.*refused/.test(e.message) && /subsample/.test(e.message),
  );
  // Too many features in a layer: 40,000 rows x 4096 over 2^27 values names the width.
  await assert.rejects(
    deepRfm(gaussianMixture(2, 1, 20_000, 2), { width: 4096, agop: false }, { backend }),
    (e: Error) => e instanceof InputError && /width/.test(e.message),
  );
});
