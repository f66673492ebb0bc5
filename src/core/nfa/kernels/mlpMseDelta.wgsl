// Training lab: the MSE loss at the network output and its gradient with respect to the output
// (torch.nn.MSELoss, mean over rows and outputs; docs/science.md §2 lab):
//   delta[r, o] = scale (Z[r, o] - Y[r, o]),  scale = 2 / (B c),
//   rowLoss[lossOffset + r] = sum_o (Z[r, o] - Y[r, o])^2.
// The caller sums rowLoss in float64 (the epoch loss over all rows) or ignores it (a training step).
// Layout: Z (the last layer's pre-activation), Y, delta rows x cPad row-major f32 read as vec4 (pads
// zero: Z's padded columns are written 0 by mlpForward.wgsl and Y's are zero, so delta's pads are 0);
// rowLoss at least lossOffset + rows.
// Workgroups: 64 invocations, one row each over its cPad/4 vec4s; no workgroup memory.
// Limits: rows / 64 workgroups in x (maxComputeWorkgroupsPerDimension x 64 rows per dispatch, over 4M).

struct Params {
  rows: u32,
  cPad4: u32,
  scale: f32,
  lossOffset: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Z: array<vec4f>;
@group(0) @binding(2) var<storage, read> Y: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> delta: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> rowLoss: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let r = gid.x;
  if (r >= p.rows) {
    return;
  }
  var s = 0.0;
  for (var k = 0u; k < p.cPad4; k++) {
    let e = Z[r * p.cPad4 + k] - Y[r * p.cPad4 + k];
    delta[r * p.cPad4 + k] = p.scale * e;
    s += dot(e, e);
  }
  rowLoss[p.lossOffset + r] = s;
}
