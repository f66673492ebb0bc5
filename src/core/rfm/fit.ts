import type { Backend, KernelSpec } from './backend';
import { checkRfmBudget, describeEstimate, type RfmEstimate } from './budget';
import type { Dataset } from '../data/dataset';
import { splitDataset } from '../data/split';
import { InputError, option, throwIfCancelled, type CancelToken } from '../errors';
import { mat, takeRows, type Mat } from '../mat';
import { permutation } from '../random';
import { evaluate, targetMatrix } from './metrics';
import {
  agopFromMoments,
  applyTransform,
  diagonal,
  fullMatrix,
  identityFeatureMatrix,
  nextFeatureMatrix,
  transformOf,
} from './feature-matrix';
import { parseRfmOptions } from './options';
import { solveWithRidgeRetry } from './solve';
import { resolveSolver } from './solvers';
import {
  DEFAULT_RFM_OPTIONS,
  type FeatureMatrix,
  EARLY_STOP_FRACTION,
  type FitResult,
  type HeldOut,
  type IterationRecord,
  type RfmModel,
  type RfmOptions,
  type Selection,
} from './types';

export interface FitContext {
  backend: Backend;
  /** Held-out rows for test metrics (encoded with the training schema). */
  test?: Dataset;
  /** Without `test`: hold out this fraction of the training rows (seeded by options.seed) as the test set. */
  valFraction?: number;
  onIteration?: (rec: IterationRecord) => void;
  /** Hears the memory/time estimate (and a one-line description) once, before any allocation. */
  onEstimate?: (estimate: RfmEstimate, line: string) => void;
  cancel?: CancelToken;
  /** A classification fit of one class is allowed (a tree's leaf or split subsample may be pure): it predicts that class. */
  allowOneClass?: boolean;
}

const now = () => performance.now() / 1000;

/**
 * Column means and standard deviations of the training rows (std 0 -> 1, so constant columns become 0).
 * Overflow-safe: a column of huge values is divided by a power of two near its largest magnitude before summing and squaring, so a
 * column of ±1e308 gets std 1e308 (not Infinity, which would zero its importance).
 */
export function standardizer(X: Mat): { mean: Float64Array; std: Float64Array } {
  const { rows: n, cols: d, data } = X;
  const mean = new Float64Array(d),
    std = new Float64Array(d),
    scale = new Float64Array(d);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) {
      const a = Math.abs(data[i * d + j]);
      if (a > scale[j]) scale[j] = a;
    }
  // A power of two (exact to divide by), and only for columns whose squares could overflow: every
  // ordinary column keeps scale 1 and the bit-identical statistics it always had.
  for (let j = 0; j < d; j++)
    scale[j] =
      scale[j] > 2 ** 500 && Number.isFinite(scale[j]) ? 2 ** Math.min(1023, Math.ceil(Math.log2(scale[j]))) : 1;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += data[i * d + j] / scale[j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) std[j] += (data[i * d + j] / scale[j] - mean[j]) ** 2;
  for (let j = 0; j < d; j++) {
    std[j] = Math.sqrt(std[j] / n) * scale[j] || 1;
    mean[j] *= scale[j];
  }
  return { mean, std };
}

export function standardize(X: Mat, s: { mean: Float64Array; std: Float64Array } | null): Mat {
  if (!s) return X;
  const d = X.cols,
    out = new Float64Array(X.data.length);
  for (let i = 0; i < X.rows; i++)
    for (let j = 0; j < d; j++) {
      const x = X.data[i * d + j];
      const v = (x - s.mean[j]) / s.std[j];
      // x - mean overflows when both are near ±1.8e308; the two quotients do not.
      out[i * d + j] = Number.isFinite(v) ? v : x / s.std[j] - s.mean[j] / s.std[j];
    }
  return mat(X.rows, d, out);
}

