// A dense network read from a state_dict: which 2-D `*.weight` tensors form the layer chain, in what
// order, with which biases. Forward convention (PyTorch nn.Linear): z_l = W_l h_{l-1} + b_l with W_l of
// shape [out, in]; the activation follows every layer except the last.
import { InputError } from '../errors';
import type { TensorInfo, WeightFile } from '../weights/types';
import type { Activation } from './activation';

export interface ChainLayer {
  /** Weight tensor name, e.g. `0.weight`; names the layer everywhere. */
  readonly name: string;
  readonly biasName: string | null;
  readonly outDim: number;
  readonly inDim: number;
}

export interface LayerChain {
  readonly layers: readonly ChainLayer[];
  /** 'names': natural order of the names chains; 'shapes': only one order chains; 'user': given explicitly. */
  readonly orderedBy: 'names' | 'shapes' | 'user';
  /** Tensors that are not part of the chain (norm layers, buffers, optimiser state...). */
  readonly ignored: readonly string[];
}

export interface DenseLayer extends ChainLayer {
  /** outDim x inDim, row-major. */
  readonly W: Float64Array;
  readonly b: Float64Array | null;
}

export interface Mlp {
  readonly layers: readonly DenseLayer[];
  readonly activation: Activation;
}

export function inputDim(net: Mlp): number { return net.layers[0].inDim; }
export function outputDim(net: Mlp): number { return net.layers[net.layers.length - 1].outDim; }

const WEIGHT = /(^|[._/])weight$/;

/** Natural order: `fc2` < `fc10`, `layers.2` < `layers.10`. */
export function naturalCompare(a: string, b: string): number {
  const ta = a.match(/\d+|\D+/g) ?? [];
  const tb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(ta.length, tb.length); i++) {
    const x = ta[i], y = tb[i];
    const nx = /^\d/.test(x), ny = /^\d/.test(y);
    if (nx && ny) { const d = Number(x) - Number(y); if (d !== 0) return d; continue; }
    if (x !== y) return x < y ? -1 : 1;
  }
  return ta.length - tb.length;
}

function describe(l: ChainLayer): string { return `'${l.name}' [${l.outDim}, ${l.inDim}]`; }

function firstBreak(order: readonly ChainLayer[]): number {
  for (let i = 1; i < order.length; i++) if (order[i].inDim !== order[i - 1].outDim) return i;
  return -1;
}

/** Orders in which every layer's input size equals the previous output size; stops after `limit`. */
function chainsByShape(layers: readonly ChainLayer[], limit: number): ChainLayer[][] {
  const found: ChainLayer[][] = [];
  const used = new Array<boolean>(layers.length).fill(false);
  const path: ChainLayer[] = [];
  const walk = (): void => {
    if (found.length >= limit) return;
    if (path.length === layers.length) { found.push([...path]); return; }
    for (let i = 0; i < layers.length; i++) {
      if (used[i] || (path.length > 0 && layers[i].inDim !== path[path.length - 1].outDim)) continue;
      used[i] = true; path.push(layers[i]);
      walk();
      used[i] = false; path.pop();
    }
  };
  walk();
  return found;
}

/**
 * Finds the dense layers of a state_dict and their order. Explicit `layerNames` (weight tensor names,
 * input to output) override the inference. Throws InputError naming the layer whose shape does not chain.
 */
export function inferLayerChain(tensors: readonly TensorInfo[], fileName: string, layerNames?: readonly string[]): LayerChain {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const layerOf = (t: TensorInfo): ChainLayer => {
    const biasName = t.name.replace(/weight$/, 'bias');
    const bias = byName.get(biasName);
    const hasBias = bias !== undefined && bias.shape.length === 1 && bias.shape[0] === t.shape[0];
    return { name: t.name, biasName: hasBias ? biasName : null, outDim: t.shape[0], inDim: t.shape[1] };
  };
  let layers: ChainLayer[];
  let orderedBy: LayerChain['orderedBy'];
  if (layerNames && layerNames.length) {
    layers = layerNames.map((n) => {
      const t = byName.get(n);
      if (!t) throw new InputError(`${fileName}: no tensor named '${n}' (tensors: ${tensors.map((x) => x.name).join(', ')})`);
      if (t.shape.length !== 2) throw new InputError(`${fileName}: layer '${n}' has shape [${t.shape.join(', ')}]; a dense layer weight is 2-D [out, in]`);
      return layerOf(t);
    });
    orderedBy = 'user';
  } else {
    layers = tensors.filter((t) => WEIGHT.test(t.name) && t.shape.length === 2).map(layerOf);
    if (!layers.length) throw new InputError(`${fileName}: no dense layer weights found (expected 2-D tensors named like '0.weight', 'fc1.weight', 'layers.2.weight')`);
    layers.sort((a, b) => naturalCompare(a.name, b.name));
    orderedBy = 'names';
    if (firstBreak(layers) >= 0) {
      const chains = chainsByShape(layers, 2);
      if (chains.length === 1) { layers = chains[0]; orderedBy = 'shapes'; }
    }
  }
  const k = firstBreak(layers);
  if (k >= 0) {
    throw new InputError(`${fileName}: layer ${describe(layers[k])} takes ${layers[k].inDim} inputs but the previous layer ${describe(layers[k - 1])} gives ${layers[k - 1].outDim} outputs; the dense layers do not chain${orderedBy === 'user' ? '' : ' in name order or any unique order by shape; list them explicitly'}`);
  }
  const used = new Set(layers.flatMap((l) => (l.biasName ? [l.name, l.biasName] : [l.name])));
  return { layers, orderedBy, ignored: tensors.map((t) => t.name).filter((n) => !used.has(n)) };
}

/** Reads the chain's weights and biases as float64. */
export async function loadMlp(file: WeightFile, chain: LayerChain, activation: Activation): Promise<Mlp> {
  const layers: DenseLayer[] = [];
  for (const l of chain.layers) {
    const W = await file.read(l.name);
    const b = l.biasName ? await file.read(l.biasName) : null;
    layers.push({ ...l, W, b });
  }
  return { layers, activation };
}

/** Same layers from another checkpoint (e.g. the initial weights): names and shapes must match. */
export async function loadMatchingWeights(file: WeightFile, chain: LayerChain): Promise<Float64Array[]> {
  const out: Float64Array[] = [];
  for (const l of chain.layers) {
    const t = file.tensors.find((x) => x.name === l.name);
    if (!t) throw new InputError(`${file.fileName}: no tensor '${l.name}' to match layer ${describe(l)}`);
    if (t.shape.length !== 2 || t.shape[0] !== l.outDim || t.shape[1] !== l.inDim) {
      throw new InputError(`${file.fileName}: tensor '${l.name}' has shape [${t.shape.join(', ')}], expected [${l.outDim}, ${l.inDim}] as in the trained weights`);
    }
    out.push(await file.read(l.name));
  }
  return out;
}
