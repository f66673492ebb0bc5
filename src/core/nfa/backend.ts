// Compute backends for the NFA orchestrator (compute.ts) and the training lab (train.ts). The CPU float64
// implementation is the reference; the WebGPU one (webgpu.ts) implements the same interface: the
// orchestrators chunk the rows, shuffle, record and do everything else once.
import { yielding } from '../compute';
import type { BackendName } from '../errors';
import { mat, takeRows, type Mat } from '../mat';
import { convFeaturesCpu, convForwardCpu, outputGradGramsCpu } from './convCpu';
import type { ConvNet } from './convnet';
import { agopSumsCpu, forwardTrace, mseGradients, type LossAndGrads } from './mlp';
import type { Mlp } from './network';

export type Optimizer = 'sgd' | 'adam' | 'adamw';
export const OPTIMIZERS: readonly Optimizer[] = ['sgd', 'adam', 'adamw'];

/**
 * SGD: v = momentum v + g, w -= lr v. Adam (bias-corrected): w -= lr m^ / (sqrt(v^) + eps). AdamW
 * (Loshchilov & Hutter, as torch.optim.AdamW): the decoupled decay w *= 1 - lr wd first, then Adam's step.
 */
export interface OptimizerSpec {
  readonly kind: Optimizer;
  readonly lr: number;
  readonly momentum: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** AdamW's weight decay wd (ignored by SGD and Adam). */
  readonly weightDecay: number;
}

/** The factor every weight is multiplied by before the gradient step: 1 - lr wd for AdamW, else 1. */
export function decayFactor(o: OptimizerSpec): number {
  return o.kind === 'adamw' ? 1 - o.lr * o.weightDecay : 1;
}

/**
 * Optimizer moments per parameter tensor in the order W_0, b_0, W_1, b_1, ... (each as the tensor: outDim x
 * inDim, outDim): m1 is SGD's velocity or Adam's first moment, m2 Adam's second moment (zeros for SGD).
 * `step` counts the optimizer steps taken (Adam's bias correction).
 */
export interface OptimizerState {
  m1: Float64Array[];
  m2: Float64Array[];
  step: number;
}

export interface TrainProblem {
  readonly X: Mat;
  readonly Y: Mat;
  /** Architecture, activation and the starting weights (every layer with a bias). Not modified. */
  readonly net: Mlp;
  readonly optimizer: OptimizerSpec;
  /** Moments and step count to resume from (a checkpoint); zeros and step 0 when omitted. */
  readonly resume?: OptimizerState;
}

/** A network being trained on one backend; on a device the data, weights and moments stay resident. */
export interface TrainSession {
  /** One optimizer step on the MSE of each run of `batch` consecutive rows of `rows` (the last run may be shorter). */
  steps(rows: Uint32Array, batch: number): Promise<void>;
  /** MSE of the given rows at the current weights and its gradients (no step). */
  gradients(rows: Uint32Array): Promise<LossAndGrads>;
  /** MSE over all training rows (torch.nn.MSELoss: mean over rows and outputs). */
  loss(): Promise<number>;
  /** Float64 copies of the current weights and optimizer state. */
  checkpoint(): Promise<{ net: Mlp; state: OptimizerState }>;
  dispose(): void;
}

export interface NfaBackend {
  readonly name: BackendName;
  readonly device: string;
  /** Network outputs at the rows of X (X.rows x outDim). */
  forward(net: Mlp, X: Mat): Promise<Mat>;
  /**
   * Per layer l (input order), the SUM over rows x of X of J_l(x)^T J_l(x), J_l = d(all outputs)/d(input
   * of layer l); inDim_l x inDim_l row-major, symmetric. Sums, not means, so chunks add up.
   */
  agopSums(net: Mlp, X: Mat): Promise<Float64Array[]>;
  /**
   * Each hidden layer's activation act(W_l h + b_l) at the rows of X (layers 0..L-2; X.rows x outDim_l each,
   * row-major): the features neural collapse is measured on (collapse.ts).
   */
  features(net: Mlp, X: Mat): Promise<Float64Array[]>;
  /** Conv network: each hidden layer's output after its activation and pooling, flattened C,H,W (X.rows x size each). */
  convFeatures(net: ConvNet, X: Mat): Promise<Float64Array[]>;
  /** Conv network outputs at the rows of X (X.rows x the last layer's flattened output). */
  convForward(net: ConvNet, X: Mat): Promise<Mat>;
  /**
   * Conv network, per layer l (input order): H_l = SUM over rows x, outputs o and positions p of g g^T,
   * g = d f_o(x) / d z_l(x)[:, p] (z_l the layer's convolution output; k_l x k_l row-major, symmetric).
   * The patch-AGOP sum is W_l^T H_l W_l (computeNfa forms it in float64).
   */
  outputGradGrams(net: ConvNet, X: Mat): Promise<Float64Array[]>;
  /** A training session of the lab (minibatch SGD/Adam on the MSE). */
  createTrainSession(problem: TrainProblem): Promise<TrainSession>;
  dispose(): void;
}

