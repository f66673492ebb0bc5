// The NFA orchestrator (docs/science.md §2): per dense layer l, NFM_l = W_l^T W_l (or of W_l - W_l^init), the
// network AGOP at the input of layer l averaged over the rows, AGOP^(1/2), and their correlations.
// Heavy work (forward + Jacobians) runs on an NfaBackend in row chunks; everything else is here, once.
import { throwIfCancelled, type CancelToken } from '../errors';
import { eighSym, powFromEigen, symPow } from '../linalg/eigh';
import { mat, type Mat } from '../mat';
import type { NfaBackend } from './backend';
import { congruence } from './convCpu';
import { isConvNet, patchDim, positions, size3, type ConvNet, type PoolSpec } from './convnet';
import { eigenAlignmentOf, nfaCorrelations, type EigenAlignment, type NfaCorrelations } from './correlation';
import type { Mlp } from './network';

export interface NfaOptions {
  /** Initial weights per chain layer (outDim x inDim each): the NFM is then (W - W0)^T (W - W0). */
  initWeights?: readonly Float64Array[];
  /** Measure only the first this many layers (default all): the training lab's first-layer curves skip the wide eigendecompositions. */
  layers?: number;
  /** Top eigenvectors compared between NFM_l and AGOP_l (default 3). */
  topK?: number;
  /** Rows per backend call; default keeps the stacked Jacobians near 4M doubles. */
  chunkRows?: number;
  cancel?: CancelToken;
  onProgress?: (rowsDone: number, rowsTotal: number) => void;
}

export interface LayerNfa {
  /** Weight tensor name, e.g. `0.weight`. */
  name: string;
  /** 'conv': a Conv2d layer of a conv network (docs/science.md §6), its AGOP the patch-AGOP. */
  kind: 'conv' | 'dense';
  /** [outDim, inDim] as stored; a conv layer's [k, c kh kw] (its filters flattened). */
  shape: [number, number];
  /** Conv layers: the filter shape [c, kh, kw], stride, padding, pooling after the activation, and the stored [k, c, kh, kw]. */
  conv?: {
    filter: [number, number, number];
    stride: number;
    padding: number;
    pool: PoolSpec | null;
    weightShape: number[];
  };
  /** inDim x inDim row-major. */
  nfm: Float64Array;
  agop: Float64Array;
  sqrtAgop: Float64Array;
  correlation: NfaCorrelations;
  /** Top eigenvectors of NFM_l against those of AGOP_l (AGOP and AGOP^1/2 share eigenvectors). */
  eigen: EigenAlignment;
}

export interface NfaResult {
  rows: number;
  backend: string;
  device: string;
  minusInit: boolean;
  layers: LayerNfa[];
}

/** W^T W for W (out x in, row-major): in x in. */
export function gramOfColumns(W: ArrayLike<number>, out: number, inDim: number): Float64Array {
  const G = new Float64Array(inDim * inDim);
  for (let r = 0; r < out; r++) {
    const o = r * inDim;
    for (let i = 0; i < inDim; i++) {
      const wi = W[o + i];
      if (wi === 0) continue;
      for (let j = i; j < inDim; j++) G[i * inDim + j] += wi * W[o + j];
    }
  }
  for (let i = 0; i < inDim; i++) for (let j = 0; j < i; j++) G[i * inDim + j] = G[j * inDim + i];
  return G;
}

export function neuralFeatureMatrix(W: Float64Array, out: number, inDim: number, W0?: Float64Array): Float64Array {
  if (!W0) return gramOfColumns(W, out, inDim);
  const D = new Float64Array(W.length);
  for (let i = 0; i < W.length; i++) D[i] = W[i] - W0[i];
  return gramOfColumns(D, out, inDim);
}

/** Network AGOP at the input of every layer, averaged over the rows of X. */
export async function networkAgops(
  net: Mlp,
  X: Mat,
  backend: NfaBackend,
  options: Pick<NfaOptions, 'chunkRows' | 'cancel' | 'onProgress'> = {},
): Promise<Float64Array[]> {
  const c = net.layers[net.layers.length - 1].outDim;
  const widest = Math.max(...net.layers.map((l) => Math.max(l.inDim, l.outDim)));
  const chunk = Math.max(1, options.chunkRows ?? Math.floor(4_000_000 / (c * widest)));
  const totals = net.layers.map((l) => new Float64Array(l.inDim * l.inDim));
  for (let start = 0; start < X.rows; start += chunk) {
    throwIfCancelled(options.cancel);
    const end = Math.min(X.rows, start + chunk);
    const part = mat(end - start, X.cols, X.data.subarray(start * X.cols, end * X.cols));
    const sums = await backend.agopSums(net, part);
    sums.forEach((s, l) => {
      for (let i = 0; i < s.length; i++) totals[l][i] += s[i];
    });
    options.onProgress?.(end, X.rows);
  }
  for (const t of totals) for (let i = 0; i < t.length; i++) t[i] /= X.rows;
  return totals;
}

