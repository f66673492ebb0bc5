// Back through a conv-network layer's convolution to its input (the transposed convolution), for the
// per-output gradients of the patch-AGOP (docs/science.md §6); q runs over images * outputs virtual images:
//   Ga[q, c, y, x] = sum over o, u, v with y + padding - u = i*stride, x + padding - v = j*stride,
//                    0 <= i < ho, 0 <= j < wo  of  W[o, c, u, v] Gz[q, o, i, j]
// Layout (row-major f32): Gz (images * outputs) x k x ho x wo; Wt the weights transposed to
// kh x kw x k x cv vec4s (cv = 4 ceil(c / 16): channels padded with zeros to a multiple of 16);
// Ga (images * outputs) x c x h x w.
// Workgroups: 64 invocations; each computes a register tile of Ga, PX consecutive x of one row (q, y) by
// the 16 channels of block workgroup_id.z, as a gather (no atomics). On lavapipe every buffer load whose
// index is not a constant costs one scalar load per SIMD lane while multiply-adds are vector-wide, so the
// tile is what makes this fast: per (u, v, o) PX gradient loads and 16 weight loads feed 16 PX
// multiply-adds (the one-output-per-invocation form fed 16 with 17). Taps are looped over the range that
// can reach the tile (one tap for a dense layer, where PX = 1); a tap a position of the tile cannot use
// reads a clamped index and is masked to 0. Flattened (x, y) grid over (q, y, x-tile), xStride a row.
// PX (override, 1..8): positions per invocation.

override PX: u32 = 8u;

@group(0) @binding(1) var<storage, read> Gz: array<f32>;
@group(0) @binding(2) var<storage, read> Wt: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> Ga: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wg: vec3u) {
  let t = gid.x + gid.y * p.xStride;
  let tiles = (p.w + PX - 1u) / PX;
  let per = p.h * tiles;
  let live = t < p.images * p.outputs * per;
  let tc = select(0u, t, live);
  let q = tc / per;
  let y = (tc % per) / tiles;
  let x0 = (tc % tiles) * PX;
  let cv = ((p.c + 15u) / 16u) * 4u;
  let oPlane = p.ho * p.wo;
  let gq = q * p.k * oPlane;
  let s = p.stride;
  let reachY = (p.ho - 1u) * s;
  let reachX = (p.wo - 1u) * s;
  // u with 0 <= y + padding - u <= (ho - 1) stride; v likewise for some x of the tile.
  let yp = y + p.padding;
  let uLo = select(0u, yp - reachY, yp > reachY);
  let uHi = min(p.kh, yp + 1u);
  let xp0 = x0 + p.padding;
  let vLo = select(0u, xp0 - reachX, xp0 > reachX);
  let vHi = min(p.kw, xp0 + PX);
  var acc: array<array<vec4f, 4>, 8>;
  for (var u = uLo; u < uHi; u++) {
    let yu = yp - u;
    let rowOk = yu % s == 0u;
    let i = yu / s;
    for (var v = vLo; v < vHi; v++) {
      var gi: array<u32, 8>;
      var m: array<f32, 8>;
      for (var r = 0u; r < PX; r++) {
        let xp = xp0 + r;
        let xv = select(0u, xp - v, xp >= v);
        let ok = rowOk && xp >= v && x0 + r < p.w && xv % s == 0u && xv / s < p.wo;
        gi[r] = gq + i * p.wo + min(xv / s, p.wo - 1u);
        m[r] = select(0.0, 1.0, ok);
      }
      var wi = (u * p.kw + v) * p.k * cv + wg.z * 4u;
      for (var o = 0u; o < p.k; o++) {
        let w0 = Wt[wi];
        let w1 = Wt[wi + 1u];
        let w2 = Wt[wi + 2u];
        let w3 = Wt[wi + 3u];
        let go = o * oPlane;
        for (var r = 0u; r < PX; r++) {
          let g = Gz[gi[r] + go] * m[r];
          acc[r][0] += w0 * g;
          acc[r][1] += w1 * g;
          acc[r][2] += w2 * g;
          acc[r][3] += w3 * g;
        }
        wi += cv;
      }
    }
  }
  if (!live) {
    return;
  }
  let c0 = wg.z * 16u;
  let plane = p.h * p.w;
  for (var r = 0u; r < PX; r++) {
    if (x0 + r < p.w) {
      let out = (q * p.c + c0) * plane + y * p.w + x0 + r;
      for (var e = 0u; e < 16u; e++) {
        if (c0 + e < p.c) {
          Ga[out + e * plane] = acc[r][e / 4u][e % 4u];
        }
      }
    }
  }
}
