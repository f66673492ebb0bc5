// Pointwise activations and their derivatives. GELU is the exact (erf) form, as torch's default;
// quadratic is sigma(z) = z^2, the grokking networks' activation (docs/science.md §4).
export type Activation = 'relu' | 'gelu' | 'tanh' | 'sigmoid' | 'identity' | 'quadratic';
export const ACTIVATIONS: readonly Activation[] = ['relu', 'gelu', 'tanh', 'sigmoid', 'identity', 'quadratic'];

/** The ACTIVATION override constant of kernels/mlpActivation.wgsl for each activation. */
export const ACTIVATION_WGSL_CODE: Readonly<Record<Activation, number>> = {
  relu: 0,
  gelu: 1,
  tanh: 2,
  sigmoid: 3,
  identity: 4,
  quadratic: 5,
};

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * Error function to near double precision: for |x| < 3 the all-positive series
 * erf x = 2/sqrt(pi) e^{-x^2} sum_n 2^n x^{2n+1} / (1*3*...*(2n+1)) (no cancellation); beyond, the
 * continued fraction of erfc (modified Lentz).
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax > 6) return Math.sign(x);
  if (ax < 3) {
    const x2 = x * x;
    let term = x,
      sum = x;
    for (let n = 1; n < 200; n++) {
      term *= (2 * x2) / (2 * n + 1);
      sum += term;
      if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
    }
    return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
  }
  return Math.sign(x) * (1 - erfcContinuedFraction(ax));
}

/** erfc(x) for x >= 3: e^{-x^2}/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))). */
function erfcContinuedFraction(x: number): number {
  const tiny = 1e-300;
  let f = x,
    c = x,
    d = 0;
  for (let k = 1; k < 300; k++) {
    const a = k / 2;
    d = x + a * d;
    d = d === 0 ? tiny : d;
    c = x + a / c;
    c = c === 0 ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
}

export function activate(a: Activation, z: number): number {
  switch (a) {
    case 'relu':
      return z > 0 ? z : 0;
    case 'tanh':
      return Math.tanh(z);
    case 'sigmoid':
      return 1 / (1 + Math.exp(-z));
    case 'gelu':
      return 0.5 * z * (1 + erf(z * SQRT1_2));
    case 'identity':
      return z;
    case 'quadratic':
      return z * z;
  }
}

/** d activation / dz; ReLU'(0) = 0 as in PyTorch's autograd. */
export function activateDerivative(a: Activation, z: number): number {
  switch (a) {
    case 'relu':
      return z > 0 ? 1 : 0;
    case 'tanh': {
      const t = Math.tanh(z);
      return 1 - t * t;
    }
    case 'sigmoid': {
      const s = 1 / (1 + Math.exp(-z));
      return s * (1 - s);
    }
    case 'gelu':
      return 0.5 * (1 + erf(z * SQRT1_2)) + z * INV_SQRT_2PI * Math.exp(-0.5 * z * z);
    case 'identity':
      return 1;
    case 'quadratic':
      return 2 * z;
  }
}

export function isActivation(s: unknown): s is Activation {
  return typeof s === 'string' && (ACTIVATIONS as readonly string[]).includes(s);
}
