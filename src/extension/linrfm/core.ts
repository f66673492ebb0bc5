// The one place the lin-RFM view meets core/linrfm (completeMatrix, its options and report) and the
// matrix writers: the panel and the command see only the shapes below, so a change of the core's
// signatures costs an edit here.
import { CancelledError, InputError } from '../../core/errors';
import { planPlacements, type BackendChoice, type Placement } from '../../core/compute';

/** A matrix to complete: rows x cols row-major, NaN = missing. */
export interface MatrixInput {
  rows: number;
  cols: number;
  values: Float64Array;
}

export interface CompletionSettings {
  /** M = (WᵀW/m)^α: ½ (no SVD) or 1. */
  alpha: number;
  /** λ, the ridge of the per-row solves at the start. */
  reg: number;
  maxIters: number;
}

export const DEFAULT_SETTINGS: CompletionSettings = { alpha: 0.5, reg: 5e-2, maxIters: 3000 };

export interface CompletionStep {
  iter: number;
  observedMse: number;
  validationError: number | null;
  /** Singular values of the iterate, when the core computed them this iteration. */
  singularValues?: Float64Array;
}

export interface CompletionOutcome {
  completed: Float64Array;
  converged: boolean;
  iterations: number;
  observedMse: number;
  validationError: number | null;
  rankEstimate: number;
  singularValues: Float64Array;
  seconds: number;
  device: string;
  /** The core's JSON report (the CLI's `complete --json`), snake_case. */
  report: Record<string, unknown>;
}

/** Settings from a command's arguments over the defaults, checked by the core's option validation. */
export function parseSettings(raw: Record<string, unknown>, where: string): CompletionSettings {
  const out = { ...DEFAULT_SETTINGS };
  for (const key of Object.keys(DEFAULT_SETTINGS) as (keyof CompletionSettings)[]) {
    const v = raw[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new InputError(`${where} ${key}: expected a number`);
    out[key] = v;
  }
  return out;
}

/** What is wrong with `text` as the value of `key` (an input box's check), or undefined. */
export function settingProblem(key: keyof CompletionSettings, text: string): string | undefined {
  void key;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v)) return 'a number';
  return undefined;
}

/** The host placements a completion tries, in order (core/compute.ts). */
export function completionPlan(choice: BackendChoice): Placement[] {
  return planPlacements('convrfm', choice, { page: false });
}

/** Parses a matrix file's bytes on the dataset worker (never on the extension host's thread). */
export async function loadMatrix(bytes: Uint8Array, fileName: string, signal?: AbortSignal): Promise<MatrixInput> {
  void bytes;
  void signal;
  throw new InputError(`${fileName}: reading matrices needs the core's matrix loader (not in this build yet)`);
}

/** Completes `matrix` on `placement`; `onStep` hears each iteration; `signal` cancels (CancelledError). */
export async function complete(
  matrix: MatrixInput,
  settings: CompletionSettings,
  o: { placement: Placement; onStep: (s: CompletionStep) => void; signal: AbortSignal },
): Promise<CompletionOutcome> {
  if (o.signal.aborted) throw new CancelledError();
  void matrix;
  void settings;
  throw new Error('lin-RFM: the core (src/core/linrfm) is not in this build yet');
}

/** The completed matrix as file bytes: .npy (float64, rows x cols) or .csv (no header). */
export function matrixFileBytes(values: Float64Array, rows: number, cols: number, format: 'npy' | 'csv'): Uint8Array {
  void values;
  void rows;
  void cols;
  throw new Error(`lin-RFM: writing .${format} needs the core's matrix writer`);
}
