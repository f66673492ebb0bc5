// The training lab: a seeded MLP trained by minibatch SGD or Adam on MSE, with the NFA correlations
// measured every epoch so a user sees the ansatz appear. The one training loop: steps, losses and
// checkpoints run on the NfaBackend's TrainSession (CPU float64 or WebGPU); after a device failure the
// caller's next placement continues from the last epoch's checkpoint (TrainProgress).
import { BackendError, type BackendName } from '../errors';
import { InputError, throwIfCancelled, type CancelToken } from '../errors';
import { mat, takeRows, type Mat } from '../mat';
import { permutation, rng } from '../random';
import { writeSafetensors } from '../weights/safetensors';
import { ACTIVATIONS, isActivation, type Activation } from './activation';
import {
  CpuNfaBackend,
  freshOptimizerState,
  meanSquaredErrorOf,
  OPTIMIZERS,
  type NfaBackend,
  type Optimizer,
  type OptimizerSpec,
  type OptimizerState,
  type TrainSession,
} from './backend';
import { computeNfa } from './compute';
import type { NfaCorrelations } from './correlation';
import type { DenseLayer, Mlp } from './network';

export type { Optimizer } from './backend';

export interface TrainOptions {
  /** Units in each hidden layer. */
  width: number;
  /** Hidden layers (the network has depth + 1 dense layers). */
  depth: number;
  activation: Activation;
  optimizer: Optimizer;
  lr: number;
  /** SGD momentum (ignored by Adam). */
  momentum: number;
  /** AdamW's decoupled weight decay (ignored by SGD and Adam); docs/science.md §4 uses 1.0. */
  weightDecay: number;
  /** Biases in every layer (true, nn.Linear's default) or none (the grokking networks). */
  bias: boolean;
  batch: number;
  epochs: number;
  seed: number;
  /** NFA correlations each epoch over at most this many training rows (seeded subsample). 0 turns them off. */
  nfaRows: number;
  /** NFA correlations of the first this many layers only (0 = every layer). */
  nfaLayers: number;
}

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = {
  width: 64,
  depth: 1,
  activation: 'relu',
  optimizer: 'adam',
  lr: 1e-3,
  momentum: 0,
  weightDecay: 1,
  bias: true,
  batch: 32,
  epochs: 50,
  seed: 0,
  nfaRows: 500,
  nfaLayers: 0,
};

export interface EpochRecord {
  /** 0 = before training. */
  epoch: number;
  /** MSE over all training rows after the epoch. */
  loss: number;
  /** Per layer (input to output), NFM_l vs the network AGOP at layer l's input. */
  nfa: { name: string; correlation: NfaCorrelations }[];
  /** With TrainHooks.heldOut: MSE on the held-out rows; accuracies (argmax of the outputs against argmax of one-hot targets) when there are several outputs. */
  test?: { loss: number; accuracy: number | null; trainAccuracy: number | null };
}

export interface TrainResult {
  net: Mlp;
  /** The weights before training (for NFM minus init). */
  initial: Float64Array[];
  history: EpochRecord[];
  /** Where the last epochs ran ('cpu' or 'webgpu') and on what device. */
  backend: BackendName;
  device: string;
  /** Why the backend changed mid-training (e.g. WebGPU device lost -> CPU), if it did. */
  fallback?: string;
}

/**
 * Where a training stands after each finished epoch. Give the same object to a second trainMlp call (on
 * the next placement, after a device failure) and it continues from the last finished epoch's weights,
 * moments and step count; a fresh `{ history: [] }` starts from the seeded initialisation.
 */
export interface TrainProgress {
  /** The weights and moments after the last finished epoch. */
  ckpt?: { epoch: number; net: Mlp; state: OptimizerState };
  /** The epochs recorded so far (0 = before training). */
  history: EpochRecord[];
  /** Why the last call stopped early (a BackendError's message): the resumed result's `fallback` names it. */
  failure?: string;
}

export interface TrainHooks {
  onEpoch?: (rec: EpochRecord) => void;
  cancel?: CancelToken;
  /** Trains and measures the NFA; default the CPU float64 backend. Not disposed here. */
  backend?: NfaBackend;
  /** Continue from (and keep up to date) this progress; see TrainProgress. */
  progress?: TrainProgress;
  /** Rows evaluated (never trained on) after every epoch: EpochRecord.test. */
  heldOut?: { X: Mat; Y: Mat };
}

/**
 * Work per TrainSession.steps call: at most ~2^25 multiply-adds of forward passes (some 50 ms on one CPU
 * core with the backward pass; one call is also one GPU submission) and 16384 rows, so cancel and the
 * extension host's event loop wait for one call at most. Always at least one step.
 */
const MACS_PER_STEPS_CALL = 2 ** 25;
const ROWS_PER_STEPS_CALL = 16384;

