// Activation then pooling after a conv-network layer (mlpActivation.wgsl is prepended; ACTIVATION picks
// the function):  R = act(Z) (Z itself when applyAct = 0, the network's last layer), then
//   Aout[n, o, i, j] = max or mean of R[n, o, i*poolStride + u, j*poolStride + v] over u, v < poolSize
// (PyTorch MaxPool2d / AvgPool2d, padding 0, floor mode). poolKind 0 (none) is poolSize = poolStride = 1.
// Arg[n, o, i, j] = the window's first maximum of R as y * wo + x within the map (max pooling; 0 otherwise),
// which the backward pass (convRouteBackward.wgsl) routes each output's gradient to.
// Layout (row-major): Z images x k x ho x wo (f32), Aout images x k x ph x pw (f32), Arg like Aout (u32).
// Workgroups: 64 invocations, one output element each (flattened (x, y) grid).

@group(0) @binding(1) var<storage, read> Z: array<f32>;
@group(0) @binding(2) var<storage, read_write> Aout: array<f32>;
@group(0) @binding(3) var<storage, read_write> Arg: array<u32>;

fn rOf(z: f32) -> f32 {
  return select(z, act(z), p.applyAct == 1u);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let t = gid.x + gid.y * p.xStride;
  let per = p.k * p.ph * p.pw;
  if (t >= p.images * per) {
    return;
  }
  let n = t / per;
  let o = (t % per) / (p.ph * p.pw);
  let i = (t % (p.ph * p.pw)) / p.pw;
  let j = t % p.pw;
  let base = (n * p.k + o) * p.ho * p.wo;
  var best = -3.4e38;
  var at = 0u;
  var sum = 0.0;
  for (var u = 0u; u < p.poolSize; u++) {
    for (var v = 0u; v < p.poolSize; v++) {
      let idx = (i * p.poolStride + u) * p.wo + j * p.poolStride + v;
      let r = rOf(Z[base + idx]);
      if (r > best) {
        best = r;
        at = idx;
      }
      sum += r;
    }
  }
  Aout[t] = select(sum / f32(p.poolSize * p.poolSize), best, p.poolKind == 1u);
  Arg[t] = select(0u, at, p.poolKind == 1u);
}
