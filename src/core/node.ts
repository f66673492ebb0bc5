// Node-only, the top of core: the host placements' backends (RFM, NFA, catapult lab) for the CLI, the
// extension host and tests, all on the process's one GPU lease. Dawn (npm `webgpu`) provides WebGPU in
// Node; the object returned by its create() must outlive every device made from it, so it is kept for
// the life of the process.
import { cpus } from 'node:os';
import { BackendError } from './errors';
import type { Backend } from './rfm/backend';
import {
  planPlacements,
  runPlaced,
  yielding,
  type BackendChoice,
  type ComputeFeature,
  type Placed,
  type Placement,
} from './compute';
import type { Dataset } from './data/dataset';
import { deepRfm, type DeepRfmContext, type DeepRfmOptions, type DeepRfmResult } from './rfm/deep';
import { GpuLease } from './gpu/lease';
import { CpuCatapultBackend } from './catapult/cpu';
import { CpuConvRfmBackend, type ConvRfmBackend } from './rfm/conv-backend';
import { WebGpuConvRfmBackend } from './rfm/conv-webgpu';
import type { CatapultBackend } from './catapult/backend';
import { WebGpuCatapultBackend } from './catapult/webgpu';
import { CpuNfaBackend, yieldingNfaBackend, type NfaBackend } from './nfa/backend';
import type { CollapseCompute } from './nfa/collapse';
import type { NfaStudyCompute } from './nfa/study';
import { WebGpuNfaBackend, type WebGpuNfaOptions } from './nfa/webgpu';
import { fullMatrix } from './rfm/feature-matrix';
import { fitRfm } from './rfm/fit';
import { CpuBackend } from './rfm/cpu';
import { cpuWorkerFile, ThreadedCpuBackend } from './rfm/node';
import { WebGpuBackend, type WebGpuBackendOptions } from './rfm/webgpu';
import { CpuGramSums, type GramSums } from './rfm/indicator';
import type { LinRfmBackend } from './linrfm/backend';
import { CpuLinRfmBackend } from './linrfm/cpu';
import { WebGpuLinRfmBackend } from './linrfm/webgpu';
import { WebGpuGramSums } from './rfm/indicatorWebgpu';

let dawn: Promise<{ gpu: GPU } | { reason: string }> | undefined;

/** Dawn's GPU entry point (one per process, kept alive for good), or the reason it is unavailable. */
function dawnGpu(): Promise<{ gpu: GPU } | { reason: string }> {
  dawn ??= loadDawn();
  return dawn;
}

async function loadDawn(): Promise<{ gpu: GPU } | { reason: string }> {
  lavapipeThreads();
  try {
    const { create, globals } = await import('webgpu');
    // Dawn's objects check `instanceof` against these classes; browsers have them built in.
    for (const [key, value] of Object.entries(globals)) {
      if (!(key in globalThis)) (globalThis as Record<string, unknown>)[key] = value;
    }
    return { gpu: create([]) };
  } catch (e) {
    return { reason: `the webgpu package could not be loaded (${(e as Error).message})` };
  }
}

/**
 * lavapipe (Mesa's CPU Vulkan driver, the adapter on machines without a GPU) starts one worker thread
 * per core unless LP_NUM_THREADS says otherwise. Its K·p product (kernelTimesCols.wgsl) streams one
 * row per invocation and is bound by memory latency, not arithmetic, so more threads than cores
 * overlap the misses: measured on 2 cores at n = 8000, one 4096-row product tile took 19 ms with 2
 * threads, 16 ms with 4 and 12 ms with 8. Set before Dawn opens the driver; a value the user set
 * is kept, and GPU drivers ignore the variable.
 */
function lavapipeThreads(): void {
  if (process.env.LP_NUM_THREADS === undefined)
    process.env.LP_NUM_THREADS = String(Math.min(32, 4 * Math.max(1, cpus().length)));
}

/** Dawn's GPU entry point, or a BackendError saying why there is none (tests open devices of their own on it). */
export async function hostGpu(): Promise<GPU> {
  const d = await dawnGpu();
  if ('reason' in d) throw new BackendError('webgpu', d.reason);
  return d.gpu;
}

