// One catapult-lab run as the lab panel asks for it (a training run, a learning-rate sweep or a
// batch-size sweep), whatever surface computes it: the panel's page and the extension host call this
// same function, so a run placed on the host draws exactly what the page would have computed.
import { yielding } from '../compute';
import type { CancelToken } from '../errors';
import type { CatapultBackend } from './backend';
import { trainLinearToy } from './linearToy';
import { findCatapults, type Catapult, type Phase } from './phase';
import { trainReluLab, type LabProgress } from './relu';
import { batchSweep, lrSweep, type BatchSweepPoint, type LrSweepPoint } from './sweep';
import type { LabTask } from './task';

/** The lab's form. */
export interface LabSettings {
  model: 'linear' | 'relu';
  width: number;
  lrFactor: number;
  steps: number;
  /** Rows per step; the row count or more (Number.MAX_SAFE_INTEGER for "GD") is full-batch GD. */
  batch: number;
  seed: number;
}

export type LabSweep = 'none' | 'lr' | 'batch';

/** The learning-rate sweep's points, eta in units of 2 / lambda_0: both sides of each phase edge. */
export const LAB_LR_SWEEP = [0.25, 0.5, 0.75, 0.9, 1.1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 3] as const;
export const LAB_BATCH_SWEEP = [8, 16, 32, 64, 128] as const;
/** Seeds per batch size (from the form's seed on): catapult counts vary from seed to seed. */
export const LAB_BATCH_SEEDS = 3;

/** One training run, the linear toy's and the ReLU network's in one shape (what the charts draw). */
export interface LabTrajectory {
  readonly model: 'linear' | 'relu';
  readonly lambda0: number;
  readonly lr: number;
  readonly phase: Phase;
  /** Full-batch loss before each step. */
  readonly losses: Float64Array;
  /** Steps where lambda_max (and the alignment) were measured, and the values. */
  readonly lambdaSteps: Float64Array;
  readonly lambdas: Float64Array;
  /** cos(G_net, G*), when the target AGOP is known (the synthetic ReLU task). */
  readonly alignments: Float64Array | null;
  readonly catapults: readonly Catapult[];
  /** 2 / eta. */
  readonly edge: number;
  readonly testLoss: number | null;
}

export type LabOutcome =
  | { readonly kind: 'run'; readonly run: LabTrajectory }
  | { readonly kind: 'lrSweep'; readonly model: 'linear' | 'relu'; readonly rows: readonly LrSweepPoint[] }
  | {
      readonly kind: 'batchSweep';
      readonly batches: readonly number[];
      readonly seeds: readonly number[];
      readonly rows: readonly BatchSweepPoint[];
    };

/** The model a request trains: the batch-size sweep is about SGD noise, so always the ReLU network. */
export const labModel = (settings: LabSettings, sweep: LabSweep): 'linear' | 'relu' =>
  sweep === 'batch' ? 'relu' : settings.model;

export interface LabRunContext {
  /** The user's table for the ReLU network (undefined: the synthetic task). */
  task?: LabTask;
  cancel?: CancelToken;
  /** Each step of a single training run (not of sweeps), for a live loss chart. */
  onProgress?: (p: LabProgress) => void;
}

/**
 * Runs what the lab's buttons ask for on `backend` (only the ReLU network uses it; the linear toy is
 * the exact float64 recursion wherever it runs).
 */
export async function runLab(
  settings: LabSettings,
  sweep: LabSweep,
  backend: CatapultBackend,
  ctx: LabRunContext = {},
): Promise<LabOutcome> {
  const { task, cancel } = ctx;
  const s = settings;
  if (sweep === 'lr') {
    const base = { width: s.width, steps: s.steps, batch: s.batch, seed: s.seed, task };
    return { kind: 'lrSweep', model: s.model, rows: await lrSweep(s.model, LAB_LR_SWEEP, base, backend, cancel) };
  }
  if (sweep === 'batch') {
    const seeds = Array.from({ length: LAB_BATCH_SEEDS }, (_, i) => s.seed + i);
    const base = { width: s.width, lrFactor: s.lrFactor, steps: s.steps, task };
    return {
      kind: 'batchSweep',
      batches: LAB_BATCH_SWEEP,
      seeds,
      rows: await batchSweep(LAB_BATCH_SWEEP, seeds, base, backend, cancel),
    };
  }
  if (s.model === 'linear') {
    const r = trainLinearToy({ width: s.width, lrFactor: s.lrFactor, steps: s.steps, seed: s.seed });
    return {
      kind: 'run',
      run: {
        model: 'linear',
        lambda0: r.lambda0,
        lr: r.lr,
        phase: r.phase,
        losses: Float64Array.from(r.losses),
        lambdaSteps: Float64Array.from(r.lambdas, (_, i) => i),
        lambdas: Float64Array.from(r.lambdas),
        alignments: null,
        catapults: findCatapults(r.losses),
        edge: r.edge,
        testLoss: null,
      },
    };
  }
  const r = await trainReluLab(
    { width: s.width, lrFactor: s.lrFactor, steps: s.steps, batch: s.batch, seed: s.seed, task },
    backend,
    { cancel, onProgress: ctx.onProgress },
  );
  return {
    kind: 'run',
    run: {
      model: 'relu',
      lambda0: r.lambda0,
      lr: r.lr,
      phase: r.phase,
      losses: Float64Array.from(r.losses),
      lambdaSteps: Float64Array.from(r.lambdaSteps),
      lambdas: Float64Array.from(r.lambdas),
      alignments: r.alignments ? Float64Array.from(r.alignments) : null,
      catapults: r.catapults,
      edge: r.edge,
      testLoss: r.testLoss,
    },
  };
}

/**
 * The backend with one yield before each session call (compute.ts `yielding`): the CPU sessions
 * compute synchronously, so a Stop click, a message or a repaint gets in between steps.
 */
export function yieldingCatapult(
  inner: CatapultBackend & { dispose(): void },
  yieldNow: () => Promise<void>,
): CatapultBackend & { dispose(): void } {
  return {
    name: inner.name,
    device: inner.device,
    createSession: async (problem) => yielding(await inner.createSession(problem), yieldNow),
    dispose: () => inner.dispose(),
  };
}
