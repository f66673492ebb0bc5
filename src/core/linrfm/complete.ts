// lin-RFM matrix completion (docs/science.md §8): the one orchestrator. It owns the schedule (validation split,
// λ, α, stopping rule, spectrum); a LinRfmBackend (backend.ts) runs each iteration on its device.
import { CancelledError, InputError } from '../errors';
import { eighSym, powFromEigen } from '../linalg/eigh';
import { topEigenpairs } from '../linalg/topEigen';
import { MAX_FEATURES } from '../limits';
import { permutation } from '../random';
import type { LinRfmBackend, LinRfmProblem, ObservedCsr } from './backend';
import { gramOverRows, symSquare } from './cpu';

/** A matrix with missing entries: m x d row-major, NaN = missing. */
export interface PartialMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

export interface CompleteOptions {
  /** M = (WᵀW/m)^α; ½ and 1 need no eigendecomposition. Default ½. */
  alpha?: number;
  /** Ridge λ of the per-row solves at the start. Default 5e-2. */
  reg?: number;
  /** λ once the validation error is below `regSwitch` (λ becomes min(reg, regFinal)). Default 1e-3. */
  regFinal?: number;
  /** Validation error below which λ is lowered. Default 0.1. */
  regSwitch?: number;
  /** Converged when the validation error is below this. Default 1e-3. */
  tol?: number;
  /**
   * Stop after this many consecutive non-improving iterations (validation error not below the previous
   * iteration's by more than 1e-10). Default 20.
   */
  patience?: number;
  /** Most iterations. Default 3000. */
  maxIters?: number;
  /** Share of the observed entries held back for validation (seeded). Default 0.05. */
  validationFraction?: number;
  /** Seed of the validation split. Default 0. */
  seed?: number;
  /** Singular values of the current iterate every this many iterations in the progress (0: never). Default 0. */
  spectrumEvery?: number;
  /**
   * After a converged run, continue from its P with every observed entry (validation ones included) for as
   * many iterations again, at least 100 (within maxIters in all). Default true.
   */
  refit?: boolean;
}

export const COMPLETE_DEFAULTS: Required<CompleteOptions> = {
  alpha: 0.5,
  reg: 5e-2,
  regFinal: 1e-3,
  regSwitch: 0.1,
  tol: 1e-3,
  patience: 20,
  maxIters: 3000,
  validationFraction: 0.05,
  seed: 0,
  spectrumEvery: 0,
  refit: true,
};

export interface CompleteProgress {
  /** 1-based. */
  iteration: number;
  /** Mean of (prediction − y)² over the train entries, before they are put back. */
  observedMse: number;
  /** Σ (W − y)² / Σ y² over the held-back validation entries. */
  validationError: number;
  reg: number;
  /** Singular values of this iterate's W (descending), every `spectrumEvery` iterations. */
  singularValues?: Float64Array;
  /** Set on the refit iterations (all observed entries; validationError is then NaN). */
  refit?: boolean;
}

export type StopReason = 'tolerance' | 'stalled' | 'max-iters';

export interface CompleteResult {
  rows: number;
  cols: number;
  /** Observed entries (train + validation). */
  observed: number;
  validationCount: number;
  alpha: number;
  iterations: number;
  /** The iteration with the best validation error (the refit, if any, starts from it). */
  bestIteration: number;
  /** Iterations of the refit on all observed entries after a converged run (0: none). */
  refitIterations: number;
  /** True only when the validation error fell below `tol`. */
  converged: boolean;
  stopReason: StopReason;
  /** observedMse of the best iteration. */
  observedMse: number;
  /** Validation error of the best iteration. */
  validationError: number;
  /**
   * The completed m x d matrix (row-major): the refit's last iterate, or without a refit the best iterate;
   * every observed entry put back.
   */
  completed: Float64Array;
  /** Singular values of `completed`, descending: all of them up to FULL_SPECTRUM_COLS columns, else the largest SPECTRUM_TOP. */
  singularValues: Float64Array;
  rankEstimate: number;
  /** Per iteration: observedMse and validationError. */
  history: { observedMse: number[]; validationError: number[] };
  seconds: number;
  device: string;
}

export interface CompleteContext {
  backend: LinRfmBackend;
  /** An AbortSignal (or anything with `aborted`): checked before each iteration. */
  signal?: { readonly aborted: boolean };
  onProgress?: (p: CompleteProgress) => void;
}

