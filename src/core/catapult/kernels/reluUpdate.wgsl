// Catapult lab: one gradient step from reluWeightGrad.wgsl's sums with v = residuals:
//   W_j -= s a_j gW_j,  a_j -= s ga_j,  s = lr / (sqrt(m) B).
// One invocation per unit j updates the whole row W_j before a_j, so the old a_j is used throughout
// without a barrier or a second pass.
// Layout: W m x dPad (vec4), a m, gW m x dPad (vec4), ga m. Workgroups: 64 invocations, one unit each.

struct Params {
  m: u32,
  dPad4: u32,
  s: f32,
  _p0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> W: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> a: array<f32>;
@group(0) @binding(3) var<storage, read> gW: array<vec4f>;
@group(0) @binding(4) var<storage, read> ga: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let j = gid.x;
  if (j >= p.m) {
    return;
  }
  let aj = a[j];
  for (var k = 0u; k < p.dPad4; k++) {
    W[j * p.dPad4 + k] -= (p.s * aj) * gW[j * p.dPad4 + k];
  }
  a[j] = aj - p.s * ga[j];
}
