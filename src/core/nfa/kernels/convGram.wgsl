// Partial Grams of the output gradients at a conv-network layer (docs/science.md §6): with G (rows x k x P),
// rows = images * outputs virtual images and P positions,
//   Partial[s, a, b] = sum over virtual images q of segment s and positions pos of G[q, a, pos] G[q, b, pos]
// for a <= b at block granularity (blocks of 8 x 8 (a, b) with the b-block >= the a-block; the others are
// left as written at creation, zero): the float64 host adds the segments and mirrors the upper triangle
// (H = sum g g^T; the patch-AGOP is W^T H W). Segment s holds virtual images s*perSegment ... .
// Layout (row-major f32): G rows x k x P, Partial segments x k x k.
// Workgroups: 64 invocations, each an 8 x 8 register block of (a, b) for one segment, reading G along
// positions (contiguous) with no divisions in the loop: 16 loads feed 64 multiply-adds (on lavapipe each
// load costs a scalar load per SIMD lane, see convBackwardInput.wgsl); flattened (x, y) grid. The segments
// give the parallelism a k x k matrix alone lacks.

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
  let a0 = ab * 8u;
  let b0 = bbk * 8u;
  let last = p.k - 1u;
  var ra: array<u32, 8>;
  var rb: array<u32, 8>;
  for (var i = 0u; i < 8u; i++) {
    ra[i] = min(a0 + i, last) * p.positions;
    rb[i] = min(b0 + i, last) * p.positions;
  }
  var acc: array<array<vec4f, 2>, 8>;
  let qEnd = min(p.rows, (s + 1u) * p.perSegment);
  for (var q = s * p.perSegment; q < qEnd; q++) {
    let base = q * p.k * p.positions;
    for (var pos = 0u; pos < p.positions; pos++) {
      let o = base + pos;
      let gb0 = vec4f(G[o + rb[0]], G[o + rb[1]], G[o + rb[2]], G[o + rb[3]]);
      let gb1 = vec4f(G[o + rb[4]], G[o + rb[5]], G[o + rb[6]], G[o + rb[7]]);
      for (var i = 0u; i < 8u; i++) {
        let ga = G[o + ra[i]];
        acc[i][0] += ga * gb0;
        acc[i][1] += ga * gb1;
      }
    }
  }
  for (var i = 0u; i < 8u; i++) {
    let a = a0 + i;
    if (a < p.k) {
      let row = (s * p.k + a) * p.k;
      for (var j = 0u; j < 8u; j++) {
        if (b0 + j < p.k) {
          Partial[row + b0 + j] = acc[i][j / 4u][j % 4u];
        }
      }
    }
  }
}
