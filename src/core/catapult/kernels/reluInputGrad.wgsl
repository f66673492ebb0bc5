// Catapult lab: input gradients of the two-layer ReLU network for the AGOP (docs/science.md §3):
//   G[i, :] = sum_j a_j [Z[i, j] > 0] W_j / sqrt(m)
// then transposeProduct.wgsl forms G^T G (the caller divides by n).
// Layout: Z n x m, a m, W m x dPad (vec4), G n x dPad (vec4, zero padded because W is).
// Workgroups: 64 invocations, each one row and 4 coordinates, looping over units; no barriers.

struct Params {
  n: u32,
  m: u32,
  dPad4: u32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Z: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> W: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> G: array<vec4f>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let t = gid.x;
  let kq = t % p.dPad4;
  let i = t / p.dPad4;
  if (i >= p.n) {
    return;
  }
  var g = vec4f(0.0);
  for (var j = 0u; j < p.m; j++) {
    if (Z[i * p.m + j] > 0.0) {
      g += a[j] * W[j * p.dPad4 + kq];
    }
  }
  G[i * p.dPad4 + kq] = g * p.scale;
}
