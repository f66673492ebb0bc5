// Messages between the extension host and the NFA view: per layer NFM_l, AGOP_l, AGOP_l^(1/2) as inDim x inDim float64 buffers.
import type { ImageShape } from '../core/data/images';
import type { EigenAlignment, NfaCorrelations } from '../core/nfa/correlation';

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
  /** C, H, W of the first layer's inputs when the dataset declared them an image (Dataset.imageShape). */
  imageShape?: ImageShape | null;
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

/** The page's own messages ('ready' and log lines are the page control every page sends, see vscodeApi.ts). */
export type NfaWebviewToHost = { type: 'copy'; text: string; what: string };
