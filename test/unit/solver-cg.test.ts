// The float64 host half of the WebGPU solve (src/core/rfm/nystrom.ts): the Nyström
// preconditioner and preconditioned conjugate gradients, checked against the CPU backend's Cholesky
// solve and against what a preconditioner must be (symmetric, positive definite, exact when every
// point is a landmark).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CpuBackend } from '../../src/core/rfm/cpu';
import { kernelOfDistance } from '../../src/core/rfm/kernel';
import { conjugateGradients, landmarkIndices, nystromPreconditioner } from '../../src/core/rfm/nystrom';
import { mat } from '../../src/core/mat';
import { rng } from '../../src/core/random';

const kernel = { name: 'laplace' as const, bandwidth: 2 };
const reg = 1e-3;

function problem(n: number, d: number, seed: number) {
  const r = rng(seed);
  const x = Float64Array.from({ length: n * d }, () => 2 * r() - 1);
  const k = kernelOfDistance(kernel);
  const K = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let q = 0; q < d; q++) s += (x[i * d + q] - x[j * d + q]) ** 2;
      K[i * n + j] = k(Math.sqrt(s));
    }
  }
  const y = Float64Array.from({ length: n }, (_, i) => Math.sin(3 * x[i * d]) + x[i * d + 1] * x[i * d + 2]);
  return { X: mat(n, d, x), K, y };
}

const times = (K: Float64Array, n: number, v: Float64Array, shift = 0): Float64Array => {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = shift * v[i];
    for (let j = 0; j < n; j++) s += K[i * n + j] * v[j];
    out[i] = s;
  }
  return out;
};
const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i], 0);
const columns = (K: Float64Array, n: number, idx: Int32Array): Float64Array => {
  const out = new Float64Array(n * idx.length);
  for (let i = 0; i < n; i++) for (let a = 0; a < idx.length; a++) out[i * idx.length + a] = K[i * n + idx[a]];
  return out;
};

test('Nyström preconditioner with every point a landmark: P^-1 (K + reg I) is a multiple of I', async () => {
  const n = 48;
  const { K } = problem(n, 3, 1);
  const idx = landmarkIndices(n, n);
  assert.deepEqual(
    Array.from(idx),
    Array.from({ length: n }, (_, i) => i),
  );
  const P = await nystromPreconditioner(columns(K, n, idx), n, idx, reg);
  assert.ok(P);
  const r = rng(7);
  const ratios: number[] = [];
  for (let trial = 0; trial < 3; trial++) {
    const v = Float64Array.from({ length: n }, () => r() - 0.5);
    const w = P.apply(times(K, n, v, reg), 1);
    const c = dot(w, v) / dot(v, v);
    const resid = Math.sqrt(w.reduce((s, wi, i) => s + (wi - c * v[i]) ** 2, 0) / dot(v, v));
    // Exact up to the landmark shift nu = 1e-5 (K_SS + nu I is factored), which moves each eigenvalue
    // of P^-1 A by at most nu / (lambda + reg) relative: 4.6e-5 here.
    assert.ok(resid < 1e-3 * c, `trial ${trial}: P^-1 A v is not parallel to v (relative deviation ${resid / c})`);
    ratios.push(c);
  }
  assert.ok(
    Math.abs(ratios[0] - ratios[1]) < 1e-3 * ratios[0] && Math.abs(ratios[0] - ratios[2]) < 1e-3 * ratios[0],
    `ratios ${ratios}`,
  );
});

test('Nyström preconditioner with few landmarks is symmetric and positive definite', async () => {
  const n = 90;
  const { K } = problem(n, 4, 2);
  for (const s of [7, 16]) {
    const idx = landmarkIndices(n, s);
    const P = await nystromPreconditioner(columns(K, n, idx), n, idx, reg);
    assert.ok(P, `s = ${s}`);
    const r = rng(11 + s);
    for (let trial = 0; trial < 5; trial++) {
      const u = Float64Array.from({ length: n }, () => r() - 0.5);
      const v = Float64Array.from({ length: n }, () => r() - 0.5);
      const uPv = dot(u, P.apply(v, 1));
      const vPu = dot(v, P.apply(u, 1));
      assert.ok(Math.abs(uPv - vPu) < 1e-10 * (Math.abs(uPv) + 1), `s = ${s}: u.P^-1 v = ${uPv} but v.P^-1 u = ${vPu}`);
      assert.ok(dot(v, P.apply(v, 1)) > 0, `s = ${s}: v.P^-1 v <= 0`);
    }
  }
});

