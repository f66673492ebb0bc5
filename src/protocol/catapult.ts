// Messages between the extension host and the catapult lab page (the lab trains in the page, or on the host when the page has no WebGPU).
import type { WireDataset } from './wire';

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
