// lin-RFM validation error: sum over held-back observed entries (index, value) of
// (W[index] - value)^2, the numerator of the relative validation error (the host divides by the
// float64 sum of value^2, a constant of the problem).
//
// Layout: W is the m x ldW row-major prediction matrix (f32); entries holds count vec2u of
// (row * ldW + col, bitcast<u32>(value)); out[0] receives the sum.
// Workgroups: a single 256-invocation workgroup; each invocation sums a strided share of the
// entries in f32, then a tree reduction in workgroup memory (the held-back set is small: ~5% of the
// observed entries, so one workgroup is not the bottleneck next to the per-row solves).

struct Params {
  count: u32,
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> W: array<f32>;
@group(0) @binding(2) var<storage, read> entries: array<vec2u>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  for (var e = lid; e < p.count; e += 256u) {
    let en = entries[e];
    let diff = W[en.x] - bitcast<f32>(en.y);
    s += diff * diff;
  }
  partial[lid] = s;
  workgroupBarrier();
  for (var half = 128u; half > 0u; half /= 2u) {
    if (lid < half) {
      partial[lid] += partial[lid + half];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    out[0] = partial[0];
  }
}
