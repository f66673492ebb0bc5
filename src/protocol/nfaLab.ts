// Messages between the extension host and the NFA training lab page.
import type { LabBackendInfo } from './catapult';

export interface NfaLabSettings {
  /** 'dataset': the chosen file; 'modular': x = [onehot(a), onehot(b)] -> onehot((a op b) mod p), generated. */
  task: 'dataset' | 'modular';
  /** The modular task (docs/science.md §4): operation, prime modulus, fraction of pairs that trains. */
  op: 'add' | 'sub' | 'mul' | 'div';
  p: number;
  trainFrac: number;
  width: number;
  depth: number;
  activation: string;
  optimizer: 'sgd' | 'adam' | 'adamw';
  lr: number;
  /** AdamW's weight decay. */
  weightDecay: number;
  /** Biases in every layer (off for the grokking networks). */
  bias: boolean;
  batch: number;
  epochs: number;
  seed: number;
}

export interface NfaLabEpoch {
  epoch: number;
  loss: number;
  /** Per layer, Pearson of NFM_l with AGOP_l^(1/2) and AGOP_l. */
  layers: { name: string; pearsonSqrt: number; pearson: number }[];
  /** With held-out rows (the modular task's test pairs): accuracies (null for one output) and the held-out MSE. */
  trainAccuracy?: number | null;
  testAccuracy?: number | null;
  testLoss?: number;
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

/** The page's own messages ('ready' and log lines are the page control every page sends). */
export type NfaLabWebviewToHost =
  | { type: 'chooseDataset' }
  | { type: 'train'; settings: NfaLabSettings }
  | { type: 'cancel' }
  | { type: 'inspect' }
  | { type: 'save' };
