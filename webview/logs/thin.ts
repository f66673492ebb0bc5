/**
 * Thinning for drawing: the points of [a, b) in at most about 2 * buckets points, keeping each
 * bucket's lowest and highest value in step order, so a spike of a single point still shows at its
 * full height however many points share its pixel column. Values `accept` rejects (non-finite, or
 * non-positive on a log axis) become NaN points, which chart.js draws as gaps.
 */
export function thinMinMax(
  xs: Float64Array,
  ys: Float64Array,
  a: number,
  b: number,
  buckets: number,
  accept: (y: number) => boolean,
): { x: number; y: number }[] {
  const out: { x: number; y: number }[] = [];
  const n = b - a;
  if (n <= 2 * buckets) {
    for (let i = a; i < b; i++) out.push({ x: xs[i], y: accept(ys[i]) ? ys[i] : NaN });
    return out;
  }
  for (let k = 0; k < buckets; k++) {
    const i0 = a + Math.floor((k * n) / buckets),
      i1 = a + Math.floor(((k + 1) * n) / buckets);
    let lo = -1,
      hi = -1,
      gap = false;
    for (let i = i0; i < i1; i++) {
      const y = ys[i];
      if (!accept(y)) {
        gap = true;
        continue;
      }
      if (lo < 0 || y < ys[lo]) lo = i;
      if (hi < 0 || y > ys[hi]) hi = i;
    }
    if (lo < 0) {
      out.push({ x: xs[i0], y: NaN });
      continue;
    }
    const [p, q] = lo < hi ? [lo, hi] : [hi, lo];
    out.push({ x: xs[p], y: ys[p] });
    if (q !== p) out.push({ x: xs[q], y: ys[q] });
    if (gap) out.push({ x: xs[i1 - 1], y: NaN });
  }
  return out;
}
