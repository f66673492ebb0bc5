// The synthetic tasks of the training-lab tests (unit and WebGPU), in one place.
import { mat, type Mat } from '../../src/core/mat';
import { rng } from '../../src/core/random';
import { trainingTargets } from '../../src/core/nfa/train';

/** x ~ N(0, I_d); y = (x_0 + x_1)^2 / 2 depends on one direction: its AGOP has rank 1. */
export function lowRankTask(n: number, d: number, seed: number): { X: Mat; Y: Mat } {
  const r = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const X = mat(n, d, Float64Array.from({ length: n * d }, gauss));
  const y = Float64Array.from({ length: n }, (_, i) => (X.data[i * d] + X.data[i * d + 1]) ** 2 / 2);
  return { X, Y: trainingTargets(y, null) };
}
