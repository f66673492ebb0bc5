// Back through non-overlapping pooling (poolStride >= poolSize, no pooling included) and the activation
// of a conv-network layer (mlpActivation.wgsl is prepended), for the per-output gradients of the
// patch-AGOP (docs/science.md §6). Virtual image q = n * outputs + o carries output o's gradient on image n;
// each pooled cell (q, c, i, j) sends Ga[q, c, i, j] to the cells of its own window only:
//   max:  Gz[q, c, Arg[n, c, i, j]] = act'(Z[n, c, at]) Ga[q, c, i, j]   (Arg: the first maximum, convActPool)
//   avg:  Gz[q, c, y, x] = act'(Z[n, c, y, x]) Ga[q, c, i, j] / poolSize^2 over the window
//   none: poolSize 1, the avg formula with one cell
// (act' = 1 when applyAct = 0). Windows do not overlap, so each Gz cell has at most one writer (no
// atomics); cells no window covers (floor mode, or stride > size) and non-maxima stay as created, 0.
// Overlapping windows go through convActPoolBackward.wgsl instead.
// Layout (row-major): Z images x k x ho x wo (f32), Arg images x k x ph x pw (u32), Ga (images * outputs)
// x k x ph x pw (f32), Gz (images * outputs) x k x ho x wo (f32, zero on entry).
// Workgroups: 64 invocations, one pooled cell each (flattened (x, y) grid).

@group(0) @binding(1) var<storage, read> Z: array<f32>;
@group(0) @binding(2) var<storage, read> Arg: array<u32>;
@group(0) @binding(3) var<storage, read> Ga: array<f32>;
@group(0) @binding(4) var<storage, read_write> Gz: array<f32>;

fn dAct(z: f32) -> f32 {
  return select(1.0, actDerivative(z), p.applyAct == 1u);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let t = gid.x + gid.y * p.xStride;
  let cells = p.ph * p.pw;
  let per = p.k * cells;
  if (t >= p.images * p.outputs * per) {
    return;
  }
  let q = t / per;
  let n = q / p.outputs;
  let c = (t % per) / cells;
  let cell = t % cells;
  let i = cell / p.pw;
  let j = cell % p.pw;
  let zBase = (n * p.k + c) * p.ho * p.wo;
  let gBase = (q * p.k + c) * p.ho * p.wo;
  let ga = Ga[t];
  if (p.poolKind == 1u) {
    let at = Arg[n * per + c * cells + cell];
    Gz[gBase + at] = ga * dAct(Z[zBase + at]);
    return;
  }
  let share = ga / f32(p.poolSize * p.poolSize);
  for (var u = 0u; u < p.poolSize; u++) {
    for (var v = 0u; v < p.poolSize; v++) {
      let idx = (i * p.poolStride + u) * p.wo + j * p.poolStride + v;
      Gz[gBase + idx] = share * dAct(Z[zBase + idx]);
    }
  }
}
