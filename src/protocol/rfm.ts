// Messages between the extension host and the RFM panel.
import type { Task } from '../core/data/dataset';
import type { ImageShape } from '../core/data/images';
import type { SavedIteration } from '../core/rfm/serialize';
import type { FinalMetrics, FitResult, IterationRecord, RfmModel, RfmOptions, TreeSummary } from '../core/rfm/types';
import { bufferOf, fromWireMat, toWireMat, type WireDataset, type WireMat } from './wire';

/** An RfmModel whose tensors are buffers (enough to rebuild the model on the host). */
export type WireModel = Omit<RfmModel, 'standardize' | 'M' | 'centers' | 'alpha'> & {
  standardize: { mean: ArrayBuffer; std: ArrayBuffer } | null;
  M: { diag: boolean; d: number; data: ArrayBuffer };
  centers: WireMat;
  alpha: WireMat;
};

/** A FitResult (src/core/rfm/types.ts) whose matrices are buffers. */
export type WireFitResult = Omit<FitResult, 'M' | 'importance' | 'model'> & {
  /** d x d row-major float64. */
  M: ArrayBuffer;
  importance: ArrayBuffer;
  model: WireModel;
};

/** What the panel draws: a saved run, or a fit in progress (result still null). */
export interface RunView {
  runId: string | null;
  title: string;
  datasetName: string;
  createdAt: string;
  task: Task;
  featureNames: string[];
  targetName: string;
  /** Saved runs' reports carry no train MSE (null); live iterations do. */
  iterations: SavedIteration[];
  bestIter: number;
  /** d x d row-major float64, absent while fitting. */
  M: ArrayBuffer | null;
  final: FinalMetrics | null;
  backend: string | null;
  device: string | null;
  /** Why this backend ran (e.g. "no WebGPU adapter in the panel"). */
  backendReason: string | null;
  seconds: number | null;
  topK: number;
  /**
   * C, H, W when the dataset declared its features an image (Dataset.imageShape); the page also detects
   * one from the feature names (core/data/images.ts detectImageShape). Absent in views made before it existed.
   */
  imageShape?: ImageShape | null;
  /** An xRFM tree fit (core/rfm/tree.ts): its shape and per-leaf fits (plain data). */
  tree?: TreeSummary;
}

/** Where the host asks the page to fit: the page's own placements (core/compute.ts). */
export type PagePlacement = 'page-gpu' | 'page-cpu';

/** Run a fit on the page (a request: the page replies with FitReply). */
export interface FitRequest {
  type: 'fit';
  fitId: string;
  placement: PagePlacement;
  train: WireDataset;
  test: WireDataset | null;
  options: RfmOptions;
  valFraction: number;
  /** The view to draw while fitting; its backendReason says why this placement runs. */
  view: RunView;
}

/**
 * How a page fit ended when it did not finish: `unavailable` (no adapter, device lost, GPU error: the
 * host moves the fit to its next placement), `cancelled`, or `error` (bad input: final).
 */
export type FitFailure = 'unavailable' | 'cancelled' | 'error';

export type FitReply =
  | { type: 'fitDone'; fitId: string; result: WireFitResult }
  | { type: 'fitFailed'; fitId: string; outcome: FitFailure; message: string };

export type HostToWebview =
  | FitRequest
  | { type: 'cancel'; fitId: string }
  /** Draw a saved run, a host-computed fit once it is saved, or a fit starting elsewhere (result still null). */
  | { type: 'show'; view: RunView }
  /** The fit this page computed was saved as run `runId` (the page already draws it). */
  | { type: 'saved'; runId: string }
  /** An iteration of a fit the host computes. */
  | { type: 'iteration'; record: IterationRecord }
  | { type: 'failed'; message: string }
  /** A request: the page replies with its charts. */
  | { type: 'exportCharts' };

export type WebviewToHost =
  /** Progress of the page's fit `fitId`. */
  | { type: 'iteration'; fitId: string; record: IterationRecord }
  | FitReply
  | { type: 'charts'; charts: { name: string; png: ArrayBuffer }[] };

/** Panel state VS Code keeps across reloads (WebviewPanelSerializer). */
export interface PanelState {
  runId: string | null;
}

export function toWireModel({ standardize, M, centers, alpha, ...names }: RfmModel): WireModel {
  return {
    ...names,
    standardize: standardize && { mean: bufferOf(standardize.mean), std: bufferOf(standardize.std) },
    M: { diag: M.diag, d: M.d, data: bufferOf(M.data) },
    centers: toWireMat(centers),
    alpha: toWireMat(alpha),
  };
}

export function fromWireModel({ standardize, M, centers, alpha, ...names }: WireModel): RfmModel {
  return {
    ...names,
    standardize: standardize && { mean: new Float64Array(standardize.mean), std: new Float64Array(standardize.std) },
    M: { diag: M.diag, d: M.d, data: new Float64Array(M.data) },
    centers: fromWireMat(centers),
    alpha: fromWireMat(alpha),
  };
}

export function toWireFitResult(r: FitResult): WireFitResult {
  return { ...r, M: bufferOf(r.M), importance: bufferOf(r.importance), model: toWireModel(r.model) };
}

export function fromWireFitResult(w: WireFitResult): FitResult {
  return {
    ...w,
    M: new Float64Array(w.M),
    importance: new Float64Array(w.importance),
    model: fromWireModel(w.model),
  };
}
