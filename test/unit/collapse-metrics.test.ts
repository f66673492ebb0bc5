// Neural-collapse metrics (SCIENCE.md §7) on hand-made features whose NC1/NC2 follow analytically:
// perfect collapse on a simplex, symmetric +-sigma clouds (exact), isotropic Gaussian noise (expectation
// within sampling tolerance), invariances, and the InputErrors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { collapseMetrics, meanProjection2d } from '../../src/core/collapse/metrics';
import { InputError } from '../../src/core/errors';
import { normal, rng } from '../../src/core/random';

/** Class means mu_c = a e_c in d dims (c < K <= d): centred, they form a simplex ETF with Sigma_B eigenvalue a^2/K (K-1 times). */
function simplexMeans(K: number, d: number, a: number): Float64Array {
  const m = new Float64Array(K * d);
  for (let c = 0; c < K; c++) m[c * d + c] = a;
  return m;
}

const close = (got: number, want: number, rel: number, label: string) =>
  assert.ok(Math.abs(got - want) <= rel * Math.abs(want) + 1e-15, `${label}: got ${got}, want ${want}`);

test('perfect collapse on a simplex: NC1 = 0, classic NC1 = 0, NC2 = 0; class means and counts exact', () => {
  const K = 5,
    d = 7,
    per = 3;
  const mu = simplexMeans(K, d, 2.5);
  // a shifted simplex: NC metrics do not depend on the global offset
  for (let i = 0; i < mu.length; i++) mu[i] += 0.3 * (i % d);
  const n = K * per;
  const H = new Float64Array(n * d);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % K;
    H.set(mu.subarray(labels[i] * d, labels[i] * d + d), i * d);
  }
  const m = collapseMetrics(H, n, d, labels, K);
  // the class means of identical rows are exact up to rounding (a sum of 3 then / 3): zero to 1e-28
  assert.ok(m.nc1 < 1e-28, `nc1 ${m.nc1}`);
  assert.ok(m.nc1Classic < 1e-28, `classic ${m.nc1Classic}`);
  assert.ok(m.nc2 < 1e-28, `nc2 ${m.nc2}`);
  assert.deepEqual([...m.counts], [3, 3, 3, 3, 3]);
  for (let i = 0; i < K * d; i++) close(m.classMeans[i], mu[i], 1e-15, `mean ${i}`);
});

test('symmetric +-sigma clouds: trSigma_W = sigma^2 exactly, NC1 = sigma^2 K / (a^2 (K-1)), classic = sigma^2 (K-1) / (d a^2)', () => {
  // Class c has 2d points mu_c +- sigma e_j: the sample mean is mu_c exactly and Sigma_W = (sigma^2/d) I.
  const K = 4,
    d = 6,
    a = 3,
    sigma = 0.7;
  const mu = simplexMeans(K, d, a);
  const n = K * 2 * d;
  const H = new Float64Array(n * d);
  const labels = new Int32Array(n);
  let r = 0;
  for (let c = 0; c < K; c++)
    for (let j = 0; j < d; j++)
      for (const s of [1, -1]) {
        labels[r] = c;
        H.set(mu.subarray(c * d, c * d + d), r * d);
        H[r * d + j] += s * sigma;
        r++;
      }
  const m = collapseMetrics(H, n, d, labels, K);
  // trSigma_B = a^2 (K-1)/K; trSigma_W = sigma^2.
  close(m.nc1, (sigma * sigma * K) / (a * a * (K - 1)), 1e-13, 'nc1');
  // Sigma_B^+ = (K/a^2) P (P the projector on the K-1 dim span): tr((sigma^2/d) I (K/a^2) P)/K = sigma^2 (K-1)/(d a^2).
  close(m.nc1Classic, (sigma * sigma * (K - 1)) / (d * a * a), 1e-13, 'nc1 classic');
  assert.ok(m.nc2 < 1e-28, `means are an exact simplex: nc2 ${m.nc2}`);
});

