// Kernel matrix tile: out[i, j] = k(|a_i - b_j|) for a_i the rows of a tile of A and b_j all rows of B,
// both already transformed by R (R^T R = M) on the CPU, so the distance is plain Euclidean
// (docs/science.md §1). Differences of f32 coordinates are squared and summed directly, never as
// |a|^2 + |b|^2 - 2 a.b, which loses ~7e-4 in K on the diagonal.
//
// Layout: points are stored transposed and zero-padded, AT = d x ldA and BT = d x ldB (ld multiples
// of 8), read as vec4 so one invocation loads 8 coordinates of 8 points with four vector loads.
// out is rowsA x ldOut row-major (ldOut = ldB); padding columns j >= rowsB are written as 0 so that
// products with the tile may run over the padded width.
//
// Workgroups: each invocation owns an 8 x 8 block of out held in registers and uses no workgroup
// memory or barriers (on CPU drivers such as lavapipe, barrier-synchronised shared-memory tiles are
// ~30x slower). x dispatches column blocks (64 per workgroup), y dispatches row blocks.
//
// KERNEL: 0 Laplace exp(-r/L); 1 Gaussian exp(-r^2/(2L^2)); 2 and 3 are the gradient weights
// k/(L r) (Laplace) and k/L^2 (Gaussian) with terms at r < 1e-10 set to 0 (docs/science.md §1).
// SYMMETRIC = 1 (K(X, X) in one tile: A = B, aCol4 = 0, rowsA = rowsB): only blocks on or above the
// diagonal are computed, and each block above it is also written transposed into its mirror, so half
// the distances and exponentials are evaluated. The mirrored values equal what the mirror block would
// compute ((a - b)^2 = (b - a)^2 summed in the same order), so K is bit-identical either way.
// SYMMETRIC = 2 (K(X, X) for the symmetric product, kernelTimesColsSym.wgsl; A = B, any row tile):
// only what that product reads is computed, each row i from the start of its BAND-row block
// (columns j >= floor(i / BAND) * BAND, i the global row aCol4 * 4 + local row); the rest of the
// tile is left as it was. About half the distances and exponentials, and no mirrored writes.
// Limits: rowsA * ldOut * 4 bytes must fit maxStorageBufferBindingSize; the caller tiles rows.

struct Params {
  rowsA: u32,
  rowsB: u32,
  d: u32,
  ldA4: u32,   // ldA / 4
  ldB4: u32,   // ldB / 4
  ldOut: u32,
  invL: f32,
  aCol4: u32,  // first A column (point) of this tile, / 4
}

override KERNEL: u32 = 0u;
override SYMMETRIC: u32 = 0u;
override BAND: u32 = 256u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> AT: array<vec4f>;
@group(0) @binding(2) var<storage, read> BT: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> outK: array<f32>;

fn kernelValue(r2: f32) -> f32 {
  let r = sqrt(max(r2, 0.0));
  if (KERNEL == 0u) {
    return exp(-r * p.invL);
  }
  if (KERNEL == 1u) {
    return exp(-0.5 * r2 * p.invL * p.invL);
  }
  if (KERNEL == 2u) {
    return select(0.0, exp(-r * p.invL) * p.invL / r, r >= 1e-10);
  }
  return select(0.0, exp(-0.5 * r2 * p.invL * p.invL) * p.invL * p.invL, r >= 1e-10);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let jBlock = gid.x;
  let iBlock = gid.y;
  let i0 = iBlock * 8u;
  let j0 = jBlock * 8u;
  if (i0 >= p.rowsA || j0 >= p.ldOut || (SYMMETRIC == 1u && j0 < i0)) {
    return;
  }
  // BAND is a multiple of 8, so the 8 rows of this block share one band start.
  if (SYMMETRIC == 2u && j0 < ((p.aCol4 * 4u + i0) / BAND) * BAND) {
    return;
  }
  var accLo: array<vec4f, 8>;
  var accHi: array<vec4f, 8>;
  for (var ii = 0u; ii < 8u; ii++) {
    accLo[ii] = vec4f(0.0);
    accHi[ii] = vec4f(0.0);
  }
  let ia = p.aCol4 + i0 / 4u;
  let jb = j0 / 4u;
  for (var k = 0u; k < p.d; k++) {
    let aLo = AT[k * p.ldA4 + ia];
    let aHi = AT[k * p.ldA4 + ia + 1u];
    let bLo = BT[k * p.ldB4 + jb];
    let bHi = BT[k * p.ldB4 + jb + 1u];
    for (var ii = 0u; ii < 4u; ii++) {
      let dLo = vec4f(aLo[ii]) - bLo;
      let dHi = vec4f(aLo[ii]) - bHi;
      accLo[ii] += dLo * dLo;
      accHi[ii] += dHi * dHi;
      let eLo = vec4f(aHi[ii]) - bLo;
      let eHi = vec4f(aHi[ii]) - bHi;
      accLo[ii + 4u] += eLo * eLo;
      accHi[ii + 4u] += eHi * eHi;
    }
  }
  for (var ii = 0u; ii < 8u; ii++) {
    let i = i0 + ii;
    if (i < p.rowsA) {
      let base = i * p.ldOut + j0;
      for (var jj = 0u; jj < 4u; jj++) {
        let jLo = j0 + jj;
        let jHi = j0 + 4u + jj;
        let vLo = select(0.0, kernelValue(accLo[ii][jj]), jLo < p.rowsB);
        let vHi = select(0.0, kernelValue(accHi[ii][jj]), jHi < p.rowsB);
        outK[base + jj] = vLo;
        outK[base + 4u + jj] = vHi;
        if (SYMMETRIC == 1u && j0 > i0) {
          if (jLo < p.rowsA) {
            outK[jLo * p.ldOut + i] = vLo;
          }
          if (jHi < p.rowsA) {
            outK[jHi * p.ldOut + i] = vHi;
          }
        }
      }
    }
  }
}
