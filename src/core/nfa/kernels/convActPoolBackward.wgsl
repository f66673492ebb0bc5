// Back through pooling and the activation of a conv-network layer (mlpActivation.wgsl is prepended), for
// the per-output gradients of the patch-AGOP (docs/science.md §6). Virtual image q = n * outputs + o carries
// the gradient of network output o on image n:
//   Gz[q, c, y, x] = act'(Z[n, c, y, x]) * sum over pool windows (i, j) containing (y, x) of
//                    Ga[q, c, i, j] / poolSize^2                 (avg)
//                    Ga[q, c, i, j] if (y, x) is the window's first maximum of act(Z)   (max, as PyTorch)
// (act' = 1 when applyAct = 0). Layout (row-major f32): Z images x k x ho x wo (images = real images),
// Ga (images * outputs) x k x ph x pw, Gz (images * outputs) x k x ho x wo.
// Workgroups: 64 invocations, one element of Gz each (flattened (x, y) grid); max windows are re-scanned
// instead of storing argmax indices.

@group(0) @binding(1) var<storage, read> Z: array<f32>;
@group(0) @binding(2) var<storage, read> Ga: array<f32>;
@group(0) @binding(3) var<storage, read_write> Gz: array<f32>;

fn rOf(z: f32) -> f32 {
  return select(z, act(z), p.applyAct == 1u);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let t = gid.x + gid.y * p.xStride;
  let per = p.k * p.ho * p.wo;
  if (t >= p.images * p.outputs * per) {
    return;
  }
  let q = t / per;
  let n = q / p.outputs;
  let c = (t % per) / (p.ho * p.wo);
  let y = (t % (p.ho * p.wo)) / p.wo;
  let x = t % p.wo;
  let zBase = (n * p.k + c) * p.ho * p.wo;
  let gBase = (q * p.k + c) * p.ph * p.pw;
  // Windows i with i*S <= y < i*S + K, within 0..ph-1.
  let iLo = select(0u, (y + p.poolStride - p.poolSize) / p.poolStride, y + 1u > p.poolSize);
  let jLo = select(0u, (x + p.poolStride - p.poolSize) / p.poolStride, x + 1u > p.poolSize);
  let iHi = min(y / p.poolStride, p.ph - 1u);
  let jHi = min(x / p.poolStride, p.pw - 1u);
  var g = 0.0;
  for (var i = iLo; i <= iHi && i < p.ph; i++) {
    for (var j = jLo; j <= jHi && j < p.pw; j++) {
      let ga = Ga[gBase + i * p.pw + j];
      if (p.poolKind != 1u) {
        g += ga / f32(p.poolSize * p.poolSize);
        continue;
      }
      var best = -3.4e38;
      var at = 0u;
      for (var u = 0u; u < p.poolSize; u++) {
        for (var v = 0u; v < p.poolSize; v++) {
          let idx = (i * p.poolStride + u) * p.wo + j * p.poolStride + v;
          let r = rOf(Z[zBase + idx]);
          if (r > best) {
            best = r;
            at = idx;
          }
        }
      }
      if (at == y * p.wo + x) {
        g += ga;
      }
    }
  }
  if (p.applyAct == 1u) {
    g *= actDerivative(Z[zBase + y * p.wo + x]);
  }
  Gz[t] = g;
}
