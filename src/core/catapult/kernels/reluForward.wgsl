// Catapult lab, two-layer ReLU network f(x) = a^T relu(W x) / sqrt(m) (catapult/backend.ts): for each
// selected training row i, the hidden pre-activations Z[b, j] = W_j . x_i and the residual
// e[b] = f(x_i) - y_i (b = position in the batch; i = rows[b], or b itself when USE_ROWS = 0).
// Layout: X n x dPad, W m x dPad (row-major f32 read as vec4, zero padded), a m, y n, rows count,
// Z count x m, e count.
// Workgroups: 64 invocations, one row each, looping over all m units and d inputs in registers; no
// workgroup memory or barriers (fastest on lavapipe; rows are independent).

struct Params {
  count: u32,
  m: u32,
  dPad4: u32,
  useRows: u32,
  scale: f32,   // 1 / sqrt(m)
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<vec4f>;
@group(0) @binding(2) var<storage, read> W: array<vec4f>;
@group(0) @binding(3) var<storage, read> a: array<f32>;
@group(0) @binding(4) var<storage, read> y: array<f32>;
@group(0) @binding(5) var<storage, read> rows: array<u32>;
@group(0) @binding(6) var<storage, read_write> Z: array<f32>;
@group(0) @binding(7) var<storage, read_write> e: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let b = gid.x;
  if (b >= p.count) {
    return;
  }
  let i = select(b, rows[b], p.useRows == 1u);
  let xo = i * p.dPad4;
  var f = 0.0;
  for (var j = 0u; j < p.m; j++) {
    let wo = j * p.dPad4;
    var s = vec4f(0.0);
    for (var k = 0u; k < p.dPad4; k++) {
      s += W[wo + k] * X[xo + k];
    }
    let z = s.x + s.y + s.z + s.w;
    Z[b * p.m + j] = z;
    f += a[j] * max(z, 0.0);
  }
  e[b] = f * p.scale - y[i];
}
