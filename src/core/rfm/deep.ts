// Deep RFM (docs/science.md §7; Beaglehole et al. 2024): a network built layer by layer without
// backpropagation. Per layer l: normalise each row of X_l to unit norm, fit ONE Laplace RFM step with
// M = I (ridge 0, one-hot targets) on the RFM backend, take its AGOP M_l, and map
// X_{l+1} = ReLU(W_l M_l^{1/2} x) with W_l seeded Gaussian (width x d_l, std 1/sqrt(d_l)). The control
// (`agop: false`) skips the fit and maps X_{l+1} = ReLU(W_l x) with the same W_l. Neural-collapse
// metrics (core/collapse) are measured on every X_l, layer 0 being the data as given.
import type { Backend, KernelSpec } from './backend';
import { estimateRfm } from './budget';
import { checkClasses, predictorAgop } from './fit';
import { targetMatrix } from './metrics';
import { RIDGE_LADDER_LAST, solveWithRidgeLadder } from './solve';
import { resolveSolver, type SolverName } from './solvers';
import { collapseMetrics, type CollapseMetrics } from '../collapse/metrics';
import type { Dataset } from '../data/dataset';
import { InputError, option, throwIfCancelled, type BackendName, type CancelToken } from '../errors';
import {
  CPU_FLOPS,
  formatBytes,
  MAX_CELLS,
  MAX_CPU_FIT_SECONDS,
  MAX_CPU_KERNEL_BYTES,
  MAX_DEEP_RFM_DEPTH,
  MAX_DEEP_RFM_WIDTH,
} from '../limits';
import { symPow } from '../linalg/eigh';
import { mat, type Mat } from '../mat';
import { normal, rng } from '../random';

export interface DeepRfmOptions {
  /** RFM layers: the result has depth + 1 feature sets (layer 0 is the input). */
  depth: number;
  /** Rows of each random W_l: the dimension of X_1 .. X_depth. */
  width: number;
  /** Laplace kernel bandwidth L of each layer's RFM step. */
  bandwidth: number;
  /** Seed of the W_l (the same W_l with and without the AGOP step). */
  seed: number;
  /** False: the control, X_{l+1} = ReLU(W_l x) (random features alone, no RFM fit). */
  agop: boolean;
}

export const DEFAULT_DEEP_RFM_OPTIONS: DeepRfmOptions = { depth: 8, width: 512, bandwidth: 2, seed: 0, agop: true };

/** The ridge of each layer's solve (docs/science.md §7); a failed Cholesky climbs solveWithRidgeLadder. */
export const DEEP_RFM_RIDGE = 0;

export interface DeepRfmLayer {
  /** 0 = the input; l = the features after l layers. */
  layer: number;
  /** Columns of X_l. */
  dim: number;
  nc1: number;
  nc1Classic: number;
  nc2: number;
  /** Class means and counts of X_l (for a projection of the means). */
  metrics: CollapseMetrics;
  /** Ridge of the RFM step fitted on X_l (null: no fit, the last layer or the control). */
  ridge: number | null;
  /** Solver of that step (null: no fit). */
  solver: SolverName | null;
  /** Seconds from the start of this layer's metrics to the next layer's features. */
  seconds: number;
}

export interface DeepRfmResult {
  source: string;
  n: number;
  d: number;
  classes: string[];
  options: DeepRfmOptions;
  layers: DeepRfmLayer[];
  backend: BackendName;
  device: string;
  seconds: number;
  /** Why the backend changed mid-run, if it did; set by the caller that moved it. */
  fallback?: string;
}

export interface DeepRfmContext {
  backend: Backend;
  /** Hears each layer once its metrics are measured (layer 0 first). A run restarted on another placement starts again at 0. */
  onLayer?: (layer: DeepRfmLayer) => void;
  /** An AbortSignal (or anything with `aborted`): checked between steps; aborting throws a CancelledError. */
  signal?: { readonly aborted: boolean };
  cancel?: CancelToken;
  /** Hears the estimate once, before anything is allocated (seconds: CPU estimate, null on WebGPU). */
  onEstimate?: (line: string, seconds: number | null) => void;
}

const now = () => performance.now() / 1000;

