// Catapult lab: the second half of an NTK-vector product K v = J (J^T v) / n, given reluWeightGrad.wgsl's
// sums (gW, ga) for v over all rows and Z for all rows:
//   out[i] = s sum_j (ga_j relu(Z[i, j]) + a_j^2 [Z[i, j] > 0] gW_j . x_i),   s = 1 / (m n)
// (J^T v = (a_j gW_j, ga_j) / sqrt(m), and J applies another 1 / sqrt(m)).
// Layout: X n x dPad (vec4), Z n x m, a m, gW m x dPad (vec4), ga m, out n.
// Workgroups: 64 invocations, one row each, looping over units and inputs in registers; no barriers.

struct Params {
  n: u32,
  m: u32,
  dPad4: u32,
  s: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<vec4f>;
@group(0) @binding(2) var<storage, read> Z: array<f32>;
@group(0) @binding(3) var<storage, read> a: array<f32>;
@group(0) @binding(4) var<storage, read> gW: array<vec4f>;
@group(0) @binding(5) var<storage, read> ga: array<f32>;
@group(0) @binding(6) var<storage, read_write> outv: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= p.n) {
    return;
  }
  let xo = i * p.dPad4;
  var sum = 0.0;
  for (var j = 0u; j < p.m; j++) {
    let z = Z[i * p.m + j];
    if (z > 0.0) {
      var s = vec4f(0.0);
      for (var k = 0u; k < p.dPad4; k++) {
        s += gW[j * p.dPad4 + k] * X[xo + k];
      }
      sum += ga[j] * z + a[j] * a[j] * (s.x + s.y + s.z + s.w);
    }
  }
  outv[i] = sum * p.s;
}
