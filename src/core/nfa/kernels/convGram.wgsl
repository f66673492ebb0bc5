// Partial Grams of the output gradients at a conv-network layer (SCIENCE.md §6): with G (rows x k x P),
// rows = images * outputs virtual images and P positions,
//   Partial[s, a, b] = sum over (q, pos) in segment s of G[q, a, pos] G[q, b, pos]
// where the rows * P (q, pos) pairs are cut into `segments` runs of `perSegment`; the float64 host adds the
// segments (H = W^T-side Gram; the patch-AGOP is W^T H W). Layout (row-major f32): G rows x k x P,
// Partial segments x k x k. Workgroups: 64 invocations, one (s, a, b) each (flattened (x, y) grid): the
// segments give the parallelism a k x k matrix alone lacks.

struct Params {
  rows: u32,
  k: u32,
  positions: u32,
  segments: u32,
  perSegment: u32,
  xStride: u32,
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> G: array<f32>;
@group(0) @binding(2) var<storage, read_write> Partial: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let t = gid.x + gid.y * p.xStride;
  let kk = p.k * p.k;
  if (t >= p.segments * kk) {
    return;
  }
  let s = t / kk;
  let a = (t % kk) / p.k;
  let b = t % p.k;
  let total = p.rows * p.positions;
  let start = s * p.perSegment;
  let end = min(total, start + p.perSegment);
  var acc = 0.0;
  for (var r = start; r < end; r++) {
    let q = r / p.positions;
    let pos = r % p.positions;
    let base = q * p.k * p.positions + pos;
    acc += G[base + a * p.positions] * G[base + b * p.positions];
  }
  Partial[t] = acc;
}
