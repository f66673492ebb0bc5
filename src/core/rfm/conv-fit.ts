// ConvRFM (SCIENCE.md §6; it lives in core/rfm because it is the RFM loop on patches): a kernel machine on aligned patches whose patch metric M (D x D, D = C·q·q) is
// learned by the patch-AGOP. M_0 = I; for t = 0..T-1 fit alpha with the patch kernel of M_t, record
// metrics, M_{t+1} = patch-AGOP of the predictor (optionally ^1/2, normalised by its largest entry); then
// fit once more with M_T. The solve, the ridge retry, the AGOP's change of coordinates and M's update are
// core/rfm's.
import type { Dataset } from '../data/dataset';
import { detectImageShape, type ImageShape } from '../data/images';
import { splitDataset } from '../data/split';
import { InputError, throwIfCancelled, type BackendName, type CancelToken } from '../errors';
import { CPU_FLOPS, formatBytes, MAX_CPU_FIT_SECONDS, MAX_CPU_KERNEL_BYTES, MAX_PATCH_VALUES } from '../limits';
import { mat, takeRows, type Mat } from '../mat';
import { permutation } from '../random';
import type { KernelSpec } from './backend';
import { agopFromMoments, identityFeatureMatrix, nextFeatureMatrix, transformOf } from './feature-matrix';
import { checkClasses } from './fit';
import { evaluate, targetMatrix } from './metrics';
import { parseRfmOptions, type Where } from './options';
import { solveKernelSystem, solveWithRidgeRetry } from './solve';
import { DEFAULT_RFM_OPTIONS, type FeatureMatrix, type RfmOptions } from './types';
import type { ConvRfmBackend } from './conv-backend';
import { patchGeometry, positionMat, transformedPatches, type PatchGeometry } from './conv-patches';

export type ConvRfmOptions = Pick<
  RfmOptions,
  'kernel' | 'bandwidth' | 'reg' | 'iters' | 'agopPower' | 'normalize' | 'agopSamples' | 'seed'
> & {
  /** Patch side q (patches are C x q x q). */
  patch: number;
  stride: number;
};

/** RFM's defaults (Laplace, L = 10, reg 1e-3, 3 iterations, AGOP power 1, max-normalised) and 3 x 3 patches, stride 1. */
export const DEFAULT_CONVRFM_OPTIONS: ConvRfmOptions = {
  kernel: DEFAULT_RFM_OPTIONS.kernel,
  bandwidth: DEFAULT_RFM_OPTIONS.bandwidth,
  reg: DEFAULT_RFM_OPTIONS.reg,
  iters: DEFAULT_RFM_OPTIONS.iters,
  agopPower: DEFAULT_RFM_OPTIONS.agopPower,
  normalize: DEFAULT_RFM_OPTIONS.normalize,
  agopSamples: 2000,
  seed: 0,
  patch: 3,
  stride: 1,
};

/** Options from untyped input: the RFM ones through core/rfm's parser, patch and stride here. */
export function parseConvRfmOptions(
  raw: Readonly<Record<string, unknown>>,
  where: Where,
  o: { text?: boolean } = {},
): ConvRfmOptions {
  const rfm = parseRfmOptions(raw, where, { ...DEFAULT_RFM_OPTIONS, ...DEFAULT_CONVRFM_OPTIONS }, o);
  const int = (key: 'patch' | 'stride'): number => {
    const v = raw[key];
    if (v === undefined || v === null) return DEFAULT_CONVRFM_OPTIONS[key];
    const num = o.text && typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof num !== 'number' || !Number.isInteger(num) || num < 1 || num > 1024) {
      const name = typeof where === 'function' ? where(key) : `${where} ${key}`;
      throw new InputError(
        `${name}: expected an integer 1..1024, got ${typeof v === 'string' ? `'${v}'` : JSON.stringify(v)}`,
      );
    }
    return num;
  };
  const { kernel, bandwidth, reg, iters, agopPower, normalize, agopSamples, seed } = rfm;
  return {
    kernel,
    bandwidth,
    reg,
    iters,
    agopPower,
    normalize,
    agopSamples,
    seed,
    patch: int('patch'),
    stride: int('stride'),
  };
}