function checkOptions(o: Required<CompleteOptions>): void {
  const bad = (what: string, v: number) => {
    throw new InputError(`complete: ${what}, got ${v}`);
  };
  if (!(o.alpha > 0 && Number.isFinite(o.alpha))) bad('alpha must be a positive number', o.alpha);
  if (!(o.reg > 0 && Number.isFinite(o.reg))) bad('reg must be a positive number', o.reg);
  if (!(o.regFinal > 0 && Number.isFinite(o.regFinal))) bad('regFinal must be a positive number', o.regFinal);
  if (!(o.tol > 0)) bad('tol must be positive', o.tol);
  if (!(Number.isInteger(o.maxIters) && o.maxIters >= 1)) bad('max iterations must be an integer >= 1', o.maxIters);
  if (!(Number.isInteger(o.patience) && o.patience >= 1)) bad('patience must be an integer >= 1', o.patience);
  if (!(o.validationFraction > 0 && o.validationFraction <= 0.5))
    bad('the validation fraction must be in (0, 0.5]', o.validationFraction);
}

/** Builds CSR rows (columns ascending) from entries given as flat indices i·d + j (ascending). */
function csrOf(m: number, d: number, flat: Float64Array, data: Float64Array): ObservedCsr {
  const rowPtr = new Int32Array(m + 1);
  const colIdx = new Int32Array(flat.length);
  const values = new Float64Array(flat.length);
  for (let t = 0; t < flat.length; t++) {
    const f = flat[t];
    rowPtr[Math.floor(f / d) + 1]++;
    colIdx[t] = f % d;
    values[t] = data[f];
  }
  for (let i = 0; i < m; i++) rowPtr[i + 1] += rowPtr[i];
  return { rowPtr, colIdx, values };
}

/**
 * The observed entries of `matrix` split into train and a seeded validation subset
 * (max(1, round(fraction · observed)) entries). Needs at least 2 observed entries.
 */
export function splitObserved(matrix: PartialMatrix, fraction: number, seed: number): LinRfmProblem {
  const { rows: m, cols: d, data } = matrix;
  const obs: number[] = [];
  for (let f = 0; f < data.length; f++) if (!Number.isNaN(data[f])) obs.push(f);
  if (obs.length < 2)
    throw new InputError(
      `complete: the matrix has ${obs.length} observed entr${obs.length === 1 ? 'y' : 'ies'}; at least 2 are needed (one is held back for validation)`,
    );
  const nVal = Math.min(obs.length - 1, Math.max(1, Math.round(fraction * obs.length)));
  const perm = permutation(obs.length, seed);
  const isVal = new Uint8Array(obs.length);
  for (let t = 0; t < nVal; t++) isVal[perm[t]] = 1;
  const train = new Float64Array(obs.length - nVal);
  const val = new Float64Array(nVal);
  let a = 0,
    b = 0;
  for (let t = 0; t < obs.length; t++) {
    if (isVal[t]) val[b++] = obs[t];
    else train[a++] = obs[t];
  }
  return { rows: m, cols: d, train: csrOf(m, d, train, data), validation: csrOf(m, d, val, data) };
}

/** Columns up to which the whole spectrum is computed; above, only the largest SPECTRUM_TOP values. */
export const FULL_SPECTRUM_COLS = 128;
export const SPECTRUM_TOP = 64;

/**
 * Singular values (descending) from the eigenvalues of a Gram matrix G = WᵀW/m: σ = sqrt(m·λ). All d of
 * them up to FULL_SPECTRUM_COLS columns; beyond, the largest SPECTRUM_TOP by randomized subspace
 * iteration (linalg/topEigen.ts): a full d x d eigendecomposition took 23 s at d = 1000 on this machine,
 * held the extension host that long, and a completed low-rank matrix needs only its top.
 */
export function singularValuesFromGram(G: Float64Array, d: number, m: number): Float64Array {
  const { values } = d <= FULL_SPECTRUM_COLS ? eighSym(G, d) : topEigenpairs(G, d, SPECTRUM_TOP);
  return Float64Array.from(values, (v) => Math.sqrt(Math.max(v, 0) * m));
}

/** ‖W‖_F² = m·tr(G) for G = WᵀW/m: the whole spectrum's Σσ², also when only its top was computed. */
export function frobenius2FromGram(G: Float64Array, d: number, m: number): number {
  let t = 0;
  for (let j = 0; j < d; j++) t += G[j * d + j];
  return t * m;
}