/**
 * Lines Dawn writes to the process's standard error (fd 2, from C++, not through Node) when it opens an
 * adapter whose driver reports huge limits, e.g. lavapipe: "Warning: maxDynamicUniformBuffersPerPipelineLayout
 * artificially reduced from 1000000 to 16 ...". They are informational (the device works as WebGPU
 * specifies) and come on every run; a process that owns its stderr drops them with isDawnNoise (the CLI
 * runs its work in a child whose stderr it filters: src/cli/stderrFilter.ts). Any other line is kept.
 */
const DAWN_NOISE = [
  /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.$/,
];

/** Whether a line of standard error is one of Dawn's known informational lines (DAWN_NOISE). */
export const isDawnNoise = (line: string): boolean => DAWN_NOISE.some((re) => re.test(line.trimEnd()));

let lease: GpuLease | undefined;

const LAVAPIPE_HINT = 'on Linux without a GPU, install a Vulkan driver such as lavapipe: scripts/install-lavapipe.sh';

/**
 * The process's GPU device (Dawn), shared by every run in the extension host or the CLI: pipelines
 * compile once per session. Acquiring it fails with a BackendError saying why there is no GPU.
 */
export function hostGpuLease(): GpuLease {
  lease ??= new GpuLease({
    label: 'feature-lens host',
    gpu: async () => {
      const gpu = await hostGpu();
      return { gpu, keepAlive: gpu };
    },
  });
  return lease;
}

/** Runs `make` on the host lease, naming the Vulkan fix when no adapter or device could be had. */
async function onHostGpu<T>(make: (lease: GpuLease) => Promise<T>): Promise<T> {
  try {
    return await make(hostGpuLease());
  } catch (e) {
    if (!(e instanceof BackendError)) throw new BackendError('webgpu', e instanceof Error ? e.message : String(e), e);
    if (/adapter|requestDevice|webgpu package/.test(e.message) && !e.message.includes(LAVAPIPE_HINT))
      throw new BackendError('webgpu', `${e.message.replace(/^webgpu backend: /, '')} (${LAVAPIPE_HINT})`, e);
    throw e;
  }
}

/** Lets the process's event loop run (a cancel, a message, the extension host's other work) between CPU steps. */
export const yieldToEventLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * The host's CPU RFM backend: the float64 CPU backend with its heavy loops on one worker thread per
 * core (rfm/node.ts), or the single-thread one on one core or without the worker script.
 */
export function hostCpuRfmBackend(): CpuBackend {
  return cpus().length > 1 && cpuWorkerFile() ? new ThreadedCpuBackend() : new CpuBackend();
}

/** The RFM backend of a host placement: the leased Dawn device, or the float64 CPU backend (yielding). */
export async function hostRfmBackend(
  placement: 'host-gpu' | 'host-cpu',
  options: WebGpuBackendOptions = {},
): Promise<Backend> {
  if (placement === 'host-cpu') return yielding<Backend>(hostCpuRfmBackend(), yieldToEventLoop);
  return onHostGpu((l) => WebGpuBackend.leased(l, options));
}

/** The NFA backend (network forward, per-layer AGOP sums, training) of a host placement. */
export async function hostNfaBackend(
  placement: 'host-gpu' | 'host-cpu',
  options: WebGpuNfaOptions = {},
): Promise<NfaBackend> {
  if (placement === 'host-cpu') return yieldingNfaBackend(new CpuNfaBackend(), yieldToEventLoop);
  return onHostGpu((l) => WebGpuNfaBackend.leased(l, options));
}

/** ConvRFM's backend of a host placement: the leased Dawn device, or the float64 CPU backend (yielding). */
export async function hostConvRfmBackend(placement: 'host-gpu' | 'host-cpu'): Promise<ConvRfmBackend> {
  // Yields before each step (a kernel matrix, a position's gradients) so a cancel gets in.
  if (placement === 'host-cpu')
    return yielding<ConvRfmBackend>(new CpuConvRfmBackend(await hostRfmBackend('host-cpu')), yieldToEventLoop);
  return onHostGpu((l) => WebGpuConvRfmBackend.leased(l));
}