export function validateTrainOptions(o: TrainOptions): void {
  const bad = (f: string, want: string, got: unknown) =>
    new InputError(`option ${f}: expected ${want}, got ${String(got)}`);
  const posInt = (v: number) => Number.isInteger(v) && v > 0;
  if (!posInt(o.width)) throw bad('width', 'a positive integer', o.width);
  if (!(Number.isInteger(o.depth) && o.depth >= 0 && o.depth <= 64)) throw bad('depth', 'an integer 0..64', o.depth);
  if (!isActivation(o.activation)) throw bad('activation', `one of ${ACTIVATIONS.join(', ')}`, o.activation);
  if (!OPTIMIZERS.includes(o.optimizer)) throw bad('optimizer', OPTIMIZERS.join(', '), o.optimizer);
  if (!(o.lr > 0 && Number.isFinite(o.lr))) throw bad('lr', 'a positive number', o.lr);
  if (!(o.momentum >= 0 && o.momentum < 1)) throw bad('momentum', 'a number in [0, 1)', o.momentum);
  // lr wd >= 1 would flip or zero every weight at each step.
  if (!(o.weightDecay >= 0 && o.lr * o.weightDecay < 1))
    throw bad('weightDecay', 'a number >= 0 with lr x weightDecay < 1', o.weightDecay);
  if (typeof o.bias !== 'boolean') throw bad('bias', 'true or false', o.bias);
  if (!posInt(o.batch)) throw bad('batch', 'a positive integer', o.batch);
  if (!(Number.isInteger(o.epochs) && o.epochs >= 0)) throw bad('epochs', 'an integer >= 0', o.epochs);
  if (!(Number.isInteger(o.nfaRows) && o.nfaRows >= 0)) throw bad('nfaRows', 'an integer >= 0', o.nfaRows);
  if (!(Number.isInteger(o.nfaLayers) && o.nfaLayers >= 0)) throw bad('nfaLayers', 'an integer >= 0', o.nfaLayers);
}

/**
 * PyTorch nn.Linear's default initialisation: W and b uniform in +-1/sqrt(fan_in) (with bias: false,
 * nn.Linear(bias=False): no b). Layer names as nn.Sequential.
 */
export function initMlp(dims: readonly number[], activation: Activation, seed: number, bias = true): Mlp {
  const r = rng(seed);
  const layers: DenseLayer[] = [];
  for (let l = 0; l + 1 < dims.length; l++) {
    const bound = 1 / Math.sqrt(dims[l]);
    const W = Float64Array.from({ length: dims[l + 1] * dims[l] }, () => (2 * r() - 1) * bound);
    const b = bias ? Float64Array.from({ length: dims[l + 1] }, () => (2 * r() - 1) * bound) : null;
    layers.push({
      name: `${2 * l}.weight`,
      biasName: bias ? `${2 * l}.bias` : null,
      outDim: dims[l + 1],
      inDim: dims[l],
      W,
      b,
    });
  }
  return { layers, activation };
}

export function meanSquaredError(net: Mlp, X: Mat, Y: Mat): number {
  return meanSquaredErrorOf(net, X, Y);
}

