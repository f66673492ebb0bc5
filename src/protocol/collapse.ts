// Messages between the extension host and the neural-collapse pages (docs: SCIENCE.md §7): the NFA view's
// Neural Collapse tab (per-layer NC1/NC2, train and held-out, class means in 2-D) and the collapse view
// (Deep RFM with and without the AGOP step; NC1 per layer over a series of checkpoints).
import { bufferOf } from './wire';

/** NC1 = tr Σ_W / tr Σ_B, the classic tr(Σ_W Σ_B⁺)/K, NC2 = mean (Ĝ − E)² (SCIENCE.md §7). */
export interface WireNc {
  nc1: number;
  nc1Classic: number;
  nc2: number;
}

/** One layer on the training rows, with its class means on their top-2 principal directions (K x 2 float64). */
export interface WireCollapseLayer extends WireNc {
  /** 'input' for the data itself, else the layer whose post-activation features these are. */
  name: string;
  means2d: ArrayBuffer;
  /** The same layer on the held-out rows (over the classes they contain). */
  test: WireNc | null;
}

/** The NFA view's Neural Collapse tab: the input, then each hidden layer's post-activation features. */
export interface WireCollapse {
  classes: string[];
  layers: WireCollapseLayer[];
  /** The held-out dataset as the user knows it, or null when none was chosen. */
  heldOut: string | null;
  /** The CLI's `collapse --json` report, for Copy as JSON. */
  report: string;
  device: string;
}

/** Deep RFM (SCIENCE.md §7): layer 0 is the input; both curves from the same rows, width, seed. */
export interface DeepRfmView {
  kind: 'deepRfm';
  title: string;
  data: string;
  target: string;
  rows: number;
  classes: number;
  depth: number;
  width: number;
  bandwidth: number;
  seed: number;
  withAgop: WireNc[];
  withoutAgop: WireNc[];
  /** `{agop: <deep-rfm --json>, control: <deep-rfm --no-agop --json>}`, for Copy as JSON. */
  report: string;
  device: string;
}

/** NC1 per hidden layer over a series of checkpoints (natural name order), on one dataset. */
export interface CheckpointsView {
  kind: 'checkpoints';
  title: string;
  data: string;
  target: string;
  /** Checkpoint files as the user knows them, in natural name order (the x axis). */
  checkpoints: string[];
  /** Hidden layer names (one line each). */
  layers: string[];
  /** nc1[checkpoint][layer], and the same on the held-out rows when given. */
  nc1: number[][];
  nc2: number[][];
  testNc1: number[][] | null;
  heldOut: string | null;
  /** One `collapse --json` report per checkpoint, keyed by file. */
  report: string;
  device: string;
}

export type CollapseView = DeepRfmView | CheckpointsView;

/**
 * What a collapse view keeps across reloads: the inputs, URIs as strings, so the view is computed again
 * from the same files.
 */
export interface CollapsePanelState {
  kind: 'deepRfm' | 'checkpoints';
  title: string;
  data: string;
  target: string | number;
  /** Deep RFM's settings. */
  depth?: number;
  width?: number;
  bandwidth?: number;
  seed?: number;
  /** Checkpoints: the weight files, the activation and an optional held-out dataset. */
  weights?: string[];
  activation?: string;
  test?: string | null;
}

export type CollapseHostToWebview =
  /** A layer (or checkpoint) done: `partial` is what is known so far, drawn as it grows. */
  | { type: 'progress'; message: string; partial: CollapseView | null }
  | { type: 'show'; view: CollapseView }
  | { type: 'failed'; message: string }
  /** Keep this as the page's state (sent when the computation starts, so a reload mid-way recomputes). */
  | { type: 'persist'; state: CollapsePanelState };

export type CollapseWebviewToHost = { type: 'copy'; text: string; what: string };

export const wireNc = (m: WireNc): WireNc => ({ nc1: m.nc1, nc1Classic: m.nc1Classic, nc2: m.nc2 });

/** A layer for the wire: its K x 2 means as a buffer. */
export function wireCollapseLayer(
  name: string,
  train: WireNc,
  means2d: Float64Array,
  test: WireNc | null,
): WireCollapseLayer {
  return { name, ...wireNc(train), means2d: bufferOf(means2d), test: test && wireNc(test) };
}