function positiveInteger(v: unknown, name: string, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max)
    throw new InputError(`${name}: expected an integer from 1 to ${max}, got ${String(v)}`);
  return v;
}

/** Checks the options (`flag` maps an option to how the user wrote it: --width, deepRfm.width). */
export function parseDeepRfmOptions(
  raw: Partial<DeepRfmOptions>,
  flag: (key: keyof DeepRfmOptions) => string = option,
): DeepRfmOptions {
  const o = { ...DEFAULT_DEEP_RFM_OPTIONS, ...raw };
  positiveInteger(o.depth, flag('depth'), MAX_DEEP_RFM_DEPTH);
  positiveInteger(o.width, flag('width'), MAX_DEEP_RFM_WIDTH);
  if (typeof o.bandwidth !== 'number' || !(o.bandwidth > 0) || !Number.isFinite(o.bandwidth))
    throw new InputError(`${flag('bandwidth')}: expected a number > 0, got ${String(o.bandwidth)}`);
  if (typeof o.seed !== 'number' || !Number.isInteger(o.seed) || o.seed < 0 || o.seed > 2 ** 32 - 1)
    throw new InputError(`${flag('seed')}: expected an integer from 0 to ${2 ** 32 - 1}, got ${String(o.seed)}`);
  if (typeof o.agop !== 'boolean') throw new InputError(`${flag('agop')}: expected true or false`);
  return o;
}

/**
 * Each layer's solve: the direct float64 Cholesky (the exact ridge-0 interpolant of docs/science.md §7;
 * the WebGPU backend runs it on the host too) while the n x n float64 matrix fits
 * MAX_CPU_KERNEL_BYTES; beyond, the backend's `auto` choice (CG, EigenPro), which stops at its tolerance.
 */
export function deepRfmSolver(n: number, backend: Backend): SolverName {
  return n * n * 8 <= MAX_CPU_KERNEL_BYTES ? 'direct' : resolveSolver('auto', n, backend.solverLimits);
}

/**
 * Memory and time of a run before anything is allocated: per layer the features (n x width float64,
 * the normalised copy and the next layer), the RFM step (rfm/budget.ts estimateRfm: the n x n kernel
 * matrix, its solve and AGOP), M_l^{1/2} and the projection. Refuses a run over MAX_CELLS features or
 * over MAX_CPU_FIT_SECONDS on the CPU, naming --width, --depth and subsampling.
 */
export function estimateDeepRfm(
  shape: { n: number; d: number; classes: number },
  o: DeepRfmOptions,
  backend: Backend,
): { hostBytes: number; flops: number; seconds: number | null } {
  const { n, d, classes } = shape;
  const solver = deepRfmSolver(n, backend);
  let flops = 0,
    hostBytes = 0;
  for (let l = 0; l < o.depth; l++) {
    const dl = l === 0 ? d : o.width;
    const features = 8 * n * (2 * dl + o.width) + 8 * o.width * dl * 2;
    let stepBytes = 0;
    if (o.agop) {
      const e = estimateRfm(
        { n, d: dl, classes, nTest: 0, iters: 0, agopSamples: n, diag: false, solver },
        backend.name,
      );
      // + M_l^{1/2} (eigendecomposition ~12 d^3), the AGOP back from the moments with R = I (2 d^3), W_l M_l^{1/2},
      // and the gradient outer products once more than estimateRfm counts them (n c d^2): measured at n = 300,
      // d = 512, 10 classes, the CPU backend's gradient moments took 3.2 s of CPU time where estimateRfm
      // allows 0.9 s.
      flops += e.flops + 14 * dl ** 3 + 2 * o.width * dl * dl + 2 * n * classes * dl * dl;
      stepBytes = e.hostBytes;
    }
    flops += 2 * n * dl * o.width;
    hostBytes = Math.max(hostBytes, features + stepBytes);
  }
  return { hostBytes, flops, seconds: backend.name === 'cpu' ? flops / CPU_FLOPS : null };
}

