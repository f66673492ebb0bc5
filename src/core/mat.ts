/** Dense row-major matrix in float64. The unit of exchange between orchestrators and backends. */
export interface Mat {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

export function mat(rows: number, cols: number, data?: Float64Array): Mat {
  const d = data ?? new Float64Array(rows * cols);
  if (d.length !== rows * cols) throw new Error(`mat: expected ${rows * cols} values, got ${d.length}`);
  return { rows, cols, data: d };
}

/** Rows `idx` of `a`, in that order. */
export function takeRows(a: Mat, idx: ArrayLike<number>): Mat {
  const out = new Float64Array(idx.length * a.cols);
  for (let r = 0; r < idx.length; r++) out.set(a.data.subarray(idx[r] * a.cols, (idx[r] + 1) * a.cols), r * a.cols);
  return mat(idx.length, a.cols, out);
}
