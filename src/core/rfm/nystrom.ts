/**
 * Float64 host side of the WebGPU solve: the GPU supplies kernel matrices and products in f32, the
 * small and precision-sensitive parts (Cholesky of small systems, the Nyström preconditioner,
 * every CG scalar and vector update) run here in float64.
 */
import { choleskyInPlace } from '../linalg/cholesky';
import { dot2x2 } from '../linalg/blocks';
import { eighSym } from '../linalg/eigh';
import type { Pacer } from '../pacer';
import { HostLowRank } from '../linalg/hostLowRank';
import { cgVectors, gramSimd } from '../linalg/denseKernels';

/** s evenly spread landmark indices out of n (deterministic, so GPU and repeated fits agree). */
export function landmarkIndices(n: number, s: number): Int32Array {
  const idx = new Int32Array(s);
  for (let k = 0; k < s; k++) idx[k] = Math.floor(((k + 0.5) * n) / s);
  return idx;
}

export interface Preconditioner {
  /** v (n x c) -> P^-1 v. */
  apply(v: Float64Array, c: number): Float64Array;
}

/**
 * Nyström preconditioner in eigen form: with B = K_nS L^-T (L L^T = K_SS + nu I) and its SVD
 * B = U S V^T, K_nys = B B^T = U S^2 U^T and
 *   P^-1 = (lambda_r + mu) U (S^2 + mu I)^-1 U^T + (I - U U^T),
 * which maps the top r eigen-directions of K near lambda_r + mu and leaves the rest alone. That top
 * of the spectrum is what makes plain CG on K + mu I (condition ~ n / mu) slow.
 * Measured alternatives that failed: the Woodbury forms (v - C (mu K_SS + C^T C)^-1 C^T v) / mu and
 * (v - B (mu I + B^T B)^-1 B^T v) / mu divide cancelling differences by mu, and CG stalled (2000
 * iterations without convergence on n = 8000 Laplace or n = 203 Gaussian L = 3). The shift nu keeps
 * L well conditioned when landmarks nearly coincide. Every step is float64.
 * Returns null when a factorization fails (CG then runs unpreconditioned).
 */
export async function nystromPreconditioner(
  kNS: Float32Array | Float64Array,
  n: number,
  landmarks: Int32Array,
  mu: number,
  /**
   * simd: false keeps the Gram matrix and the low-rank step in JavaScript (tests compare the two).
   * pacer: the event loop gets turns within the Gram matrix and between the steps (an extension host
   * or a page factors on its main thread: 88 ms in one stretch at n = 4000 before, measured).
   */
  options: { simd?: boolean; pacer?: Pacer } = {},
): Promise<Preconditioner | null> {
  const s = landmarks.length;
  const tick = async (): Promise<void> => options.pacer?.tick();
  // k(0) = 1 for both kernels, so nu is relative to the diagonal of K.
  const nu = 1e-5;
  const muP = Math.max(mu, 1e-6);
  const h = (options.simd !== false && (await gramSimd(kNS, n, s, options.pacer))) || gramJs(kNS, n, s);
  await tick();
  const l = new Float64Array(s * s);
  for (let a = 0; a < s; a++) {
    const ra = landmarks[a] * s;
    for (let b = 0; b <= a; b++) l[a * s + b] = kNS[ra + b];
    l[a * s + a] += nu;
  }
  if (!choleskyInPlace(l, s)) return null;
  await tick();
  // G = L^-1 H L^-T: solve L Y = H (columns), then L G^T = Y^T.
  lowerSolveColumns(l, s, h);
  await tick();
  transposeInPlace(h, s);
  lowerSolveColumns(l, s, h);
  await tick();
  // Symmetric eigendecomposition G = V S^2 V^T, so K_nys = U S^2 U^T with U = B V S^-1 orthonormal.
  const g = h;
  for (let a = 0; a < s; a++)
    for (let b = 0; b < a; b++) g[a * s + b] = g[b * s + a] = 0.5 * (g[a * s + b] + g[b * s + a]);
  const { values, vectors } = eighSym(g, s);
  await tick();
  // Directions with tiny S are left out: dividing by S there would amplify rounding in U.
  let r = 0;
  while (r < s && values[r] > 1e-7 * values[0]) r++;
  if (r === 0) return null;
  const lambdaR = values[r - 1];
  // W = L^-T V_r S_r^-1 (s x r): then U^T v = W^T K_Sn v and U t = K_nS W t.
  const w = new Float64Array(s * r);
  for (let a = 0; a < s; a++) for (let k = 0; k < r; k++) w[a * r + k] = vectors[a * s + k] / Math.sqrt(values[k]);
  upperTSolveColumnsC(l, s, w, r);
  const scale = new Float64Array(r);
  for (let k = 0; k < r; k++) scale[k] = (lambdaR + muP) / (values[k] + muP) - 1;
  const simd = options.simd === false ? null : HostLowRank.create(kNS, n, s, w, r, scale);
  return simd ?? lowRankApplyJs(kNS, n, s, w, r, scale);
}