test('isotropic Gaussian noise around a simplex: NC1 and classic NC1 at their expectations, NC2 near 0', () => {
  const K = 4,
    d = 10,
    a = 4,
    sigma = 1,
    per = 5000;
  const n = K * per;
  const mu = simplexMeans(K, d, a);
  const gauss = normal(rng(7));
  const H = new Float64Array(n * d);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % K;
    labels[i] = c;
    for (let j = 0; j < d; j++) H[i * d + j] = mu[c * d + j] + sigma * gauss();
  }
  const m = collapseMetrics(H, n, d, labels, K);
  // E trSigma_W = sigma^2 d (n - K)/n (residuals around the sample means);
  // E trSigma_B = a^2 (K-1)/K + sigma^2 d (K-1)/(K per) (the sample means' own noise).
  const trW = (sigma * sigma * d * (n - K)) / n;
  const trB = (a * a * (K - 1)) / K + (sigma * sigma * d * (K - 1)) / (K * per);
  close(m.nc1, trW / trB, 0.03, 'nc1'); // sd ~ 1% (trSigma_B's cross term), 3 sd
  // Sigma_W ~ sigma^2 I, Sigma_B^+ ~ (K/a^2) P on K-1 dims: classic ~ sigma^2 (K-1)/a^2.
  close(m.nc1Classic, (sigma * sigma * (K - 1)) / (a * a), 0.03, 'nc1 classic');
  assert.ok(m.nc2 < 1e-3, `nc2 ${m.nc2}`);
  assert.ok(m.nc2 > 0);
});

test('invariances: permuting rows changes nothing; scaling H leaves NC1, classic NC1 and NC2 unchanged', () => {
  const K = 3,
    d = 5,
    n = 60;
  const g = normal(rng(3));
  const H = new Float64Array(n * d);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % K;
    for (let j = 0; j < d; j++) H[i * d + j] = g() + (j === labels[i] ? 2 : 0);
  }
  const base = collapseMetrics(H, n, d, labels, K);
  const perm = Array.from({ length: n }, (_, i) => (i * 17) % n); // 17 coprime to 60
  const Hp = new Float64Array(n * d);
  const lp = new Int32Array(n);
  perm.forEach((src, dst) => {
    Hp.set(H.subarray(src * d, src * d + d), dst * d);
    lp[dst] = labels[src];
  });
  const p = collapseMetrics(Hp, n, d, lp, K);
  close(p.nc1, base.nc1, 1e-12, 'permuted nc1');
  close(p.nc1Classic, base.nc1Classic, 1e-12, 'permuted classic');
  close(p.nc2, base.nc2, 1e-10, 'permuted nc2');
  const s = collapseMetrics(
    H.map((v) => v * 37.5),
    n,
    d,
    labels,
    K,
  );
  close(s.nc1, base.nc1, 1e-12, 'scaled nc1');
  close(s.nc1Classic, base.nc1Classic, 1e-12, 'scaled classic');
  close(s.nc2, base.nc2, 1e-10, 'scaled nc2');
  for (let i = 0; i < K * d; i++) close(s.classMeans[i], 37.5 * base.classMeans[i], 1e-12, 'scaled means');
});

test('classic NC1 equals a dense tr(Sigma_W pinv(Sigma_B))/K when Sigma_B has full rank K-1 < d', () => {
  // Dense check with an explicit pinv through the d x d eigenproblem, unequal class sizes.
  const K = 3,
    d = 4,
    n = 31;
  const g = normal(rng(11));
  const H = new Float64Array(n * d);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i < 5 ? 0 : i < 16 ? 1 : 2;
    for (let j = 0; j < d; j++) H[i * d + j] = g() + labels[i] * (j + 1) * 0.8 - (j === 3 && labels[i] === 2 ? 1.5 : 0);
  }
  const m = collapseMetrics(H, n, d, labels, K);
  const muG = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) muG[j] += H[i * d + j] / n;
  const SB = new Float64Array(d * d);
  const SW = new Float64Array(d * d);
  for (let c = 0; c < K; c++)
    for (let p = 0; p < d; p++)
      for (let q = 0; q < d; q++)
        SB[p * d + q] += ((m.classMeans[c * d + p] - muG[p]) * (m.classMeans[c * d + q] - muG[q])) / K;
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    for (let p = 0; p < d; p++)
      for (let q = 0; q < d; q++)
        SW[p * d + q] += ((H[i * d + p] - m.classMeans[c * d + p]) * (H[i * d + q] - m.classMeans[c * d + q])) / n;
  }
  // Sigma_B's two nonzero eigenpairs by power iteration with deflation, pinv = sum v v^T / l.
  const pinv = new Float64Array(d * d);
  const A = Float64Array.from(SB);
  for (let k = 0; k < K - 1; k++) {
    let v = new Float64Array(d).fill(1).map((_, j) => 1 + j * 0.1);
    let l = 0;
    for (let it = 0; it < 2000; it++) {
      const w = new Float64Array(d);
      for (let p = 0; p < d; p++) for (let q = 0; q < d; q++) w[p] += A[p * d + q] * v[q];
      l = Math.hypot(...w);
      v = w.map((x) => x / l);
    }
    for (let p = 0; p < d; p++)
      for (let q = 0; q < d; q++) {
        pinv[p * d + q] += (v[p] * v[q]) / l;
        A[p * d + q] -= l * v[p] * v[q];
      }
  }
  let tr = 0;
  for (let p = 0; p < d; p++) for (let q = 0; q < d; q++) tr += SW[p * d + q] * pinv[q * d + p];
  close(m.nc1Classic, tr / K, 1e-8, 'classic vs dense pinv');
  let trW = 0,
    trB = 0;
  for (let p = 0; p < d; p++) {
    trW += SW[p * d + p];
    trB += SB[p * d + p];
  }
  close(m.nc1, trW / trB, 1e-12, 'nc1 vs dense traces');
});