test('preconditioned CG reaches the Cholesky solution of the CPU backend, in fewer iterations than plain CG', async () => {
  const n = 400;
  const { X, K, y } = problem(n, 5, 3);
  const direct = await new CpuBackend().solve(X, kernel, mat(n, 1, y), reg);
  assert.ok(direct.ok);
  const kTimes = async (p: Float64Array) => times(K, n, p);
  const idx = landmarkIndices(n, 64);
  const precond = await nystromPreconditioner(columns(K, n, idx), n, idx, reg);
  const withP = await conjugateGradients({ n, c: 1, y, reg, kTimes, precond, tol: 1e-10, maxIters: 2000 });
  const plain = await conjugateGradients({ n, c: 1, y, reg, kTimes, precond: null, tol: 1e-10, maxIters: 2000 });
  for (const [label, out] of [
    ['preconditioned', withP],
    ['plain', plain],
  ] as const) {
    assert.ok(out.ok, label);
    assert.ok(out.relResidual <= 1e-10, `${label}: residual ${out.relResidual}`);
    let err = 0,
      ref = 0;
    for (let i = 0; i < n; i++) {
      err = Math.max(err, Math.abs(out.alpha[i] - direct.alpha.data[i]));
      ref = Math.max(ref, Math.abs(direct.alpha.data[i]));
    }
    assert.ok(err < 1e-6 * ref, `${label}: alpha differs from Cholesky by ${err} (max |alpha| ${ref})`);
  }
  assert.ok(
    withP.iterations < plain.iterations / 2,
    `preconditioned ${withP.iterations} vs plain ${plain.iterations} iterations`,
  );
});

test('the preconditioner on SIMD lanes (linalg/hostLowRank.ts) equals its JavaScript form, f32 and f64 kernel columns, c = 1 and 3', async () => {
  for (const [n, s] of [
    [90, 7],
    [203, 16],
    [1, 1],
    [61, 61],
  ]) {
    const { K } = problem(n, 4, 30 + n);
    const idx = landmarkIndices(n, s);
    for (const cols of [columns(K, n, idx), Float32Array.from(columns(K, n, idx))]) {
      const simd = await nystromPreconditioner(cols, n, idx, reg);
      const js = await nystromPreconditioner(cols, n, idx, reg, { simd: false });
      assert.ok(simd && js, `n = ${n}, s = ${s}`);
      assert.notEqual(simd.constructor, js.constructor, 'two implementations');
      const r = rng(40 + n);
      for (const c of [1, 3]) {
        const v = Float64Array.from({ length: n * c }, () => r() - 0.5);
        const a = simd.apply(v, c),
          b = js.apply(v, c);
        const scale = Math.max(...b.map(Math.abs));
        a.forEach((x, i) =>
          assert.ok(Math.abs(x - b[i]) <= 1e-12 * scale, `n = ${n}, s = ${s}, c = ${c}, [${i}]: ${x} vs ${b[i]}`),
        );
        // v is not overwritten.
        assert.deepEqual(simd.apply(v, c), a);
      }
    }
  }
});

test('CG with its vector steps in WebAssembly equals them in JavaScript: same iterations, alpha to 1e-12, c = 1 and 3, warm start', async () => {
  const n = 301;
  const { K } = problem(n, 5, 4);
  const idx = landmarkIndices(n, 32);
  const precond = await nystromPreconditioner(columns(K, n, idx), n, idx, reg);
  for (const c of [1, 3]) {
    const r = rng(50 + c);
    const y = Float64Array.from({ length: n * c }, () => r() - 0.5);
    const x0 = Float64Array.from({ length: n * c }, () => 0.01 * (r() - 0.5));
    const kTimes = async (p: Float64Array, cols: number) => {
      const out = new Float64Array(n * cols);
      for (let col = 0; col < cols; col++) {
        const v = times(
          K,
          n,
          Float64Array.from({ length: n }, (_, i) => p[i * cols + col]),
        );
        v.forEach((x, i) => (out[i * cols + col] = x));
      }
      return out;
    };
    const args = { n, c, y, reg, kTimes, precond, tol: 1e-9, maxIters: 500, x0 };
    const wasm = await conjugateGradients(args);
    const js = await conjugateGradients({ ...args, simd: false });
    assert.ok(wasm.ok && js.ok);
    assert.equal(wasm.iterations, js.iterations, `c = ${c}`);
    assert.ok(wasm.relResidual <= 1e-9 && js.relResidual <= 1e-9);
    const scale = Math.max(...js.alpha.map(Math.abs));
    wasm.alpha.forEach((v, i) =>
      assert.ok(Math.abs(v - js.alpha[i]) <= 1e-12 * scale, `c = ${c} [${i}]: ${v} vs ${js.alpha[i]}`),
    );
  }
});