/**
 * out = v + K_nS W diag(scale) W^T K_Sn v in JavaScript: where WebAssembly SIMD is unavailable
 * (linalg/hostLowRank.ts is the same step on SIMD lanes), and its test oracle.
 */
function lowRankApplyJs(
  kNS: Float32Array | Float64Array,
  n: number,
  s: number,
  w: Float64Array,
  r: number,
  scale: Float64Array,
): Preconditioner {
  return {
    apply(v: Float64Array, c: number): Float64Array {
      // One column at a time with contiguous inner loops (CG calls this every iteration; the
      // interleaved all-columns form ran 3x slower for the common c = 1). Four rows per pass over q
      // and four partial sums per dot product: the single-accumulator loops were bound by store and
      // add latency (5.5 ms per application at n = 8000, s = 256; 2.4 ms this way, measured).
      // out = v + K_nS W diag(scale) W^T K_Sn v.
      const out = v.slice();
      const q = new Float64Array(s);
      const t = new Float64Array(r);
      const u = new Float64Array(s);
      const n4 = n - (n % 4);
      for (let col = 0; col < c; col++) {
        q.fill(0);
        for (let i = 0; i < n4; i += 4) {
          const v0 = v[i * c + col],
            v1 = v[(i + 1) * c + col],
            v2 = v[(i + 2) * c + col],
            v3 = v[(i + 3) * c + col];
          const r0 = i * s,
            r1 = r0 + s,
            r2 = r1 + s,
            r3 = r2 + s;
          for (let a = 0; a < s; a++) q[a] += kNS[r0 + a] * v0 + kNS[r1 + a] * v1 + kNS[r2 + a] * v2 + kNS[r3 + a] * v3;
        }
        for (let i = n4; i < n; i++) {
          const vi = v[i * c + col];
          const row = i * s;
          for (let a = 0; a < s; a++) q[a] += kNS[row + a] * vi;
        }
        t.fill(0);
        for (let a = 0; a < s; a++) {
          const qa = q[a];
          const wa = a * r;
          for (let k = 0; k < r; k++) t[k] += w[wa + k] * qa;
        }
        for (let k = 0; k < r; k++) t[k] *= scale[k];
        for (let a = 0; a < s; a++) {
          const wa = a * r;
          let acc = 0;
          for (let k = 0; k < r; k++) acc += w[wa + k] * t[k];
          u[a] = acc;
        }
        const s4 = s - (s % 4);
        for (let i = 0; i < n; i++) {
          const row = i * s;
          let a0 = 0,
            a1 = 0,
            a2 = 0,
            a3 = 0;
          for (let a = 0; a < s4; a += 4) {
            a0 += kNS[row + a] * u[a];
            a1 += kNS[row + a + 1] * u[a + 1];
            a2 += kNS[row + a + 2] * u[a + 2];
            a3 += kNS[row + a + 3] * u[a + 3];
          }
          for (let a = s4; a < s; a++) a0 += kNS[row + a] * u[a];
          out[i * c + col] += a0 + a1 + (a2 + a3);
        }
      }
      return out;
    },
  };
}

/**
 * H = K_Sn K_nS (s x s, full symmetric) from the row-major n x s K_nS, in float64, in JavaScript
 * (where WebAssembly is missing; linalg/denseKernels.ts gramSimd is the same on SIMD lanes). Rows are taken in
 * chunks transposed into a column-major scratch so every entry is a contiguous dot product and the
 * chunk stays in cache (the rank-1-update order ran at ~0.2 GFLOP/s, measured at s = 512); entries
 * are computed in 2 x 2 blocks so each load feeds two multiply-adds (1.6x faster than single
 * entries at n = 8000, s = 256, measured).
 */
