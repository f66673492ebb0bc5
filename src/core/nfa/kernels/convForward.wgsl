// Forward convolution of one conv-network layer on a batch of images (docs/science.md §6; PyTorch Conv2d,
// zero padding, no dilation or groups):
//   Z[n, o, i, j] = bias[o] + sum_{c, u, v} W[o, c, u, v] A[n, c, i*stride + u - padding, j*stride + v - padding]
// A dense layer after a flatten is the case kh = h, kw = w (and 1 x 1 after another dense layer).
// Layout (row-major f32): A images x c x h x w; Wf the weights as c x kh x kw x kv vec4s (kv = 4 ceil(k / 16):
// output channels padded with zeros to a multiple of 16); bias k; Z images x k x ho x wo.
// Workgroups: 64 invocations; each computes a register tile of Z, PX consecutive j of one row (n, i) by
// the 16 output channels of block workgroup_id.z: per (c, u, v) PX input loads and 16 weight loads feed
// 16 PX multiply-adds (on lavapipe each non-constant load costs a scalar load per SIMD lane, the
// multiply-adds are vector-wide: see convBackwardInput.wgsl). Taps in the padding read a clamped index
// and are masked to 0. Flattened (x, y) grid over (n, i, j-tile), xStride invocations a row.
// PX (override, 1..8): positions per invocation (1 for a dense layer).

override PX: u32 = 8u;

@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> Wf: array<vec4f>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> Z: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wg: vec3u) {
  let t = gid.x + gid.y * p.xStride;
  let tiles = (p.wo + PX - 1u) / PX;
  let per = p.ho * tiles;
  let live = t < p.images * per;
  let tc = select(0u, t, live);
  let n = tc / per;
  let i = (tc % per) / tiles;
  let j0 = (tc % tiles) * PX;
  let kv = ((p.k + 15u) / 16u) * 4u;
  var acc: array<array<vec4f, 4>, 8>;
  var wi = wg.z * 4u;
  for (var c = 0u; c < p.c; c++) {
    let aPlane = (n * p.c + c) * p.h;
    for (var u = 0u; u < p.kh; u++) {
      let y = i32(i * p.stride + u) - i32(p.padding);
      let rowOk = y >= 0 && y < i32(p.h);
      let aRow = (aPlane + u32(clamp(y, 0, i32(p.h) - 1))) * p.w;
      for (var v = 0u; v < p.kw; v++) {
        let w0 = Wf[wi];
        let w1 = Wf[wi + 1u];
        let w2 = Wf[wi + 2u];
        let w3 = Wf[wi + 3u];
        for (var r = 0u; r < PX; r++) {
          let x = i32((j0 + r) * p.stride + v) - i32(p.padding);
          let ok = rowOk && x >= 0 && x < i32(p.w) && j0 + r < p.wo;
          let a = select(0.0, A[aRow + u32(clamp(x, 0, i32(p.w) - 1))], ok);
          acc[r][0] += w0 * a;
          acc[r][1] += w1 * a;
          acc[r][2] += w2 * a;
          acc[r][3] += w3 * a;
        }
        wi += kv;
      }
    }
  }
  if (!live) {
    return;
  }
  let o0 = wg.z * 16u;
  let plane = p.ho * p.wo;
  for (var r = 0u; r < PX; r++) {
    if (j0 + r < p.wo) {
      let out = (n * p.k + o0) * plane + i * p.wo + j0 + r;
      for (var e = 0u; e < 16u; e++) {
        if (o0 + e < p.k) {
          Z[out + e * plane] = acc[r][e / 4u][e % 4u] + bias[o0 + e];
        }
      }
    }
  }
}
