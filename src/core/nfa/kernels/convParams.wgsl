// The layer geometry every conv-network kernel shares: its uniform (binding 0) and struct Params,
// prepended to convForward, convActPool, convActPoolBackward, convRouteBackward and
// convBackwardInput.wgsl (nfa/kernels/programs.ts CONV_FIELDS declares the same fields).

struct Params {
  images: u32,
  outputs: u32,
  c: u32,
  h: u32,
  w: u32,
  k: u32,
  ho: u32,
  wo: u32,
  kh: u32,
  kw: u32,
  stride: u32,
  padding: u32,
  ph: u32,
  pw: u32,
  poolSize: u32,
  poolStride: u32,
  xStride: u32,
  applyAct: u32,
  poolKind: u32,
  _p0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
