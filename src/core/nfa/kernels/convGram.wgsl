// Partial Grams of the output gradients at a conv-network layer (docs/science.md §6): with G (rows x k x P),
// rows = images * outputs virtual images and P positions,
//   Partial[s, a, b] = sum over virtual images q of segment s and positions pos of G[q, a, pos] G[q, b, pos]
// for a <= b at block granularity (blocks of 4 x 4 (a, b) with the b-block >= the a-block; the others are
// left as written at creation, zero): the float64 host adds the segments and mirrors the upper triangle
// (H = sum g g^T; the patch-AGOP is W^T H W). Segment s holds virtual images s*perSegment ... .
// Layout (row-major f32): G rows x k x P, Partial segments x k x k.
// Workgroups: 64 invocations, each a 4 x 4 register block of (a, b) for one segment, reading G along
// positions (contiguous) with no divisions in the loop; flattened (x, y) grid. The segments give the
// parallelism a k x k matrix alone lacks.

struct Params {
  rows: u32,
  k: u32,
  positions: u32,
  segments: u32,
  perSegment: u32,
  xStride: u32,
  blocks: u32,
  _p0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> G: array<f32>;
@group(0) @binding(2) var<storage, read_write> Partial: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let t = gid.x + gid.y * p.xStride;
  let bb = p.blocks * p.blocks;
  if (t >= p.segments * bb) {
    return;
  }
  let s = t / bb;
  let ab = (t % bb) / p.blocks;
  let bbk = t % p.blocks;
  if (bbk < ab) {
    return;
  }
  let a0 = ab * 4u;
  let b0 = bbk * 4u;
  let last = p.k - 1u;
  let ra = vec4u(min(a0, last), min(a0 + 1u, last), min(a0 + 2u, last), min(a0 + 3u, last)) * p.positions;
  let rb = vec4u(min(b0, last), min(b0 + 1u, last), min(b0 + 2u, last), min(b0 + 3u, last)) * p.positions;
  var acc: array<vec4f, 4>;
  for (var i = 0u; i < 4u; i++) {
    acc[i] = vec4f(0.0);
  }
  let qEnd = min(p.rows, (s + 1u) * p.perSegment);
  for (var q = s * p.perSegment; q < qEnd; q++) {
    let base = q * p.k * p.positions;
    for (var pos = 0u; pos < p.positions; pos++) {
      let o = base + pos;
      let ga = vec4f(G[o + ra.x], G[o + ra.y], G[o + ra.z], G[o + ra.w]);
      let gb = vec4f(G[o + rb.x], G[o + rb.y], G[o + rb.z], G[o + rb.w]);
      acc[0] += ga.x * gb;
      acc[1] += ga.y * gb;
      acc[2] += ga.z * gb;
      acc[3] += ga.w * gb;
    }
  }
  for (var i = 0u; i < 4u; i++) {
    let a = a0 + i;
    if (a < p.k) {
      let row = (s * p.k + a) * p.k;
      for (var j = 0u; j < 4u; j++) {
        if (b0 + j < p.k) {
          Partial[row + b0 + j] = acc[i][j];
        }
      }
    }
  }
}