export class CpuNfaBackend implements NfaBackend {
  readonly name = 'cpu' as const;
  readonly device = 'cpu float64';
  async forward(net: Mlp, X: Mat): Promise<Mat> {
    return forwardTrace(net, X).out;
  }
  async features(net: Mlp, X: Mat): Promise<Float64Array[]> {
    return forwardTrace(net, X).inputs.slice(1);
  }
  async convFeatures(net: ConvNet, X: Mat): Promise<Float64Array[]> {
    return convFeaturesCpu(net, X);
  }
  async agopSums(net: Mlp, X: Mat): Promise<Float64Array[]> {
    return agopSumsCpu(net, X);
  }
  async convForward(net: ConvNet, X: Mat): Promise<Mat> {
    return convForwardCpu(net, X);
  }
  async outputGradGrams(net: ConvNet, X: Mat): Promise<Float64Array[]> {
    return outputGradGramsCpu(net, X);
  }
  async createTrainSession(problem: TrainProblem): Promise<TrainSession> {
    return new CpuTrainSession(problem);
  }
  dispose(): void {}
}

/**
 * The backend with compute.ts `yielding` on its methods and on each training session it opens: the
 * CPU's steps are synchronous, and the lab's loop would otherwise hold the event loop for a whole run.
 */
export function yieldingNfaBackend(inner: NfaBackend, yieldNow: () => Promise<void>): NfaBackend {
  const y = yielding(inner, yieldNow);
  return {
    name: inner.name,
    device: inner.device,
    forward: (net, X) => y.forward(net, X),
    agopSums: (net, X) => y.agopSums(net, X),
    features: (net, X) => y.features(net, X),
    convFeatures: (net, X) => y.convFeatures(net, X),
    convForward: (net, X) => y.convForward(net, X),
    outputGradGrams: (net, X) => y.outputGradGrams(net, X),
    createTrainSession: async (problem) => yielding(await y.createTrainSession(problem), yieldNow),
    dispose: () => inner.dispose(),
  };
}

export function freshOptimizerState(net: Mlp): OptimizerState {
  const zeros = () => parameterTensors(net).map((p) => new Float64Array(p.length));
  return { m1: zeros(), m2: zeros(), step: 0 };
}

/** W_0, b_0, W_1, b_1, ... (views, not copies); a layer without a bias has an empty b (never trained). */
export function parameterTensors(net: Mlp): Float64Array[] {
  return net.layers.flatMap((l) => [l.W, l.b ?? new Float64Array(0)]);
}

/** Every layer has a bias, or none has (the trainers' two architectures). */
export function hasBias(net: Mlp): boolean {
  return net.layers.every((l) => l.b !== null);
}

export function cloneMlp(net: Mlp): Mlp {
  return {
    ...net,
    layers: net.layers.map((l) => ({ ...l, W: Float64Array.from(l.W), b: l.b ? Float64Array.from(l.b) : null })),
  };
}

function cloneState(s: OptimizerState): OptimizerState {
  return { m1: s.m1.map((a) => Float64Array.from(a)), m2: s.m2.map((a) => Float64Array.from(a)), step: s.step };
}

