// Where the CLI computes an RFM: the process's WebGPU (Dawn), then its CPU, as core/compute.ts plans it.
import { describePlacement, planPlacements, runPlaced, type BackendChoice, type Placement } from '../core/compute';
import type { Backend } from '../core/rfm/backend';
import { CpuBackend } from '../core/rfm/cpu';
import { createBackend } from '../core/node';

const HOST = 'this process';

async function backendOn(p: Placement): Promise<Backend> {
  if (p === 'host-gpu') return (await createBackend('webgpu')).backend;
  return new CpuBackend();
}

/**
 * Runs `work` on the first placement that can run it. `note` hears the one-line reason when an earlier
 * placement could not run; `fallback` is set when a device failed mid-run and the work started again
 * on the next one (the JSON report's `fallback`).
 */
export async function runRfmOnHost<T>(
  choice: BackendChoice,
  note: ((line: string) => void) | undefined,
  work: (backend: Backend) => Promise<T>,
): Promise<{ value: T; fallback?: string }> {
  let failedMidRun: Error | undefined;
  let fallback: string | undefined;
  const placed = await runPlaced(
    planPlacements('rfm', choice, { page: false }),
    async (p, why) => {
      const backend = await backendOn(p);
      try {
        if (why !== describePlacement(p, undefined, HOST)) note?.(why);
        if (failedMidRun) fallback = `${failedMidRun.message}; continued on ${backend.name} (${backend.device})`;
        return await work(backend);
      } catch (e) {
        failedMidRun = e as Error;
        throw e;
      } finally {
        backend.dispose();
      }
    },
    { host: HOST },
  );
  return { value: placed.value, ...(fallback ? { fallback } : {}) };
}
