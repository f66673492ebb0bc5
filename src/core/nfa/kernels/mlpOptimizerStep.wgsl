// Training lab: one optimizer step on the session's flat parameter vector (every layer's W and b, in
// aligned ranges; the gaps and pads have zero gradients and stay zero), same formulas as the CPU
// reference (nfa/backend.ts optimizerUpdate):
//   OPTIMIZER 0 (SGD):  m1 = momentum m1 + g;  w -= lr m1
//   OPTIMIZER 1 (Adam, AdamW): m1 = b1 m1 + (1 - b1) g;  m2 = b2 m2 + (1 - b2) g^2;
//                              w = decay w - lr (m1 / c1) / (sqrt(m2 / c2) + eps)
// with decay = 1 - lr wd for AdamW's decoupled weight decay, 1 for Adam (formed in float64 on the host).
// with the bias corrections c1 = 1 - b1^t, c2 = 1 - b2^t and 1 - b1, 1 - b2 computed in float64 on the host
// (1 - 0.999 formed in f32 would be 1.3e-5 off).
// Layout: params, grads, m1, m2 count4 vec4s each. Workgroups: 64 invocations, one vec4 each,
// flattened (x, y) grid; elementwise, no workgroup memory.
// Limits: the four vectors are whole bindings: all parameters (padded) within maxStorageBufferBindingSize,
// checked when the session is created (a BackendError otherwise).

struct Params {
  count4: u32,
  xStride: u32,
  lr: f32,
  momentum: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  c1: f32,
  c2: f32,
  oneMinusBeta1: f32,
  oneMinusBeta2: f32,
  decay: f32,
}

override OPTIMIZER: u32 = 0u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> w: array<vec4f>;
@group(0) @binding(2) var<storage, read> g: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> m1: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> m2: array<vec4f>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x + gid.y * p.xStride;
  if (i >= p.count4) {
    return;
  }
  let gi = g[i];
  if (OPTIMIZER == 0u) {
    let v = p.momentum * m1[i] + gi;
    m1[i] = v;
    w[i] -= p.lr * v;
    return;
  }
  let a = p.beta1 * m1[i] + p.oneMinusBeta1 * gi;
  let b = p.beta2 * m2[i] + p.oneMinusBeta2 * gi * gi;
  m1[i] = a;
  m2[i] = b;
  w[i] = p.decay * w[i] - (p.lr * (a / p.c1)) / (sqrt(b / p.c2) + p.eps);
}
