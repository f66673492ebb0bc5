/**
 * Symmetric eigendecomposition for larger matrices: Householder reduction to tridiagonal form, then
 * the implicit QL iteration with Wilkinson-type shifts, rotations accumulated into the eigenvectors.
 * About 9 d^3 flops against the cyclic Jacobi method's ~10 sweeps of 6 d^3, so a 784 x 784 AGOP takes
 * seconds instead of minutes; both are backward stable. Same contract as eighSym: values descending,
 * eigenvectors as the columns of a row-major d x d matrix.
 *
 * The O(d^3) loops (Householder's products and updates, the rotations of Q^T) are the kernels of
 * denseKernels: WebAssembly SIMD where the runtime has it (wasm/dense.wat), which runs at compiled speed
 * from the first call (a fresh process's first d = 64 decomposition took 41 ms in JavaScript, 18 ms
 * of it Householder and 20 ms QL, before the JIT warmed up to ~4 ms), else the same loops in JavaScript.
 */
import { denseKernels, type DenseKernels } from './denseKernels';

export function eighTridiagonal(
  a: Float64Array,
  d: number,
  kernels: DenseKernels = denseKernels(d),
): { values: Float64Array; vectors: Float64Array } {
  const { A, Qt, v, p, w, ld } = kernels;
  for (let i = 0; i < d; i++) {
    A[i * ld + i] = a[i * d + i];
    for (let j = i + 1; j < d; j++) {
      const s = 0.5 * (a[i * d + j] + a[j * d + i]);
      A[i * ld + j] = s;
      A[j * ld + i] = s;
    }
  }
  // Qt = Q^T: row i is column i of Q, so the rotations below touch contiguous memory.
  for (let i = 0; i < d; i++) Qt[i * ld + i] = 1;
  const diag = new Float64Array(d);
  const off = new Float64Array(d); // off[i] couples i and i + 1; off[d - 1] = 0

  // Householder: for column k, reflect A[k+1.., k] onto a multiple of e_{k+1}; A <- H A H, Q <- Q H.
  // v and w stay zero outside k..d-1 (the kernels may read one column left of k and the padding).
  for (let k = 0; k < d - 2; k++) {
    let norm = 0;
    for (let i = k + 1; i < d; i++) norm += A[i * ld + k] * A[i * ld + k];
    norm = Math.sqrt(norm);
    if (norm === 0) continue;
    const x0 = A[(k + 1) * ld + k];
    const alpha = x0 > 0 ? -norm : norm;
    v.fill(0);
    for (let i = k + 1; i < d; i++) v[i] = A[i * ld + k];
    v[k + 1] -= alpha;
    let vv = 0;
    for (let i = k + 1; i < d; i++) vv += v[i] * v[i];
    if (vv === 0) continue;
    const beta = 2 / vv;
    // p = beta A v, K = beta v.p / 2, w = p - K v; A <- A - v w^T - w v^T (rows/cols k.. only change)
    kernels.rowsTimes(k, d, k + 1, beta);
    let vp = 0;
    for (let i = k; i < d; i++) vp += v[i] * p[i];
    const K = (beta * vp) / 2;
    w.fill(0);
    for (let i = k; i < d; i++) w[i] = p[i] - K * v[i];
    kernels.symRank2(k, d);
    // Q <- Q (I - beta v v^T), i.e. Qt <- Qt - beta v (v^T Qt)
    kernels.reflectRows(k + 1, d, beta);
  }
  for (let i = 0; i < d; i++) diag[i] = A[i * ld + i];
  for (let i = 0; i + 1 < d; i++) off[i] = A[(i + 1) * ld + i];

  // Implicit QL on (diag, off): chase a bulge from the bottom of each unreduced block up to row l.
  // An off-diagonal entry counts as zero when negligible next to its diagonal neighbours or, for the
  // null space of a rank-deficient AGOP (neighbours ~0 too), next to the whole matrix: either is a
  // perturbation below rounding of A.
  const eps = Number.EPSILON;
  let norm = 0;
  for (let i = 0; i < d; i++)
    norm = Math.max(norm, Math.abs(diag[i]) + Math.abs(off[i]) + (i > 0 ? Math.abs(off[i - 1]) : 0));
  const negligible = eps * norm;
  for (let l = 0; l < d; l++) {
    for (let iter = 0; ; iter++) {
      let m = l;
      for (; m < d - 1; m++) {
        const dd = Math.abs(diag[m]) + Math.abs(diag[m + 1]);
        if (Math.abs(off[m]) <= eps * dd || Math.abs(off[m]) <= negligible) break;
      }
      if (m === l) break;
      if (iter === 60) throw new Error('eighTridiagonal: QL iteration did not converge');
      let g = (diag[l + 1] - diag[l]) / (2 * off[l]);
      let r = Math.hypot(g, 1);
      g = diag[m] - diag[l] + off[l] / (g + (g >= 0 ? r : -r));
      let s = 1,
        c = 1,
        shift = 0;
      let i = m - 1;
      let underflow = false;
      for (; i >= l; i--) {
        const f = s * off[i],
          b = c * off[i];
        r = Math.hypot(f, g);
        off[i + 1] = r;
        if (r === 0) {
          // The block split: deflate and start over from this l.
          diag[i + 1] -= shift;
          off[m] = 0;
          underflow = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = diag[i + 1] - shift;
        r = (diag[i] - g) * s + 2 * c * b;
        shift = s * r;
        diag[i + 1] = g + shift;
        g = c * r - b;
        kernels.rotateRows(i, c, s);
      }
      if (underflow) continue;
      diag[l] -= shift;
      off[l] = g;
      off[m] = 0;
    }
  }

  const order = Array.from({ length: d }, (_, i) => i).sort((x, y) => diag[y] - diag[x]);
  const values = new Float64Array(d);
  const vectors = new Float64Array(d * d);
  order.forEach((src, k) => {
    values[k] = diag[src];
    for (let i = 0; i < d; i++) vectors[i * d + k] = Qt[src * ld + i];
  });
  return { values, vectors };
}