/**
 * Conv network: per layer, the patch-AGOP averaged over rows and positions (docs/science.md §6; a dense layer
 * has one position, so its entry is the dense AGOP at its input). The backend returns the k x k Grams H_l
 * of the output gradients at each layer's convolution; W_l^T H_l W_l is formed here in float64.
 */
export async function convPatchAgops(
  net: ConvNet,
  X: Mat,
  backend: NfaBackend,
  options: Pick<NfaOptions, 'chunkRows' | 'cancel' | 'onProgress'> = {},
): Promise<Float64Array[]> {
  const outDim = size3(net.layers[net.layers.length - 1].nextShape);
  const widest = Math.max(...net.layers.map((l) => size3(l.outShape)));
  // Rows per backend call (progress and cancellation between calls): a WebGPU call splits its rows in
  // device batches itself and reuses their buffers from one batch to the next, so it takes 8 times more.
  const entries = backend.name === 'webgpu' ? 64_000_000 : 8_000_000;
  const chunk = Math.max(1, options.chunkRows ?? Math.floor(entries / (outDim * widest)));
  const totals = net.layers.map((l) => new Float64Array(l.k * l.k));
  for (let start = 0; start < X.rows; start += chunk) {
    throwIfCancelled(options.cancel);
    const end = Math.min(X.rows, start + chunk);
    const part = mat(end - start, X.cols, X.data.subarray(start * X.cols, end * X.cols));
    const grams = await backend.outputGradGrams(net, part);
    grams.forEach((g, l) => {
      for (let i = 0; i < g.length; i++) totals[l][i] += g[i];
    });
    options.onProgress?.(end, X.rows);
  }
  return net.layers.map((l, i) => {
    const G = congruence(l.W, l.k, patchDim(l), totals[i]);
    const scale = 1 / (X.rows * positions(l));
    for (let j = 0; j < G.length; j++) G[j] *= scale;
    return G;
  });
}

export async function computeNfa(
  net: Mlp | ConvNet,
  X: Mat,
  backend: NfaBackend,
  options: NfaOptions = {},
): Promise<NfaResult> {
  if (X.rows === 0) throw new Error('computeNfa: no rows');
  if (isConvNet(net)) return computeConvNfa(net, X, backend, options);
  if (options.initWeights && options.initWeights.length !== net.layers.length)
    throw new Error('computeNfa: initWeights must match the layers');
  const agops = await networkAgops(net, X, backend, options);
  const measured = net.layers.slice(0, Math.max(1, options.layers ?? net.layers.length));
  const layers = measured.map((layer, l): LayerNfa => {
    const d = layer.inDim;
    const nfm = neuralFeatureMatrix(layer.W, layer.outDim, d, options.initWeights?.[l]);
    const agopEigen = eighSym(agops[l], d);
    const sqrtAgop = powFromEigen(agopEigen, d, 0.5);
    return {
      name: layer.name,
      kind: 'dense',
      shape: [layer.outDim, d],
      nfm,
      agop: agops[l],
      sqrtAgop,
      correlation: nfaCorrelations(nfm, agops[l], sqrtAgop, d),
      eigen: eigenAlignmentOf(eighSym(nfm, d), agopEigen, d, options.topK ?? 3),
    };
  });
  return { rows: X.rows, backend: backend.name, device: backend.device, minusInit: !!options.initWeights, layers };
}

async function computeConvNfa(net: ConvNet, X: Mat, backend: NfaBackend, options: NfaOptions): Promise<NfaResult> {
  if (options.initWeights && options.initWeights.length !== net.layers.length)
    throw new Error('computeNfa: initWeights must match the layers');
  const agops = await convPatchAgops(net, X, backend, options);
  const layers = net.layers.map((layer, l): LayerNfa => {
    const d = patchDim(layer);
    const nfm = neuralFeatureMatrix(layer.W, layer.k, d, options.initWeights?.[l]);
    const agopEigen = eighSym(agops[l], d);
    const sqrtAgop = powFromEigen(agopEigen, d, 0.5);
    return {
      name: layer.name,
      kind: layer.kind,
      shape: [layer.k, d],
      ...(layer.kind === 'conv'
        ? {
            conv: {
              filter: [layer.c, layer.kh, layer.kw] as [number, number, number],
              stride: layer.stride,
              padding: layer.padding,
              pool: layer.pool,
              weightShape: [...layer.storedShape],
            },
          }
        : {}),
      nfm,
      agop: agops[l],
      sqrtAgop,
      correlation: nfaCorrelations(nfm, agops[l], sqrtAgop, d),
      eigen: eigenAlignmentOf(eighSym(nfm, d), agopEigen, d, options.topK ?? 3),
    };
  });
  return { rows: X.rows, backend: backend.name, device: backend.device, minusInit: !!options.initWeights, layers };
}

/** Correlations of a first-layer NFM with an RFM feature matrix M and with M^(1/2). */
export function rfmCorrelations(nfm1: Float64Array, M: Float64Array, d: number): NfaCorrelations {
  return nfaCorrelations(nfm1, M, symPow(M, d, 0.5), d);
}