/**
 * Rank estimate: the number of singular values above sqrt(min(10·e, 0.25))·‖Ŷ‖_F, where e is the relative
 * validation error (floored at 1e-12). A completion with relative error e' is Ŷ = Y + E with
 * ‖E‖₂ ≤ ‖E‖_F ≈ sqrt(e')·‖Y‖_F, so (Weyl) the directions Y lacks stay below that level. The factor 10
 * allows for the small validation subset underestimating the held-out error (measured up to ~6x, README);
 * the cap keeps the leading directions of an unconverged run. `fro2` = Σσ² over the whole spectrum
 * (frobenius2FromGram when `singularValues` holds only the top).
 */
export function rankEstimate(
  singularValues: Float64Array,
  relativeError: number,
  fro2 = singularValues.reduce((a, v) => a + v * v, 0),
): number {
  if (!(fro2 > 0)) return 0;
  const e = Number.isFinite(relativeError) ? relativeError : 1;
  const level = Math.sqrt(Math.min(Math.max(10 * e, 1e-12), 0.25) * fro2);
  let r = 0;
  for (const s of singularValues) if (s > level) r++;
  return r;
}

const now = () => performance.now() / 1000;

/** Merges two CSR sets of the same matrix with disjoint entries (columns ascending per row). */
function mergeCsr(a: ObservedCsr, b: ObservedCsr, m: number): ObservedCsr {
  const n = a.values.length + b.values.length;
  const rowPtr = new Int32Array(m + 1);
  const colIdx = new Int32Array(n);
  const values = new Float64Array(n);
  let t = 0;
  for (let i = 0; i < m; i++) {
    let p = a.rowPtr[i],
      q = b.rowPtr[i];
    while (p < a.rowPtr[i + 1] || q < b.rowPtr[i + 1]) {
      const fromA = q >= b.rowPtr[i + 1] || (p < a.rowPtr[i + 1] && a.colIdx[p] < b.colIdx[q]);
      colIdx[t] = fromA ? a.colIdx[p] : b.colIdx[q];
      values[t++] = fromA ? a.values[p++] : b.values[q++];
    }
    rowPtr[i + 1] = t;
  }
  return { rowPtr, colIdx, values };
}

/** P = G^{2α} on the device when α is ½ or 1, else by eigendecomposition on the host. */
async function nextP(backend: LinRfmBackend, alpha: number, d: number): Promise<void> {
  if (alpha === 0.5) await backend.updateP('gram');
  else if (alpha === 1) await backend.updateP('gramSquared');
  else await backend.setP(powFromEigen(eighSym(await backend.readGram(), d), d, 2 * alpha));
}

/**
 * Completes `matrix` (NaN = missing) by lin-RFM (docs/science.md §8). Convergence is decided on a held-back
 * validation subset of the observed entries, never on the fitted ones. The run stops when the validation
 * error falls below `tol` (converged), after `patience` consecutive non-improving iterations (stalled), or at
 * `maxIters`. A converged run is then refitted (option `refit`): as many iterations again (at least 100), from the
 * accepted iterate's P, with every observed entry (validation ones included). Otherwise the best-validation
 * iterate is returned. Every observed entry is put back into the returned matrix.
 */
