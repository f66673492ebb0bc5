// lin-RFM matrix completion, one iteration's per-row work (SCIENCE.md §8): row i with observed
// columns O_i (k = |O_i|) solves (s P_{Oi,Oi} + lambda I) a_i = y_{i,Oi} by Cholesky, predicts
// W[i, j] = s sum_t a_i[t] P[O_i[t], j] for every column j, then puts the observed values back
// (W[i, O_i[t]] = y_i[t]). s = pScale folds the 1/m (alpha = 1/2) or 1/m^2 (alpha = 1) of P into the
// solve, so P stays the raw W^T W (or its square) and no scaling pass is needed.
//
// Layout: rowPtr (m + 1 u32) and obs (nnz vec2u: column, bitcast<u32>(value)) are the observed
// training entries in CSR order; rowList holds the rows this dispatch solves, from rowOffset on;
// P is d x ldP row-major f32; W is m x ldW row-major f32 (columns d..ldW stay untouched, zero);
// fitRes[i] = sum over O_i of (prediction - y)^2 before the put-back, which equals
// lambda^2 |a_i|^2 because P_OO a = y - lambda a; -1 flags a non-positive Cholesky pivot (f32
// breakdown: the host reports it instead of using the row).
//
// Workgroups: one 64-invocation workgroup per row (flat index wid.x + wid.y * nwg.x). The packed
// lower triangle of the k x k system plus its right-hand side lives in workgroup memory when
// SCRATCH_GLOBAL = 0 (k <= K_SHARED = 80: 3240 + 80 f32 = 13 KB, under WebGPU's guaranteed 16 KB),
// or in the workgroup's slot of `scratch` (slot * slotFloats, slotFloats >= k(k+1)/2 + k) when
// SCRATCH_GLOBAL = 1: the fallback for longer rows, dispatched in batches of slots the host budgets.
// Right-looking Cholesky, one column per step: invocation 0 takes the pivot, all 64 scale the
// column and update the trailing rows (k^3/6 flops per row, 3k barriers), then forward and backward
// substitution the same way; the prediction spreads the d columns over the 64 invocations (P rows
// read contiguously across invocations).

struct Params {
  rowOffset: u32,
  rowCount: u32,
  d: u32,
  ldP: u32,
  ldW: u32,
  lambda: f32,
  pScale: f32,
  slotFloats: u32,
}

const K_SHARED: u32 = 80u;
override SCRATCH_GLOBAL: u32 = 0u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> rowList: array<u32>;
@group(0) @binding(2) var<storage, read> rowPtr: array<u32>;
@group(0) @binding(3) var<storage, read> obs: array<vec2u>;
@group(0) @binding(4) var<storage, read> P: array<f32>;
@group(0) @binding(5) var<storage, read_write> W: array<f32>;
@group(0) @binding(6) var<storage, read_write> fitRes: array<f32>;
@group(0) @binding(7) var<storage, read_write> scratch: array<f32>;

var<workgroup> sA: array<f32, K_SHARED * (K_SHARED + 1u) / 2u + K_SHARED>; // triangle + rhs
var<workgroup> pivotOk: u32;
var<private> base: u32;

fn tri(r: u32) -> u32 {
  return r * (r + 1u) / 2u;
}

fn getA(idx: u32) -> f32 {
  if (SCRATCH_GLOBAL == 1u) {
    return scratch[base + idx];
  }
  return sA[idx];
}

fn setA(idx: u32, v: f32) {
  if (SCRATCH_GLOBAL == 1u) {
    scratch[base + idx] = v;
  } else {
    sA[idx] = v;
  }
}

fn sync() {
  if (SCRATCH_GLOBAL == 1u) {
    storageBarrier();
  }
  workgroupBarrier();
}

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let slot = wid.x + wid.y * nwg.x;
  // Uniform control flow: every invocation of the workgroup takes the same early return.
  if (slot >= p.rowCount) {
    return;
  }
  let i = rowList[p.rowOffset + slot];
  let start = rowPtr[i];
  let k = rowPtr[i + 1u] - start;
  base = slot * p.slotFloats;
  let rhs = tri(k); // the right-hand side (then the solution) follows the triangle
  if (lid == 0u) {
    pivotOk = 1u;
  }
  // Assemble s P_OO + lambda I (lower triangle) and y.
  for (var r = 0u; r < k; r++) {
    let rowP = obs[start + r].x * p.ldP;
    for (var c = lid; c <= r; c += 64u) {
      var v = p.pScale * P[rowP + obs[start + c].x];
      if (c == r) {
        v += p.lambda;
      }
      setA(tri(r) + c, v);
    }
  }
  for (var t = lid; t < k; t += 64u) {
    setA(rhs + t, bitcast<f32>(obs[start + t].y));
  }
  sync();
  // Cholesky in place: A = L L^T.
  for (var j = 0u; j < k; j++) {
    if (lid == 0u) {
      let a = getA(tri(j) + j);
      if (!(a > 0.0)) {
        pivotOk = 0u;
      }
      setA(tri(j) + j, sqrt(max(a, 1e-30)));
    }
    sync();
    let ljj = getA(tri(j) + j);
    for (var r = j + 1u + lid; r < k; r += 64u) {
      setA(tri(r) + j, getA(tri(r) + j) / ljj);
    }
    sync();
    for (var r = j + 1u + lid; r < k; r += 64u) {
      let lrj = getA(tri(r) + j);
      for (var c = j + 1u; c <= r; c++) {
        setA(tri(r) + c, getA(tri(r) + c) - lrj * getA(tri(c) + j));
      }
    }
    sync();
  }
  // Forward substitution L z = y (z over y).
  for (var j = 0u; j < k; j++) {
    if (lid == 0u) {
      setA(rhs + j, getA(rhs + j) / getA(tri(j) + j));
    }
    sync();
    let zj = getA(rhs + j);
    for (var r = j + 1u + lid; r < k; r += 64u) {
      setA(rhs + r, getA(rhs + r) - getA(tri(r) + j) * zj);
    }
    sync();
  }
  // Backward substitution L^T a = z (a over z).
  for (var jj = 0u; jj < k; jj++) {
    let j = k - 1u - jj;
    if (lid == 0u) {
      setA(rhs + j, getA(rhs + j) / getA(tri(j) + j));
    }
    sync();
    let aj = getA(rhs + j);
    for (var r = lid; r < j; r += 64u) {
      setA(rhs + r, getA(rhs + r) - getA(tri(j) + r) * aj);
    }
    sync();
  }
  // Prediction over every column.
  for (var c = lid; c < p.d; c += 64u) {
    var s = 0.0;
    for (var t = 0u; t < k; t++) {
      s += getA(rhs + t) * P[obs[start + t].x * p.ldP + c];
    }
    W[i * p.ldW + c] = p.pScale * s;
  }
  storageBarrier();
  workgroupBarrier();
  // Observed entries put back; the fit residual from the solve (prediction - y = -lambda a).
  for (var t = lid; t < k; t += 64u) {
    W[i * p.ldW + obs[start + t].x] = bitcast<f32>(obs[start + t].y);
  }
  if (lid == 0u) {
    var sq = 0.0;
    for (var t = 0u; t < k; t++) {
      let a = getA(rhs + t);
      sq += a * a;
    }
    fitRes[i] = select(-1.0, p.lambda * p.lambda * sq, pivotOk == 1u);
  }
}
