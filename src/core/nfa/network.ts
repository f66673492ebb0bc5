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
  /**
   * How the order was found: 'user' given explicitly; 'file' the order the tensors were saved in (a
   * PyTorch state_dict keeps module registration order); 'names' natural order of the names; 'shapes'
   * the first order, preferring name order, in which every layer consumes the previous one's output.
   */
  readonly orderedBy: 'user' | 'file' | 'names' | 'shapes';
  /** Tensors that are not part of the chain (norm layers, buffers, optimiser state...). */
  readonly ignored: readonly string[];
}

export interface ChainOptions {
  /** Weight tensor names of the dense layers, input to output: overrides the inference. */
  layers?: readonly string[];
  /** Columns of the data the network is fed: the first layer must take this many inputs. */
  inputDim?: number;
  /** Names the data in messages, e.g. `data.csv: x0, x1 besides the target 'y'`. */
  inputLabel?: string;
  /**
   * True when `tensors` is in the order the model was saved (torch.save, np.savez), which for a PyTorch
   * module is registration order. False for safetensors, whose writer sorts by dtype and name.
   */
  fileOrder?: boolean;
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

/**
 * Ignored tensors that look like layers of the network itself (norm layers, embeddings, convolutions),
 * as opposed to buffers or optimiser state: skipping them changes the function, so callers warn.
 */
export function suspiciousIgnored(chain: Pick<LayerChain, 'ignored'>, tensors: readonly TensorInfo[]): string[] {
  const shapes = new Map(tensors.map((t) => [t.name, t.shape.length]));
  return chain.ignored.filter(
    (n) => /(^|[._/])(weight|bias)$/.test(n) && !/^(optimizer|optim|scheduler)\./.test(n) && (shapes.get(n) ?? 0) >= 1,
  );
}

export function inputDim(net: Mlp): number {
  return net.layers[0].inDim;
}
export function outputDim(net: Mlp): number {
  return net.layers[net.layers.length - 1].outDim;
}

const WEIGHT = /(^|[._/])weight$/;

/** Natural order: `fc2` < `fc10`, `layers.2` < `layers.10`. */
export function naturalCompare(a: string, b: string): number {
  const ta = a.match(/\d+|\D+/g) ?? [];
  const tb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(ta.length, tb.length); i++) {
    const x = ta[i],
      y = tb[i];
    const nx = /^\d/.test(x),
      ny = /^\d/.test(y);
    if (nx && ny) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
      continue;
    }
    if (x !== y) return x < y ? -1 : 1;
  }
  return ta.length - tb.length;
}

function describe(l: ChainLayer): string {
  return `'${l.name}' [${l.outDim}, ${l.inDim}]`;
}

/** Index of the first layer that does not consume the previous output (0: the first layer's input size is wrong), or -1. */
function firstBreak(order: readonly ChainLayer[], inputDim?: number): number {
  if (inputDim !== undefined && order.length && order[0].inDim !== inputDim) return 0;
  for (let i = 1; i < order.length; i++) if (order[i].inDim !== order[i - 1].outDim) return i;
  return -1;
}

/**
 * The first chain by shapes in a depth-first search that tries layers in the given (name) order, so
 * among several valid chains (square hidden layers) the one closest to name order wins. The search is
 * iterative (a state_dict of 20,000 layers needs no 20,000-deep call stack) and bounded by the
 * candidates it examines: a pathological state_dict gives up instead of hanging.
 */
function chainByShapes(layers: readonly ChainLayer[], inputDim: number | undefined): ChainLayer[] | null {
  const used = new Array<boolean>(layers.length).fill(false);
  const path: ChainLayer[] = [];
  /** Index of the layer chosen at each depth of the path. */
  const chosen: number[] = [];
  /** Next candidate to try at each depth (one more entry than the path). */
  const next: number[] = [0];
  let budget = 10_000_000;
  while (next.length) {
    if (path.length === layers.length) return path;
    const want = path.length ? path[path.length - 1].outDim : inputDim;
    let i = next[next.length - 1];
    for (; i < layers.length; i++) {
      if (--budget < 0) return null;
      if (!used[i] && (want === undefined || layers[i].inDim === want)) break;
    }
    if (i < layers.length) {
      next[next.length - 1] = i + 1;
      used[i] = true;
      path.push(layers[i]);
      chosen.push(i);
      next.push(0);
    } else {
      next.pop();
      if (chosen.length) {
        used[chosen.pop()!] = false;
        path.pop();
      }
    }
  }
  return null;
}

function describeChainBreak(
  order: readonly ChainLayer[],
  k: number,
  fileName: string,
  inputDim: number | undefined,
  explicit: boolean,
  inputLabel?: string,
): string {
  const hint = explicit
    ? ''
    : '; the dense layers do not chain in saved order, name order or any order by shape; list them explicitly';
  if (k === 0)
    return `${fileName}: first layer ${describe(order[0])} takes ${order[0].inDim} inputs but the data has ${inputDim} input columns${inputLabel ? ` (${inputLabel})` : ''}`;
  return `${fileName}: layer ${describe(order[k])} takes ${order[k].inDim} inputs but the previous layer ${describe(order[k - 1])} gives ${order[k - 1].outDim} outputs${hint}`;
}

