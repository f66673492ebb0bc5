// Messages between the extension host and the Feature Lens panel. Both sides import these types, so a
// renamed field breaks the build. Tensors travel as ArrayBuffers with their shape beside them (the
// webview message channel structured-clones them); never as JSON arrays of numbers.
import type { Dataset, Task } from './core/data/dataset';
import type { FitResult, IterationRecord, RfmModel, RfmOptions } from './core/rfm/types';
import { mat, type Mat } from './core/mat';
import type { EigenAlignment, NfaCorrelations } from './core/nfa/correlation';

/** Where a fit may run. 'auto' tries the panel's WebGPU, then Dawn in the host, then the CPU. */
export type BackendChoice = 'auto' | 'webgpu' | 'cpu';

/** A float64 matrix crossing the boundary: `data` holds rows*cols little-endian f64 values. */
export interface WireMat {
  rows: number;
  cols: number;
  data: ArrayBuffer;
}

/** A Dataset (src/core/data/dataset.ts) with its arrays as buffers. */
export interface WireDataset {
  source: string;
  X: WireMat;
  /** Float64 class indices or regression targets. */
  y: ArrayBuffer;
  featureNames: string[];
  targetName: string;
  task: Task;
  classes?: string[];
}

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
  iterations: IterationRecord[];
  bestIter: number;
  /** d x d row-major float64, absent while fitting. */
  M: ArrayBuffer | null;
  final: { train_metric: number; test_metric: number | null; test_mse: number | null } | null;
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

export function bufferOf(a: Float64Array): ArrayBuffer {
  // A view into a larger buffer would send the whole buffer: copy out exactly its bytes.
  if (a.byteOffset === 0 && a.byteLength === a.buffer.byteLength) return a.buffer as ArrayBuffer;
  return a.slice().buffer as ArrayBuffer;
}

export function toWireMat(m: Mat): WireMat {
  return { rows: m.rows, cols: m.cols, data: bufferOf(m.data) };
}

export function fromWireMat(w: WireMat): Mat {
  return mat(w.rows, w.cols, new Float64Array(w.data));
}

export function toWireDataset(d: Dataset): WireDataset {
  return {
    source: d.source,
    X: toWireMat(d.X),
    y: bufferOf(d.y),
    featureNames: d.featureNames,
    targetName: d.targetName,
    task: d.task,
    classes: d.classes,
  };
}

export function fromWireDataset(w: WireDataset): Dataset {
  return {
    source: w.source,
    X: fromWireMat(w.X),
    y: new Float64Array(w.y),
    featureNames: w.featureNames,
    targetName: w.targetName,
    task: w.task,
    classes: w.classes,
  };
}

export function toWireFitResult(r: FitResult): WireFitResult {
  const d = r.d;
  const M = new Float64Array(d * d);
  r.M.forEach((row, i) => M.set(row, i * d));
  const m = r.model;
  return {
    ...r,
    M: M.buffer,
    importance: Float64Array.from(r.importance).buffer,
    model: {
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
    },
  };
}

