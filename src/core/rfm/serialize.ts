import { InputError } from '../errors';
import { mat } from '../mat';
import type { BackendName } from '../errors';
import type { Task } from '../data/dataset';
import type { FinalMetrics, FitResult, IterationRecord, PhaseSeconds, RfmModel, RfmOptions } from './types';

/** One iteration in the JSON report (the in-memory train MSE is not part of it). */
export interface IterationReport {
  iter: number;
  train_metric: number;
  test_metric: number | null;
  test_mse: number | null;
  seconds: number;
  phases: PhaseSeconds;
  reg_used: number;
}

export interface FinalReport {
  train_metric: number;
  test_metric: number | null;
  test_mse: number | null;
}

/** The documented JSON report of a fit (CLI `--json`, extension run files): everything but the model. */
export interface FitReport {
  task: Task;
  n_train: number;
  n_test: number;
  d: number;
  feature_names: string[];
  backend: BackendName;
  device: string;
  fallback?: string;
  options: RfmOptions;
  iterations: IterationReport[];
  best_iter: number;
  final: FinalReport;
  /** d rows of d numbers. */
  M: number[][];
  importance: number[];
  seconds: number;
}

export function finalReport(f: FinalMetrics): FinalReport {
  return { train_metric: f.trainMetric, test_metric: f.testMetric, test_mse: f.testMse };
}

/** The report's keys in the order they have always been written (files are compared byte for byte). */
export function fitResultToJson(r: FitResult): FitReport {
  const d = r.d;
  return {
    task: r.task,
    n_train: r.nTrain,
    n_test: r.nTest,
    d,
    feature_names: r.featureNames,
    backend: r.backend,
    device: r.device,
    ...(r.fallback ? { fallback: r.fallback } : {}),
    options: r.options,
    iterations: r.iterations.map((it) => ({
      iter: it.iter,
      train_metric: it.trainMetric,
      test_metric: it.testMetric,
      test_mse: it.testMse,
      seconds: it.seconds,
      phases: it.phases,
      reg_used: it.regUsed,
    })),
    best_iter: r.bestIter,
    final: finalReport(r.final),
    M: Array.from({ length: d }, (_, i) => Array.from(r.M.subarray(i * d, (i + 1) * d))),
    importance: Array.from(r.importance),
    seconds: r.seconds,
  };
}

const MODEL_FORMAT = 'feature-lens.rfm-model';

/** A saved model: plain JSON (numbers as arrays) so it can be read by any tool; `extra` carries e.g. the dataset schema. */
export function modelToJson(m: RfmModel, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    format: MODEL_FORMAT,
    version: 1,
    task: m.task,
    kernel: m.kernel,
    bandwidth: m.bandwidth,
    feature_names: m.featureNames,
    target_name: m.targetName,
    classes: m.classes ?? null,
    standardize: m.standardize ? { mean: Array.from(m.standardize.mean), std: Array.from(m.standardize.std) } : null,
    M: { diag: m.M.diag, d: m.M.d, data: Array.from(m.M.data) },
    centers: { rows: m.centers.rows, cols: m.centers.cols, data: Array.from(m.centers.data) },
    alpha: { rows: m.alpha.rows, cols: m.alpha.cols, data: Array.from(m.alpha.data) },
    ...extra,
  });
}

/** A model file as parsed, before its fields are checked: any field may be missing or of any type. */
interface UncheckedMatrix {
  rows?: unknown;
  cols?: unknown;
  d?: unknown;
  diag?: unknown;
  data?: unknown;
}
interface UncheckedModel {
  format?: unknown;
  task?: unknown;
  kernel?: unknown;
  bandwidth?: unknown;
  feature_names?: unknown;
  target_name?: unknown;
  classes?: unknown;
  standardize?: { mean?: unknown; std?: unknown } | null;
  M?: UncheckedMatrix;
  centers?: UncheckedMatrix;
  alpha?: UncheckedMatrix;
  [extra: string]: unknown;
}