/** The catapult lab's backend of a host placement. Dispose it when done (gives the device back). */
export async function hostCatapultBackend(
  placement: 'host-gpu' | 'host-cpu',
): Promise<CatapultBackend & { dispose(): void }> {
  if (placement === 'host-cpu') return new CpuCatapultBackend();
  return onHostGpu((l) => WebGpuCatapultBackend.leased(l));
}

/** The grokking lab's AGOP Gram sums of a host placement (rfm/indicator.ts). Dispose it when done. */
export async function hostGramSums(placement: 'host-gpu' | 'host-cpu'): Promise<GramSums> {
  if (placement === 'host-cpu') return new CpuGramSums();
  return onHostGpu((l) => WebGpuGramSums.leased(l));
}

/**
 * lin-RFM's matrix-completion backend of a host placement: the leased Dawn device (linrfm/webgpu.ts), or
 * the float64 CPU backend handing the event loop back every ~10 ms. Dispose it when done (gives the device back).
 */
export async function hostLinRfmBackend(placement: 'host-gpu' | 'host-cpu'): Promise<LinRfmBackend> {
  if (placement === 'host-cpu')
    return yielding<LinRfmBackend>(new CpuLinRfmBackend({ yieldNow: yieldToEventLoop }), yieldToEventLoop);
  return onHostGpu((l) => WebGpuLinRfmBackend.leased(l));
}

/**
 * The NFA study's compute in this process (the CLI, the extension host): the network on hostNfaBackend,
 * the comparison RFM fitted by fitRfm on hostRfmBackend. Here because core/nfa does not import core/rfm.
 */
export function hostNfaStudy(
  choice: BackendChoice,
  more: Pick<NfaStudyCompute, 'host' | 'onFallback'> = {},
): NfaStudyCompute {
  return {
    choice,
    ...more,
    nfaBackend: (p) => hostNfaBackend(p),
    fitRfm: async (p, data, plan, cancel) => {
      const backend = await hostRfmBackend(p);
      try {
        const fit = await fitRfm(
          data,
          { standardize: false, iters: plan.iters, bandwidth: plan.bandwidth },
          { backend, cancel },
        );
        const { kernel, bandwidth, reg, iters, agopPower } = fit.options;
        return {
          M: fullMatrix(fit.model.M),
          kernel,
          bandwidth,
          reg,
          iters,
          agopPower,
          task: fit.task,
          trainMetric: fit.final.trainMetric,
          device: fit.device,
        };
      } finally {
        backend.dispose();
      }
    },
  };
}

/** The neural-collapse study's compute in this process: the forward pass on hostNfaBackend. */
export function hostCollapseCompute(
  choice: BackendChoice,
  more: Pick<CollapseCompute, 'host' | 'onFallback'> = {},
): CollapseCompute {
  return { choice, ...more, backend: (p) => hostNfaBackend(p) };
}

/** Host placements of `feature` for `choice` (the CLI and the host side of the extension). */
export function hostPlan(feature: ComputeFeature, choice: BackendChoice, work?: number): ('host-gpu' | 'host-cpu')[] {
  return planPlacements(feature, choice, { page: false }, work) as ('host-gpu' | 'host-cpu')[];
}

/**
 * Deep RFM (rfm/deep.ts) in this process (the extension host, the CLI) on the first 'deepRfm' placement
 * that runs: WebGPU's RFM backend, else the CPU's. A device failing mid-run starts the run again on the
 * next placement (onLayer then hears layer 0 again; onFallback says why).
 */
export async function hostDeepRfm(
  data: Dataset,
  options: Partial<DeepRfmOptions>,
  run: Omit<DeepRfmContext, 'backend'> & {
    choice: BackendChoice;
    /** How the host is named in the placement line: 'the extension host' (default), 'this process'. */
    host?: string;
    onFallback?: (from: Placement, error: Error, next: Placement | undefined) => void;
  },
): Promise<Placed<DeepRfmResult>> {
  const { choice, host, onFallback, ...ctx } = run;
  return runPlaced(
    hostPlan('deepRfm', choice),
    async (p) => {
      const backend = await hostRfmBackend(p as 'host-gpu' | 'host-cpu');
      try {
        return await deepRfm(data, options, { ...ctx, backend });
      } finally {
        backend.dispose();
      }
    },
    { host, onFallback },
  );
}
