import type { BackendName } from '../errors';
import type { KernelName } from './backend';
import type { Mat } from '../mat';
import type { Task } from '../data/dataset';
import type { SolveInfo, SolverChoice, SolverName } from './solvers';

/** RFM options (docs/science.md §1). Names mirror the CLI flags in camelCase. */
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
  /** How (K + reg I) alpha = Y is solved (SCIENCE.md §9, rfm/solvers.ts): auto, direct, cg or eigenpro. */
  solver: SolverChoice;
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
  solver: 'auto',
};

/**
 * The fraction of the rows held out (seeded by options.seed) to report a validation metric when no test
 * file is given: the one default of the CLI's --val-fraction and the extension's featureLens.valFraction.
 */
export const DEFAULT_VAL_FRACTION = 0.2;

/**
 * With early stopping, the fraction of the training rows set aside (an inner split) to choose the
 * iteration, so the reported validation metric is measured on rows the choice never saw.
 */
export const EARLY_STOP_FRACTION = 0.2;

/** Where the reported held-out metric comes from. */
export type HeldOut =
  | { kind: 'split'; fraction: number; seed: number; rows: number }
  | { kind: 'file'; source: string; rows: number }
  | { kind: 'none' };

/** Where early stopping chose its iteration (absent without early stopping). */
export interface Selection {
  /** 'inner split': EARLY_STOP_FRACTION of the training rows; 'held-out' / 'train': too few rows to split. */
  on: 'inner split' | 'held-out' | 'train';
  rows: number;
}

export interface PhaseSeconds {
  kernel: number;
  solve: number;
  predict: number;
  agop: number;
}

/** One round: predictor fitted with M_t, metrics measured. metric = accuracy (classification) or R^2. */
export interface IterationRecord {
  iter: number;
  trainMetric: number;
  trainMse: number;
  testMetric: number | null;
  testMse: number | null;
  /** With early stopping on an inner split: its metric and MSE (what the choice of iteration saw). */
  selectMetric?: number;
  selectMse?: number;
  seconds: number;
  phases: PhaseSeconds;
  /** Ridge actually used (reg plus any jitter added after a failed Cholesky). */
  regUsed: number;
  /** The solve of this round: solver, iterations and residual (absent when a backend does not say). */
  solve?: SolveInfo;
}

/** The metrics of the returned model (its iteration's). */
export interface FinalMetrics {
  trainMetric: number;
  testMetric: number | null;
  testMse: number | null;
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

/** A fit in memory; the JSON report (snake_case, nested M) is made only by fitResultToJson (serialize.ts). */
export interface FitResult {
  task: Task;
  nTrain: number;
  nTest: number;
  d: number;
  featureNames: string[];
  backend: BackendName;
  device: string;
  iterations: IterationRecord[];
  /** Index into iterations of the returned model (last, or best with early stopping). */
  bestIter: number;
  final: FinalMetrics;
  /** Final M, d x d row-major (for diag, the diagonal matrix). */
  M: Float64Array;
  /** diag(M) per feature. */
  importance: Float64Array;
  options: RfmOptions;
  /** The solver the fit used (options.solver resolved for n and the backend). */
  solver: SolverName;
  /** Where the reported held-out (validation) metric comes from. */
  heldOut?: HeldOut;
  /** With early stopping: the rows the iteration was chosen on. */
  selection?: Selection;
  seconds: number;
  /** Why the backend changed mid-fit (e.g. WebGPU device lost -> CPU), if it did; set by the caller that moved it. */
  fallback?: string;
  /** The leaf model for a single fit; for a tree (core/rfm/tree.ts), the first leaf's (the tree's model is returned beside it). */
  model: RfmModel;
  /** Set when the fit is an xRFM tree (core/rfm/tree.ts): its shape and per-leaf fits. */
  tree?: TreeSummary;
}

/** What a tree fit shows besides the usual report: one entry per leaf (plain data: crosses to a webview as is). */
export interface TreeSummary {
  leaves: number;
  depth: number;
  leafSizes: number[];
  temperature: number;
  leafFits: {
    /** Rows of the leaf (training + its validation rows). */
    size: number;
    depth: number;
    bestIter: number;
    trainMetric: number;
    testMetric: number | null;
    testMse: number | null;
    seconds: number;
    /** Feature indices by diag(M) of the leaf, largest first (at most 10). */
    top: number[];
  }[];
}