export async function completeMatrix(
  matrix: PartialMatrix,
  options: CompleteOptions,
  ctx: CompleteContext,
): Promise<CompleteResult> {
  const o: Required<CompleteOptions> = { ...COMPLETE_DEFAULTS };
  for (const [k, v] of Object.entries(options)) if (v !== undefined) (o as Record<string, unknown>)[k] = v;
  checkOptions(o);
  const { rows: m, cols: d } = matrix;
  if (d > MAX_FEATURES)
    throw new InputError(
      `complete: the matrix has ${d} columns; lin-RFM keeps a ${d} x ${d} matrix P, at most ${MAX_FEATURES} columns are supported (transpose the matrix if it has fewer rows)`,
    );
  const t0 = now();
  const split = splitObserved(matrix, o.validationFraction, o.seed);
  // Scale so the observed entries have mean square 1 (the reference scales its matrices so); λ and the
  // P = G^{2α} step are not scale-free, and a matrix in other units would otherwise regularise differently.
  let ms = 0;
  for (const part of [split.train, split.validation]) for (const v of part.values) ms += v * v;
  ms /= split.train.values.length + split.validation.values.length;
  const scale = ms > 0 ? Math.sqrt(ms) : 1;
  const scaled = (c: ObservedCsr): ObservedCsr => ({ ...c, values: c.values.map((v) => v / scale) });
  const problem: LinRfmProblem = { ...split, train: scaled(split.train), validation: scaled(split.validation) };
  const trainCount = problem.train.values.length;
  let valSq = 0;
  for (const v of problem.validation.values) valSq += v * v;
  const valNorm = valSq > 0 ? valSq : problem.validation.values.length;
  const { backend, signal, onProgress } = ctx;
  const identity = new Float64Array(d * d);
  for (let i = 0; i < d; i++) identity[i * d + i] = 1;
  await backend.setProblem(problem);
  await backend.setP(identity);

  let reg = o.reg;
  let lowered = false;
  let best = Infinity;
  let bestIteration = 0;
  let bestObservedMse = NaN;
  let nonImproving = 0;
  let previous = Infinity;
  let stopReason: StopReason = 'max-iters';
  let iterations = 0;
  const history = { observedMse: [] as number[], validationError: [] as number[] };
  for (let it = 1; it <= o.maxIters; it++) {
    if (signal?.aborted) throw new CancelledError();
    const step = await backend.iterate(reg);
    iterations = it;
    const observedMse = trainCount ? (step.trainSse * ms) / trainCount : 0;
    const validationError = step.validationSse / valNorm;
    history.observedMse.push(observedMse);
    history.validationError.push(validationError);
    if (validationError < best) {
      best = validationError;
      bestIteration = it;
      bestObservedMse = observedMse;
      await backend.keepBest();
    }
    nonImproving = validationError < previous - 1e-10 ? 0 : nonImproving + 1;
    previous = validationError;
    const progress: CompleteProgress = { iteration: it, observedMse, validationError, reg };
    if (o.spectrumEvery > 0 && it % o.spectrumEvery === 0)
      progress.singularValues = singularValuesFromGram(await backend.readGram(), d, m);
    onProgress?.(progress);
    if (best < o.tol) {
      stopReason = 'tolerance';
      break;
    }
    if (nonImproving >= o.patience) {
      stopReason = 'stalled';
      break;
    }
    if (!lowered && best < o.regSwitch) {
      lowered = true;
      reg = Math.min(o.reg, o.regFinal);
    }
    if (it === o.maxIters) break;
    await nextP(backend, o.alpha, d);
  }
  if (signal?.aborted) throw new CancelledError();
  // The refit: a small validation subset underestimates the held-out error of the iterate it accepts
  // (measured ~1.5-15x, README), so a converged run continues from that iterate's P for as many
  // iterations again with every observed entry. At a 'tolerance' stop the current iterate is the best one.
  let refitIterations = 0;
  let which: 'best' | 'current' = 'best';
  const refitCount =
    o.refit && stopReason === 'tolerance' ? Math.min(Math.max(iterations, 100), o.maxIters - iterations) : 0;
  if (refitCount > 0) {
    const G = await backend.readGram();
    const P = o.alpha === 0.5 ? G : o.alpha === 1 ? symSquare(G, d) : powFromEigen(eighSym(G, d), d, 2 * o.alpha);
    const empty: ObservedCsr = {
      rowPtr: new Int32Array(m + 1),
      colIdx: new Int32Array(0),
      values: new Float64Array(0),
    };
    await backend.setProblem({
      rows: m,
      cols: d,
      train: mergeCsr(problem.train, problem.validation, m),
      validation: empty,
    });
    await backend.setP(P);
    const allCount = problem.train.values.length + problem.validation.values.length;
    for (let k = 1; k <= refitCount; k++) {
      if (signal?.aborted) throw new CancelledError();
      const step = await backend.iterate(reg);
      refitIterations = k;
      onProgress?.({
        iteration: iterations + k,
        observedMse: (step.trainSse * ms) / allCount,
        validationError: NaN,
        reg,
        refit: true,
      });
      if (k < refitCount) await nextP(backend, o.alpha, d);
    }
    which = 'current';
  }
  const completed = await backend.readCompleted(which);
  for (let f = 0; f < completed.length; f++) completed[f] *= scale;
  for (const part of [split.train, split.validation])
    for (let i = 0; i < m; i++)
      for (let t = part.rowPtr[i]; t < part.rowPtr[i + 1]; t++) completed[i * d + part.colIdx[t]] = part.values[t];
  const completedGram = gramOverRows(completed, m, d);
  const singularValues = singularValuesFromGram(completedGram, d, m);
  return {
    rows: m,
    cols: d,
    observed: trainCount + problem.validation.values.length,
    validationCount: problem.validation.values.length,
    alpha: o.alpha,
    iterations,
    bestIteration,
    refitIterations,
    converged: best < o.tol,
    stopReason,
    observedMse: bestObservedMse,
    validationError: best,
    completed,
    singularValues,
    rankEstimate: rankEstimate(singularValues, best, frobenius2FromGram(completedGram, d, m)),
    history,
    seconds: now() - t0,
    device: backend.device,
  };
}