function checkDeepRfmBudget(
  source: string,
  shape: { n: number; d: number; classes: number },
  o: DeepRfmOptions,
  backend: Backend,
): { hostBytes: number; seconds: number | null } {
  const { n } = shape;
  const e = estimateDeepRfm(shape, o, backend);
  const ways = `lower ${option('width')} (now ${o.width}) or ${option('depth')} (now ${o.depth}), or subsample the rows`;
  if (n * Math.max(shape.d, o.width) > MAX_CELLS)
    throw new InputError(
      `${source}: Deep RFM of ${n} rows at width ${o.width} is refused: a layer's features need ${formatBytes(n * Math.max(shape.d, o.width) * 8)}, over the limit of ${formatBytes(MAX_CELLS * 8)}; ${ways}`,
    );
  if (e.seconds !== null && e.seconds > MAX_CPU_FIT_SECONDS)
    throw new InputError(
      `${source}: Deep RFM of ${n} rows, depth ${o.depth}, width ${o.width} on the CPU is refused: it would take about ${Math.round(e.seconds)} s (estimate), over the CPU limit of ${MAX_CPU_FIT_SECONDS} s; run on WebGPU (${option('backend')} webgpu or auto), or ${ways}`,
    );
  return e;
}

/** Each row scaled to unit Euclidean norm (an all-zero row stays zero). */
export function normalizeRows(X: Mat): Mat {
  const { rows: n, cols: d, data } = X;
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += data[i * d + j] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < d; j++) out[i * d + j] = data[i * d + j] * inv;
  }
  return mat(n, d, out);
}

/** W (rows x cols), entries N(0, 1/cols), drawn row by row from `gauss`. */
function gaussianMatrix(rows: number, cols: number, gauss: () => number): Float64Array {
  const w = new Float64Array(rows * cols);
  const std = 1 / Math.sqrt(cols);
  for (let i = 0; i < w.length; i++) w[i] = std * gauss();
  return w;
}

/** A B for A (r x k) and B (k x c), row-major. */
function matmul(a: Float64Array, b: Float64Array, r: number, k: number, c: number): Float64Array {
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++)
    for (let t = 0; t < k; t++) {
      const v = a[i * k + t];
      if (v === 0) continue;
      for (let j = 0; j < c; j++) out[i * c + j] += v * b[t * c + j];
    }
  return out;
}

/** ReLU(X P^T): rows of X (n x d) through P (width x d). */
function reluFeatures(X: Mat, P: Float64Array, width: number): Mat {
  const { rows: n, cols: d, data } = X;
  const out = new Float64Array(n * width);
  for (let i = 0; i < n; i++)
    for (let r = 0; r < width; r++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += data[i * d + j] * P[r * d + j];
      out[i * width + r] = s > 0 ? s : 0;
    }
  return mat(n, width, out);
}

function identity(d: number): Mat {
  const I = new Float64Array(d * d);
  for (let i = 0; i < d; i++) I[i * d + i] = 1;
  return mat(d, d, I);
}

/**
 * Runs Deep RFM on a classification dataset: depth + 1 layers of NC1/NC2 (docs/science.md §7). Every
 * kernel solve and AGOP runs on ctx.backend (where: core/compute.ts, feature 'deepRfm'); the ridge is 0
 * unless K does not factor, then the smallest rung of solveWithRidgeLadder that does (reported per layer).
 */
