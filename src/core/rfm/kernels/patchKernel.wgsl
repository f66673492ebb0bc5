// Aligned-patch kernel matrix (ConvRFM, docs/science.md §6): out[r, j] = (1/P) Σ_p κ(|a_{p,i} - b_{p,j}|),
// i = aRow0 + r, for patches already transformed by R (RᵀR = M) on the CPU, so each distance is plain
// Euclidean. Differences are squared and summed directly (never |a|² + |b|² - 2a·b).
//
// Layout: A and B are f32, position-major: the k coordinates of patch p of image i start at
// (p * nA + i) * k in A (B likewise with nB). out is rows x nB row-major (one tile of A's rows).
//
// Workgroups: 8 x 8 invocations, one output entry each (x: column j, y: row r), looping over the P
// positions and k coordinates; no workgroup memory or barriers (lavapipe runs those ~30x slower).
//
// KERNEL: 0 Laplace exp(-r/L); 1 Gaussian exp(-r²/(2L²)).
// Limits: rows * nB * 4 and P * n * k * 4 bytes must fit maxStorageBufferBindingSize; the caller tiles
// rows and refuses larger patch sets (the host CPU then takes the fit).

struct Params {
  nA: u32,
  nB: u32,
  k: u32,
  P: u32,
  invL: f32,
  aRow0: u32,
  rows: u32,
  _pad: u32,
}

override KERNEL: u32 = 0u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> outK: array<f32>;

fn kappa(r2: f32) -> f32 {
  if (KERNEL == 0u) {
    return exp(-sqrt(max(r2, 0.0)) * p.invL);
  }
  return exp(-0.5 * r2 * p.invL * p.invL);
}

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let j = gid.x;
  let r = gid.y;
  if (j >= p.nB || r >= p.rows) {
    return;
  }
  let i = p.aRow0 + r;
  var s = 0.0;
  for (var pos = 0u; pos < p.P; pos++) {
    let ao = (pos * p.nA + i) * p.k;
    let bo = (pos * p.nB + j) * p.k;
    var d2 = 0.0;
    for (var t = 0u; t < p.k; t++) {
      let d = A[ao + t] - B[bo + t];
      d2 += d * d;
    }
    s += kappa(d2);
  }
  outK[r * p.nB + j] = s / f32(p.P);
}
