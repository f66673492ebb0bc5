// The page's GPU: one lease per page (the device and its compiled pipelines live as long as the page
// uses them). A page without navigator.gpu or without an adapter fails with a BackendError saying which,
// and the host's placement policy moves the work on.
import { BackendError } from '../../src/core/errors';
import { GpuLease } from '../../src/core/gpu/lease';

let lease: GpuLease | undefined;

export function pageGpuLease(): GpuLease {
  lease ??= new GpuLease({
    label: 'feature-lens page',
    gpu: async () => {
      const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
      if (!gpu) throw new BackendError('webgpu', 'this page has no navigator.gpu (WebGPU is disabled in this browser)');
      return { gpu };
    },
  });
  return lease;
}

/** Lets the page handle a message or repaint between CPU steps. */
export const yieldToPage = (): Promise<void> => new Promise((r) => setTimeout(r, 0));