/** A classification target needs two classes among the training rows; one class "fits" with accuracy 1. */
export function checkClasses(train: Dataset): void {
  if (train.task !== 'classification' || train.y.length === 0) return;
  const first = train.y[0];
  if (train.y.every((v) => v === first)) {
    const name = train.classes?.[first] ?? String(first);
    throw new InputError(
      `${train.source}: the target '${train.targetName}' has one class ('${name}') in all ${train.y.length} training rows; expected at least two classes to classify (choose another ${option('target')}, or ${option('task')} regression for a numeric target)`,
    );
  }
}

/** Predictions K_M(Z, centers) alpha for raw (encoded, unstandardised) rows Z. */
export async function predictRfm(model: RfmModel, Z: Mat, backend: Backend): Promise<Mat> {
  if (Z.cols !== model.M.d) throw new InputError(`expected ${model.M.d} feature columns, got ${Z.cols}`);
  const R = transformOf(model.M);
  const kernel: KernelSpec = { name: model.kernel, bandwidth: model.bandwidth };
  return backend.predict(
    applyTransform(standardize(Z, model.standardize), R),
    applyTransform(model.centers, R),
    kernel,
    model.alpha,
  );
}

/** The criterion early stopping reads: the inner split's (when there is one), else the held-out, else the training one. */
function criterion(r: IterationRecord): { metric: number | null; mse: number } {
  if (r.selectMse !== undefined) return { metric: r.selectMetric ?? null, mse: r.selectMse };
  return r.testMse !== null ? { metric: r.testMetric, mse: r.testMse } : { metric: null, mse: r.trainMse };
}

/** Better-than for the early-stopping/selection criterion: accuracy (ties: MSE) or MSE. */
function better(a: IterationRecord, b: IterationRecord, classification: boolean): boolean {
  const ca = criterion(a),
    cb = criterion(b);
  if (classification && ca.metric !== null && cb.metric !== null && ca.metric !== cb.metric)
    return ca.metric > cb.metric;
  return ca.mse < cb.mse;
}

/** xRFM's rule: stop once the criterion is more than 10% worse than the best so far. */
function muchWorse(cur: IterationRecord, best: IterationRecord, classification: boolean): boolean {
  const c = criterion(cur),
    b = criterion(best);
  if (classification && c.metric !== null && b.metric !== null) return c.metric < 0.9 * b.metric;
  return c.mse > 1.1 * b.mse;
}

/**
 * The AGOP of the kernel predictor `alpha` fitted on the transformed rows Xt (R^T R = M), over the rows Z
 * of Xt (all of them or a subsample), in input coordinates: one RFM round's feature update (fitRfm) and
 * one Deep RFM layer's M_l (rfm/deep.ts, with R = I). The gradients are taken on the backend.
 */
export async function predictorAgop(
  backend: Backend,
  Z: Mat,
  Xt: Mat,
  kernel: KernelSpec,
  alpha: Mat,
  R: Mat,
  opts: Pick<RfmOptions, 'diag' | 'centerGrads'>,
): Promise<FeatureMatrix> {
  const moments = await backend.gradMoments(Z, Xt, kernel, alpha, opts.diag);
  return agopFromMoments(moments, R, Z.rows, opts.diag, opts.centerGrads, R.cols);
}

/** Rows below which early stopping does not split the training rows again (it chooses on the held-out rows). */
const MIN_ROWS_FOR_INNER_SPLIT = 20;

/**
 * Fits a Recursive Feature Machine (docs/science.md §1): M_0 = I; for t = 0..T-1 fit the kernel predictor with
 * M_t, record metrics, set M_{t+1} from the AGOP; then fit once more with M_T. With earlyStop, a seeded
 * EARLY_STOP_FRACTION of the training rows is set aside (an inner split), the fit stops when the criterion
 * on it worsens by more than 10% and returns its best iteration (xRFM); the reported validation metric is
 * measured on the other held-out rows, which the choice never saw. Every heavy step
 * runs on ctx.backend; this function is the only RFM loop, whatever the device. Where it runs and what
 * happens when that device fails (a BackendError) is the caller's (core/compute.ts runPlaced).
 */