function gramJs(kNS: Float32Array | Float64Array, n: number, s: number): Float64Array {
  const sEven = s + (s % 2);
  const h = new Float64Array(sEven * sEven);
  const chunk = Math.max(1, Math.min(n, Math.floor(32768 / sEven)));
  // The padding column (odd s) stays zero.
  const cols = new Float64Array(sEven * chunk);
  const sums = new Float64Array(4);
  for (let i0 = 0; i0 < n; i0 += chunk) {
    const rows = Math.min(chunk, n - i0);
    for (let i = 0; i < rows; i++) {
      const row = (i0 + i) * s;
      for (let a = 0; a < s; a++) cols[a * chunk + i] = kNS[row + a];
    }
    for (let a = 0; a < sEven; a += 2) {
      const ca0 = a * chunk,
        ca1 = ca0 + chunk;
      for (let b = 0; b <= a; b += 2) {
        const cb0 = b * chunk,
          cb1 = cb0 + chunk;
        dot2x2(cols, ca0, ca1, cols, cb0, cb1, rows, sums);
        h[a * sEven + b] += sums[0];
        h[a * sEven + b + 1] += sums[1];
        h[(a + 1) * sEven + b] += sums[2];
        h[(a + 1) * sEven + b + 1] += sums[3];
      }
    }
  }
  const out = new Float64Array(s * s);
  for (let a = 0; a < s; a++) for (let b = 0; b <= a; b++) out[a * s + b] = out[b * s + a] = h[a * sEven + b];
  return out;
}

/** X <- L^-1 X for an s x s right-hand side (row-major), L lower triangular. */
function lowerSolveColumns(l: Float64Array, s: number, x: Float64Array): void {
  lowerSolveColumnsC(l, s, x, s);
}

function lowerSolveColumnsC(l: Float64Array, s: number, x: Float64Array, c: number): void {
  for (let i = 0; i < s; i++) {
    const li = i * s;
    const xi = i * c;
    for (let k = 0; k < i; k++) {
      const f = l[li + k];
      if (f === 0) continue;
      const xk = k * c;
      for (let col = 0; col < c; col++) x[xi + col] -= f * x[xk + col];
    }
    const inv = 1 / l[li + i];
    for (let col = 0; col < c; col++) x[xi + col] *= inv;
  }
}

/** X <- L^-T X. */
function upperTSolveColumnsC(l: Float64Array, s: number, x: Float64Array, c: number): void {
  for (let i = s - 1; i >= 0; i--) {
    const xi = i * c;
    for (let k = i + 1; k < s; k++) {
      const f = l[k * s + i];
      if (f === 0) continue;
      const xk = k * c;
      for (let col = 0; col < c; col++) x[xi + col] -= f * x[xk + col];
    }
    const inv = 1 / l[i * s + i];
    for (let col = 0; col < c; col++) x[xi + col] *= inv;
  }
}

function transposeInPlace(a: Float64Array, s: number): void {
  for (let i = 0; i < s; i++)
    for (let j = i + 1; j < s; j++) {
      const t = a[i * s + j];
      a[i * s + j] = a[j * s + i];
      a[j * s + i] = t;
    }
}

export interface CgOutcome {
  ok: boolean;
  alpha: Float64Array;
  iterations: number;
  /** Largest relative residual |y - A alpha| / |y| over the columns (CG recurrence, refreshed from the true residual every refreshEvery iterations). */
  relResidual: number;
}

/**
 * Preconditioned conjugate gradients on (K + reg I) alpha = Y for all c columns at once (one shared
 * GPU product per iteration, separate scalars per column). Vectors and scalars are float64; only
 * `kTimes` (the K product) runs in f32 on the device. The true residual is recomputed every
 * `refreshEvery` iterations so f32 product error does not accumulate in the recursion.
 * ok = false when a curvature p^T A p <= 0 shows A is not positive definite. Returns the iterate
 * with the smallest residual: past the f32 accuracy floor (~1e-4 relative on ill-conditioned
 * Gaussian problems, measured) the recursion drifts rather than improves.
 */