export function fromWireFitResult(w: WireFitResult): FitResult {
  const d = w.d;
  const flat = new Float64Array(w.M);
  const M: number[][] = [];
  for (let i = 0; i < d; i++) M.push(Array.from(flat.subarray(i * d, (i + 1) * d)));
  const m = w.model;
  const model: RfmModel = {
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
  return {
    ...w,
    backend: w.backend as FitResult['backend'],
    M,
    importance: Array.from(new Float64Array(w.importance)),
    model,
  };
}

// ---- Weights editor (issue 5): a table of tensors; values stay in the host, stats arrive one by one.

/** One tensor row of the weights editor. */
export interface WireTensorInfo {
  name: string;
  dtype: string;
  shape: number[];
  byteLength: number;
}

export interface WireTensorStats {
  min: number;
  max: number;
  mean: number;
  std: number;
  nonFinite: number;
}

/** A non-tensor value of a checkpoint (epoch, loss, config...): core/weights MetadataEntry. */
export interface WireMetadataEntry {
  name: string;
  pyType: string;
  value: string;
}

export type WeightsHostToWebview =
  | {
      type: 'tensors';
      file: string;
      format: string;
      sizeBytes: number;
      tensors: WireTensorInfo[];
      note: string | null;
      metadata: WireMetadataEntry[];
      /** The checkpoint dict the network is read from (its 2-D weights link to the NFA view), or null for the whole file. */
      modelScope: string | null;
    }
  | { type: 'stats'; name: string; stats: WireTensorStats | null; error: string | null }
  | { type: 'failed'; message: string };

export type WeightsWebviewToHost =
  | { type: 'ready' }
  /** A 2-D tensor was clicked: open the NFA view of the network, focused on this layer. */
  | { type: 'openNfa'; tensor: string };

// ---- NFA view (issue 5): per layer NFM_l, AGOP_l, AGOP_l^(1/2) as inDim x inDim float64 buffers.

export interface WireNfaLayer {
  name: string;
  shape: [number, number];
  /** Names of the layer's inputs: the dataset's features for the first layer, h1..hn after. */
  inputNames: string[];
  nfm: ArrayBuffer;
  agop: ArrayBuffer;
  sqrtAgop: ArrayBuffer;
  correlation: NfaCorrelations;
  eigen: EigenAlignment;
}

export interface WireNfaRfm {
  /** 'fit' when fitted on the same rows, else the run id it came from. */
  source: string;
  comparedWith: string;
  d: number;
  M: ArrayBuffer;
  /** NFM_1 against M and M^(1/2) (agop = M, sqrt_agop = M^(1/2)). */
  correlation: NfaCorrelations;
}

export interface NfaView {
  title: string;
  weights: string;
  data: string;
  target: string;
  activation: string;
  rows: number;
  minusInit: boolean;
  layerOrder: string;
  layers: WireNfaLayer[];
  rfm: WireNfaRfm | null;
  /** Layer to show first (a tensor clicked in the weights editor). */
  focus: string | null;
  /** The numbers a "Copy as JSON" gives: the CLI's `nfa --json` report. */
  report: string;
  /** Where the network AGOPs ran, and why not on WebGPU when it fell back. */
  backend: string;
  device: string;
  backendNote: string | null;
}

/**
 * What an NFA view keeps across reloads (webview state, WebviewPanelSerializer): the computation's
 * inputs, URIs as strings, so the view is computed again from the same files.
 */
export interface NfaPanelState {
  title: string;
  /** How the view names the weights when not by their path (the training lab's kept network). */
  weightsLabel?: string;
  weights: string;
  data: string;
  target: string | number;
  activation: string;
  /** Dense layers, input to output, as the network view names them (`0.weight`). */
  layers: string[];
  init: string | null;
  standardize: boolean;
  /** 'fit', 'none' or a saved run's id. */
  rfm: string;
  rfmIters?: number;
  rfmBandwidth?: number;
  rfmRows?: number;
  focus: string | null;
}

export type NfaHostToWebview =
  | { type: 'show'; view: NfaView }
  | { type: 'progress'; message: string }
  | { type: 'failed'; message: string }
  /** Keep this as the page's state (sent when the computation starts, so a reload mid-way recomputes). */
  | { type: 'persist'; state: NfaPanelState };

export type NfaWebviewToHost = { type: 'ready' } | { type: 'copy'; text: string; what: string };

// ---- Training lab (issue 5).

export interface NfaLabSettings {
  width: number;
  depth: number;
  activation: string;
  optimizer: 'sgd' | 'adam';
  lr: number;
  batch: number;
  epochs: number;
  seed: number;
}

export interface NfaLabEpoch {
  epoch: number;
  loss: number;
  /** Per layer, Pearson of NFM_l with AGOP_l^(1/2) and AGOP_l. */
  layers: { name: string; pearsonSqrt: number; pearson: number }[];
}

/** What the training lab keeps across reloads: its data, settings, curves and the trained network's file. */
export interface NfaLabPanelState {
  data: string | null;
  target: string | number | null;
  settings: NfaLabSettings;
  /** The last training's epochs (thinned to at most a few thousand). */
  epochs: NfaLabEpoch[];
  total: number;
  /** The trained network, saved as float64 .safetensors in the extension's storage, or null. */
  trained: string | null;
  message: string;
}

export type NfaLabHostToWebview =
  | {
      type: 'dataset';
      name: string | null;
      target: string | null;
      rows: number;
      cols: number;
      task: string | null;
      settings: NfaLabSettings;
    }
  | { type: 'persist'; state: NfaLabPanelState }
  /** A revived lab: redraw the saved curves; `trained` enables Inspect and Save. */
  | { type: 'restore'; epochs: NfaLabEpoch[]; total: number; trained: boolean; message: string; error: boolean }
  | { type: 'started'; settings: NfaLabSettings }
  /** Where the network trains (sent at the start and again when a device failure moves training to the CPU). */
  | ({ type: 'backend' } & LabBackendInfo)
  /** Epochs since the last message (batched: fast epochs must not flood the page). */
  | { type: 'epochs'; records: NfaLabEpoch[]; total: number }
  | { type: 'finished'; cancelled: boolean; message: string }
  | { type: 'failed'; message: string };

export type NfaLabWebviewToHost =
  | { type: 'ready' }
  | { type: 'chooseDataset' }
  | { type: 'train'; settings: NfaLabSettings }
  | { type: 'cancel' }
  | { type: 'inspect' }
  | { type: 'save' };
// ---- Loss-spike view (issue 6): a training log followed live -------------------------------------

/** A spike as the view draws and lists it (src/core/logs/spikes.ts Spike; positions in log steps). */
export interface WireSpike {
  start: number;
  peak: number;
  end: number;
  /** null when the peak is NaN/Infinity (structured clone keeps Infinity, JSON would not: be explicit). */
  heightRatio: number | null;
  width: number;
  recovered: boolean;
  peakValue: number | null;
  baseline: number;
}

/** Which loss column is shown, or the choice the user has to make. */
export interface LogColumnState {
  /** The column followed, null while waiting for data or for the user's pick. */
  column: string | null;
  /** Likeliest columns when no single one is best (the picker offers these first). */
  candidates: string[];
  /** Every numeric column/key/tag seen so far. */
  all: string[];
}

export type LogsHostToWebview =
  /** `requested` is the file or run folder the user asked for: the page keeps it for WebviewPanelSerializer. */
  | { type: 'logInfo'; title: string; source: string; requested: string; logScale: boolean; smoothing: number }
  /**
   * New points of the followed column since the last message, batched (about 10 per second).
   * `reset` drops everything shown before (file rewritten, column switched). steps/values are
   * float64 arrays of equal length.
   */
  /** Show this step range (the user chose *Show* on a spike notification). */
  | { type: 'logZoom'; start: number; end: number }
  | {
      type: 'logPoints';
      reset: boolean;
      steps: ArrayBuffer;
      values: ArrayBuffer;
      spikes: WireSpike[];
      openSpike: WireSpike | null;
      columns: LogColumnState;
      status: string;
      problems: string[];
    };

/** What a spikes view keeps across reloads. */
export interface LogsPanelState {
  requested: string;
  column: string | null;
}

export type LogsWebviewToHost =
  | { type: 'ready' }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'pickColumn'; column: string }
  /** What the view holds after applying a message (for tests and the host's status). */
  | { type: 'logShown'; points: number; spikes: number };

