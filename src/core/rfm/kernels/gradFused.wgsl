// Input gradients of the predictor for a tile of query points z, with the gradient weights computed
// on the fly (docs/science.md §1):
//   G[z, c, :] = sum_i w(|x_i - z|) alpha[i, c] (x_i - z),
//   w = k/(L r) (Laplace, KERNEL 2) or k/L^2 (Gaussian, KERNEL 3), 0 at r < 1e-10.
// The fused form of kernelMatrix.wgsl (KERNEL 2/3) + gradAccumulate.wgsl for d <= 32: the
// differences x_i - z are needed for the gradient anyway, so the distance costs one dot per
// coordinate quad and no n-wide weight tile is written and read back (measured on lavapipe at
// n = 8000, 2048 query rows: ~40% less CPU time than the two passes). Larger d goes through the two
// passes, since one invocation holds every coordinate of two query rows here.
// Like gradAccumulate.wgsl, differences are formed per term, never as sum w a x - z sum w a.
//
// Layout: alpha n x c row-major; X n x dPad and Z tileRows x dPad row-major (dPad = 4 DPAD4,
// zero padded; padding coordinates add 0 to distances); G tileRows x c x dPad.
// Workgroups: one invocation per (2 query rows, one output c), flattened over x and y; no
// workgroup memory. DPAD4 (<= 8) is a pipeline constant so the coordinate loops unroll into
// registers.
// Precision: blocks of 128 terms summed in f32, blocks added with Kahan compensation.

struct Params {
  rows: u32,     // query rows in this tile
  n: u32,        // training points
  c: u32,
  xStride: u32,  // invocations per dispatch row (x workgroups * 64)
  invL: f32,
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

override KERNEL: u32 = 2u;
override DPAD4: u32 = 8u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> alpha: array<f32>;
@group(0) @binding(2) var<storage, read> X: array<vec4f>;
@group(0) @binding(3) var<storage, read> Z: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> G: array<vec4f>;

fn gradientWeight(r2: f32) -> f32 {
  let r = sqrt(r2);
  if (KERNEL == 2u) {
    return select(0.0, exp(-r * p.invL) * p.invL / r, r >= 1e-10);
  }
  return select(0.0, exp(-0.5 * r2 * p.invL * p.invL) * p.invL * p.invL, r >= 1e-10);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let t = gid.x + gid.y * p.xStride;
  let cc = t % p.c;
  let z0 = (t / p.c) * 2u;
  if (z0 >= p.rows) {
    return;
  }
  let z1 = min(z0 + 1u, p.rows - 1u);
  var zv0: array<vec4f, 8>;
  var zv1: array<vec4f, 8>;
  var sum0: array<vec4f, 8>;
  var sum1: array<vec4f, 8>;
  var comp0: array<vec4f, 8>;
  var comp1: array<vec4f, 8>;
  for (var q = 0u; q < DPAD4; q++) {
    zv0[q] = Z[z0 * DPAD4 + q];
    zv1[q] = Z[z1 * DPAD4 + q];
    sum0[q] = vec4f(0.0);
    sum1[q] = vec4f(0.0);
    comp0[q] = vec4f(0.0);
    comp1[q] = vec4f(0.0);
  }
  var i = 0u;
  loop {
    if (i >= p.n) {
      break;
    }
    let iEnd = min(i + 128u, p.n);
    var part0: array<vec4f, 8>;
    var part1: array<vec4f, 8>;
    for (var q = 0u; q < DPAD4; q++) {
      part0[q] = vec4f(0.0);
      part1[q] = vec4f(0.0);
    }
    for (var ii = i; ii < iEnd; ii++) {
      var diff0: array<vec4f, 8>;
      var diff1: array<vec4f, 8>;
      var r20 = 0.0;
      var r21 = 0.0;
      for (var q = 0u; q < DPAD4; q++) {
        let xv = X[ii * DPAD4 + q];
        diff0[q] = xv - zv0[q];
        diff1[q] = xv - zv1[q];
        r20 += dot(diff0[q], diff0[q]);
        r21 += dot(diff1[q], diff1[q]);
      }
      let a = alpha[ii * p.c + cc];
      let w0 = gradientWeight(r20) * a;
      let w1 = gradientWeight(r21) * a;
      for (var q = 0u; q < DPAD4; q++) {
        part0[q] += w0 * diff0[q];
        part1[q] += w1 * diff1[q];
      }
    }
    for (var q = 0u; q < DPAD4; q++) {
      let y0 = part0[q] - comp0[q];
      let next0 = sum0[q] + y0;
      comp0[q] = (next0 - sum0[q]) - y0;
      sum0[q] = next0;
      let y1 = part1[q] - comp1[q];
      let next1 = sum1[q] + y1;
      comp1[q] = (next1 - sum1[q]) - y1;
      sum1[q] = next1;
    }
    i = iEnd;
  }
  for (var q = 0u; q < DPAD4; q++) {
    G[(z0 * p.c + cc) * DPAD4 + q] = sum0[q];
    if (z0 + 1u < p.rows) {
      G[((z0 + 1u) * p.c + cc) * DPAD4 + q] = sum1[q];
    }
  }
}
