// One dense layer of the NFA network on a batch of rows (PyTorch nn.Linear convention):
//   Z[r, o] = sum_k H[r, k] W[o, k] + b[o],   A[r, o] = act(Z[r, o])   (mlpActivation.wgsl, prepended)
// Layout: H rows x inPad, W outPad x inPad, Z and A rows x outPad, all row-major f32, pads multiples of
// 4 and zero filled (W's padded rows and columns are zero; b has outPad entries, zero beyond outDim).
// Padded output columns are written as 0 in both Z and A (sigmoid(0) would otherwise leak 0.5 into the
// next layer's padding).
// Workgroups: 64 invocations, each a register block of 4 rows x 4 outputs, reading H and W as vec4;
// no workgroup memory or barriers (fastest on CPU drivers such as lavapipe). Flattened (x, y) grid.

struct Params {
  rows: u32,
  inPad4: u32,
  outDim: u32,
  outPad4: u32,
  xStride: u32,
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> H: array<vec4f>;
@group(0) @binding(2) var<storage, read> W: array<vec4f>;
@group(0) @binding(3) var<storage, read> bias: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> Z: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> A: array<vec4f>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let t = gid.x + gid.y * p.xStride;
  let oq = t % p.outPad4;
  let r0 = (t / p.outPad4) * 4u;
  if (r0 >= p.rows) {
    return;
  }
  var acc: array<vec4f, 4>;
  var hRow: array<u32, 4>;
  for (var r = 0u; r < 4u; r++) {
    acc[r] = vec4f(0.0);
    hRow[r] = min(r0 + r, p.rows - 1u) * p.inPad4;
  }
  let w0 = (oq * 4u) * p.inPad4;
  for (var k = 0u; k < p.inPad4; k++) {
    let wa = W[w0 + k];
    let wb = W[w0 + p.inPad4 + k];
    let wc = W[w0 + 2u * p.inPad4 + k];
    let wd = W[w0 + 3u * p.inPad4 + k];
    for (var r = 0u; r < 4u; r++) {
      let h = H[hRow[r] + k];
      acc[r] += vec4f(dot(h, wa), dot(h, wb), dot(h, wc), dot(h, wd));
    }
  }
  let b = bias[oq];
  for (var r = 0u; r < 4u; r++) {
    if (r0 + r < p.rows) {
      var z = acc[r] + b;
      var a = vec4f(act(z.x), act(z.y), act(z.z), act(z.w));
      for (var e = 0u; e < 4u; e++) {
        if (oq * 4u + e >= p.outDim) {
          z[e] = 0.0;
          a[e] = 0.0;
        }
      }
      Z[(r0 + r) * p.outPad4 + oq] = z;
      A[(r0 + r) * p.outPad4 + oq] = a;
    }
  }
}
