import type { BackendName } from '../errors';
import type { KernelName } from './backend';
import type { Mat } from '../mat';
import type { Task } from '../data/dataset';

/** RFM options (SCIENCE.md §1). Names mirror the CLI flags in camelCase. */
export interface RfmOptions {
  kernel: KernelName;
  bandwidth: number;
  reg: number;
  iters: number;
  diag: boolean;
  centerGrads: boolean;
  agopPower: 1 | 0.5;
  normalize: 'max' | 'none';
  standardize: boolean;
  /** xRFM: stop when the validation metric worsens by more than 10% and return the best iteration. */
  earlyStop: boolean;
  /** AGOP over at most this many training points (seeded subsample beyond). */
  agopSamples: number;
  seed: number;
}

/** Paper defaults (L = 10, reg = 1e-3, T = 3), standardisation on. */
export const DEFAULT_RFM_OPTIONS: RfmOptions = {
  kernel: 'laplace',
  bandwidth: 10,
  reg: 1e-3,
  iters: 3,
  diag: false,
  centerGrads: false,
  agopPower: 1,
  normalize: 'max',
  standardize: true,
  earlyStop: false,
  agopSamples: 20000,
  seed: 0,
};

export interface PhaseSeconds {
  kernel: number;
  solve: number;
  predict: number;
  agop: number;
}

/** One round: predictor fitted with M_t, metrics measured. metric = accuracy (classification) or R^2. */
export interface IterationRecord {
  iter: number;
  train_metric: number;
  train_mse: number;
  test_metric: number | null;
  test_mse: number | null;
  seconds: number;
  phases: PhaseSeconds;
  /** Ridge actually used (reg plus any jitter added after a failed Cholesky). */
  reg_used: number;
}

/** A feature matrix: full d x d (row-major) or its diagonal only. */
export interface FeatureMatrix {
  diag: boolean;
  d: number;
  data: Float64Array;
}

/** Everything needed to predict new rows; serialisable with modelToJson. */
export interface RfmModel {
  task: Task;
  kernel: KernelName;
  bandwidth: number;
  featureNames: string[];
  targetName: string;
  classes?: string[];
  /** Standardisation from training statistics (null when off). */
  standardize: { mean: Float64Array; std: Float64Array } | null;
  M: FeatureMatrix;
  /** Training points after standardisation (not transformed by M). */
  centers: Mat;
  alpha: Mat;
}

export interface FitResult {
  task: Task;
  n_train: number;
  n_test: number;
  d: number;
  feature_names: string[];
  backend: BackendName;
  device: string;
  iterations: IterationRecord[];
  /** Index into iterations of the returned model (last, or best with early stopping). */
  best_iter: number;
  final: { train_metric: number; test_metric: number | null; test_mse: number | null };
  /** Final M as nested rows (d x d; for diag, the diagonal matrix). */
  M: number[][];
  /** diag(M) per feature. */
  importance: number[];
  options: RfmOptions;
  seconds: number;
  /** Why the backend changed mid-fit (e.g. WebGPU device lost -> CPU), if it did. */
  fallback?: string;
  model: RfmModel;
}