export interface ConvRfmIteration {
  iter: number;
  trainMetric: number;
  trainMse: number;
  testMetric: number | null;
  testMse: number | null;
  seconds: number;
  /** Ridge actually used (reg plus any jitter added after a failed Cholesky). */
  regUsed: number;
}

/** A ConvRFM fit in memory; the JSON report is made only by convRfmResultToJson (report.ts). */
export interface ConvRfmResult {
  task: Dataset['task'];
  nTrain: number;
  nTest: number;
  imageShape: ImageShape;
  /** Positions per image and the patch length D = C·q·q. */
  positions: number;
  patchDim: number;
  classes?: string[];
  backend: BackendName;
  device: string;
  options: ConvRfmOptions;
  iterations: ConvRfmIteration[];
  final: { trainMetric: number; testMetric: number | null; testMse: number | null };
  /** The last M, D x D row-major (the metric of the returned predictor). */
  M: Float64Array;
  seconds: number;
}

export interface ConvRfmContext {
  backend: ConvRfmBackend;
  test?: Dataset;
  /** Without `test`: hold out this fraction of the rows (seeded by options.seed). */
  valFraction?: number;
  /** Declared when the dataset carries none (a 2-D table read without an image shape). */
  imageShape?: ImageShape;
  onIteration?: (rec: ConvRfmIteration) => void;
  /** Hears a one-line estimate of memory and time before any allocation. */
  onEstimate?: (line: string, seconds: number) => void;
  cancel?: CancelToken;
}

export interface ConvRfmShape {
  n: number;
  nTest: number;
  agopRows: number;
  P: number;
  D: number;
  classes: number;
  iters: number;
}

/** Bytes held at the peak (patch sets, two n x n kernel copies, the held-out kernel) and float64 operations. */
export function estimateConvRfm(s: ConvRfmShape): { bytes: number; patchValues: number; flops: number } {
  const { n, nTest, agopRows: m, P, D, classes: c } = s;
  const patchValues = (n + nTest + m) * P * D;
  const pair = P * (3 * D + 10);
  const round = (n * n * pair) / 2 + nTest * n * pair + n ** 3 / 3 + m * n * (pair + 2 * P * c * D) + m * P * c * D * D;
  return { bytes: patchValues * 8 + (2 * n * n + nTest * n) * 8, patchValues, flops: (s.iters + 1) * round };
}

function checkBudget(s: ConvRfmShape, backend: BackendName, source: string): { line: string; seconds: number } {
  const e = estimateConvRfm(s);
  const seconds = e.flops / CPU_FLOPS;
  const ways = 'a larger --stride or --patch, fewer rows (subsample), or fewer --iters';
  if (e.patchValues > MAX_PATCH_VALUES)
    throw new InputError(
      `${source}: ConvRFM needs ${e.patchValues} patch values (${s.n + s.nTest + s.agopRows} rows x ${s.P} positions x ${s.D}), over the limit of ${MAX_PATCH_VALUES} (${formatBytes(MAX_PATCH_VALUES * 8)} as float64); use ${ways}`,
    );
  if (backend === 'cpu' && s.n * s.n * 8 > MAX_CPU_KERNEL_BYTES)
    throw new InputError(
      `${source}: the ${s.n} x ${s.n} kernel matrix of ConvRFM needs ${formatBytes(s.n * s.n * 8)}, over the CPU limit of ${formatBytes(MAX_CPU_KERNEL_BYTES)}; use fewer rows (subsample)`,
    );
  if (backend === 'cpu' && seconds > MAX_CPU_FIT_SECONDS)
    throw new InputError(
      `${source}: a ConvRFM fit of ${s.n} rows, ${s.P} positions, patches of ${s.D} values would take about ${Math.round(seconds)} s on the CPU (estimate), over the limit of ${MAX_CPU_FIT_SECONDS} s; use ${ways}`,
    );
  return {
    line: `ConvRFM fit of n = ${s.n} images, ${s.P} positions, patches of ${s.D} values, ${s.iters + 1} rounds on ${backend}: ${formatBytes(e.bytes)} of memory, about ${seconds < 100 ? seconds.toPrecision(2) : Math.round(seconds)} s on one core (estimate)`,
    seconds,
  };
}

