// out = A^T B over the rows of A and B: out[a, b] = sum_r A[r, a] B[r, b]. The K^T B product of the
// kernel module; the AGOP uses it with A = B = a tile of gradients viewed as (rows*c) x dPad
// (sum_z sum_c g g^T) and with A = a class indicator (sum_z g_c for centred gradients).
//
// Layout: A rows x aPad, B rows x bPad row-major (aPad, bPad multiples of 4, zero padded);
// out aPad x bPad row-major. Workgroups: one invocation per 4 x 4 block of out, looping over all
// rows with no workgroup memory. DIAG_ONLY = 1 computes only the diagonal blocks (diag AGOP).
// SYMMETRIC = 1 (A = B, so out is symmetric; lin-RFM's WᵀW and G·G): only blocks with aq <= bq
// compute, each writing its block and the transposed one (half the arithmetic).
// Precision: blocks of 128 rows summed in f32, blocks added with Kahan compensation; the caller
// adds the per-tile results in float64.

struct Params {
  rows: u32,
  aPad4: u32,
  bPad4: u32,
  _pad: u32,
}

override DIAG_ONLY: u32 = 0u;
override SYMMETRIC: u32 = 0u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<vec4f>;
@group(0) @binding(2) var<storage, read> B: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> outAB: array<vec4f>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let aq = gid.x / p.bPad4;
  let bq = gid.x % p.bPad4;
  if (aq >= p.aPad4) {
    return;
  }
  if (DIAG_ONLY == 1u && aq != bq) {
    return;
  }
  if (SYMMETRIC == 1u && aq > bq) {
    return;
  }
  var sum: array<vec4f, 4>;
  var comp: array<vec4f, 4>;
  for (var k = 0u; k < 4u; k++) {
    sum[k] = vec4f(0.0);
    comp[k] = vec4f(0.0);
  }
  var r = 0u;
  loop {
    if (r >= p.rows) {
      break;
    }
    let rEnd = min(r + 128u, p.rows);
    var part: array<vec4f, 4>;
    for (var k = 0u; k < 4u; k++) {
      part[k] = vec4f(0.0);
    }
    for (var rr = r; rr < rEnd; rr++) {
      let av = A[rr * p.aPad4 + aq];
      let bv = B[rr * p.bPad4 + bq];
      for (var k = 0u; k < 4u; k++) {
        part[k] += av[k] * bv;
      }
    }
    for (var k = 0u; k < 4u; k++) {
      let y = part[k] - comp[k];
      let nextSum = sum[k] + y;
      comp[k] = (nextSum - sum[k]) - y;
      sum[k] = nextSum;
    }
    r = rEnd;
  }
  for (var k = 0u; k < 4u; k++) {
    outAB[(aq * 4u + k) * p.bPad4 + bq] = sum[k];
  }
  if (SYMMETRIC == 1u && aq != bq) {
    for (var k = 0u; k < 4u; k++) {
      outAB[(bq * 4u + k) * p.bPad4 + aq] = vec4f(sum[0][k], sum[1][k], sum[2][k], sum[3][k]);
    }
  }
}
