// Grokking modular arithmetic with RFM (docs/science.md §4): the RFM loop on the modular tasks with ridge 0
// (smallest jitter that factorises), AGOP power 1/2, centred gradients, and per iteration the
// accuracies, test MSE and the two progress measures. Built on core/rfm: its indicator-input kernels
// and AGOP (rfm/indicator.ts), agopFromMoments and nextFeatureMatrix, its metrics.
import { InputError, throwIfCancelled, type CancelToken } from '../../errors';
import { CPU_FLOPS, MAX_CPU_FIT_SECONDS, MAX_CPU_KERNEL_BYTES, MAX_GROK_ITERS } from '../../limits';
import { mat } from '../../mat';
import { agopFromMoments, nextFeatureMatrix } from '../feature-matrix';
import {
  indicatorGradMoments,
  indicatorKernelMatrix,
  indicatorPredict,
  solveSmallestJitter,
  type GramSums,
  type IndicatorKernel,
  type IndicatorKernelName,
} from '../indicator';
import { evaluate, targetMatrix } from '../metrics';
import { circulantDeviation, frobeniusAlignment, trace } from './measures';
import { MOD_OPS, modularTask, type ModOp } from './tasks';

export interface GrokOptions {
  op: ModOp;
  p: number;
  trainFrac: number;
  kernel: IndicatorKernelName;
  bandwidth: number;
  iters: number;
  agopPower: 0.5 | 1;
  centerGrads: boolean;
  seed: number;
}

/** docs/science.md §4 defaults: +, p = 61, r = 0.5, Gaussian with L = 2.5, 30 iterations, M = G^{1/2}, centred. */
export const DEFAULT_GROK_OPTIONS: GrokOptions = {
  op: 'add',
  p: 61,
  trainFrac: 0.5,
  kernel: 'gaussian',
  bandwidth: 2.5,
  iters: 30,
  agopPower: 0.5,
  centerGrads: true,
  seed: 0,
};

export const GROK_KERNELS: readonly IndicatorKernelName[] = ['gaussian', 'laplace', 'quadratic'];
export { MAX_GROK_ITERS };

/**
 * Options from untyped input over the defaults; `where(key)` names the flag or setting in messages
 * (key is the option name: op, p, trainFrac, ...). Numbers may be strings (command-line text).
 */
export function parseGrokOptions(
  raw: Readonly<Record<string, unknown>>,
  where: (key: string) => string = (k) => k,
): GrokOptions {
  const o: GrokOptions = { ...DEFAULT_GROK_OPTIONS };
  const num = (k: string): number | undefined => {
    const v = raw[k];
    if (v === undefined || v === null) return undefined;
    const x = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof x !== 'number' || !Number.isFinite(x))
      throw new InputError(`${where(k)}: expected a number, got ${JSON.stringify(v)}`);
    return x;
  };
  const choice = <T extends string>(k: string, values: readonly T[]): T | undefined => {
    const v = raw[k];
    if (v === undefined || v === null) return undefined;
    if (!(values as readonly unknown[]).includes(v))
      throw new InputError(`${where(k)}: expected one of ${values.join(', ')}, got ${JSON.stringify(v)}`);
    return v as T;
  };
  o.op = choice('op', MOD_OPS) ?? o.op;
  o.kernel = choice('kernel', GROK_KERNELS) ?? o.kernel;
  const p = num('p');
  if (p !== undefined) o.p = p;
  const r = num('trainFrac');
  if (r !== undefined) o.trainFrac = r;
  const L = num('bandwidth');
  if (L !== undefined) {
    if (!(L > 0)) throw new InputError(`${where('bandwidth')}: expected a positive number, got ${L}`);
    o.bandwidth = L;
  }
  const T = num('iters');
  if (T !== undefined) {
    if (!Number.isInteger(T) || T < 0 || T > MAX_GROK_ITERS)
      throw new InputError(`${where('iters')}: expected an integer 0..${MAX_GROK_ITERS}, got ${T}`);
    o.iters = T;
  }
  const pw = num('agopPower');
  if (pw !== undefined) {
    if (pw !== 0.5 && pw !== 1) throw new InputError(`${where('agopPower')}: expected 0.5 or 1, got ${pw}`);
    o.agopPower = pw;
  }
  if (raw.centerGrads !== undefined && raw.centerGrads !== null) {
    if (typeof raw.centerGrads !== 'boolean')
      throw new InputError(`${where('centerGrads')}: expected true or false, got ${JSON.stringify(raw.centerGrads)}`);
    o.centerGrads = raw.centerGrads;
  }
  const s = num('seed');
  if (s !== undefined) o.seed = s;
  // The task checks p (prime), trainFrac and seed with the same names.
  modularTaskChecked(o, where);
  return o;
}

function modularTaskChecked(o: GrokOptions, where: (key: string) => string) {
  try {
    return modularTask(o.op, o.p, o.trainFrac, o.seed);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    const key = /^(\w[\w-]*):/.exec(e.message)?.[1] ?? '';
    const name = key === 'train-frac' ? 'trainFrac' : key;
    throw new InputError(name ? e.message.replace(`${key}:`, `${where(name)}:`) : e.message);
  }
}