/** One mean and standard deviation over every training pixel: the images are scaled, their structure kept. */
function pixelScale(X: Mat): { mean: number; std: number } {
  let mean = 0;
  for (const v of X.data) mean += v;
  mean /= X.data.length || 1;
  let ss = 0;
  for (const v of X.data) ss += (v - mean) ** 2;
  return { mean, std: Math.sqrt(ss / (X.data.length || 1)) || 1 };
}

const scaled = (X: Mat, s: { mean: number; std: number }): Mat =>
  mat(
    X.rows,
    X.cols,
    X.data.map((v) => (v - s.mean) / s.std),
  );

/** K(A, B) alpha for a kernel block (rows x n) and alpha (n x c). */
function times(K: Float64Array, rows: number, alpha: Mat): Mat {
  const n = alpha.rows,
    c = alpha.cols,
    out = new Float64Array(rows * c);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < n; j++) {
      const v = K[i * n + j];
      for (let col = 0; col < c; col++) out[i * c + col] += v * alpha.data[j * c + col];
    }
  return mat(rows, c, out);
}

/**
 * The patch-AGOP of the predictor f(z) = Σ_i alpha_i K(z, x_i) over the rows Z (in transformed
 * coordinates R): G = (1 / (|Z|·P)) Σ_z Σ_p Σ_c ∇_{z_p} f_c ∇_{z_p} f_cᵀ in patch coordinates (D x D).
 */
export async function patchAgop(
  backend: ConvRfmBackend,
  Zp: ReturnType<typeof transformedPatches>,
  Xp: ReturnType<typeof transformedPatches>,
  R: Mat,
  kernel: KernelSpec,
  alpha: Mat,
  cancel?: CancelToken,
): Promise<FeatureMatrix> {
  const { P, k } = Xp;
  const scaledAlpha = mat(
    alpha.rows,
    alpha.cols,
    alpha.data.map((v) => v / P),
  );
  const outer = new Float64Array(k * k);
  const sum = new Float64Array(alpha.cols * k);
  for (let p = 0; p < P; p++) {
    throwIfCancelled(cancel);
    const m = await backend.rfm.gradMoments(positionMat(Zp, p), positionMat(Xp, p), kernel, scaledAlpha, false);
    for (let i = 0; i < outer.length; i++) outer[i] += m.outer[i];
    for (let i = 0; i < sum.length; i++) sum[i] += m.sum.data[i];
  }
  return agopFromMoments({ outer, sum: mat(alpha.cols, k, sum) }, R, Zp.n * P, false, false, R.cols);
}

const now = () => performance.now() / 1000;

