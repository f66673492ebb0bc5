// Catapult lab: the network's parameter-space vector J^T v up to the factors of the parametrisation,
// over the selected rows (the same rows and Z as the last reluForward.wgsl dispatch):
//   gW[j, :] = sum_b v[b] [Z[b, j] > 0] x_{i(b)},   ga[j] = sum_b v[b] relu(Z[b, j]).
// Then dL/dW_j = a_j gW_j / sqrt(m) / B and dL/da_j = ga_j / sqrt(m) / B (v = residuals), and
// J^T v = (a_j gW_j, ga_j) / sqrt(m) (v arbitrary): the caller applies the factors.
// Layout: X n x dPad (vec4), rows count, Z count x m, v count, gW m x dPad (vec4), ga m.
// Workgroups: 64 invocations, each one unit j and 4 input coordinates (one vec4), looping over the
// rows in registers; the invocation with the first coordinate block also sums ga[j]. No workgroup
// memory or barriers.

struct Params {
  count: u32,
  m: u32,
  dPad4: u32,
  useRows: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<vec4f>;
@group(0) @binding(2) var<storage, read> rows: array<u32>;
@group(0) @binding(3) var<storage, read> Z: array<f32>;
@group(0) @binding(4) var<storage, read> v: array<f32>;
@group(0) @binding(5) var<storage, read_write> gW: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> ga: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let t = gid.x;
  let kq = t % p.dPad4;
  let j = t / p.dPad4;
  if (j >= p.m) {
    return;
  }
  var sw = vec4f(0.0);
  var sa = 0.0;
  for (var b = 0u; b < p.count; b++) {
    let z = Z[b * p.m + j];
    if (z > 0.0) {
      let i = select(b, rows[b], p.useRows == 1u);
      sw += v[b] * X[i * p.dPad4 + kq];
      sa += v[b] * z;
    }
  }
  gW[j * p.dPad4 + kq] = sw;
  if (kq == 0u) {
    ga[j] = sa;
  }
}
