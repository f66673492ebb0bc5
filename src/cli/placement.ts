// Where the CLI computes an RFM: the process's WebGPU (Dawn, leased), then its CPU, as core/compute.ts plans it.
import { describePlacement, runPlaced, type BackendChoice, type ComputeFeature } from '../core/compute';
import type { Backend } from '../core/rfm/backend';
import { hostPlan, hostRfmBackend } from '../core/node';

const HOST = 'this process';

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
  return runOnHost('rfm', choice, note, hostRfmBackend, work);
}

/** runRfmOnHost for any feature whose host backend `make` gives (ConvRFM's). */
export async function runOnHost<B extends { name: string; device: string; dispose(): void }, T>(
  feature: ComputeFeature,
  choice: BackendChoice,
  note: ((line: string) => void) | undefined,
  make: (placement: 'host-gpu' | 'host-cpu') => Promise<B>,
  work: (backend: B) => Promise<T>,
  size?: number,
): Promise<{ value: T; fallback?: string }> {
  let failedMidRun: Error | undefined;
  let fallback: string | undefined;
  const placed = await runPlaced(
    hostPlan(feature, choice, size),
    async (p, why) => {
      // The process's GPU lease: released here, freed when the process exits.
      const backend = await make(p as 'host-gpu' | 'host-cpu');
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
