// Messages between the extension host and the Grokking Lab page. The host decides where each run
// computes (core/compute.ts, table 'grokking'): on the page's GPU or thread (grokRun, answered with
// grokDone or grokFailed; the page draws its own iterations) or on the host, which then streams each
// iteration (grokIteration) and the final alignments for the page to draw.
import type { PageFailure } from './failure';
import type { BackendChoice, Placement } from '../core/compute';
import type { GrokIteration, GrokOptions } from '../core/rfm/grokking/run';
import { bufferOf } from './wire';

export interface GrokSettings extends GrokOptions {
  /** Default: the `featureLens.backend` setting. */
  backend?: BackendChoice;
}

/** One iteration crossing: numbers that may be NaN as null (JSON has none); M_t as float64 bytes. */
export interface WireGrokIteration {
  iter: number;
  trainAcc: number;
  testAcc: number;
  testMse: number;
  circulantDeviation: number | null;
  alignmentPrev: number | null;
  traceM: number;
  jitter: number;
  seconds: number;
  /** M_t, 2p x 2p row-major float64. */
  M: ArrayBuffer;
}

export interface GrokRunInfo {
  backend: 'cpu' | 'webgpu';
  device: string;
  placement: Placement;
  /** What ran and why there ("WebGPU in the extension host (WebGPU in the panel: no adapter)"). */
  reason: string;
}

export type GrokFailure = PageFailure;

export type GrokHostToWebview =
  /** `trainCommand`: the command that trains a network on the task, when the extension has one. */
  | { type: 'grokInit'; settings: GrokSettings; trainCommand: string | null }
  /** Request: compute this run on the page's GPU or thread. */
  | { type: 'grokRun'; placement: 'page-gpu' | 'page-cpu'; settings: GrokSettings }
  | { type: 'grokStarted'; settings: GrokSettings }
  /** An iteration of a run computing on the host. */
  | { type: 'grokIteration'; iteration: WireGrokIteration }
  /** A run ended: rho(M_t, M_T) per iteration and where it ran. */
  | { type: 'grokFinished'; agopAlignment: number[]; info: GrokRunInfo; seconds: number }
  | { type: 'grokStopped'; message: string; cancelled: boolean }
  | { type: 'grokCancel' };

/** Besides these, the page sends the control messages every page does ('ready', 'log'). */
export type GrokWebviewToHost =
  | { type: 'grokStart'; settings: GrokSettings }
  | { type: 'grokStop' }
  /** "Train the network on this task": the host runs the training-lab command. */
  | { type: 'grokTrainNetwork'; settings: GrokSettings }
  /** Replies to grokRun. */
  | { type: 'grokDone'; agopAlignment: number[]; backend: 'cpu' | 'webgpu'; device: string; seconds: number }
  | { type: 'grokFailed'; failure: GrokFailure };

const finite = (v: number | null): number | null => (v !== null && Number.isFinite(v) ? v : null);

export function toWireGrokIteration(it: GrokIteration, M: Float64Array): WireGrokIteration {
  return {
    iter: it.iter,
    trainAcc: it.trainAcc,
    testAcc: it.testAcc,
    testMse: it.testMse,
    circulantDeviation: finite(it.circulantDeviation),
    alignmentPrev: finite(it.alignmentPrev),
    traceM: it.traceM,
    jitter: it.jitter,
    seconds: it.seconds,
    M: bufferOf(M),
  };
}
