// Training lab: copies the rows of one minibatch (or one contiguous chunk, for the loss) out of the
// resident training set, so the forward and backward kernels see contiguous batch rows:
//   Xb[r, :] = X[i(r), :],  Yb[r, :] = Y[i(r), :],  i(r) = order[start + r] (USE_ORDER = 1) or start + r.
// Layout: order u32; X n x xPad, Y n x yPad, Xb rows x xPad, Yb rows x yPad, row-major f32 read as vec4
// (pads multiples of 4, zero filled on upload, so the batch pads are zero too).
// Workgroups: 64 invocations, one batch row each, copying its vec4s in a loop; no workgroup memory.
// Limits: X and Y are single bindings, so n x xPad (and n x yPad) f32 must fit maxStorageBufferBindingSize
// (the session checks and raises a BackendError naming the rows and columns).

struct Params {
  rows: u32,
  start: u32,
  xPad4: u32,
  yPad4: u32,
}

override USE_ORDER: u32 = 1u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> order: array<u32>;
@group(0) @binding(2) var<storage, read> X: array<vec4f>;
@group(0) @binding(3) var<storage, read> Y: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> Xb: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> Yb: array<vec4f>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let r = gid.x;
  if (r >= p.rows) {
    return;
  }
  let i = select(p.start + r, order[p.start + r], USE_ORDER == 1u);
  for (var k = 0u; k < p.xPad4; k++) {
    Xb[r * p.xPad4 + k] = X[i * p.xPad4 + k];
  }
  for (var k = 0u; k < p.yPad4; k++) {
    Yb[r * p.yPad4 + k] = Y[i * p.yPad4 + k];
  }
}
