// Pointwise activations of the NFA MLP kernels and their derivatives, prepended to mlpForward.wgsl and
// mlpJacobian.wgsl (WGSL has no includes). ACTIVATION selects one at pipeline creation:
// 0 relu, 1 gelu (exact erf form, as torch's default), 2 tanh, 3 sigmoid, 4 identity, 5 quadratic (z^2)
// (codes: activation.ts ACTIVATION_WGSL_CODE).
// No buffers, no workgroup strategy: functions only. ReLU'(0) = 0 as in PyTorch's autograd.

override ACTIVATION: u32 = 0u;

const INV_SQRT_2PI: f32 = 0.3989422804014327;

// erf by Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7, below f32 resolution of 1 + erf).
fn erfApprox(x: f32) -> f32 {
  let ax = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * ax);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  let y = 1.0 - poly * exp(-ax * ax);
  return select(-y, y, x >= 0.0);
}

fn act(z: f32) -> f32 {
  switch ACTIVATION {
    case 0u: { return max(z, 0.0); }
    case 1u: { return 0.5 * z * (1.0 + erfApprox(z * 0.7071067811865476)); }
    case 2u: { return tanh(clamp(z, -20.0, 20.0)); }
    case 3u: { return 1.0 / (1.0 + exp(-z)); }
    case 5u: { return z * z; }
    default: { return z; }
  }
}

fn actDerivative(z: f32) -> f32 {
  switch ACTIVATION {
    case 0u: { return select(0.0, 1.0, z > 0.0); }
    case 1u: { return 0.5 * (1.0 + erfApprox(z * 0.7071067811865476)) + z * INV_SQRT_2PI * exp(-0.5 * z * z); }
    case 2u: { let t = tanh(clamp(z, -20.0, 20.0)); return 1.0 - t * t; }
    case 3u: { let s = 1.0 / (1.0 + exp(-z)); return s * (1.0 - s); }
    case 5u: { return 2.0 * z; }
    default: { return 1.0; }
  }
}
