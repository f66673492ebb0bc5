// The NFA orchestrator (docs/science.md §2): per dense layer l, NFM_l = W_l^T W_l (or of W_l - W_l^init), the
// network AGOP at the input of layer l averaged over the rows, AGOP^(1/2), and their correlations.
// Heavy work (forward + Jacobians) runs on an NfaBackend in row chunks; everything else is here, once.
import { throwIfCancelled, type CancelToken } from '../errors';
import { eighSym, powFromEigen, symPow } from '../linalg/eigh';
import { mat, type Mat } from '../mat';
import type { NfaBackend } from './backend';
import { eigenAlignmentOf, nfaCorrelations, type EigenAlignment, type NfaCorrelations } from './correlation';
import type { Mlp } from './network';

export interface NfaOptions {
  /** Initial weights per chain layer (outDim x inDim each): the NFM is then (W - W0)^T (W - W0). */
  initWeights?: readonly Float64Array[];
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
  /** [outDim, inDim] as stored. */
  shape: [number, number];
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

export async function computeNfa(net: Mlp, X: Mat, backend: NfaBackend, options: NfaOptions = {}): Promise<NfaResult> {
  if (X.rows === 0) throw new Error('computeNfa: no rows');
  if (options.initWeights && options.initWeights.length !== net.layers.length)
    throw new Error('computeNfa: initWeights must match the layers');
  const agops = await networkAgops(net, X, backend, options);
  const layers = net.layers.map((layer, l): LayerNfa => {
    const d = layer.inDim;
    const nfm = neuralFeatureMatrix(layer.W, layer.outDim, d, options.initWeights?.[l]);
    const agopEigen = eighSym(agops[l], d);
    const sqrtAgop = powFromEigen(agopEigen, d, 0.5);
    return {
      name: layer.name,
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

/** Correlations of a first-layer NFM with an RFM feature matrix M and with M^(1/2). */
export function rfmCorrelations(nfm1: Float64Array, M: Float64Array, d: number): NfaCorrelations {
  return nfaCorrelations(nfm1, M, symPow(M, d, 0.5), d);
}
