// One step of back-propagating the stacked per-row input Jacobians of the NFA network (docs/science.md §2):
//   J_l[r*c + o, j] = sum_k J_{l+1}[r*c + o, k] act'(Z_l[r, k]) W_l[k, j]
// (mlpActivation.wgsl is prepended). With SHARED_NEXT = 1 the next Jacobian is the same for every row
// (the last layer's weights, c x m) and is indexed by o alone, so it is never replicated.
// MASK_ONLY = 1 stops before W: Jout = V = J_{l+1} * act'(Z_l) (nPad = mPad), for a first layer that
// narrows (sum V^T V, then W^T (V^T V) W, is cheaper than the Gram of J_0). With ACTIVATION = 4
// (identity) and c = 1 the kernel is a plain product Jout = Jnext W (Z is then never read).
// Only one row batch of Jacobians exists at a time; their Gram sums come from transposeProduct.wgsl.
// Layout: Jnext (B*c or c) x mPad, Z B x mPad, W mPad x nPad, Jout B*c x nPad, row-major f32, pads
// multiples of 4 and zero filled (zero padding of Jnext and W makes padded columns of Jout zero).
// Workgroups: 64 invocations, each a register block of 4 Jacobian rows x 4 columns, vec4 loads, no
// workgroup memory or barriers (fastest on lavapipe). Flattened (x, y) grid.

struct Params {
  jRows: u32,   // B * c
  c: u32,
  mPad4: u32,
  nPad4: u32,
  xStride: u32,
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

override SHARED_NEXT: u32 = 0u;
override MASK_ONLY: u32 = 0u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Jnext: array<vec4f>;
@group(0) @binding(2) var<storage, read> Z: array<vec4f>;
@group(0) @binding(3) var<storage, read> W: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> Jout: array<vec4f>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let t = gid.x + gid.y * p.xStride;
  let jq = t % p.nPad4;
  let q0 = (t / p.nPad4) * 4u;
  if (q0 >= p.jRows) {
    return;
  }
  var acc: array<vec4f, 4>;
  var nextRow: array<u32, 4>;
  var zRow: array<u32, 4>;
  for (var r = 0u; r < 4u; r++) {
    let q = min(q0 + r, p.jRows - 1u);
    acc[r] = vec4f(0.0);
    nextRow[r] = select(q, q % p.c, SHARED_NEXT == 1u) * p.mPad4;
    zRow[r] = (q / p.c) * p.mPad4;
  }
  if (MASK_ONLY == 1u) {
    for (var r = 0u; r < 4u; r++) {
      if (q0 + r < p.jRows) {
        let z = Z[zRow[r] + jq];
        Jout[(q0 + r) * p.nPad4 + jq] = Jnext[nextRow[r] + jq] * vec4f(actDerivative(z.x), actDerivative(z.y), actDerivative(z.z), actDerivative(z.w));
      }
    }
    return;
  }
  for (var k4 = 0u; k4 < p.mPad4; k4++) {
    let wBase = (k4 * 4u) * p.nPad4 + jq;
    let wa = W[wBase];
    let wb = W[wBase + p.nPad4];
    let wc = W[wBase + 2u * p.nPad4];
    let wd = W[wBase + 3u * p.nPad4];
    for (var r = 0u; r < 4u; r++) {
      let z = Z[zRow[r] + k4];
      let v = Jnext[nextRow[r] + k4] * vec4f(actDerivative(z.x), actDerivative(z.y), actDerivative(z.z), actDerivative(z.w));
      acc[r] += v.x * wa + v.y * wb + v.z * wc + v.w * wd;
    }
  }
  for (var r = 0u; r < 4u; r++) {
    if (q0 + r < p.jRows) {
      Jout[(q0 + r) * p.nPad4 + jq] = acc[r];
    }
  }
}
