// Second half of the symmetric product (kernelTimesColsSym.wgsl): out[j, :] += the column partials
// of every 256-row band above j's band, i.e. the K[i, j] P[i] terms with i in an earlier band that
// the first pass read as K[i, j] (row i) and never as K[j, i].
//
// Layout: as kernelTimesColsSym.wgsl (C: vec4 per (slot, column, 4 consecutive j); out: n x cPad).
// Workgroups: one invocation per 4 consecutive j and one block of 4 columns (x: j / 4, y: column
// block); it walks down the slots of the bands above (slots = SLOTS per band), Kahan-compensated,
// and adds the 4 x 4 sums to out. No workgroup memory.

struct Params {
  n: u32,        // rows (and columns) of K
  ld4: u32,      // ld / 4
  cPad4: u32,    // cPad / 4
  slots: u32,    // column-partial slots per 256-row band (64 / subgroup minimum size)
}

override COLUMNS: u32 = 4u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> C: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> outKP: array<vec4f>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let jq = gid.x;
  let colBlock = gid.y;
  let j0 = jq * 4u;
  if (j0 >= p.n) {
    return;
  }
  let cc = select(p.cPad4 * 4u, 1u, COLUMNS == 1u);
  let kCount = select(4u, 1u, COLUMNS == 1u);
  let slotEnd = (j0 / 256u) * p.slots;
  var sum: array<vec4f, 4>;
  var comp: array<vec4f, 4>;
  for (var k = 0u; k < 4u; k++) {
    sum[k] = vec4f(0.0);
    comp[k] = vec4f(0.0);
  }
  for (var s = 0u; s < slotEnd; s++) {
    for (var k = 0u; k < kCount; k++) {
      let y = C[(s * cc + colBlock * 4u + k) * p.ld4 + jq] - comp[k];
      let nextSum = sum[k] + y;
      comp[k] = (nextSum - sum[k]) - y;
      sum[k] = nextSum;
    }
  }
  // sum[k][t] is column colBlock * 4 + k at row j0 + t: transpose into out's rows.
  for (var t = 0u; t < 4u; t++) {
    let j = j0 + t;
    if (j < p.n) {
      let at = j * p.cPad4 + colBlock;
      outKP[at] = outKP[at] + vec4f(sum[0][t], sum[1][t], sum[2][t], sum[3][t]);
    }
  }
}
