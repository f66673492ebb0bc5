// Back through a conv-network layer's convolution to its input (the transposed convolution), for the
// per-output gradients of the patch-AGOP (docs/science.md §6); q runs over images * outputs virtual images:
//   Ga[q, c, y, x] = sum over o, u, v with y + padding - u = i*stride, x + padding - v = j*stride,
//                    0 <= i < ho, 0 <= j < wo  of  W[o, c, u, v] Gz[q, o, i, j]
// Layout (row-major f32): Gz (images * outputs) x k x ho x wo; Wt the weights transposed to
// kh x kw x k x c4 vec4s (c4 = ceil(c / 4), channels 4b..4b+3 in one vec4, zero beyond c);
// Ga (images * outputs) x c x h x w.
// Workgroups: 64 invocations, each 4 consecutive channels of Ga at one (q, y, x) (a gather, so no
// atomics): per (u, v, o) one Gz load and one vec4 weight load give 4 multiply-adds. Flattened (x, y) grid.

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
@group(0) @binding(1) var<storage, read> Gz: array<f32>;
@group(0) @binding(2) var<storage, read> Wt: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> Ga: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let t = gid.x + gid.y * p.xStride;
  let c4 = (p.c + 3u) / 4u;
  let per = c4 * p.h * p.w;
  if (t >= p.images * p.outputs * per) {
    return;
  }
  let q = t / per;
  let cb = (t % per) / (p.h * p.w);
  let y = (t % (p.h * p.w)) / p.w;
  let x = t % p.w;
  let gq = q * p.k * p.ho * p.wo;
  var g = vec4f(0.0);
  for (var u = 0u; u < p.kh; u++) {
    let yi = i32(y + p.padding) - i32(u);
    if (yi < 0 || u32(yi) % p.stride != 0u || u32(yi) / p.stride >= p.ho) {
      continue;
    }
    let i = u32(yi) / p.stride;
    for (var v = 0u; v < p.kw; v++) {
      let xj = i32(x + p.padding) - i32(v);
      if (xj < 0 || u32(xj) % p.stride != 0u || u32(xj) / p.stride >= p.wo) {
        continue;
      }
      let j = u32(xj) / p.stride;
      let wBase = (u * p.kw + v) * p.k * c4 + cb;
      let gBase = gq + i * p.wo + j;
      for (var o = 0u; o < p.k; o++) {
        g += Wt[wBase + o * c4] * Gz[gBase + o * p.ho * p.wo];
      }
    }
  }
  let c0 = cb * 4u;
  let plane = p.h * p.w;
  let out = (q * p.c + c0) * plane + y * p.w + x;
  for (var r = 0u; r < 4u; r++) {
    if (c0 + r < p.c) {
      Ga[out + r * plane] = g[r];
    }
  }
}
