import { throwIfCancelled, type CancelToken } from '../errors';
import { normal, permutation, rng } from '../random';
import type { CatapultBackend } from './backend';
import { topEigenvalue } from './lanczos';
import { classifyPhase, findCatapults, type Catapult, type Phase } from './phase';
import { frobeniusCosine, lowRankTask, type LabTask } from './task';

export interface ReluLabConfig {
  width: number;
  /** eta = lrFactor / lambda_0, lambda_0 the top eigenvalue of the NTK at initialisation. */
  lrFactor: number;
  steps: number;
  /** Rows per SGD step; n (or more) is full-batch GD. */
  batch: number;
  seed: number;
  /** Top NTK eigenvalue and AGOP alignment every this many steps. */
  every: number;
  /** Synthetic task size (ignored when `task` is given). */
  n: number;
  d: number;
  task?: LabTask;
}

export const DEFAULT_RELU_LAB: ReluLabConfig = {
  width: 256,
  lrFactor: 3,
  steps: 300,
  batch: 128,
  seed: 0,
  every: 10,
  n: 128,
  d: 10,
};

export interface ReluLabRun {
  readonly lambda0: number;
  readonly lr: number;
  /** Full-batch training loss (1/2n) sum (f - y)^2 before each step. */
  readonly losses: number[];
  /** Steps at which lambdas / alignments were measured. */
  readonly lambdaSteps: number[];
  readonly lambdas: number[];
  /** cos(G_net, G*) at lambdaSteps, when the target AGOP is known. */
  readonly alignments: number[] | null;
  readonly phase: Phase;
  readonly catapults: Catapult[];
  readonly edge: number;
  /** Test loss at the end, when the task has held-out rows. */
  readonly testLoss: number | null;
  readonly backend: string;
}

/** Losses past this multiple of the start mean the run has diverged; stop before overflow. */
const DIVERGED = 1e12;

/**
 * Trains the two-layer ReLU network of catapult/backend.ts with GD or SGD at eta = lrFactor / lambda_0,
 * recording the full-batch loss every step and, every `every` steps, lambda_max(K) (Lanczos on
 * NTK-vector products) and the AGOP alignment with the target. The phase comes from the losses.
 */
/** One step's measurements, streamed to a live chart while training runs. */
export interface LabProgress {
  readonly step: number;
  readonly loss: number;
  /** Present on the steps where they are measured (every `every` steps). */
  readonly lambda?: number;
  readonly alignment?: number;
}

export interface LabRunOptions {
  cancel?: CancelToken;
  onProgress?: (p: LabProgress) => void;
}

export async function trainReluLab(
  config: Partial<ReluLabConfig>,
  backend: CatapultBackend,
  options: LabRunOptions = {},
): Promise<ReluLabRun> {
  const { cancel, onProgress } = options;
  const c = { ...DEFAULT_RELU_LAB, ...config };
  const task = c.task ?? lowRankTask(c.n, c.d, c.seed, 512);
  const n = task.X.rows,
    d = task.X.cols,
    m = c.width;
  const draw = normal(rng(c.seed * 7919 + 1));
  const W = new Float64Array(m * d),
    a = new Float64Array(m);
  for (let q = 0; q < W.length; q++) W[q] = draw();
  for (let j = 0; j < m; j++) a[j] = draw();
  const session = await backend.createSession({ X: task.X, y: task.y, W, a, width: m });
  try {
    const lambdaOf = () => topEigenvalue((v) => session.ntkMatVec(v), n);
    const lambda0 = await lambdaOf();
    const lr = c.lrFactor / lambda0;
    const batch = Math.min(c.batch, n);
    const losses: number[] = [],
      lambdaSteps: number[] = [],
      lambdas: number[] = [];
    const alignments: number[] | null = task.targetAgop ? [] : null;
    let order = permutation(n, c.seed),
      cursor = 0,
      epoch = 0;
    const record = async (t: number) => {
      lambdaSteps.push(t);
      lambdas.push(t === 0 ? lambda0 : await lambdaOf());
      if (alignments && task.targetAgop) alignments.push(frobeniusCosine(await session.agop(), task.targetAgop));
    };
    for (let t = 0; t <= c.steps; t++) {
      throwIfCancelled(cancel);
      const L = halfMeanSquare(await session.residuals());
      losses.push(L);
      const diverged = !(L < DIVERGED * losses[0]);
      const measured = !diverged && (t % c.every === 0 || t === c.steps);
      if (measured) await record(t);
      onProgress?.(
        measured
          ? { step: t, loss: L, lambda: lambdas[lambdas.length - 1], alignment: alignments?.[alignments.length - 1] }
          : { step: t, loss: L },
      );
      if (diverged || t === c.steps) break;
      if (batch >= n) await session.step(lr);
      else {
        if (cursor + batch > n) {
          order = permutation(n, c.seed + ++epoch);
          cursor = 0;
        }
        await session.step(lr, order.subarray(cursor, cursor + batch));
        cursor += batch;
      }
    }
    let testLoss: number | null = null;
    if (task.Xtest && task.ytest && classifyPhase(losses) !== 'divergent') {
      const trained = await session.weights();
      const test = await backend.createSession({ X: task.Xtest, y: task.ytest, W: trained.W, a: trained.a, width: m });
      try {
        testLoss = halfMeanSquare(await test.residuals());
      } finally {
        test.dispose();
      }
    }
    return {
      lambda0,
      lr,
      losses,
      lambdaSteps,
      lambdas,
      alignments,
      phase: classifyPhase(losses),
      catapults: findCatapults(losses),
      edge: 2 / lr,
      testLoss,
      backend: backend.device,
    };
  } finally {
    session.dispose();
  }
}

function halfMeanSquare(r: Float64Array): number {
  let L = 0;
  for (let i = 0; i < r.length; i++) L += r[i] * r[i];
  return L / (2 * r.length);
}
