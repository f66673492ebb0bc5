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
