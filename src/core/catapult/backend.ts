import type { Mat } from '../mat';

/**
 * Compute for the catapult lab's two-layer ReLU network f(x) = a^T relu(W x) / sqrt(m)
 * (NTK parametrisation; W is m x d row-major, a has m entries) trained on the mean squared loss
 * L = (1 / 2n) sum_i (f(x_i) - y_i)^2. The NTK is normalised like the loss, K = J J^T / n, so GD is
 * stable below eta = 2 / lambda_max(K) (docs/science.md §3).
 *
 * A session owns the data and the weights, so a device backend uploads them once and keeps them
 * resident; only residuals, NTK-vector products and the d x d AGOP come back. The CPU float64
 * session (catapult/cpu.ts) is the reference the WebGPU one (catapult/webgpu.ts) is tested against,
 * case by case (test/gpu/catapult.test.ts).
 */
export interface ReluProblem {
  /** Training inputs, n x d. */
  readonly X: Mat;
  /** Training targets, n. */
  readonly y: Float64Array;
  /** Initial first-layer weights, m x d row-major, and second-layer weights, m. */
  readonly W: Float64Array;
  readonly a: Float64Array;
  readonly width: number;
}

export interface ReluSession {
  /** f(x_i) - y_i for every training row. */
  residuals(): Promise<Float64Array>;
  /** One gradient step on the mean squared loss over `rows` (all rows when omitted). */
  step(lr: number, rows?: Uint32Array): Promise<void>;
  /** K v = J (J^T v) / n over all training rows, without forming K. */
  ntkMatVec(v: Float64Array): Promise<Float64Array>;
  /** Network AGOP (1/n) sum_i grad_x f(x_i) grad_x f(x_i)^T, d x d row-major. */
  agop(): Promise<Float64Array>;
  /** Copies of the current weights. */
  weights(): Promise<{ W: Float64Array; a: Float64Array }>;
  dispose(): void;
}

export interface CatapultBackend {
  readonly name: 'cpu' | 'webgpu';
  readonly device: string;
  createSession(problem: ReluProblem): Promise<ReluSession>;
}
