import type { Backend } from '../core/backend';
import { CpuBackend } from '../core/backends/cpu';

export type BackendChoice = 'auto' | 'cpu' | 'webgpu';

/** Opens the requested backend; `note` says why auto fell back. Replaced by createBackend once WebGPU lands. */
export async function openBackend(choice: BackendChoice): Promise<{ backend: Backend; note?: string }> {
  return { backend: new CpuBackend(), note: choice === 'cpu' ? undefined : 'WebGPU backend not built yet; using the CPU' };
}
