// out = K P for a row tile of a kernel matrix: out[i, c] = sum_j K[i, j] P[j, c].
// Used by predict (K(Z, X) alpha), by CG products over recomputed tiles, and by the CG solve over
// the stored K on devices without subgroups (with them: kernelTimesColsSym.wgsl, half of K read).
//
// Layout: K is rows x ld row-major (ld multiple of 8, zero padding columns), PT = P transposed,
// cPad x ld (cPad multiple of 4, zero padding), out is rows x cPad row-major.
// Workgroups: one invocation per 4 rows x 4 columns of out; it streams the 4 rows of K as vec4 and
// needs no workgroup memory; 4 columns share each load of K. COLUMNS = 1 (one right-hand side, the
// regression case) skips the three padding columns' arithmetic.
// Measured alternative: the transposed form (each invocation owns 4 output columns and walks down
// a column of the symmetric K, so SIMD lanes load contiguously) was 4x slower on lavapipe: every
// step of each lane touches a new row, 4 n bytes away.
// Precision: f32 terms are summed in blocks of 32 and the block sums are added with Kahan
// compensation, so the error stays near f32 rounding of one block instead of growing with n
// (CG's attainable residual is about this error times cond(K + reg I)).

struct Params {
  rows: u32,
  ld4: u32,      // ld / 4
  cPad4: u32,    // cPad / 4
  _pad: u32,
}

override COLUMNS: u32 = 4u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> K: array<vec4f>;
@group(0) @binding(2) var<storage, read> PT: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> outKP: array<vec4f>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let rowBlock = gid.x;
  let colBlock = gid.y;
  let i0 = rowBlock * 4u;
  if (i0 >= p.rows) {
    return;
  }
  var rowIdx: array<u32, 4>;
  for (var r = 0u; r < 4u; r++) {
    rowIdx[r] = min(i0 + r, p.rows - 1u) * p.ld4;
  }
  let c0 = colBlock * 4u;
  var sum: array<vec4f, 4>;
  var comp: array<vec4f, 4>;
  for (var r = 0u; r < 4u; r++) {
    sum[r] = vec4f(0.0);
    comp[r] = vec4f(0.0);
  }
  var j = 0u;
  loop {
    if (j >= p.ld4) {
      break;
    }
    let jEnd = min(j + 8u, p.ld4);
    var part: array<vec4f, 4>;
    for (var r = 0u; r < 4u; r++) {
      part[r] = vec4f(0.0);
    }
    if (COLUMNS == 1u) {
      for (var jj = j; jj < jEnd; jj++) {
        let p0 = PT[c0 * p.ld4 + jj];
        for (var r = 0u; r < 4u; r++) {
          part[r].x += dot(K[rowIdx[r] + jj], p0);
        }
      }
    } else {
    for (var jj = j; jj < jEnd; jj++) {
      let p0 = PT[(c0 + 0u) * p.ld4 + jj];
      let p1 = PT[(c0 + 1u) * p.ld4 + jj];
      let p2 = PT[(c0 + 2u) * p.ld4 + jj];
      let p3 = PT[(c0 + 3u) * p.ld4 + jj];
      for (var r = 0u; r < 4u; r++) {
        let kv = K[rowIdx[r] + jj];
        part[r] += vec4f(dot(kv, p0), dot(kv, p1), dot(kv, p2), dot(kv, p3));
      }
    }
    }
    for (var r = 0u; r < 4u; r++) {
      let y = part[r] - comp[r];
      let nextSum = sum[r] + y;
      comp[r] = (nextSum - sum[r]) - y;
      sum[r] = nextSum;
    }
    j = jEnd;
  }
  for (var r = 0u; r < 4u; r++) {
    if (i0 + r < p.rows) {
      outKP[(i0 + r) * p.cPad4 + colBlock] = sum[r];
    }
  }
}
