// Seeded random conv networks for the conv NFA tests (unit and GPU): shapes go through inferConvChain,
// exactly as a state_dict's would.
import { mat, type Mat } from '../../src/core/mat';
import type { Activation } from '../../src/core/nfa/activation';
import { inferConvChain, parseConvArch, type ConvNet, type NetLayer } from '../../src/core/nfa/convnet';
import { normal, rng } from '../../src/core/random';
import type { TensorInfo } from '../../src/core/weights';

/** `[k, c, kh, kw]` conv weights or `[out, in]` dense ones, in order; arch as in an --arch file. */
export function randomConvNet(
  shapes: number[][],
  input: [number, number, number],
  arch: unknown,
  activation: Activation,
  seed: number,
): ConvNet {
  const tensors: TensorInfo[] = shapes.flatMap((s, i) => [
    { name: `${i}.weight`, dtype: 'F64', shape: s, byteLength: 8 * s.reduce((a, b) => a * b, 1) },
    { name: `${i}.bias`, dtype: 'F64', shape: [s[0]], byteLength: 8 * s[0] },
  ]);
  const chain = inferConvChain(tensors, 'random', {
    inputDim: input[0] * input[1] * input[2],
    imageShape: input,
    arch: parseConvArch(arch, 'arch'),
    fileOrder: true,
  });
  const g = normal(rng(seed));
  const layers: NetLayer[] = chain.layers.map((l) => {
    const fan = l.c * l.kh * l.kw;
    return {
      ...l,
      W: Float64Array.from({ length: l.k * fan }, () => g() / Math.sqrt(fan)),
      b: Float64Array.from({ length: l.k }, () => 0.1 * g()),
    };
  });
  return { kind: 'convnet', input: chain.input, layers, activation };
}

export function randomImages(n: number, d: number, seed: number): Mat {
  const g = normal(rng(seed));
  return mat(
    n,
    d,
    Float64Array.from({ length: n * d }, () => g()),
  );
}
