// Messages between the extension host and the lin-RFM view (docs/science.md §8). The host loads the
// matrix, computes the completion on its placement (core/compute.ts 'linrfm') and streams the curve
// (observed MSE and validation error per iteration, in batches) and, now and then, the singular value
// spectrum; the page draws them. Matrices cross as pictures: at most PICTURE_MAX cells a side, block
// averages of the real matrix when it is larger (and the page says so).
import { bufferOf } from './wire';

/** Settings of one completion as the page shows them. */
export interface LinRfmSettings {
  alpha: number;
  reg: number;
  maxIters: number;
}

/** One iteration: NaN or a missing validation set cross as null (JSON has no NaN). */
export interface WireLinRfmIteration {
  iter: number;
  observedMse: number;
  validationError: number | null;
  /** An iteration of the refit on every observed entry after convergence (no validation error then). */
  refit: boolean;
}

/** Singular values of the matrix at iteration `iter`, largest first (float64). */
export interface WireSpectrum {
  iter: number;
  values: ArrayBuffer;
}

/**
 * A matrix as drawn: `shownRows` x `shownCols` float64 values, each the mean of a `rowStep` x `colStep`
 * block of the `rows` x `cols` matrix (1 x 1 when it is small enough to show whole).
 */
export interface MatrixPicture {
  rows: number;
  cols: number;
  shownRows: number;
  shownCols: number;
  rowStep: number;
  colStep: number;
  data: ArrayBuffer;
}

/** What is being completed. */
export interface LinRfmInfo {
  /** The file as the user knows it (workspace-relative). */
  file: string;
  rows: number;
  cols: number;
  /** Observed entries (not NaN) of the input. */
  observed: number;
  settings: LinRfmSettings;
}

/** Why the iterations stopped: the validation error reached the tolerance, stopped improving, or the budget ran out. */
export type LinRfmStopReason = 'tolerance' | 'stalled' | 'max-iters';

export interface LinRfmFinal {
  converged: boolean;
  stopReason: LinRfmStopReason;
  /** Iterations until the stop (the validation-decided run). */
  iterations: number;
  /** Iterations of the refit on every observed entry that followed a converged run (0: none). */
  refitIterations: number;
  observedMse: number;
  validationError: number | null;
  rankEstimate: number;
  seconds: number;
  /** What ran and why there ("WebGPU in the extension host"). */
  reason: string;
  device: string;
  completed: MatrixPicture;
  singularValues: ArrayBuffer;
}

export type LinRfmHostToWebview =
  | { type: 'start'; info: LinRfmInfo; mask: MatrixPicture }
  /** New iterations since the last message, and the latest spectrum when one was computed. */
  | { type: 'progress'; iterations: WireLinRfmIteration[]; spectrum: WireSpectrum | null }
  | { type: 'finished'; final: LinRfmFinal }
  | { type: 'stopped'; message: string; cancelled: boolean }
  | { type: 'saved'; path: string };

/** Besides these, the page sends the control messages every page does ('ready', 'log'). */
export type LinRfmWebviewToHost = { type: 'cancel' } | { type: 'save'; format: 'npy' | 'csv' };

/** Cells a side of a drawn matrix (the heatmap's cells stay >= 4 px in a 400 px wide view). */
export const PICTURE_MAX = 80;

/** NaN, ±Infinity as null. */
export const finiteOrNull = (v: number | null | undefined): number | null =>
  v !== null && v !== undefined && Number.isFinite(v) ? v : null;

export function toWireSpectrum(iter: number, values: Float64Array): WireSpectrum {
  return { iter, values: bufferOf(values) };
}

/**
 * The picture of a rows x cols row-major matrix: whole when both sides are <= `max`, else block means
 * over ceil(rows/max) x ceil(cols/max) blocks (the last block of a side may be smaller). NaN entries
 * are skipped in a block's mean; a block with no finite entry is NaN.
 */
export function matrixPicture(values: Float64Array, rows: number, cols: number, max = PICTURE_MAX): MatrixPicture {
  if (values.length !== rows * cols) throw new Error(`matrixPicture: ${values.length} values for ${rows} x ${cols}`);
  const rowStep = Math.max(1, Math.ceil(rows / max));
  const colStep = Math.max(1, Math.ceil(cols / max));
  const shownRows = Math.ceil(rows / rowStep);
  const shownCols = Math.ceil(cols / colStep);
  const sum = new Float64Array(shownRows * shownCols);
  const count = new Float64Array(shownRows * shownCols);
  for (let i = 0; i < rows; i++) {
    const bi = Math.floor(i / rowStep) * shownCols;
    for (let j = 0; j < cols; j++) {
      const v = values[i * cols + j];
      if (!Number.isFinite(v)) continue;
      const b = bi + Math.floor(j / colStep);
      sum[b] += v;
      count[b]++;
    }
  }
  for (let b = 0; b < sum.length; b++) sum[b] = count[b] ? sum[b] / count[b] : NaN;
  return { rows, cols, shownRows, shownCols, rowStep, colStep, data: sum.buffer };
}

/** 1 where the entry is observed (finite), 0 where it is missing: the mask the view draws. */
export function observedMask(values: Float64Array): Float64Array {
  const out = new Float64Array(values.length);
  for (let k = 0; k < values.length; k++) out[k] = Number.isFinite(values[k]) ? 1 : 0;
  return out;
}

/** Axis names of a picture's rows or columns: the index, or the index range of a block. */
export function pictureNames(n: number, step: number): string[] {
  const out: string[] = [];
  for (let s = 0; s < n; s += step) out.push(step === 1 ? String(s) : `${s}–${Math.min(n, s + step) - 1}`);
  return out;
}