/**
 * Finds the dense layers of a state_dict and their order: the saved order if it chains, else name order,
 * else an order by shapes. Throws InputError naming the layer whose shape does not chain.
 */
export function inferLayerChain(
  tensors: readonly TensorInfo[],
  fileName: string,
  options: ChainOptions = {},
): LayerChain {
  const { inputDim } = options;
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const layerOf = (t: TensorInfo): ChainLayer => {
    const biasName = t.name.replace(/weight$/, 'bias');
    const bias = byName.get(biasName);
    const hasBias = bias !== undefined && bias.shape.length === 1 && bias.shape[0] === t.shape[0];
    return { name: t.name, biasName: hasBias ? biasName : null, outDim: t.shape[0], inDim: t.shape[1] };
  };
  const finish = (layers: readonly ChainLayer[], orderedBy: LayerChain['orderedBy']): LayerChain => {
    const used = new Set(layers.flatMap((l) => (l.biasName ? [l.name, l.biasName] : [l.name])));
    return { layers, orderedBy, ignored: tensors.map((t) => t.name).filter((n) => !used.has(n)) };
  };
  if (options.layers && options.layers.length) {
    const layers = options.layers.map((given) => {
      // A module name (`fc1`) stands for its weight (`fc1.weight`).
      const n = byName.has(given) || !byName.has(`${given}.weight`) ? given : `${given}.weight`;
      const t = byName.get(n);
      if (!t)
        throw new InputError(`${fileName}: no tensor named '${n}' (tensors: ${tensors.map((x) => x.name).join(', ')})`);
      if (t.shape.length !== 2)
        throw new InputError(
          `${fileName}: layer '${n}' has shape [${t.shape.join(', ')}]; a dense layer weight is 2-D [out, in]`,
        );
      return layerOf(t);
    });
    const k = firstBreak(layers, inputDim);
    if (k >= 0) throw new InputError(describeChainBreak(layers, k, fileName, inputDim, true, options.inputLabel));
    return finish(layers, 'user');
  }
  const saved = tensors.filter((t) => WEIGHT.test(t.name) && t.shape.length === 2).map(layerOf);
  if (!saved.length)
    throw new InputError(
      `${fileName}: no dense layer weights found (expected 2-D tensors named like '0.weight', 'fc1.weight', 'layers.2.weight')`,
    );
  const named = [...saved].sort((a, b) => naturalCompare(a.name, b.name));
  if (options.fileOrder && firstBreak(saved, inputDim) < 0) return finish(saved, 'file');
  if (firstBreak(named, inputDim) < 0) return finish(named, 'names');
  const byShapes = chainByShapes(named, inputDim);
  if (byShapes) return finish(byShapes, 'shapes');
  if (inputDim !== undefined) {
    // The network itself may chain: then the data is what does not fit, and the message says so.
    const unconstrained = [options.fileOrder ? saved : null, named, chainByShapes(named, undefined)].find(
      (o) => o && firstBreak(o) < 0,
    );
    if (unconstrained) {
      const first = unconstrained[0];
      throw new InputError(
        `${fileName}: first layer ${describe(first)} takes ${first.inDim} inputs but the data has ${inputDim} input columns${options.inputLabel ? ` (${options.inputLabel})` : ''}`,
      );
    }
  }
  throw new InputError(describeChainBreak(named, firstBreak(named), fileName, inputDim, false));
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
      throw new InputError(
        `${file.fileName}: tensor '${l.name}' has shape [${t.shape.join(', ')}], expected [${l.outDim}, ${l.inDim}] as in the trained weights`,
      );
    }
    out.push(await file.read(l.name));
  }
  return out;
}

/**
 * The tensors a network is read from: for a checkpoint wrapping one state_dict (WeightFile.modelScope,
 * e.g. `{'epoch': 3, 'model_state_dict': sd, 'optimizer_state_dict': ...}`) that dict with its plain
 * names (`0.weight`, as in the bare state_dict), else the file itself.
 */
export function networkView(file: WeightFile): WeightFile {
  const scope = file.modelScope;
  if (!scope) return file;
  const prefix = `${scope}.`;
  const tensors = file.tensors
    .filter((t) => t.name.startsWith(prefix))
    .map((t) => ({ ...t, name: t.name.slice(prefix.length) }));
  return {
    fileName: file.fileName,
    format: file.format,
    savedOrder: file.savedOrder,
    metadata: [],
    tensors,
    read: (name) => file.read(prefix + name),
    chunks: (name, per) => file.chunks(prefix + name, per),
  };
}

/** A tensor name as the file lists it (`model_state_dict.0.weight`) or as networkView does (`0.weight`), in networkView's spelling. */
export function networkTensorName(file: WeightFile, name: string): string {
  const prefix = file.modelScope ? `${file.modelScope}.` : '';
  return prefix && name.startsWith(prefix) ? name.slice(prefix.length) : name;
}
