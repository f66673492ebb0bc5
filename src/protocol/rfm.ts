// Messages between the extension host and the RFM panel.
import type { Task } from '../core/data/dataset';
import type { SavedIteration } from '../core/rfm/serialize';
import type { FinalMetrics, FitResult, IterationRecord, RfmModel, RfmOptions } from '../core/rfm/types';
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
}

export type HostToWebview =
  /** Run a fit in the panel. `allowGpu` false when the user chose the CPU backend. */
  | {
      type: 'fit';
      fitId: string;
      train: WireDataset;
      test: WireDataset | null;
      options: Partial<RfmOptions>;
      valFraction: number;
      allowGpu: boolean;
      allowCpu: boolean;
      view: RunView;
    }
  | { type: 'cancel'; fitId: string }
  /** Show a saved run, or the progress of a fit running elsewhere (host fallback). */
  | { type: 'show'; view: RunView }
  | { type: 'iteration'; record: IterationRecord }
  | { type: 'backend'; backend: string; device: string; reason: string }
  | { type: 'failed'; message: string }
  | { type: 'exportCharts'; requestId: string };

export type WebviewToHost =
  | { type: 'ready' }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'backend'; fitId: string; backend: string; device: string; reason: string }
  | { type: 'iteration'; fitId: string; record: IterationRecord }
  | { type: 'fitDone'; fitId: string; result: WireFitResult }
  /**
   * The panel could not finish the fit. `gpuUnavailable` true means "no adapter / device lost / GPU
   * error": the host moves the fit to Dawn or the CPU. Otherwise the error is final (bad input, cancel).
   */
  | { type: 'fitFailed'; fitId: string; gpuUnavailable: boolean; cancelled: boolean; message: string }
  | { type: 'charts'; requestId: string; charts: { name: string; png: ArrayBuffer }[] };

/** Panel state VS Code keeps across reloads (WebviewPanelSerializer). */
export interface PanelState {
  runId: string | null;
}

export function toWireModel(m: RfmModel): WireModel {
  return {
    task: m.task,
    kernel: m.kernel,
    bandwidth: m.bandwidth,
    featureNames: m.featureNames,
    targetName: m.targetName,
    classes: m.classes,
    standardize: m.standardize && { mean: bufferOf(m.standardize.mean), std: bufferOf(m.standardize.std) },
    M: { diag: m.M.diag, d: m.M.d, data: bufferOf(m.M.data) },
    centers: toWireMat(m.centers),
    alpha: toWireMat(m.alpha),
  };
}

export function fromWireModel(m: WireModel): RfmModel {
  return {
    task: m.task,
    kernel: m.kernel,
    bandwidth: m.bandwidth,
    featureNames: m.featureNames,
    targetName: m.targetName,
    classes: m.classes,
    standardize: m.standardize && {
      mean: new Float64Array(m.standardize.mean),
      std: new Float64Array(m.standardize.std),
    },
    M: { diag: m.M.diag, d: m.M.d, data: new Float64Array(m.M.data) },
    centers: fromWireMat(m.centers),
    alpha: fromWireMat(m.alpha),
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