test('NC2 of two classes on a line is 0; of orthogonal centred means for K = 3 is the known distance', () => {
  // K = 2: centred means are always antipodal, the ETF Gram [[1,-1],[-1,1]].
  const H2 = Float64Array.from([0, 0, 1, 0, 3, 1, 4, 1]);
  assert.ok(collapseMetrics(H2, 4, 2, Int32Array.from([0, 0, 1, 1]), 2).nc2 < 1e-30);
  // K = 3 means on a line: centred (-1, 0, 1) times a vector; the middle class sits at mu_G (row/col 0).
  const H3 = Float64Array.from([-1, 0, 1]);
  const m = collapseMetrics(H3, 3, 1, Int32Array.from([0, 1, 2]), 3);
  // G_hat = [[1,0,-1],[0,0,0],[-1,0,1]], E = 1.5 I - 0.5 11^T: diff squares: (0)^2 x2 diag ends, (0-1)^2 middle diag,
  // (0+0.5)^2 x4 for the middle's off-diagonals, (-1+0.5)^2 x2 for the ends' pair.
  close(m.nc2, (1 + 4 * 0.25 + 2 * 0.25) / 9, 1e-14, 'nc2 line');
});

test('meanProjection2d: a regular simplex of K = 3 maps to an equilateral triangle with its inter-point distances', () => {
  const K = 3,
    d = 5,
    a = 2;
  const p = meanProjection2d(simplexMeans(K, d, a), K, d);
  const dist = (i: number, j: number) => Math.hypot(p[i * 2] - p[j * 2], p[i * 2 + 1] - p[j * 2 + 1]);
  for (const [i, j] of [
    [0, 1],
    [1, 2],
    [0, 2],
  ])
    close(dist(i, j), a * Math.SQRT2, 1e-12, `distance ${i}-${j}`);
  // centred on the origin
  close(p[0] + p[2] + p[4], 0, 1e-12, 'x centred');
  // K = 2: one axis only, the second is zeros; distance preserved
  const q = meanProjection2d(Float64Array.from([0, 0, 3, 4]), 2, 2);
  close(Math.abs(q[0] - q[2]), 5, 1e-12, 'K = 2 distance');
  assert.equal(q[1], 0);
  assert.equal(q[3], 0);
});

test('InputError: K < 2, a label out of range, a class with no rows, a non-finite feature', () => {
  const H = new Float64Array([0, 1, 2, 3]);
  assert.throws(
    () => collapseMetrics(H, 2, 2, Int32Array.from([0, 0]), 1),
    (e) => e instanceof InputError && /at least 2 classes/.test(e.message),
  );
  assert.throws(
    () => collapseMetrics(H, 2, 2, Int32Array.from([0, 2]), 2),
    (e) => e instanceof InputError && /row 2 has class index 2, expected 0..1/.test(e.message),
  );
  assert.throws(
    () => collapseMetrics(H, 2, 2, Int32Array.from([0, -1]), 2),
    (e) => e instanceof InputError && /class index -1/.test(e.message),
  );
  assert.throws(
    () => collapseMetrics(H, 2, 2, Int32Array.from([0, 0]), 3),
    (e) => e instanceof InputError && /class 1 \(of 3\) has no rows/.test(e.message),
  );
  assert.throws(
    () => collapseMetrics(Float64Array.from([0, NaN, 2, 3]), 2, 2, Int32Array.from([0, 1]), 2),
    (e) => e instanceof InputError && /row 1, column 2 is NaN/.test(e.message),
  );
});