const isInt = (v: unknown): v is number => Number.isInteger(v);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

export function modelFromJson(text: string, fileName: string): { model: RfmModel; extra: Record<string, unknown> } {
  let j: UncheckedModel;
  try {
    j = JSON.parse(text) as UncheckedModel;
  } catch (e) {
    throw new InputError(`${fileName}: not a JSON file (${(e as Error).message})`);
  }
  if (j?.format !== MODEL_FORMAT)
    throw new InputError(`${fileName}: not a Feature Lens model (expected "format": "${MODEL_FORMAT}")`);
  const arr = (field: string, v: unknown, len: number): Float64Array => {
    if (!Array.isArray(v) || v.length !== len || !v.every((x) => typeof x === 'number' && Number.isFinite(x)))
      throw new InputError(`${fileName}: field ${field} must be ${len} finite numbers`);
    return Float64Array.from(v);
  };
  const d = j.M?.d;
  if (!isInt(d) || d < 1) throw new InputError(`${fileName}: field M.d must be a positive integer`);
  const c = j.centers,
    a = j.alpha;
  if (!isInt(c?.rows) || c.cols !== d) throw new InputError(`${fileName}: field centers must be a rows x ${d} matrix`);
  if (a?.rows !== c.rows || !isInt(a?.cols)) throw new InputError(`${fileName}: field alpha must have ${c.rows} rows`);
  if (!isStrings(j.feature_names) || j.feature_names.length !== d)
    throw new InputError(`${fileName}: field feature_names must be ${d} names`);
  if (typeof j.target_name !== 'string') throw new InputError(`${fileName}: field target_name must be a name`);
  if (j.classes !== undefined && j.classes !== null && !isStrings(j.classes))
    throw new InputError(`${fileName}: field classes must be names`);
  const diag = !!j.M?.diag;
  const model: RfmModel = {
    task: j.task === 'classification' ? 'classification' : 'regression',
    kernel: j.kernel === 'gaussian' ? 'gaussian' : 'laplace',
    bandwidth: Number(j.bandwidth),
    featureNames: j.feature_names,
    targetName: j.target_name,
    classes: j.classes ?? undefined,
    standardize: j.standardize
      ? { mean: arr('standardize.mean', j.standardize.mean, d), std: arr('standardize.std', j.standardize.std, d) }
      : null,
    M: { diag, d, data: arr('M.data', j.M?.data, diag ? d : d * d) },
    centers: mat(c.rows, d, arr('centers.data', c.data, c.rows * d)),
    alpha: mat(a.rows, a.cols, arr('alpha.data', a.data, a.rows * a.cols)),
  };
  const {
    format: _f,
    version: _v,
    task: _t,
    kernel: _k,
    bandwidth: _b,
    feature_names: _n,
    target_name: _tn,
    classes: _c,
    standardize: _s,
    M: _m,
    centers: _ce,
    alpha: _a,
    ...extra
  } = j;
  return { model, extra };
}

/** The in-memory metrics of a report's `final`. */
export function finalFromReport(f: FinalReport): FinalMetrics {
  return { trainMetric: f.train_metric, testMetric: f.test_metric, testMse: f.test_mse };
}

/** An iteration read back from a report: its train MSE was not written, so it is null. */
export type SavedIteration = Omit<IterationRecord, 'trainMse'> & { trainMse: number | null };

export function iterationFromReport(it: IterationReport): SavedIteration {
  return {
    iter: it.iter,
    trainMetric: it.train_metric,
    trainMse: null,
    testMetric: it.test_metric,
    testMse: it.test_mse,
    seconds: it.seconds,
    phases: it.phases,
    regUsed: it.reg_used,
  };
}

/** M of a report, d x d row-major. */
export function matrixFromReport(r: Pick<FitReport, 'd' | 'M'>): Float64Array {
  const M = new Float64Array(r.d * r.d);
  r.M.forEach((row, i) => M.set(row, i * r.d));
  return M;
}
