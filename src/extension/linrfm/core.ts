// The one place the lin-RFM view meets core/linrfm (completeMatrix, its options and report), the matrix
// loader (on the dataset worker) and the matrix writers: the panel and the command see only the shapes
// below, so a change of the core's signatures costs an edit here.
import { type BackendChoice, type Placement } from '../../core/compute';
import { matrixToCsv } from '../../core/data/matrix';
import { encodeNpy } from '../../core/data/npy';
import { InputError } from '../../core/errors';
import { COMPLETE_DEFAULTS, completeMatrix } from '../../core/linrfm/complete';
import { completionToJson } from '../../core/linrfm/serialize';
import { hostLinRfmBackend, hostPlan } from '../../core/node';
import { loadMatrixFile } from '../host/datasets';

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

export const DEFAULT_SETTINGS: CompletionSettings = {
  alpha: COMPLETE_DEFAULTS.alpha,
  reg: COMPLETE_DEFAULTS.reg,
  maxIters: COMPLETE_DEFAULTS.maxIters,
};

export interface CompletionStep {
  iter: number;
  observedMse: number;
  validationError: number | null;
  refit: boolean;
  /** Singular values of the iterate, when the core computed them this iteration. */
  singularValues?: Float64Array;
}

export interface CompletionOutcome {
  completed: Float64Array;
  converged: boolean;
  stopReason: 'tolerance' | 'stalled' | 'max-iters';
  iterations: number;
  refitIterations: number;
  observedMse: number;
  validationError: number | null;
  rankEstimate: number;
  singularValues: Float64Array;
  seconds: number;
  device: string;
  /** The core's JSON report, as `feature-lens complete --json` writes it (snake_case). */
  report: Record<string, unknown>;
}

const KEYS = ['alpha', 'reg', 'maxIters'] as const;

/**
 * Settings from a command's arguments over the defaults. Only their types are checked here: the values
 * are checked by completeMatrix's own option validation when the run starts (its InputError names them).
 */
export function parseSettings(raw: Record<string, unknown>, where: string): CompletionSettings {
  const out = { ...DEFAULT_SETTINGS };
  for (const key of KEYS) {
    const v = raw[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new InputError(`${where} ${key}: expected a number, got ${JSON.stringify(v)}`);
    out[key] = v;
  }
  return out;
}

/** What is wrong with `text` as the value of `key` (an input box's check), or undefined. */
export function settingProblem(key: 'reg' | 'maxIters', text: string): string | undefined {
  const v = Number(text);
  if (key === 'reg') return text.trim() !== '' && v > 0 && Number.isFinite(v) ? undefined : 'a positive number';
  return Number.isInteger(v) && v >= 1 ? undefined : 'an integer >= 1';
}

/** The host placements a completion tries, in order (core/compute.ts 'linrfm'). */
export function completionPlan(choice: BackendChoice, rows: number, cols: number): Placement[] {
  return hostPlan('linrfm', choice, rows * cols * cols);
}

/** Parses a matrix file's bytes on the dataset worker (never on the extension host's thread). */
export async function loadMatrix(bytes: Uint8Array, fileName: string, signal?: AbortSignal): Promise<MatrixInput> {
  const m = await loadMatrixFile(bytes, fileName, {}, signal);
  return { rows: m.rows, cols: m.cols, values: m.data };
}

/** Spectra in the progress: often for small matrices, rarely where the d x d eigendecomposition costs. */
function spectrumEvery(cols: number): number {
  return cols <= 100 ? 5 : cols <= 400 ? 25 : 100;
}

/** Completes `matrix` on `placement`; `onStep` hears each iteration; `signal` cancels (CancelledError). */
export async function complete(
  matrix: MatrixInput,
  settings: CompletionSettings,
  o: { placement: Placement; onStep: (s: CompletionStep) => void; signal: AbortSignal },
): Promise<CompletionOutcome> {
  const backend = await hostLinRfmBackend(o.placement as 'host-gpu' | 'host-cpu');
  try {
    const r = await completeMatrix(
      { rows: matrix.rows, cols: matrix.cols, data: matrix.values },
      { ...settings, spectrumEvery: spectrumEvery(matrix.cols) },
      {
        backend,
        signal: o.signal,
        onProgress: (p) =>
          o.onStep({
            iter: p.iteration,
            observedMse: p.observedMse,
            validationError: p.validationError,
            refit: !!p.refit,
            ...(p.singularValues ? { singularValues: p.singularValues } : {}),
          }),
      },
    );
    return {
      completed: r.completed,
      converged: r.converged,
      stopReason: r.stopReason,
      iterations: r.iterations,
      refitIterations: r.refitIterations,
      observedMse: r.observedMse,
      validationError: r.validationError,
      rankEstimate: r.rankEstimate,
      singularValues: r.singularValues,
      seconds: r.seconds,
      device: r.device,
      report: completionToJson(r, { reg: settings.reg, seed: COMPLETE_DEFAULTS.seed, backend: backend.name }),
    };
  } finally {
    backend.dispose();
  }
}

/** The completed matrix as file bytes: .npy (float64, rows x cols) or .csv (no header, numbers exact). */
export function matrixFileBytes(values: Float64Array, rows: number, cols: number, format: 'npy' | 'csv'): Uint8Array {
  return format === 'npy' ? encodeNpy(values, [rows, cols]) : new TextEncoder().encode(matrixToCsv(values, rows, cols));
}
