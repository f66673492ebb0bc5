// Training lab: one dense layer's loss gradients from the batch's output deltas and layer inputs:
//   gW[k, j] = sum_r delta[r, k] H[r, j],   gB[k] = sum_r delta[r, k]
// (delta = dLoss/dZ of the layer, from mlpMseDelta.wgsl or mlpJacobian.wgsl's MASK_ONLY step).
// transposeProduct.wgsl forms the same gW, but the bias sums would need a second pass and a ones
// column; here the invocations of the first input block add them in the same row loop.
// HAS_BIAS = 0 (a network without biases): gB is never written, so it keeps its zeros.
// Layout: delta rows x outPad, H rows x inPad, gW outPad x inPad, gB outPad, row-major f32 read as vec4,
// pads zero (so padded entries of gW and gB are 0 and padded weights never move). gW and gB are
// usually ranges of the session's flat gradient buffer.
// Workgroups: 64 invocations, each a register block of 4 outputs x 4 inputs looping over the rows in
// f32 (batch sizes of the lab: the error grows like sqrt(rows) ulp); no workgroup memory or barriers
// (fastest on lavapipe). Flattened (x, y) grid.
// Limits: gW is one binding (outPad x inPad f32 within maxStorageBufferBindingSize, checked with the
// whole parameter vector by the session).

struct Params {
  rows: u32,
  outPad4: u32,
  inPad4: u32,
  xStride: u32,
}

override HAS_BIAS: u32 = 1u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> delta: array<vec4f>;
@group(0) @binding(2) var<storage, read> H: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> gW: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> gB: array<vec4f>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let t = gid.x + gid.y * p.xStride;
  let jq = t % p.inPad4;
  let kq = t / p.inPad4;
  if (kq >= p.outPad4) {
    return;
  }
  var acc: array<vec4f, 4>;
  for (var e = 0u; e < 4u; e++) {
    acc[e] = vec4f(0.0);
  }
  var bsum = vec4f(0.0);
  for (var r = 0u; r < p.rows; r++) {
    let d = delta[r * p.outPad4 + kq];
    let h = H[r * p.inPad4 + jq];
    acc[0] += d.x * h;
    acc[1] += d.y * h;
    acc[2] += d.z * h;
    acc[3] += d.w * h;
    bsum += d;
  }
  for (var e = 0u; e < 4u; e++) {
    gW[(kq * 4u + e) * p.inPad4 + jq] = acc[e];
  }
  if (jq == 0u && HAS_BIAS == 1u) {
    gB[kq] = bsum;
  }
}
