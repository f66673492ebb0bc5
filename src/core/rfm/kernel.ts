import type { KernelSpec } from './backend';

/** Below this distance a training point is treated as the query itself: its gradient term is dropped (docs/science.md §1). */
export const DIST_EPS = 1e-10;

/** k(r) for Euclidean distance r between transformed points. */
export function kernelOfDistance(kernel: KernelSpec): (r: number) => number {
  const L = kernel.bandwidth;
  if (kernel.name === 'laplace') return (r) => Math.exp(-r / L);
  const s = 1 / (2 * L * L);
  return (r) => Math.exp(-r * r * s);
}

/**
 * The scalar w(r) with grad_z k(|z - x|) = w(r) (x - z): k(r) / (L r) for Laplace, k(r) / L^2 for Gaussian;
 * 0 below DIST_EPS.
 */
export function gradientWeight(kernel: KernelSpec): (r: number) => number {
  const L = kernel.bandwidth;
  if (kernel.name === 'laplace') return (r) => (r < DIST_EPS ? 0 : Math.exp(-r / L) / (L * r));
  const s = 1 / (2 * L * L),
    inv = 1 / (L * L);
  return (r) => (r < DIST_EPS ? 0 : Math.exp(-r * r * s) * inv);
}

/**
 * gradientWeight as a function of the kernel value k = k(r) instead of r (r = -L ln k for Laplace,
 * r^2 = -2 L^2 ln k for Gaussian): the AGOP reuses a stored kernel matrix instead of recomputing
 * distances. k = 1 (r = 0, the diagonal) and k = 0 (underflow) give 0, as gradientWeight does.
 */
export function gradientWeightOfValue(kernel: KernelSpec): (k: number) => number {
  const L = kernel.bandwidth;
  if (kernel.name === 'laplace') {
    const inv = 1 / L;
    return (k) => {
      const r = -L * Math.log(k);
      return r < DIST_EPS || !(r < Infinity) ? 0 : (k * inv) / r;
    };
  }
  const inv = 1 / (L * L),
    twoL2 = 2 * L * L;
  return (k) => (-twoL2 * Math.log(k) < DIST_EPS * DIST_EPS || k === 0 ? 0 : k * inv);
}
