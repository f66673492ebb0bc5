// Forward convolution of one conv-network layer on a batch of images (docs/science.md §6; PyTorch Conv2d,
// zero padding, no dilation or groups):
//   Z[n, o, i, j] = bias[o] + sum_{c, u, v} W[o, c, u, v] A[n, c, i*stride + u - padding, j*stride + v - padding]
// A dense layer after a flatten is the case kh = h, kw = w (and 1 x 1 after another dense layer).
// Layout (row-major f32): A images x c x h x w; Wf the weights as c x kh x kw x k4 vec4s (k4 = ceil(k / 4),
// output channels 4b..4b+3 in one vec4, zero beyond k); bias k; Z images x k x ho x wo.
// Workgroups: 64 invocations, each 4 consecutive output channels at one (n, i, j): per (c, u, v) one
// input load and one vec4 weight load give 4 multiply-adds; no workgroup memory (lavapipe prefers plain
// loads). Flattened (x, y) grid, xStride invocations a row of the grid.

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
@group(0) @binding(2) var<storage, read> Wf: array<vec4f>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> Z: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let t = gid.x + gid.y * p.xStride;
  let k4 = (p.k + 3u) / 4u;
  let plane = p.ho * p.wo;
  let per = k4 * plane;
  if (t >= p.images * per) {
    return;
  }
  let n = t / per;
  let ob = (t % per) / plane;
  let i = (t % plane) / p.wo;
  let j = t % plane % p.wo;
  var s = vec4f(0.0);
  for (var c = 0u; c < p.c; c++) {
    for (var u = 0u; u < p.kh; u++) {
      let y = i32(i * p.stride + u) - i32(p.padding);
      if (y < 0 || y >= i32(p.h)) {
        continue;
      }
      let aRow = ((n * p.c + c) * p.h + u32(y)) * p.w;
      let wRow = (c * p.kh + u) * p.kw * k4 + ob;
      for (var v = 0u; v < p.kw; v++) {
        let x = i32(j * p.stride + v) - i32(p.padding);
        if (x >= 0 && x < i32(p.w)) {
          s += Wf[wRow + v * k4] * A[aRow + u32(x)];
        }
      }
    }
  }
  let o0 = ob * 4u;
  let out = (n * p.k + o0) * plane + i * p.wo + j;
  for (var r = 0u; r < 4u; r++) {
    if (o0 + r < p.k) {
      Z[out + r * plane] = s[r] + bias[o0 + r];
    }
  }
}
