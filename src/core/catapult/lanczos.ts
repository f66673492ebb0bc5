import { rng } from '../random';

/**
 * Largest eigenvalue of a symmetric positive semidefinite operator given only as v -> A v, by
 * Lanczos with full reorthogonalisation (k <= 40 vectors of length n: cheap next to one NTK-vector
 * product), the tridiagonal's top eigenvalue found by Sturm-sequence bisection.
 */
export async function topEigenvalue(
  matVec: (v: Float64Array) => Promise<Float64Array>,
  n: number,
  options: { iterations?: number; seed?: number; tol?: number } = {},
): Promise<number> {
  const k = Math.min(n, options.iterations ?? 40);
  const tol = options.tol ?? 1e-10;
  const r = rng(options.seed ?? 12345);
  const Q: Float64Array[] = [];
  const alpha: number[] = [];
  const beta: number[] = [];
  let q: Float64Array = new Float64Array(n);
  for (let i = 0; i < n; i++) q[i] = r() - 0.5;
  scale(q, 1 / norm(q));
  let prev = NaN;
  for (let j = 0; j < k; j++) {
    Q.push(q);
    const w = await matVec(q);
    const aj = dot(w, q);
    alpha.push(aj);
    // full reorthogonalisation (twice is enough) keeps ghost copies of the top eigenvalue away
    for (let pass = 0; pass < 2; pass++) for (const qi of Q) axpy(w, -dot(w, qi), qi);
    const bj = norm(w);
    const top = tridiagonalMax(alpha, beta);
    if (bj < tol * Math.max(1, Math.abs(top)) || Math.abs(top - prev) <= tol * Math.abs(top)) return top;
    prev = top;
    beta.push(bj);
    q = w;
    scale(q, 1 / bj);
  }
  return tridiagonalMax(alpha, beta.slice(0, alpha.length - 1));
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
function norm(a: Float64Array): number {
  return Math.sqrt(dot(a, a));
}
function scale(a: Float64Array, s: number): void {
  for (let i = 0; i < a.length; i++) a[i] *= s;
}
function axpy(y: Float64Array, s: number, x: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i] += s * x[i];
}

/** Top eigenvalue of the symmetric tridiagonal (diag alpha, off-diagonal beta) by bisection on Sturm counts. */
export function tridiagonalMax(alpha: readonly number[], beta: readonly number[]): number {
  const n = alpha.length;
  let lo = Infinity,
    hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const rad = (i > 0 ? Math.abs(beta[i - 1]) : 0) + (i < n - 1 ? Math.abs(beta[i]) : 0);
    lo = Math.min(lo, alpha[i] - rad);
    hi = Math.max(hi, alpha[i] + rad);
  }
  // count of eigenvalues < x
  const below = (x: number): number => {
    let c = 0,
      dPrev = 1;
    for (let i = 0; i < n; i++) {
      const b2 = i > 0 ? beta[i - 1] * beta[i - 1] : 0;
      let dv = alpha[i] - x - (i > 0 ? b2 / dPrev : 0);
      if (dv === 0) dv = -1e-300;
      if (dv < 0) c++;
      dPrev = dv;
    }
    return c;
  };
  for (let it = 0; it < 200 && hi - lo > 1e-15 * Math.max(1, Math.abs(hi)); it++) {
    const mid = 0.5 * (lo + hi);
    if (below(mid) >= n) hi = mid;
    else lo = mid;
  }
  return 0.5 * (lo + hi);
}