/** One optimizer step on w in place (state m1, m2 of the same tensor); `step` is the 1-based step number. */
export function optimizerUpdate(
  o: OptimizerSpec,
  step: number,
  w: Float64Array,
  g: ArrayLike<number>,
  m1: Float64Array,
  m2: Float64Array,
): void {
  if (o.kind === 'sgd') {
    for (let i = 0; i < w.length; i++) {
      m1[i] = o.momentum * m1[i] + g[i];
      w[i] -= o.lr * m1[i];
    }
    return;
  }
  const c1 = 1 - o.beta1 ** step,
    c2 = 1 - o.beta2 ** step;
  const decay = decayFactor(o);
  for (let i = 0; i < w.length; i++) {
    m1[i] = o.beta1 * m1[i] + (1 - o.beta1) * g[i];
    m2[i] = o.beta2 * m2[i] + (1 - o.beta2) * g[i] * g[i];
    w[i] = w[i] * decay - (o.lr * (m1[i] / c1)) / (Math.sqrt(m2[i] / c2) + o.eps);
  }
}

/** The float64 reference trainer: the gradients of mlp.ts and optimizerUpdate on host arrays. */
export class CpuTrainSession implements TrainSession {
  private readonly net: Mlp;
  private readonly state: OptimizerState;
  private readonly params: Float64Array[];

  constructor(private readonly problem: TrainProblem) {
    checkProblem(problem);
    this.net = cloneMlp(problem.net);
    this.params = parameterTensors(this.net);
    this.state = problem.resume ? cloneState(problem.resume) : freshOptimizerState(this.net);
  }

  async steps(rows: Uint32Array, batch: number): Promise<void> {
    const { X, Y, optimizer } = this.problem;
    for (let start = 0; start < rows.length; start += batch) {
      const idx = rows.subarray(start, Math.min(rows.length, start + batch));
      const { gradW, gradB } = mseGradients(this.net, takeRows(X, idx), takeRows(Y, idx));
      const step = ++this.state.step;
      gradW.forEach((g, l) => {
        optimizerUpdate(optimizer, step, this.params[2 * l], g, this.state.m1[2 * l], this.state.m2[2 * l]);
        optimizerUpdate(
          optimizer,
          step,
          this.params[2 * l + 1],
          gradB[l],
          this.state.m1[2 * l + 1],
          this.state.m2[2 * l + 1],
        );
      });
    }
  }

  async gradients(rows: Uint32Array): Promise<LossAndGrads> {
    return mseGradients(this.net, takeRows(this.problem.X, rows), takeRows(this.problem.Y, rows));
  }

  async loss(): Promise<number> {
    return meanSquaredErrorOf(this.net, this.problem.X, this.problem.Y);
  }

  async checkpoint(): Promise<{ net: Mlp; state: OptimizerState }> {
    return { net: cloneMlp(this.net), state: cloneState(this.state) };
  }

  dispose(): void {}
}

/** MSE of the network on (X, Y), by row blocks so no activation of all rows is held at once. */
export function meanSquaredErrorOf(net: Mlp, X: Mat, Y: Mat): number {
  const block = 4096;
  let sum = 0;
  for (let r0 = 0; r0 < X.rows; r0 += block) {
    const r1 = Math.min(X.rows, r0 + block);
    const out = forwardTrace(net, mat(r1 - r0, X.cols, X.data.subarray(r0 * X.cols, r1 * X.cols))).out.data;
    const y = Y.data.subarray(r0 * Y.cols, r1 * Y.cols);
    for (let i = 0; i < out.length; i++) sum += (out[i] - y[i]) ** 2;
  }
  return sum / (X.rows * Y.cols);
}

export function checkProblem(p: TrainProblem): void {
  const L = p.net.layers.length;
  if (p.X.rows !== p.Y.rows) throw new Error(`training: ${p.X.rows} input rows but ${p.Y.rows} target rows`);
  if (p.X.cols !== p.net.layers[0].inDim)
    throw new Error(
      `training: X has ${p.X.cols} columns, layer '${p.net.layers[0].name}' takes ${p.net.layers[0].inDim}`,
    );
  if (p.Y.cols !== p.net.layers[L - 1].outDim)
    throw new Error(`training: Y has ${p.Y.cols} columns, the network has ${p.net.layers[L - 1].outDim} outputs`);
  if (!hasBias(p.net) && p.net.layers.some((l) => l.b !== null))
    throw new Error('training: either every layer has a bias or none has');
}
