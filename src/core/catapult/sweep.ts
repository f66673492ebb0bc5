import type { CatapultBackend } from './backend';
import { DEFAULT_LINEAR_TOY, linearToyInit, toyRecursion, trainLinearToy, type LinearToyConfig } from './linearToy';
import { classifyPhase, findCatapults, type Phase } from './phase';
import { trainReluLab, type ReluLabConfig } from './relu';
import { CancelledError, type CancelToken } from '../errors';

export interface LrSweepPoint {
  /** eta in units of 2 / lambda_0 (1 is the lazy/catapult edge of the linearised model). */
  readonly etaOverEdge: number;
  readonly lrFactor: number;
  readonly phase: Phase;
  readonly catapults: number;
  readonly maxLoss: number;
  readonly finalLoss: number;
  /** Last measured top NTK eigenvalue against 2 / eta: a catapult ends below the edge. */
  readonly finalLambda: number;
  readonly edge: number;
  /** Linear toy only: the phase of the exact scalar recursion from the same initial state (docs/science.md §3). */
  readonly recursionPhase?: Phase;
}

const maxOf = (xs: number[]) => xs.reduce((a, b) => (b > a || Number.isNaN(b) ? b : a), -Infinity);

/** The phase picture: one run per eta, eta given in units of 2 / lambda_0. */
export async function lrSweep(
  model: 'linear' | 'relu',
  etaOverEdge: readonly number[],
  base: Partial<ReluLabConfig & LinearToyConfig>,
  backend: CatapultBackend,
  cancel?: CancelToken,
): Promise<LrSweepPoint[]> {
  const out: LrSweepPoint[] = [];
  for (const x of etaOverEdge) {
    const lrFactor = 2 * x;
    if (model === 'linear') {
      const c = { ...DEFAULT_LINEAR_TOY, ...base, lrFactor };
      if (cancel?.cancelled) throw new CancelledError();
      const r = trainLinearToy(c);
      const exact = toyRecursion(linearToyInit(c.width, c.seed), c.y, r.lr, c.width, c.steps);
      out.push({
        etaOverEdge: x,
        lrFactor,
        phase: r.phase,
        catapults: findCatapults(r.losses).length,
        maxLoss: maxOf(r.losses),
        finalLoss: r.losses[r.losses.length - 1],
        finalLambda: r.finalLambda,
        edge: r.edge,
        recursionPhase: classifyPhase(exact.losses),
      });
    } else {
      const r = await trainReluLab({ ...base, lrFactor }, backend, { cancel });
      out.push({
        etaOverEdge: x,
        lrFactor,
        phase: r.phase,
        catapults: r.catapults.length,
        maxLoss: maxOf(r.losses),
        finalLoss: r.losses[r.losses.length - 1],
        finalLambda: r.lambdas[r.lambdas.length - 1],
        edge: r.edge,
      });
    }
  }
  return out;
}

export interface BatchSweepPoint {
  readonly batch: number;
  readonly seed: number;
  readonly phase: Phase;
  /** Rise-and-return episodes of the full-batch loss (docs/science.md §3: smaller batches, more catapults). */
  readonly catapults: number;
  readonly finalAlignment: number | null;
  readonly testLoss: number | null;
}

/** Catapults per run against batch size, at a fixed eta (ReLU network). */
export async function batchSweep(
  batches: readonly number[],
  seeds: readonly number[],
  base: Partial<ReluLabConfig>,
  backend: CatapultBackend,
  cancel?: CancelToken,
): Promise<BatchSweepPoint[]> {
  const out: BatchSweepPoint[] = [];
  for (const batch of batches) {
    for (const seed of seeds) {
      const r = await trainReluLab({ ...base, batch, seed }, backend, { cancel });
      out.push({
        batch,
        seed,
        phase: r.phase,
        catapults: r.catapults.length,
        finalAlignment: r.alignments ? r.alignments[r.alignments.length - 1] : null,
        testLoss: r.testLoss,
      });
    }
  }
  return out;
}
