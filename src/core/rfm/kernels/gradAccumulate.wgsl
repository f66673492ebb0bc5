// Input gradients of the predictor for a tile of query points z (docs/science.md §1):
//   G[z, c, j] = sum_i W[z, i] alpha[i, c] (x_ij - z_j)
// with W the gradient weights from kernelMatrix.wgsl (KERNEL 2/3: k/(L r) or k/L^2, 0 at r < 1e-10).
// The difference x_ij - z_j is formed per term rather than as sum W alpha x - z sum W alpha: near
// points carry weights ~1/r, and the uncentred form would cancel terms 1/r times larger than the
// gradient. Only one tile of z is ever held (tileRows x c x dPad), never the n x c x d tensor.
//
// Layout: W tileRows x ldW row-major; alpha n x c row-major; X n x dPad and Z tileRows x dPad
// row-major (dPad multiple of 4, zero padded); G tileRows x c x dPad.
// Workgroups: one invocation per (4 query rows, one output c, 4 coordinates), flattened over x and
// y (coordinates fastest) so small c x d still fills workgroups; no workgroup memory.
// Precision: blocks of 128 terms summed in f32, blocks added with Kahan compensation.

struct Params {
  rows: u32,     // query rows in this tile
  n: u32,        // training points
  c: u32,
  dPad4: u32,
  ldW: u32,
  xStride: u32,  // invocations per dispatch row (x workgroups * 64)
  _p1: u32,
  _p2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> W: array<f32>;
@group(0) @binding(2) var<storage, read> alpha: array<f32>;
@group(0) @binding(3) var<storage, read> X: array<vec4f>;
@group(0) @binding(4) var<storage, read> Z: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> G: array<vec4f>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let t = gid.x + gid.y * p.xStride;
  let jq = t % p.dPad4;
  let cc = (t / p.dPad4) % p.c;
  let z0 = (t / (p.dPad4 * p.c)) * 4u;
  if (cc >= p.c || z0 >= p.rows) {
    return;
  }
  var zv: array<vec4f, 4>;
  var wRow: array<u32, 4>;
  var sum: array<vec4f, 4>;
  var comp: array<vec4f, 4>;
  for (var r = 0u; r < 4u; r++) {
    let zr = min(z0 + r, p.rows - 1u);
    zv[r] = Z[zr * p.dPad4 + jq];
    wRow[r] = zr * p.ldW;
    sum[r] = vec4f(0.0);
    comp[r] = vec4f(0.0);
  }
  var i = 0u;
  loop {
    if (i >= p.n) {
      break;
    }
    let iEnd = min(i + 128u, p.n);
    var part: array<vec4f, 4>;
    for (var r = 0u; r < 4u; r++) {
      part[r] = vec4f(0.0);
    }
    for (var ii = i; ii < iEnd; ii++) {
      let xv = X[ii * p.dPad4 + jq];
      let a = alpha[ii * p.c + cc];
      for (var r = 0u; r < 4u; r++) {
        part[r] += (W[wRow[r] + ii] * a) * (xv - zv[r]);
      }
    }
    for (var r = 0u; r < 4u; r++) {
      let y = part[r] - comp[r];
      let nextSum = sum[r] + y;
      comp[r] = (nextSum - sum[r]) - y;
      sum[r] = nextSum;
    }
    i = iEnd;
  }
  for (var r = 0u; r < 4u; r++) {
    if (z0 + r < p.rows) {
      G[((z0 + r) * p.c + cc) * p.dPad4 + jq] = sum[r];
    }
  }
}