export interface GrokIteration {
  iter: number;
  trainAcc: number;
  testAcc: number;
  testMse: number;
  /** NaN when the cross block is 0 (M = I). */
  circulantDeviation: number;
  /** rho(M_t, M_T) against the final M: known once the run ends (NaN while it runs). */
  agopAlignment: number;
  /** rho(M_t, M_{t-1}); null at iteration 0. */
  alignmentPrev: number | null;
  traceM: number;
  /** Diagonal added so that Cholesky factorised K (0 = exact interpolation). */
  jitter: number;
  seconds: number;
}

export interface GrokResult {
  options: GrokOptions;
  nTrain: number;
  nTest: number;
  backend: 'cpu' | 'webgpu';
  device: string;
  iterations: GrokIteration[];
  /** M_t of each iteration (2p x 2p row-major); the last is the final M. */
  Ms: Float64Array[];
  seconds: number;
}

export interface GrokContext {
  /** Where the AGOP's dense Gram sums run (CpuGramSums or a device's). */
  gram: GramSums;
  onIteration?: (rec: GrokIteration, M: Float64Array) => void;
  cancel?: CancelToken;
  /** Lets the caller's event loop run between steps (a page's or the host's). */
  yieldNow?: () => Promise<void>;
}

const now = () => performance.now() / 1000;

/** Refuses runs whose kernel matrices or estimated CPU time exceed the limits, before allocating. */
export function checkGrokBudget(nTrain: number, nTest: number, p: number, iters: number): void {
  const bytes = 16 * nTrain * nTrain;
  if (bytes > MAX_CPU_KERNEL_BYTES)
    throw new InputError(
      `${nTrain} training pairs need ${(bytes / 2 ** 30).toFixed(1)} GiB for the kernel matrix (limit ${MAX_CPU_KERNEL_BYTES / 2 ** 30} GiB); use a smaller --p or --train-frac`,
    );
  const d = 2 * p;
  const flops = (iters + 1) * (nTrain ** 3 / 3 + nTest * nTrain * p + nTrain * p * (2 * nTrain + d * d));
  if (flops / CPU_FLOPS > MAX_CPU_FIT_SECONDS)
    throw new InputError(
      `the run is estimated at ${Math.round(flops / CPU_FLOPS)} s (limit ${MAX_CPU_FIT_SECONDS} s); use a smaller --p, --train-frac or --iters`,
    );
}

/** Runs the RFM grokking loop: iterations 0..iters, iteration t fitted with M_t (M_0 = I). */
export async function runGrokking(options: GrokOptions, ctx: GrokContext): Promise<GrokResult> {
  const started = now();
  const o = options;
  const task = modularTask(o.op, o.p, o.trainFrac, o.seed);
  const { train, test } = task;
  const n = train.rows.n,
    d = 2 * o.p;
  checkGrokBudget(n, test.rows.n, o.p, o.iters);
  const kernel: IndicatorKernel = { name: o.kernel, bandwidth: o.bandwidth };
  const Y = targetMatrix(train.y, 'classification', o.p);
  let M: Float64Array = new Float64Array(d * d);
  for (let i = 0; i < d; i++) M[i * d + i] = 1;
  const iterations: GrokIteration[] = [];
  const Ms: Float64Array[] = [];
  const pause = async () => {
    throwIfCancelled(ctx.cancel);
    await ctx.yieldNow?.();
    throwIfCancelled(ctx.cancel);
  };
  for (let t = 0; t <= o.iters; t++) {
    const t0 = now();
    await pause();
    const K = indicatorKernelMatrix(train.rows, train.rows, M, kernel, 'k');
    const { alpha, jitter } = solveSmallestJitter(K, n, Y);
    await pause();
    const trainPred = mat(
      n,
      o.p,
      Y.data.map((v, i) => v - jitter * alpha.data[i]),
    );
    const trainEval = evaluate(trainPred, train.y, 'classification');
    const testEval = evaluate(indicatorPredict(test.rows, train.rows, M, kernel, alpha), test.y, 'classification');
    const prev = Ms.length ? Ms[Ms.length - 1] : null;
    const rec: GrokIteration = {
      iter: t,
      trainAcc: trainEval.metric,
      testAcc: testEval.metric,
      testMse: testEval.mse,
      circulantDeviation: circulantDeviation(M, o.p, o.op),
      agopAlignment: NaN,
      alignmentPrev: prev ? frobeniusAlignment(M, prev) : null,
      traceM: trace(M, d),
      jitter,
      seconds: 0,
    };
    const Mt = M;
    Ms.push(Mt);
    if (t < o.iters) {
      await pause();
      const moments = await indicatorGradMoments(train.rows, train.rows, M, kernel, alpha, ctx.gram);
      const G = agopFromMoments(moments, mat(d, d, M), n, false, o.centerGrads, d);
      M = nextFeatureMatrix(G, { agopPower: o.agopPower, normalize: 'none' }).data;
      if (!M.every(Number.isFinite))
        throw new InputError('the AGOP has non-finite entries; try a larger --bandwidth or another --kernel');
    }
    rec.seconds = now() - t0;
    iterations.push(rec);
    ctx.onIteration?.(rec, Mt);
  }
  const final = Ms[Ms.length - 1];
  for (let t = 0; t < iterations.length; t++) iterations[t].agopAlignment = frobeniusAlignment(Ms[t], final);
  return {
    options: o,
    nTrain: n,
    nTest: test.rows.n,
    backend: ctx.gram.name,
    device: ctx.gram.device,
    iterations,
    Ms,
    seconds: now() - started,
  };
}
