// Forward convolution of one conv-network layer on a batch of images (docs/science.md §6; PyTorch Conv2d,
// zero padding, no dilation or groups):
//   Z[n, o, i, j] = bias[o] + sum_{c, u, v} W[o, c, u, v] A[n, c, i*stride + u - padding, j*stride + v - padding]
// A dense layer after a flatten is the case kh = h, kw = w (and 1 x 1 after another dense layer).
// Layout (row-major f32, no padding): A images x c x h x w, W k x c x kh x kw, bias k, Z images x k x ho x wo.
// Workgroups: 64 invocations, one output element each (flattened (x, y) grid, xStride invocations a row
// of the grid); no workgroup memory: the loops are short (c kh kw) and lavapipe prefers plain loads.

struct Params {
  images: u32,
  outputs: u32,
  c: u32,
  h: u32,
  w: u32,
  k: u32,
  ho: u32,
  wo: u32,
  kh: u32,
  kw: u32,
  stride: u32,
  padding: u32,
  ph: u32,
  pw: u32,
  poolSize: u32,
  poolStride: u32,
  xStride: u32,
  applyAct: u32,
  poolKind: u32,
  _p0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> Z: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let t = gid.x + gid.y * p.xStride;
  let per = p.k * p.ho * p.wo;
  if (t >= p.images * per) {
    return;
  }
  let n = t / per;
  let o = (t % per) / (p.ho * p.wo);
  let i = (t % (p.ho * p.wo)) / p.wo;
  let j = t % p.wo;
  var s = bias[o];
  for (var c = 0u; c < p.c; c++) {
    for (var u = 0u; u < p.kh; u++) {
      let y = i32(i * p.stride + u) - i32(p.padding);
      if (y < 0 || y >= i32(p.h)) {
        continue;
      }
      let aRow = ((n * p.c + c) * p.h + u32(y)) * p.w;
      let wRow = ((o * p.c + c) * p.kh + u) * p.kw;
      for (var v = 0u; v < p.kw; v++) {
        let x = i32(j * p.stride + v) - i32(p.padding);
        if (x >= 0 && x < i32(p.w)) {
          s += W[wRow + v] * A[aRow + u32(x)];
        }
      }
    }
  }
  Z[t] = s;
}
