// Messages between the extension host and the catapult lab page. The host decides where each run
// computes (core/compute.ts, table 'catapult'): on the page's GPU or thread (labRun, answered with
// labOutcome or labFailed) or on the host, which then streams the steps and the outcome for the page
// to draw.
import type { PageFailure } from './failure';
import type { BatchSweepPoint, LabSettings as CoreLabSettings, LabOutcome, LabSweep } from '../core/catapult/index';
import type { BackendChoice, Placement } from '../core/compute';
import { bufferOf, type WireDataset } from './wire';

export interface LabSettings extends CoreLabSettings {
  /** Where the ReLU network trains (the linear toy is always the exact recursion); default the `featureLens.backend` setting. */
  backend?: BackendChoice;
}

/** Which backend a lab run used, and why not the first choice when it was not (also the NFA lab's). */
export interface LabBackendInfo {
  backend: string;
  device: string;
  backendNote: string | null;
}

/** Where a catapult-lab run computed and why there: `reason` is the one short line the page shows. */
export interface LabRunInfo extends LabBackendInfo {
  backend: 'cpu' | 'webgpu';
  placement: Placement;
  /** What ran and why ("WebGPU in the extension host (WebGPU in the panel: no adapter)"). */
  reason: string;
  /** Why not the first placement of the plan (or why the linear toy ignores the backend); null when the first ran. */
  backendNote: string | null;
}

/** A LabTrajectory crossing: float64 arrays as buffers, non-finite numbers as null (explicit: JSON has none). */
export interface WireLabTrajectory {
  model: 'linear' | 'relu';
  lambda0: number;
  lr: number;
  phase: string;
  losses: ArrayBuffer;
  lambdaSteps: ArrayBuffer;
  lambdas: ArrayBuffer;
  alignments: ArrayBuffer | null;
  catapults: { start: number; peak: number; end: number }[];
  edge: number;
  testLoss: number | null;
}

export interface WireLrSweepRow {
  etaOverEdge: number;
  phase: string;
  catapults: number;
  /** null: the run diverged to a non-finite loss. */
  maxLoss: number | null;
  /** Linear toy only: the exact scalar recursion's phase. */
  recursionPhase?: string;
}

export type WireLabOutcome =
  | { kind: 'run'; run: WireLabTrajectory }
  | { kind: 'lrSweep'; model: 'linear' | 'relu'; rows: WireLrSweepRow[] }
  | { kind: 'batchSweep'; batches: number[]; seeds: number[]; rows: BatchSweepPoint[] };

/** One step of a run computing elsewhere, for the live loss chart (loss null: non-finite). */
export interface WireLabStep {
  step: number;
  loss: number | null;
  lambda?: number;
}

/** Why a page could not finish a run: each kind is raised again on the host as its error class. */
export type LabFailure = PageFailure;

export type LabHostToWebview =
  | { type: 'labInit'; settings: LabSettings }
  /** Train the ReLU network on this table instead of the synthetic task (null: back to synthetic). */
  | { type: 'labDataset'; name: string; dataset: WireDataset | null }
  /** Request: compute this run on the page's GPU or thread. */
  | { type: 'labRun'; placement: 'page-gpu' | 'page-cpu'; settings: LabSettings; sweep: LabSweep }
  /** A run began (from the page's buttons or a command): the page shows it is busy. */
  | { type: 'labStarted'; settings: LabSettings; sweep: LabSweep }
  /** Steps of a run computing on the host. */
  | { type: 'labProgress'; steps: WireLabStep[] }
  /** A run ended; `outcome` is set when the page did not compute it itself. */
  | { type: 'labFinished'; settings: LabSettings; outcome: WireLabOutcome | null; info: LabRunInfo }
  | { type: 'labStopped'; message: string; cancelled: boolean }
  /** Stop the run computing on the page. */
  | { type: 'labCancel' };

/** Besides these, the page sends the control messages every page does ('ready', 'log'; see WebviewHost). */
export type LabWebviewToHost =
  | { type: 'labPickDataset' }
  | { type: 'labSynthetic' }
  /** The page's buttons: the host places and runs it. */
  | { type: 'labStart'; settings: LabSettings; sweep: LabSweep }
  | { type: 'labStop' }
  /** Replies to labRun. */
  | { type: 'labOutcome'; outcome: WireLabOutcome; backend: 'cpu' | 'webgpu'; device: string; seconds: number }
  | { type: 'labFailed'; failure: LabFailure };

const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);

export function toWireLabOutcome(o: LabOutcome): WireLabOutcome {
  switch (o.kind) {
    case 'run': {
      const r = o.run;
      return {
        kind: 'run',
        run: {
          model: r.model,
          lambda0: r.lambda0,
          lr: r.lr,
          phase: r.phase,
          losses: bufferOf(r.losses),
          lambdaSteps: bufferOf(r.lambdaSteps),
          lambdas: bufferOf(r.lambdas),
          alignments: r.alignments ? bufferOf(r.alignments) : null,
          catapults: r.catapults.map(({ start, peak, end }) => ({ start, peak, end })),
          edge: r.edge,
          testLoss: r.testLoss,
        },
      };
    }
    case 'lrSweep':
      return {
        kind: 'lrSweep',
        model: o.model,
        rows: o.rows.map((p) => ({
          etaOverEdge: p.etaOverEdge,
          phase: p.phase,
          catapults: p.catapults,
          maxLoss: finite(p.maxLoss),
          ...(p.recursionPhase ? { recursionPhase: p.recursionPhase } : {}),
        })),
      };
    case 'batchSweep':
      return { kind: 'batchSweep', batches: [...o.batches], seeds: [...o.seeds], rows: [...o.rows] };
  }
}

export const toWireLabStep = (p: { step: number; loss: number; lambda?: number }): WireLabStep => ({
  step: p.step,
  loss: finite(p.loss),
  ...(p.lambda !== undefined ? { lambda: p.lambda } : {}),
});