// ---- Catapult lab (issue 6): runs in the webview (the core is pure TS) --------------------------

export interface LabSettings {
  model: 'linear' | 'relu';
  width: number;
  lrFactor: number;
  steps: number;
  /** Rows per step; the row count or more (Number.MAX_SAFE_INTEGER for "GD") is full-batch GD. */
  batch: number;
  seed: number;
  /** Where the ReLU model trains (the linear toy is always the exact recursion); default the `featureLens.backend` setting. */
  backend?: 'auto' | 'webgpu' | 'cpu';
}

/** Which backend a lab run used, and why not WebGPU when it was not. */
export interface LabBackendInfo {
  backend: string;
  device: string;
  backendNote: string | null;
}

export type LabHostToWebview =
  | { type: 'labInit'; settings: LabSettings }
  /** Train the ReLU network on this table instead of the synthetic task (null: back to synthetic). */
  | { type: 'labDataset'; name: string; dataset: WireDataset | null }
  /** Run with these settings now (command arguments, tests). */
  | { type: 'labRun'; requestId: string; settings: LabSettings; sweep: 'none' | 'lr' | 'batch' }
  /** The user cancelled the run's progress notification. */
  | { type: 'labCancel' };

export type LabWebviewToHost =
  | { type: 'ready' }
  | { type: 'labPickDataset' }
  /** A run began (from the page's buttons or labRun): the host shows its progress with a Cancel button. */
  | { type: 'labStarted'; requestId: string; what: string }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  /** A finished run's summary (losses as float64 buffers); requestId echoes labRun's, '' for UI runs. */
  | ({
      type: 'labDone';
      requestId: string;
      model: 'linear' | 'relu';
      lambda0: number;
      lr: number;
      phase: string;
      catapults: number;
      losses: ArrayBuffer;
      seconds: number;
    } & LabBackendInfo)
  | ({
      type: 'labSweepDone';
      requestId: string;
      sweep: 'lr' | 'batch';
      rows: { x: number; phase: string; catapults: number }[];
      seconds: number;
    } & LabBackendInfo)
  | { type: 'labFailed'; requestId: string; message: string };

export function toWireSpike(s: {
  start: number;
  peak: number;
  end: number;
  heightRatio: number;
  width: number;
  recovered: boolean;
  peakValue: number;
  baseline: number;
}): WireSpike {
  const fin = (v: number) => (Number.isFinite(v) ? v : null);
  return {
    start: s.start,
    peak: s.peak,
    end: s.end,
    heightRatio: fin(s.heightRatio),
    width: s.width,
    recovered: s.recovered,
    peakValue: fin(s.peakValue),
    baseline: s.baseline,
  };
}
