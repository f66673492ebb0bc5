// Messages between the extension host and the ConvRFM view: per-iteration metrics as they come, then the
// fit once (M as a D x D float64 buffer; the page draws diag(M) and its top eigenvectors as C x q x q
// filters with core/data/images matrixImages).
import type { ConvRfmIteration, ConvRfmResult } from '../core/rfm/conv-fit';
import { bufferOf } from './wire';

export interface WireConvRfmIteration {
  iter: number;
  trainMetric: number;
  testMetric: number | null;
  testMse: number | null;
  seconds: number;
}

export interface ConvRfmView {
  title: string;
  /** The data file as the user knows it (workspace-relative). */
  data: string;
  task: 'classification' | 'regression';
  nTrain: number;
  nTest: number;
  imageShape: [number, number, number];
  patch: number;
  stride: number;
  positions: number;
  kernel: string;
  bandwidth: number;
  iterations: WireConvRfmIteration[];
  /** D = C·q·q; M is D x D row-major float64. */
  patchDim: number;
  M: ArrayBuffer;
  /** The CLI's `convrfm --json` report, for Copy as JSON. */
  report: string;
  device: string;
}

/**
 * What a ConvRFM view keeps across window reloads (its webview state): the image file and the command's
 * options, so the revived view fits again (the fit is seeded, so it shows the same numbers).
 */
export interface ConvRfmPanelState {
  title: string;
  /** The image file's URI. */
  data: string;
  /** featureLens.fitConvRfm's options as given (ConvRfmArgs, without `panel`). */
  args: Record<string, unknown>;
}

export type ConvRfmHostToWebview =
  | { type: 'persist'; state: ConvRfmPanelState }
  | { type: 'progress'; message: string; iterations: WireConvRfmIteration[] }
  | { type: 'show'; view: ConvRfmView }
  | { type: 'failed'; message: string };

export type ConvRfmWebviewToHost = { type: 'copy'; text: string; what: string };

export function toWireIteration(it: ConvRfmIteration): WireConvRfmIteration {
  return {
    iter: it.iter,
    trainMetric: it.trainMetric,
    testMetric: it.testMetric,
    testMse: it.testMse,
    seconds: it.seconds,
  };
}

export function toConvRfmView(r: ConvRfmResult, o: { title: string; data: string; report: string }): ConvRfmView {
  return {
    ...o,
    task: r.task,
    nTrain: r.nTrain,
    nTest: r.nTest,
    imageShape: [...r.imageShape],
    patch: r.options.patch,
    stride: r.options.stride,
    positions: r.positions,
    kernel: r.options.kernel,
    bandwidth: r.options.bandwidth,
    iterations: r.iterations.map(toWireIteration),
    patchDim: r.patchDim,
    M: bufferOf(r.M),
    device: r.device,
  };
}
