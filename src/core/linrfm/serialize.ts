// The JSON reports of lin-RFM (the CLI's --json, the extension's saved report): one serializer each,
// snake_case fields. Non-finite numbers are written as null.
import type { CompleteResult } from './complete';
import type { SparseResult } from './sparse';

const num = (v: number): number | null => (Number.isFinite(v) ? v : null);

/** `feature-lens complete --json`: the keys first, then the validation and run details. */
export function completionToJson(
  r: CompleteResult,
  run: { reg: number; seed: number; backend: string; file?: string },
): Record<string, unknown> {
  return {
    rows: r.rows,
    cols: r.cols,
    observed: r.observed,
    alpha: r.alpha,
    iterations: r.iterations,
    converged: r.converged,
    observed_mse: num(r.observedMse),
    rank_estimate: r.rankEstimate,
    singular_values: Array.from(r.singularValues, num),
    seconds: num(r.seconds),
    validation_error: num(r.validationError),
    validation_count: r.validationCount,
    best_iteration: r.bestIteration,
    refit_iterations: r.refitIterations,
    stop_reason: r.stopReason,
    reg: run.reg,
    seed: run.seed,
    backend: run.backend,
    device: r.device,
    ...(run.file ? { file: run.file } : {}),
    history: { observed_mse: r.history.observedMse.map(num), validation_error: r.history.validationError.map(num) },
  };
}

/** `feature-lens sparse-regress --json`. */
export function sparseToJson(
  r: SparseResult,
  run: { target: string; featureNames: readonly string[]; nTrain: number; nTest: number; file?: string },
): Record<string, unknown> {
  return {
    coef: Array.from(r.coef, num),
    support: r.support,
    iterations: r.iterations,
    train_r2: num(r.trainR2),
    test_r2: num(r.testR2),
    intercept: num(r.intercept),
    alpha: r.alpha,
    support_names: r.support.map((j) => run.featureNames[j]),
    feature_names: run.featureNames,
    target: run.target,
    n_train: run.nTrain,
    n_test: run.nTest,
    ...(run.file ? { file: run.file } : {}),
  };
}