export async function fitRfm(trainIn: Dataset, options: Partial<RfmOptions>, ctx: FitContext): Promise<FitResult> {
  const opts = parseRfmOptions(options, 'option', DEFAULT_RFM_OPTIONS);
  const started = now();
  // A one-class file is refused as such (before a split could make it look like a smaller problem).
  if (!ctx.allowOneClass) checkClasses(trainIn);
  let train = trainIn;
  let test = ctx.test;
  let heldOut: HeldOut = test ? { kind: 'file', source: test.source, rows: test.X.rows } : { kind: 'none' };
  if (!test && ctx.valFraction !== undefined && ctx.valFraction > 0) {
    const s = splitDataset(train, ctx.valFraction, opts.seed);
    train = s.train;
    test = s.held;
    heldOut = { kind: 'split', fraction: ctx.valFraction, seed: opts.seed, rows: test.X.rows };
  }
  let select: Dataset | undefined;
  let selection: Selection | undefined;
  if (opts.earlyStop) {
    if (train.X.rows >= MIN_ROWS_FOR_INNER_SPLIT) {
      const s = splitDataset(train, EARLY_STOP_FRACTION, opts.seed + 2);
      train = s.train;
      select = { ...s.held, source: `${trainIn.source} (early-stopping split)` };
      selection = { on: 'inner split', rows: select.X.rows };
    } else selection = test ? { on: 'held-out', rows: test.X.rows } : { on: 'train', rows: train.X.rows };
  }
  const n = train.X.rows,
    d = train.X.cols;
  if (n < 2) throw new InputError(`${train.source}: need at least 2 training rows, got ${n}`);
  if (test && test.X.cols !== d)
    throw new InputError(`${test.source}: expected ${d} feature columns like the training data, got ${test.X.cols}`);
  if (!ctx.allowOneClass) checkClasses({ ...train, source: trainIn.source });
  const classification = train.task === 'classification';
  const nClasses = classification ? (train.classes?.length ?? Math.max(...train.y) + 1) : 1;
  // Memory and time from n, d, classes and the backend, before the kernel matrix is allocated.
  const solver = resolveSolver(opts.solver, n, ctx.backend.solverLimits);
  const shape = {
    solver,
    n,
    d,
    classes: nClasses,
    nTest: (test ? test.X.rows : 0) + (select ? select.X.rows : 0),
    iters: opts.iters,
    agopSamples: opts.agopSamples,
    diag: opts.diag,
  };
  const estimate = checkRfmBudget(shape, ctx.backend.name, trainIn.source);
  ctx.onEstimate?.(estimate, describeEstimate(shape, estimate));
  const Y = targetMatrix(train.y, train.task, nClasses);
  const scaler = opts.standardize ? standardizer(train.X) : null;
  const Xs = standardize(train.X, scaler);
  const Ts = test ? standardize(test.X, scaler) : null;
  const Ss = select ? standardize(select.X, scaler) : null;
  const kernel: KernelSpec = { name: opts.kernel, bandwidth: opts.bandwidth };
  const agopIdx = n > opts.agopSamples ? permutation(n, opts.seed + 1).subarray(0, opts.agopSamples) : null;

  const backend = ctx.backend;
  let M: FeatureMatrix = identityFeatureMatrix(d, opts.diag);
  const iterations: IterationRecord[] = [];
  let best: { rec: IterationRecord; M: FeatureMatrix; alpha: Mat } | null = null;

  for (let t = 0; t <= opts.iters; t++) {
    throwIfCancelled(ctx.cancel);
    const t0 = now();
    const R = transformOf(M);
    const Xt = applyTransform(Xs, R);
    // Only the last round's alpha is the model (with early stopping, any round may be).
    const hints = { final: opts.earlyStop || t === opts.iters, solver, agopNext: t < opts.iters };
    const sol = await solveWithRidgeRetry((r) => backend.solve(Xt, kernel, Y, r, hints), opts.reg);
    const { alpha, reg } = sol;
    const phases = { kernel: sol.seconds.kernel, solve: sol.seconds.solve, predict: 0, agop: 0 };
    throwIfCancelled(ctx.cancel);
    // Training predictions for free: (K + reg I) alpha = Y gives K alpha = Y - reg alpha (an
    // iterative solver that stopped short of that hands K alpha over instead).
    const trainPred =
      sol.fitted ??
      mat(
        n,
        Y.cols,
        Y.data.map((v, i) => v - reg * alpha.data[i]),
      );
    const trainEval = evaluate(trainPred, train.y, train.task);
    let testEval: { metric: number; mse: number } | null = null;
    if (test && Ts) {
      const tp = now();
      const pred = await backend.predict(applyTransform(Ts, R), Xt, kernel, alpha);
      phases.predict = now() - tp;
      testEval = evaluate(pred, test.y, test.task);
    }
    let selectEval: { metric: number; mse: number } | null = null;
    if (select && Ss) {
      const tp = now();
      const pred = await backend.predict(applyTransform(Ss, R), Xt, kernel, alpha);
      phases.predict += now() - tp;
      selectEval = evaluate(pred, select.y, select.task);
    }
    const rec: IterationRecord = {
      iter: t,
      trainMetric: trainEval.metric,
      trainMse: trainEval.mse,
      testMetric: testEval?.metric ?? null,
      testMse: testEval?.mse ?? null,
      ...(selectEval ? { selectMetric: selectEval.metric, selectMse: selectEval.mse } : {}),
      seconds: 0,
      phases,
      regUsed: reg,
      solve: sol.info ?? { solver: 'direct', iterations: 0, relResidual: 0 },
    };
    const stop = opts.earlyStop && best !== null && muchWorse(rec, best.rec, classification);
    if (!opts.earlyStop || best === null || better(rec, best.rec, classification)) best = { rec, M, alpha };
    if (t < opts.iters && !stop) {
      throwIfCancelled(ctx.cancel);
      const ta = now();
      const Z = agopIdx ? takeRows(Xt, agopIdx) : Xt;
      const G = await predictorAgop(backend, Z, Xt, kernel, alpha, R, opts);
      M = nextFeatureMatrix(G, opts);
      if (!M.data.every(Number.isFinite))
        throw new InputError(
          `the AGOP has non-finite entries; try a larger ${option('bandwidth')} or ${option('reg')}`,
        );
      phases.agop = now() - ta;
    }
    rec.seconds = now() - t0;
    iterations.push(rec);
    ctx.onIteration?.(rec);
    if (stop) break;
  }

  // Without early stopping `best` is simply the last iteration.
  const chosen = best!;
  const model: RfmModel = {
    task: train.task,
    kernel: opts.kernel,
    bandwidth: opts.bandwidth,
    featureNames: train.featureNames,
    targetName: train.targetName,
    classes: train.classes,
    standardize: scaler,
    M: chosen.M,
    centers: Xs,
    alpha: chosen.alpha,
  };
  return {
    task: train.task,
    nTrain: n,
    nTest: test ? test.X.rows : 0,
    d,
    featureNames: train.featureNames,
    backend: backend.name,
    device: backend.device,
    iterations,
    bestIter: chosen.rec.iter,
    final: {
      trainMetric: chosen.rec.trainMetric,
      testMetric: chosen.rec.testMetric,
      testMse: chosen.rec.testMse,
    },
    M: fullMatrix(chosen.M),
    importance: diagonal(chosen.M),
    options: opts,
    heldOut,
    ...(selection ? { selection } : {}),
    solver,
    seconds: now() - started,
    model,
  };
}
