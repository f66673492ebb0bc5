// Node-only: picks the compute backends (RFM, NFA, catapult lab) for the CLI, the extension host and
// tests. Dawn (npm `webgpu`) provides WebGPU in Node; the object returned by its create() must outlive
// every device made from it, so each backend holds it (keepAlive) until dispose().
import { cpus } from 'node:os';
import { BackendError } from './errors';
import type { Backend } from './rfm/backend';
import type { BackendChoice } from './compute';
import { CpuCatapultBackend } from './catapult/cpu';
import type { CatapultBackend } from './catapult/backend';
import { WebGpuCatapultBackend } from './catapult/webgpu';
import { CpuNfaBackend, type NfaBackend } from './nfa/backend';
import { WebGpuNfaBackend, type WebGpuNfaOptions } from './nfa/webgpu';
import { CpuBackend } from './rfm/cpu';
import { WebGpuBackend, type WebGpuBackendOptions } from './rfm/webgpu';

/** Dawn's GPU entry point, or the reason it is unavailable. */
async function dawnGpu(): Promise<{ gpu: GPU } | { reason: string }> {
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

/**
 * auto: WebGPU when Dawn finds an adapter, else the CPU backend with a note saying why.
 * webgpu: WebGPU or a BackendError explaining why not. cpu: the float64 CPU backend.
 */
async function choose<T>(
  kind: BackendChoice,
  cpu: () => T,
  webgpu: (gpu: GPU) => Promise<T>,
): Promise<{ backend: T; note?: string }> {
  if (kind === 'cpu') return { backend: cpu() };
  const dawn = await dawnGpu();
  if ('reason' in dawn) {
    if (kind === 'webgpu') throw new BackendError('webgpu', dawn.reason);
    return { backend: cpu(), note: `WebGPU unavailable: ${dawn.reason}; using the CPU backend` };
  }
  try {
    return { backend: await webgpu(dawn.gpu) };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    if (kind === 'webgpu') {
      throw e instanceof BackendError
        ? new BackendError(
            'webgpu',
            `${why.replace(/^webgpu backend: /, '')} (on Linux without a GPU, install a Vulkan driver such as lavapipe: scripts/install-lavapipe.sh)`,
            e,
          )
        : new BackendError('webgpu', why, e);
    }
    return {
      backend: cpu(),
      note: `WebGPU unavailable (${why.replace(/^webgpu backend: /, '')}); using the CPU backend`,
    };
  }
}

/** The RFM compute backend. */
export async function createBackend(
  kind: BackendChoice,
  options: WebGpuBackendOptions = {},
): Promise<{ backend: Backend; note?: string }> {
  return choose<Backend>(
    kind,
    () => new CpuBackend(),
    (gpu) => WebGpuBackend.create(gpu, { ...options, keepAlive: gpu }),
  );
}

/** The NFA backend (network forward and per-layer AGOP sums). */
export async function createNfaBackend(
  kind: BackendChoice,
  options: WebGpuNfaOptions = {},
): Promise<{ backend: NfaBackend; note?: string }> {
  return choose<NfaBackend>(
    kind,
    () => new CpuNfaBackend(),
    (gpu) => WebGpuNfaBackend.create(gpu, { ...options, keepAlive: gpu }),
  );
}

/** The catapult lab's backend (two-layer ReLU sessions). Dispose it when done (frees the device). */
export async function createCatapultBackend(
  kind: BackendChoice,
): Promise<{ backend: CatapultBackend & { dispose(): void }; note?: string }> {
  return choose<CatapultBackend & { dispose(): void }>(
    kind,
    () => new CpuCatapultBackend(),
    (gpu) => WebGpuCatapultBackend.create(gpu, { keepAlive: gpu }),
  );
}
