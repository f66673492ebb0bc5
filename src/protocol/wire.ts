// Tensors cross the host/page boundary as ArrayBuffers with their shape beside them (the webview
// message channel structured-clones them), never as JSON arrays of numbers.
import type { Dataset, Task } from '../core/data/dataset';
import { mat, type Mat } from '../core/mat';

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
