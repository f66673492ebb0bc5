// Node-only: picks the RFM backend for the CLI, the extension host and tests. Dawn (npm `webgpu`)
// provides WebGPU in Node; the object returned by its create() must outlive every device made from
// it, so the backend holds it (keepAlive) until dispose().
import { BackendError, type Backend } from '../backend';
import { CpuBackend } from './cpu';
import { WebGpuBackend, type WebGpuBackendOptions } from './webgpu';

export type BackendChoice = 'auto' | 'cpu' | 'webgpu';

/** Dawn's GPU entry point, or the reason it is unavailable. */
async function dawnGpu(): Promise<{ gpu: GPU } | { reason: string }> {
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
 * auto: WebGPU when Dawn finds an adapter, else the CPU backend with a note saying why.
 * webgpu: WebGPU or a BackendError explaining why not. cpu: the float64 CPU backend.
 */
export async function createBackend(kind: BackendChoice, options: WebGpuBackendOptions = {}): Promise<{ backend: Backend; note?: string }> {
  if (kind === 'cpu') return { backend: new CpuBackend() };
  const dawn = await dawnGpu();
  if ('reason' in dawn) {
    if (kind === 'webgpu') throw new BackendError('webgpu', dawn.reason);
    return { backend: new CpuBackend(), note: `WebGPU unavailable: ${dawn.reason}; using the CPU backend` };
  }
  try {
    const backend = await WebGpuBackend.create(dawn.gpu, { ...options, keepAlive: dawn.gpu });
    return { backend };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    if (kind === 'webgpu') {
      throw e instanceof BackendError
        ? new BackendError('webgpu', `${why.replace(/^webgpu backend: /, '')} (on Linux without a GPU, install a Vulkan driver such as lavapipe: scripts/install-lavapipe.sh)`, e)
        : new BackendError('webgpu', why, e);
    }
    return { backend: new CpuBackend(), note: `WebGPU unavailable (${why.replace(/^webgpu backend: /, '')}); using the CPU backend` };
  }
}