export async function trainMlp(
  X: Mat,
  Y: Mat,
  options: Partial<TrainOptions>,
  hooks: TrainHooks = {},
): Promise<TrainResult> {
  const o: TrainOptions = { ...DEFAULT_TRAIN_OPTIONS, ...options };
  validateTrainOptions(o);
  if (X.rows !== Y.rows) throw new Error(`trainMlp: ${X.rows} input rows but ${Y.rows} target rows`);
  if (X.rows === 0) throw new InputError('training data has no rows');
  const dims = [X.cols, ...new Array<number>(o.depth).fill(o.width), Y.cols];
  const initialNet = initMlp(dims, o.activation, o.seed, o.bias);
  const initial = initialNet.layers.map((l) => Float64Array.from(l.W));
  const optimizer: OptimizerSpec = {
    kind: o.optimizer,
    lr: o.lr,
    momentum: o.momentum,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weightDecay: o.weightDecay,
  };
  const heldOut = hooks.heldOut;
  if (heldOut && (heldOut.X.cols !== X.cols || heldOut.Y.cols !== Y.cols || heldOut.X.rows !== heldOut.Y.rows))
    throw new Error('trainMlp: held-out rows do not match the training columns');
  const nfaX =
    o.nfaRows > 0
      ? X.rows <= o.nfaRows
        ? X
        : takeRows(X, permutation(X.rows, o.seed + 1).subarray(0, o.nfaRows))
      : null;
  const macsPerRow = dims.slice(1).reduce((sum, out, l) => sum + out * dims[l], 0);
  const stepsPerCall = Math.max(
    1,
    Math.min(Math.floor(ROWS_PER_STEPS_CALL / o.batch), Math.floor(MACS_PER_STEPS_CALL / (o.batch * macsPerRow))),
  );

  const backend = hooks.backend ?? new CpuNfaBackend();
  const progress = hooks.progress ?? { history: [] };
  // The weights and moments after the last finished epoch: what the next placement resumes from.
  let ckpt = (progress.ckpt ??= { epoch: 0, net: initialNet, state: freshOptimizerState(initialNet) });
  const fallback =
    progress.failure === undefined
      ? undefined
      : `${progress.failure}; continued on ${backend.name} (${backend.device}) from the weights after epoch ${ckpt.epoch}`;
  let session: TrainSession | null = null;

  const runEpoch = async (epoch: number): Promise<EpochRecord> => {
    session ??= await backend.createTrainSession({ X, Y, net: ckpt.net, optimizer, resume: ckpt.state });
    if (ckpt.epoch < epoch) {
      const order = permutation(X.rows, o.seed * 7919 + epoch);
      for (let start = 0; start < X.rows; start += stepsPerCall * o.batch) {
        throwIfCancelled(hooks.cancel);
        await session.steps(order.subarray(start, Math.min(X.rows, start + stepsPerCall * o.batch)), o.batch);
      }
      ckpt = progress.ckpt = { epoch, ...(await session.checkpoint()) };
    }
    const loss = await session.loss();
    const nfa = nfaX
      ? (await computeNfa(ckpt.net, nfaX, backend, { layers: o.nfaLayers || undefined })).layers.map((l) => ({
          name: l.name,
          correlation: l.correlation,
        }))
      : [];
    if (!heldOut) return { epoch, loss, nfa };
    const testOut = await backend.forward(ckpt.net, heldOut.X);
    const classes = Y.cols > 1;
    const test = {
      loss: squaredError(testOut, heldOut.Y),
      accuracy: classes && heldOut.X.rows ? argmaxAccuracy(testOut, heldOut.Y) : null,
      trainAccuracy: classes ? argmaxAccuracy(await backend.forward(ckpt.net, X), Y) : null,
    };
    return { epoch, loss, nfa, test };
  };

  try {
    for (let epoch = progress.history.length; epoch <= o.epochs; epoch++) {
      throwIfCancelled(hooks.cancel);
      let rec: EpochRecord;
      try {
        rec = await runEpoch(epoch);
      } catch (e) {
        if (e instanceof BackendError) progress.failure = e.message;
        throw e;
      }
      progress.history.push(rec);
      hooks.onEpoch?.(rec);
    }
  } finally {
    (session as TrainSession | null)?.dispose();
  }
  return {
    net: ckpt.net,
    initial,
    history: progress.history,
    backend: backend.name,
    device: backend.device,
    ...(fallback ? { fallback } : {}),
  };
}

/** The network as .safetensors with nn.Sequential names (`0.weight`, `0.bias`, `2.weight`, ...). */
export function mlpToSafetensors(
  net: Mlp,
  dtype: 'F32' | 'F64' = 'F32',
  metadata?: Record<string, string>,
): Uint8Array {
  return writeSafetensors(
    net.layers.flatMap((l) => [
      { name: l.name, shape: [l.outDim, l.inDim], data: l.W },
      ...(l.b && l.biasName ? [{ name: l.biasName, shape: [l.outDim], data: l.b }] : []),
    ]),
    dtype,
    metadata,
  );
}

/** Targets as a matrix: one column for regression, one-hot rows for classification (y = class index). */
export function trainingTargets(y: Float64Array, classes: number | null): Mat {
  if (classes === null) return mat(y.length, 1, Float64Array.from(y));
  const Y = mat(y.length, classes);
  y.forEach((c, i) => {
    if (c >= 0) Y.data[i * classes + c] = 1;
  });
  return Y;
}

/** Mean over all entries of (out - Y)^2 (torch.nn.MSELoss). */
function squaredError(out: Mat, Y: Mat): number {
  let sum = 0;
  for (let i = 0; i < out.data.length; i++) sum += (out.data[i] - Y.data[i]) ** 2;
  return out.data.length ? sum / out.data.length : NaN;
}

/** Share of rows whose largest output is at the largest target (one-hot targets: the class). */
export function argmaxAccuracy(out: Mat, Y: Mat): number {
  const c = out.cols;
  let hits = 0;
  for (let r = 0; r < out.rows; r++) {
    let best = 0,
      want = 0;
    for (let k = 1; k < c; k++) {
      if (out.data[r * c + k] > out.data[r * c + best]) best = k;
      if (Y.data[r * c + k] > Y.data[r * c + want]) want = k;
    }
    if (best === want) hits++;
  }
  return out.rows ? hits / out.rows : NaN;
}
