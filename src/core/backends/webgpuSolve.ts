/**
 * Float64 host side of the WebGPU solve: the GPU supplies kernel matrices and products in f32, the
 * small and precision-sensitive parts (Cholesky of small systems, the Nyström preconditioner,
 * every CG scalar and vector update) run here in float64.
 */

/** In-place lower Cholesky of a symmetric n x n row-major matrix (upper triangle left untouched). */
export function choleskyInPlace(a: Float64Array, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      const rj = j * n;
      let s = a[ri + j];
      for (let k = 0; k < j; k++) s -= a[ri + k] * a[rj + k];
      if (i === j) {
        if (!(s > 0)) return false;
        a[ri + i] = Math.sqrt(s);
      } else {
        a[ri + j] = s / a[rj + j];
      }
    }
  }
  return true;
}

/** Solves L L^T X = B in place for B (n x c row-major), L from choleskyInPlace. */
export function choleskySolveInPlace(l: Float64Array, n: number, b: Float64Array, c: number): void {
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let col = 0; col < c; col++) {
      let s = b[i * c + col];
      for (let k = 0; k < i; k++) s -= l[ri + k] * b[k * c + col];
      b[i * c + col] = s / l[ri + i];
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let col = 0; col < c; col++) {
      let s = b[i * c + col];
      for (let k = i + 1; k < n; k++) s -= l[k * n + i] * b[k * c + col];
      b[i * c + col] = s / l[i * n + i];
    }
  }
}

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
 * Nyström preconditioner P = K_nS K_SS^-1 K_Sn + mu I applied through the Woodbury identity,
 * P^-1 v = (v - K_nS (mu K_SS + K_Sn K_nS)^-1 K_Sn v) / mu. It captures the top of the kernel
 * spectrum, which is what makes plain CG on K + mu I (condition ~ n / mu) slow.
 * Returns null when the small system is not positive definite (CG then runs unpreconditioned).
 */
export function nystromPreconditioner(kNS: Float64Array, n: number, landmarks: Int32Array, mu: number): Preconditioner | null {
  const s = landmarks.length;
  const w = new Float64Array(s * s);
  // H = K_Sn K_nS, accumulated row by row of K_nS (contiguous), lower triangle only.
  for (let i = 0; i < n; i++) {
    const row = i * s;
    for (let a = 0; a < s; a++) {
      const va = kNS[row + a];
      if (va === 0) continue;
      const wa = a * s;
      for (let b = 0; b <= a; b++) w[wa + b] += va * kNS[row + b];
    }
  }
  for (let a = 0; a < s; a++) {
    const ra = landmarks[a] * s;
    for (let b = 0; b <= a; b++) w[a * s + b] += mu * kNS[ra + b];
  }
  for (let a = 0; a < s; a++) for (let b = a + 1; b < s; b++) w[a * s + b] = w[b * s + a];
  if (!choleskyInPlace(w, s)) return null;
  return {
    apply(v: Float64Array, c: number): Float64Array {
      const t = new Float64Array(s * c);
      for (let i = 0; i < n; i++) {
        const row = i * s;
        for (let a = 0; a < s; a++) {
          const k = kNS[row + a];
          for (let col = 0; col < c; col++) t[a * c + col] += k * v[i * c + col];
        }
      }
      choleskySolveInPlace(w, s, t, c);
      const out = new Float64Array(n * c);
      for (let i = 0; i < n; i++) {
        const row = i * s;
        for (let col = 0; col < c; col++) {
          let acc = 0;
          for (let a = 0; a < s; a++) acc += kNS[row + a] * t[a * c + col];
          out[i * c + col] = (v[i * c + col] - acc) / mu;
        }
      }
      return out;
    },
  };
}

export interface CgOutcome {
  ok: boolean;
  alpha: Float64Array;
  iterations: number;
  /** Largest relative residual |y - A alpha| / |y| over the columns at exit. */
  relResidual: number;
}

/**
 * Preconditioned conjugate gradients on (K + reg I) alpha = Y for all c columns at once (one shared
 * GPU product per iteration, separate scalars per column). Vectors and scalars are float64; only
 * `kTimes` (the K product) runs in f32 on the device. The true residual is recomputed every
 * `refreshEvery` iterations so f32 product error does not accumulate in the recursion.
 * ok = false when a curvature p^T A p <= 0 shows A is not positive definite.
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
}): Promise<CgOutcome> {
  const { n, c, y, reg, kTimes, precond, tol, maxIters } = args;
  const refreshEvery = args.refreshEvery ?? 50;
  const applyA = async (v: Float64Array): Promise<Float64Array> => {
    const kv = await kTimes(v, c);
    for (let i = 0; i < kv.length; i++) kv[i] += reg * v[i];
    return kv;
  };
  const applyP = (v: Float64Array): Float64Array => (precond ? precond.apply(v, c) : v.slice());
  const colDot = (a: Float64Array, b: Float64Array): Float64Array => {
    const out = new Float64Array(c);
    for (let i = 0; i < n; i++) for (let col = 0; col < c; col++) out[col] += a[i * c + col] * b[i * c + col];
    return out;
  };
  const yNorm = colDot(y, y).map(Math.sqrt);
  const alpha = new Float64Array(n * c);
  const r = y.slice();
  let z = applyP(r);
  const p = z.slice();
  let rz = colDot(r, z);
  const done = new Uint8Array(c);
  const relRes = (): number => {
    const rr = colDot(r, r);
    let worst = 0;
    for (let col = 0; col < c; col++) {
      const rel = yNorm[col] > 0 ? Math.sqrt(rr[col]) / yNorm[col] : 0;
      if (rel <= tol) done[col] = 1;
      worst = Math.max(worst, rel);
    }
    return worst;
  };
  let worst = relRes();
  let it = 0;
  while (it < maxIters && done.some((v) => v === 0)) {
    it++;
    const ap = await applyA(p);
    const pap = colDot(p, ap);
    for (let col = 0; col < c; col++) {
      if (done[col]) continue;
      if (!(pap[col] > 0)) return { ok: false, alpha, iterations: it, relResidual: worst };
      const step = rz[col] / pap[col];
      for (let i = 0; i < n; i++) {
        alpha[i * c + col] += step * p[i * c + col];
        r[i * c + col] -= step * ap[i * c + col];
      }
    }
    if (it % refreshEvery === 0) {
      const a = await applyA(alpha);
      for (let i = 0; i < n * c; i++) r[i] = y[i] - a[i];
    }
    worst = relRes();
    z = applyP(r);
    const rzNew = colDot(r, z);
    for (let col = 0; col < c; col++) {
      if (done[col]) continue;
      const beta = rzNew[col] / rz[col];
      for (let i = 0; i < n; i++) p[i * c + col] = z[i * c + col] + beta * p[i * c + col];
    }
    rz = rzNew;
  }
  return { ok: true, alpha, iterations: it, relResidual: worst };
}
