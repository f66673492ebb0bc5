// Messages between the extension host and the NFA view: per layer NFM_l, AGOP_l, AGOP_l^(1/2) as inDim x inDim float64 buffers.
import type { ImageShape } from '../core/data/images';
import type { WireCollapse } from './collapse';
import type { EigenAlignment, NfaCorrelations } from '../core/nfa/correlation';

export interface WireNfaLayer {
  name: string;
  shape: [number, number];
  /** 'conv': a Conv2d layer, its matrices over c kh kw patch entries and `filter` = [c, kh, kw]. */
  kind?: 'conv' | 'dense';
  filter?: [number, number, number];
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
  /** C, H, W of the first layer's inputs when the dataset declared them an image (Dataset.imageShape). */
  imageShape?: ImageShape | null;
  /**
   * The Neural Collapse tab: NC1/NC2 per layer (train and held-out) and the class means in 2-D; null
   * with `collapseNote` saying why when not computed (a numeric target, a conv network).
   */
  collapse?: WireCollapse | null;
  collapseNote?: string | null;
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
  /** Conv networks: the architecture JSON (as the CLI's --arch file holds) and the flags for every conv layer. */
  arch?: Record<string, unknown>;
  stride?: number;
  padding?: number;
  pool?: string;
  /** Held-out dataset URI for the Neural Collapse tab. */
  test?: string | null;
}

/** The NFA form's choices: everything the command asks, in one step (remembered per weights file). */
export interface NfaFormChoices {
  /** Dataset file URI. */
  data: string;
  target: string;
  activation: string;
  /** Dense layers kept, input to output (all by default). */
  layers: string[];
  /** Initial weights file URI: NFM_l = (W_l - W0_l)^T (W_l - W0_l). */
  init: string | null;
  standardize: boolean;
  /** 'fit', 'none' or a saved run's id. */
  rfm: string;
  /** Held-out dataset URI for the Neural Collapse tab (optional). */
  test?: string | null;
}

export interface NfaFormDataset {
  uri: string;
  label: string;
  /** Columns counted from the file's first bytes; null when they do not tell (Parquet, .npz). */
  columns: number | null;
}

/** What the form offers for one weights file. */
export interface NfaForm {
  weights: string;
  /** The first dense layer's input width: the data must have this many input columns (null: a conv network, no filter). */
  inputDim: number | null;
  layerOrder: string;
  ignored: string[];
  /** The dense chain (empty for a conv network, whose layers follow from its architecture). */
  layers: { name: string; shape: [number, number]; bias: string | null }[];
  activations: string[];
  /** Workspace files whose width fits (columns - 1 = inputDim), then those whose width is unknown. */
  datasets: NfaFormDataset[];
  /** Workspace dataset files left out because their width does not fit. */
  otherWidths: number;
  /** Saved RFM runs on data of the network's input width. */
  runs: { id: string; label: string }[];
  /** The choices last used with this weights file, or null. */
  choices: NfaFormChoices | null;
}

export type NfaHostToWebview =
  /** Show the form (before a computation, and kept above its result to change and compute again). */
  | { type: 'form'; form: NfaForm }
  /** The target columns of a dataset the form chose (or why it cannot be read). */
  | { type: 'columns'; data: string; columns: string[]; suggested: string; error: string | null }
  /** A file chosen through the open dialog for the form. */
  | { type: 'picked'; what: 'data' | 'init' | 'test'; uri: string; label: string; columns: number | null }
  | { type: 'show'; view: NfaView }
  | { type: 'progress'; message: string }
  | { type: 'failed'; message: string }
  /** Keep this as the page's state (sent when the computation starts, so a reload mid-way recomputes). */
  | { type: 'persist'; state: NfaPanelState };

/** The page's own messages ('ready' and log lines are the page control every page sends, see vscodeApi.ts). */
export type NfaWebviewToHost =
  | { type: 'copy'; text: string; what: string }
  /** The form's dataset changed: list its columns for the target. */
  | { type: 'columns'; data: string }
  /** Open a file dialog for the dataset or the initial weights. */
  | { type: 'browse'; what: 'data' | 'init' | 'test' }
  | { type: 'compute'; choices: NfaFormChoices };
