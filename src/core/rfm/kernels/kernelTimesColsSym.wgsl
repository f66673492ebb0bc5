// out = K P for a symmetric K(X, X) stored on the device, reading about half of K: the conjugate
// gradient product (kernelTimesCols.wgsl reads all of it). Needs the `subgroups` feature.
//
// Layout: K is a row tile (rows x ld row-major, ld a multiple of 8) of the n x n kernel matrix whose
// first row is r0 (a multiple of 256), built with kernelMatrix.wgsl SYMMETRIC = 2: row i holds the
// columns from the start of its 256-row band, j >= floor(i / 256) * 256 (the rest is never read).
// PT = P transposed, cPad x ld (zero padding). out is n x cPad row-major (all rows, not the tile's).
// C holds column partials: vec4 C[((slot * CC + k) * ld4 + jq)] with CC = cPad columns (1 when
// COLUMNS = 1), slot = SLOTS per workgroup in global workgroup order, the 4 entries being the
// partial sums for columns 4 jq .. 4 jq + 3.
//
// Workgroups: 64 invocations own 256 consecutive rows (one band), 4 each. Over the band's own 256
// columns an invocation sums its rows one-sidedly (row sums only). Beyond them every loaded K[i, j]
// is used twice: for out[i] (row sums kept in registers) and, as K[j, i] by symmetry, for out[j]:
// each invocation's K[i, j] P[i] terms are summed across the subgroup (subgroupAdd); over a block
// of 8 steps lane t keeps step t's sum, and the lanes store them into C together.
// kernelTimesColsSymReduce.wgsl then adds the partials of every band above a row's band to the row
// sums written here. On lavapipe this reads ~55% of K and takes 65-85% of a full product's time at
// n = 4000 (the column sums and their stores are not free there, measured); on a GPU it halves the
// bytes of K read per product.
// A subgroup's slot is its first invocation index / SUBGROUP_MIN: that needs subgroups of
// consecutive, aligned invocation indices (every driver we know) of at least SUBGROUP_MIN (the
// adapter's stated minimum, which the host requires to be 8 or more: lanes 0-7 hold a block's 8
// partials); otherwise `flag` is set to 1 and the caller discards the result and multiplies with the
// full K instead.
// Precision: row sums as kernelTimesCols.wgsl (blocks of 8 vec4 steps, Kahan-compensated across
// blocks); column partials sum at most 4 x the subgroup size terms, and the reduction is compensated.

enable subgroups;

