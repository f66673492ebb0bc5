import { InputError } from '../errors';
import { mat } from '../mat';
import type { FitResult, RfmModel } from './types';

/** The documented JSON report of a fit (CLI `--json`, extension run files): everything but the model. */
export function fitResultToJson(r: FitResult) {
  return {
    task: r.task,
    n_train: r.n_train,
    n_test: r.n_test,
    d: r.d,
    feature_names: r.feature_names,
    backend: r.backend,
    device: r.device,
    ...(r.fallback ? { fallback: r.fallback } : {}),
    options: r.options,
    iterations: r.iterations.map((it) => ({
      iter: it.iter,
      train_metric: it.train_metric,
      test_metric: it.test_metric,
      test_mse: it.test_mse,
      seconds: it.seconds,
      phases: it.phases,
      reg_used: it.reg_used,
    })),
    best_iter: r.best_iter,
    final: r.final,
    M: r.M,
    importance: r.importance,
    seconds: r.seconds,
  };
}
export type FitReportJson = ReturnType<typeof fitResultToJson>;

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

export function modelFromJson(text: string, fileName: string): { model: RfmModel; extra: Record<string, unknown> } {
  let j: any;
  try {
    j = JSON.parse(text);
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
  if (!Number.isInteger(d) || d < 1) throw new InputError(`${fileName}: field M.d must be a positive integer`);
  const c = j.centers,
    a = j.alpha;
  if (!Number.isInteger(c?.rows) || c.cols !== d)
    throw new InputError(`${fileName}: field centers must be a rows x ${d} matrix`);
  if (a?.rows !== c.rows || !Number.isInteger(a?.cols))
    throw new InputError(`${fileName}: field alpha must have ${c.rows} rows`);
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
    M: { diag: !!j.M.diag, d, data: arr('M.data', j.M.data, j.M.diag ? d : d * d) },
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