/** Fits a ConvRFM on an image dataset (Dataset.imageShape, or ctx.imageShape for a plain table). */
export async function fitConvRfm(
  data: Dataset,
  options: Partial<ConvRfmOptions>,
  ctx: ConvRfmContext,
): Promise<ConvRfmResult> {
  const opts = parseConvRfmOptions(options, 'option');
  const started = now();
  // A plain table whose columns are named as pixels (px_<row>_<col>, pixel0..) is an image by itself.
  const imageShape = data.imageShape ?? ctx.imageShape ?? detectImageShape(data.featureNames)?.shape;
  if (!imageShape)
    throw new InputError(
      `${data.source}: has no image shape; expected images ((N, C, H, W) arrays in an .npz, a table read with --image-shape C,H,W, or pixel columns named px_<row>_<col>)`,
    );
  if (imageShape[0] * imageShape[1] * imageShape[2] !== data.X.cols)
    throw new InputError(
      `${data.source}: image shape ${imageShape.join(',')} needs ${imageShape[0] * imageShape[1] * imageShape[2]} pixel columns, the data has ${data.X.cols}`,
    );
  const geometry: PatchGeometry = patchGeometry(imageShape, opts.patch, opts.stride, data.source);
  let train = data;
  let test = ctx.test;
  if (!test && ctx.valFraction !== undefined && ctx.valFraction > 0) {
    const s = splitDataset(data, ctx.valFraction, opts.seed);
    train = s.train;
    test = s.held;
  }
  const n = train.X.rows;
  if (n < 2) throw new InputError(`${train.source}: need at least 2 training images, got ${n}`);
  if (test && test.X.cols !== train.X.cols)
    throw new InputError(
      `${test.source}: expected ${train.X.cols} pixel columns like the training data, got ${test.X.cols}`,
    );
  checkClasses(train);
  const classification = train.task === 'classification';
  const nClasses = classification ? (train.classes?.length ?? Math.max(...train.y) + 1) : 1;
  const agopIdx = n > opts.agopSamples ? permutation(n, opts.seed + 1).subarray(0, opts.agopSamples) : null;
  const shape: ConvRfmShape = {
    n,
    nTest: test?.X.rows ?? 0,
    agopRows: agopIdx ? agopIdx.length : 0,
    P: geometry.P,
    D: geometry.D,
    classes: nClasses,
    iters: opts.iters,
  };
  const budget = checkBudget(shape, ctx.backend.name, train.source);
  ctx.onEstimate?.(budget.line, budget.seconds);

  const scale = pixelScale(train.X);
  const Xs = scaled(train.X, scale);
  const Ts = test ? scaled(test.X, scale) : null;
  const Zs = agopIdx ? takeRows(Xs, agopIdx) : null;
  const Y = targetMatrix(train.y, train.task, nClasses);
  const kernel: KernelSpec = { name: opts.kernel, bandwidth: opts.bandwidth };
  const backend = ctx.backend;
  let M: FeatureMatrix = identityFeatureMatrix(geometry.D, false);
  const iterations: ConvRfmIteration[] = [];

  for (let t = 0; t <= opts.iters; t++) {
    throwIfCancelled(ctx.cancel);
    const t0 = now();
    const R = transformOf(M);
    const Xp = transformedPatches(Xs, geometry, R);
    const K = await backend.kernelMatrix(Xp, undefined, kernel);
    throwIfCancelled(ctx.cancel);
    const { alpha, reg } = await solveWithRidgeRetry(
      async (r) => solveKernelSystem(Float64Array.from(K), n, Y, r),
      opts.reg,
    );
    const trainEval = evaluate(
      mat(
        n,
        Y.cols,
        Y.data.map((v, i) => v - reg * alpha.data[i]),
      ),
      train.y,
      train.task,
    );
    let testEval: { metric: number; mse: number } | null = null;
    if (test && Ts) {
      throwIfCancelled(ctx.cancel);
      const Tp = transformedPatches(Ts, geometry, R);
      testEval = evaluate(times(await backend.kernelMatrix(Tp, Xp, kernel), Tp.n, alpha), test.y, test.task);
    }
    const rec: ConvRfmIteration = {
      iter: t,
      trainMetric: trainEval.metric,
      trainMse: trainEval.mse,
      testMetric: testEval?.metric ?? null,
      testMse: testEval?.mse ?? null,
      seconds: 0,
      regUsed: reg,
    };
    if (t < opts.iters) {
      const Zp = Zs ? transformedPatches(Zs, geometry, R) : Xp;
      const G = await patchAgop(backend, Zp, Xp, R, kernel, alpha, ctx.cancel);
      const next = nextFeatureMatrix(G, opts);
      if (!next.data.every(Number.isFinite))
        throw new InputError('the patch-AGOP has non-finite entries; try a larger --bandwidth or --reg');
      M = next;
    }
    rec.seconds = now() - t0;
    iterations.push(rec);
    ctx.onIteration?.(rec);
  }
  const last = iterations[iterations.length - 1];
  // The returned M is the one the last predictor used: M_T (the loop's last AGOP update feeds round T).
  return {
    task: train.task,
    nTrain: n,
    nTest: test?.X.rows ?? 0,
    imageShape,
    positions: geometry.P,
    patchDim: geometry.D,
    ...(train.classes ? { classes: train.classes } : {}),
    backend: backend.name,
    device: backend.device,
    options: opts,
    iterations,
    final: { trainMetric: last.trainMetric, testMetric: last.testMetric, testMse: last.testMse },
    M: M.data,
    seconds: now() - started,
  };
}