export async function deepRfm(
  data: Dataset,
  options: Partial<DeepRfmOptions>,
  ctx: DeepRfmContext,
): Promise<DeepRfmResult> {
  const started = now();
  const o = parseDeepRfmOptions(options);
  if (data.task !== 'classification' || !data.classes)
    throw new InputError(
      `${data.source}: Deep RFM measures neural collapse of classes, but the target '${data.targetName}' was read as numeric (regression); choose a label column with ${option('target')}, or declare it with ${option('task')} classification`,
    );
  checkClasses(data);
  const n = data.X.rows,
    d = data.X.cols,
    K = data.classes.length;
  if (n < 2) throw new InputError(`${data.source}: need at least 2 rows, got ${n}`);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (!(data.y[i] >= 0 && data.y[i] < K))
      throw new InputError(`${data.source}: row ${i + 1} has no class label; remove unlabelled rows`);
    labels[i] = data.y[i];
  }
  const backend = ctx.backend;
  const e = checkDeepRfmBudget(data.source, { n, d, classes: K }, o, backend);
  ctx.onEstimate?.(
    `Deep RFM of n = ${n} rows, d = ${d}, ${K} classes, depth ${o.depth}, width ${o.width} on ${backend.name}: ${formatBytes(e.hostBytes)} of memory${e.seconds === null ? '' : `, about ${e.seconds < 100 ? e.seconds.toPrecision(2) : Math.round(e.seconds)} s (estimate)`}`,
    e.seconds,
  );
  const cancelled = () => {
    throwIfCancelled(ctx.cancel);
    throwIfCancelled(ctx.signal ? { cancelled: ctx.signal.aborted } : undefined);
  };
  const kernel: KernelSpec = { name: 'laplace', bandwidth: o.bandwidth };
  const Y = targetMatrix(data.y, 'classification', K);
  const solver = deepRfmSolver(n, backend);
  // One stream for every W_l, so the AGOP run and its control draw the same weights.
  const gauss = normal(rng(o.seed));
  const layers: DeepRfmLayer[] = [];
  let X = data.X;
  for (let l = 0; l <= o.depth; l++) {
    cancelled();
    const t0 = now();
    const dim = X.cols;
    const metrics = collapseMetrics(X.data, n, X.cols, labels, K);
    let ridge: number | null = null;
    if (l < o.depth) {
      const dl = X.cols;
      const Xn = normalizeRows(X);
      const W = gaussianMatrix(o.width, dl, gauss);
      let P = W;
      if (o.agop) {
        const sol = await solveWithRidgeLadder(
          (reg) => backend.solve(Xn, kernel, Y, reg, { final: true, solver }),
          DEEP_RFM_RIDGE,
          1, // trace(K)/n: the Laplace kernel's diagonal is k(0) = 1
        );
        ridge = sol.reg;
        cancelled();
        const G = await predictorAgop(backend, Xn, Xn, kernel, sol.alpha, identity(dl), {
          diag: false,
          centerGrads: false,
        });
        if (!G.data.every(Number.isFinite))
          throw new InputError(
            `${data.source}: layer ${l}'s AGOP has non-finite entries (ridge ${ridge}, up to ${RIDGE_LADDER_LAST} tried); try a larger ${option('bandwidth')}`,
          );
        cancelled();
        // M^{1/2} by eigendecomposition; negative eigenvalues (rounding) are clipped to 0.
        P = matmul(W, symPow(G.data, dl, 0.5), o.width, dl, dl);
      }
      X = reluFeatures(Xn, P, o.width);
    }
    const rec: DeepRfmLayer = {
      layer: l,
      dim,
      nc1: metrics.nc1,
      nc1Classic: metrics.nc1Classic,
      nc2: metrics.nc2,
      metrics,
      ridge,
      solver: ridge === null ? null : solver,
      seconds: now() - t0,
    };
    layers.push(rec);
    ctx.onLayer?.(rec);
  }
  return {
    source: data.source,
    n,
    d,
    classes: data.classes,
    options: o,
    layers,
    backend: backend.name,
    device: backend.device,
    seconds: now() - started,
  };
}

/**
 * The JSON report of a Deep RFM run (snake_case): `{layers: [{layer, nc1, nc1_classic, nc2, ...}], agop,
 * ...}`, layer 0 being the input. Non-finite metrics (a degenerate layer) are written as null.
 */
export function deepRfmToJson(r: DeepRfmResult): Record<string, unknown> {
  const num = (v: number) => (Number.isFinite(v) ? v : null);
  return {
    layers: r.layers.map((l) => ({
      layer: l.layer,
      nc1: num(l.nc1),
      nc1_classic: num(l.nc1Classic),
      nc2: num(l.nc2),
      dim: l.dim,
      ridge: l.ridge,
      solver: l.solver,
      seconds: l.seconds,
    })),
    agop: r.options.agop,
    depth: r.options.depth,
    width: r.options.width,
    bandwidth: r.options.bandwidth,
    seed: r.options.seed,
    n: r.n,
    d: r.d,
    classes: r.classes,
    backend: r.backend,
    device: r.device,
    seconds: r.seconds,
    ...(r.fallback ? { fallback: r.fallback } : {}),
  };
}
