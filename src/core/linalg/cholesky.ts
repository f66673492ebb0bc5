/**
 * In-place Cholesky factorisation A = L L^T of a symmetric positive definite n x n row-major matrix.
 * Only the lower triangle is read; on success it holds L (the strict upper triangle is left as is).
 * Row-oriented (Cholesky-Crout): each entry is a dot product of two contiguous rows of L, which keeps
 * the inner loop in cache and lets V8 vectorise it.
 * Returns false (A unchanged only up to the failing row) when a pivot is not positive.
 */
export function choleskyInPlace(a: Float64Array, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      const rj = j * n;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let k = 0;
      for (; k + 3 < j; k += 4) {
        s0 += a[ri + k] * a[rj + k];
        s1 += a[ri + k + 1] * a[rj + k + 1];
        s2 += a[ri + k + 2] * a[rj + k + 2];
        s3 += a[ri + k + 3] * a[rj + k + 3];
      }
      for (; k < j; k++) s0 += a[ri + k] * a[rj + k];
      const v = a[ri + j] - (s0 + s1 + s2 + s3);
      if (i === j) {
        if (!(v > 0) || !Number.isFinite(v)) return false;
        a[ri + i] = Math.sqrt(v);
      } else {
        a[ri + j] = v / a[rj + j];
      }
    }
  }
  return true;
}

/** Solves L L^T X = B in place (B: n x c row-major) with L from choleskyInPlace. */
export function choleskySolveInPlace(l: Float64Array, n: number, b: Float64Array, c: number): void {
  // Forward: L Y = B.
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let col = 0; col < c; col++) {
      let s = b[i * c + col];
      for (let k = 0; k < i; k++) s -= l[ri + k] * b[k * c + col];
      b[i * c + col] = s / l[ri + i];
    }
  }
  // Backward: L^T X = Y.
  for (let i = n - 1; i >= 0; i--) {
    for (let col = 0; col < c; col++) {
      let s = b[i * c + col];
      for (let k = i + 1; k < n; k++) s -= l[k * n + i] * b[k * c + col];
      b[i * c + col] = s / l[i * n + i];
    }
  }
}