export async function conjugateGradients(args: {
  n: number;
  c: number;
  y: Float64Array;
  reg: number;
  kTimes: (p: Float64Array, c: number) => Promise<Float64Array>;
  precond: Preconditioner | null;
  tol: number;
  maxIters: number;
  refreshEvery?: number;
  /** Stop after this many iterations without a new smallest residual (f32 products set a floor). */
  stallIters?: number;
  /** Starting point (n x c); the previous RFM round's solution is a good one once M settles. */
  x0?: Float64Array;
  /** false: the vector steps in JavaScript instead of WebAssembly (tests compare the two). */
  simd?: boolean;
}): Promise<CgOutcome> {
  const { n, c, y, reg, kTimes, precond, tol, maxIters } = args;
  const refreshEvery = args.refreshEvery ?? 50;
  const stallIters = args.stallIters ?? 10;
  const len = n * c;
  // The vector steps run ~100 times per solve over n x c values: on WebAssembly where available
  // (linalg/denseKernels.ts cgVectors), as the same JavaScript loops in a fresh process boxed every
  // float until the JIT warmed up (0.3-1 ms of host time per iteration at n = 2000, measured, against
  // a 0.6 ms product).
  const v = cgVectors(n, c, args.simd !== false);
  const applyA = async (x: Float64Array): Promise<Float64Array> => {
    const kv = await kTimes(x, c);
    for (let i = 0; i < len; i++) kv[i] += reg * x[i];
    return kv;
  };
  const yNorm = new Float64Array(c);
  v.r.set(y);
  for (let col = 0; col < c; col++) yNorm[col] = Math.sqrt(v.dot('r', 'r', col));
  if (args.x0 && args.x0.length === len) {
    // Warm start; kept only if it beats alpha = 0 on every column.
    const a0 = await applyA(args.x0);
    const r0 = y.map((val, i) => val - a0[i]);
    v.q.set(r0);
    let better = true;
    for (let col = 0; col < c; col++) better &&= Math.sqrt(v.dot('q', 'q', col)) < yNorm[col];
    if (better) {
      v.x.set(args.x0);
      v.r.set(r0);
    }
  }
  const precondition = (): void => v.z.set(precond ? precond.apply(v.r, c) : v.r);
  precondition();
  v.p.set(v.z);
  const rz = new Float64Array(c);
  for (let col = 0; col < c; col++) rz[col] = v.dot('r', 'z', col);
  const done = new Uint8Array(c);
  let open = c;
  const relRes = (): number => {
    let worst = 0;
    for (let col = 0; col < c; col++) {
      const rel = yNorm[col] > 0 ? Math.sqrt(v.dot('r', 'r', col)) / yNorm[col] : 0;
      if (rel <= tol && !done[col]) {
        done[col] = 1;
        open--;
      }
      worst = Math.max(worst, rel);
    }
    return worst;
  };
  let worst = relRes();
  const bestAlpha = v.x.slice();
  let bestWorst = worst,
    bestIt = 0;
  let it = 0;
  while (it < maxIters && open > 0 && it - bestIt <= stallIters) {
    it++;
    v.q.set(await kTimes(v.p, c));
    v.addScaledP(reg);
    for (let col = 0; col < c; col++) {
      if (done[col]) continue;
      const pap = v.dot('p', 'q', col);
      if (!(pap > 0)) return { ok: false, alpha: v.x.slice(), iterations: it, relResidual: worst };
      v.step(col, rz[col] / pap);
    }
    if (it % refreshEvery === 0) {
      const a = await applyA(v.x);
      for (let i = 0; i < len; i++) v.r[i] = y[i] - a[i];
    }
    worst = relRes();
    if (worst < bestWorst) {
      bestAlpha.set(v.x);
      bestWorst = worst;
      bestIt = it;
    }
    precondition();
    for (let col = 0; col < c; col++) {
      if (done[col]) continue;
      const rzNew = v.dot('r', 'z', col);
      v.xpby(col, rzNew / rz[col]);
      rz[col] = rzNew;
    }
  }
  return { ok: true, alpha: bestAlpha, iterations: it, relResidual: bestWorst };
}
