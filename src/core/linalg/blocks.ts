// Register-blocked dot products for the CPU's Gram-type loops: two rows against two rows per step, so
// each pair of loads feeds four multiply-adds.

/**
 * The four dot products of two length-`len` runs of A (starting at a0, a1) with two of B (at b0, b1),
 * into out = [A_a0·B_b0, A_a0·B_b1, A_a1·B_b0, A_a1·B_b1]; each sum runs in index order, so the results
 * are bit-identical to four plain loops.
 */
export function dot2x2(
  A: Float64Array,
  a0: number,
  a1: number,
  B: Float64Array,
  b0: number,
  b1: number,
  len: number,
  out: Float64Array,
): void {
  let s00 = 0,
    s01 = 0,
    s10 = 0,
    s11 = 0;
  for (let k = 0; k < len; k++) {
    const x0 = A[a0 + k],
      x1 = A[a1 + k],
      y0 = B[b0 + k],
      y1 = B[b1 + k];
    s00 += x0 * y0;
    s01 += x0 * y1;
    s10 += x1 * y0;
    s11 += x1 * y1;
  }
  out[0] = s00;
  out[1] = s01;
  out[2] = s10;
  out[3] = s11;
}