struct Params {
  rows: u32,      // rows of this tile
  n: u32,         // rows (and columns) of K
  ld4: u32,       // ld / 4
  cPad4: u32,     // cPad / 4
  r0: u32,        // first row of this tile (multiple of 256)
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

override COLUMNS: u32 = 4u;
override SUBGROUP_MIN: u32 = 8u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> K: array<vec4f>;
@group(0) @binding(2) var<storage, read> PT: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> outKP: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> C: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> flag: array<atomic<u32>>;

// A subgroup larger than SUBGROUP_MIN owns ss / SUBGROUP_MIN slots: the first gets its partial and
// the others zeros, so that the reduction never adds what an earlier product left there.
fn storePartial(slot: u32, cc: u32, col: u32, jq: u32, value: vec4f, ss: u32) {
  C[(slot * cc + col) * p.ld4 + jq] = value;
  for (var g = 1u; g < ss / SUBGROUP_MIN; g++) {
    C[((slot + g) * cc + col) * p.ld4 + jq] = vec4f(0.0);
  }
}

@compute @workgroup_size(64)
fn main(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(local_invocation_index) lid: u32,
  @builtin(subgroup_invocation_id) sl: u32,
  @builtin(subgroup_size) ss: u32,
) {
  let colBlock = gid.y;
  let c0 = colBlock * 4u;
  let cc = select(p.cPad4 * 4u, 1u, COLUMNS == 1u);
  // Every invocation runs to the end (subgroupAdd needs uniform control flow); rows past the tile
  // read its last row and contribute nothing.
  let li0 = gid.x * 4u;
  var rowIdx: array<u32, 4>;
  for (var r = 0u; r < 4u; r++) {
    rowIdx[r] = min(li0 + r, p.rows - 1u) * p.ld4;
  }
  let gi0 = p.r0 + li0;
  let own = (gi0 < p.n) && (li0 < p.rows);
  // P at this invocation's own 4 rows, one vec4 per column (zero when the rows are not ours).
  var pOwn: array<vec4f, 4>;
  for (var k = 0u; k < 4u; k++) {
    pOwn[k] = select(vec4f(0.0), PT[min((c0 + k) * p.ld4 + gi0 / 4u, p.cPad4 * 4u * p.ld4 - 1u)], own);
  }
  let band0 = p.r0 + wid.x * 256u;
  let jqDiag = band0 / 4u;
  let jqUpper = min((band0 + 256u) / 4u, p.ld4);
  let first = subgroupMin(lid);
  let last = subgroupMax(lid);
  if (last - first + 1u != ss || first % ss != 0u || ss < SUBGROUP_MIN) {
    atomicStore(&flag[0], 1u);
  }
  let slot = (p.r0 / 256u + wid.x) * (64u / SUBGROUP_MIN) + first / SUBGROUP_MIN;

  var sum: array<vec4f, 4>;
  var comp: array<vec4f, 4>;
  for (var r = 0u; r < 4u; r++) {
    sum[r] = vec4f(0.0);
    comp[r] = vec4f(0.0);
  }
  var j = jqDiag;
  loop {
    if (j >= p.ld4) {
      break;
    }
    let jEnd = min(j + 8u, p.ld4);
    var part: array<vec4f, 4>;
    for (var r = 0u; r < 4u; r++) {
      part[r] = vec4f(0.0);
    }
    // Blocks start on a multiple of 8 steps from the band start, so a block is all one-sided or
    // all two-sided. Lane t of the subgroup holds the partial of step j + t (held) and the lanes
    // store them together after the block: one store per 8 steps instead of one per step (the
    // per-step store cost lavapipe about a fifth of the product, measured).
    let two = j >= jqUpper;
    var held: array<vec4f, 4>;
    for (var jj = j; jj < jEnd; jj++) {
      if (COLUMNS == 1u) {
        let p0 = PT[c0 * p.ld4 + jj];
        var col = vec4f(0.0);
        for (var r = 0u; r < 4u; r++) {
          let kv = K[rowIdx[r] + jj];
          part[r].x += dot(kv, p0);
          col += kv * pOwn[0][r];
        }
        if (two) {
          held[0] = select(held[0], subgroupAdd(col), sl == jj - j);
        }
      } else {
        let p0 = PT[(c0 + 0u) * p.ld4 + jj];
        let p1 = PT[(c0 + 1u) * p.ld4 + jj];
        let p2 = PT[(c0 + 2u) * p.ld4 + jj];
        let p3 = PT[(c0 + 3u) * p.ld4 + jj];
        var col: array<vec4f, 4>;
        for (var k = 0u; k < 4u; k++) {
          col[k] = vec4f(0.0);
        }
        for (var r = 0u; r < 4u; r++) {
          let kv = K[rowIdx[r] + jj];
          part[r] += vec4f(dot(kv, p0), dot(kv, p1), dot(kv, p2), dot(kv, p3));
          for (var k = 0u; k < 4u; k++) {
            col[k] += kv * pOwn[k][r];
          }
        }
        if (two) {
          for (var k = 0u; k < 4u; k++) {
            held[k] = select(held[k], subgroupAdd(col[k]), sl == jj - j);
          }
        }
      }
    }
    if (two && sl < jEnd - j) {
      for (var k = 0u; k < select(4u, 1u, COLUMNS == 1u); k++) {
        storePartial(slot, cc, c0 + k, j + sl, held[k], ss);
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
    if (li0 + r < p.rows && gi0 + r < p.n) {
      outKP[(gi0 + r) * p.cPad4 + colBlock] = sum[r];
    }
  }
}
