// Runs an RFM fit on the page, on the placement the host chose (core/compute.ts decides; the page never
// falls back by itself): the page's leased WebGPU device, or the CPU backend yielding between steps.
import { yielding } from '../../src/core/compute';
import { BackendError, CancelledError, InputError, type CancelToken } from '../../src/core/errors';
import type { Backend } from '../../src/core/rfm/backend';
import { CpuBackend } from '../../src/core/rfm/cpu';
import { fitRfm } from '../../src/core/rfm/fit';
import type { FitResult, IterationRecord } from '../../src/core/rfm/types';
import { WebGpuBackend } from '../../src/core/rfm/webgpu';
import { toWireFitResult, type FitFailure, type FitReply, type FitRequest } from '../../src/protocol/rfm';
import { fromWireDataset } from '../../src/protocol/wire';
import { pageGpuLease, yieldToPage } from '../shared/gpu';

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e)).replace(/^webgpu backend: /, '');

async function backendFor(placement: FitRequest['placement']): Promise<Backend> {
  switch (placement) {
    case 'page-gpu':
      return WebGpuBackend.leased(pageGpuLease());
    case 'page-cpu':
      return yielding<Backend>(new CpuBackend(), yieldToPage);
  }
}

/**
 * Fits as `msg` asks. `onStart` hears the backend before the first iteration; the reply goes to the
 * host, and `result` (typed, the same arrays the reply's buffers hold) is for drawing here.
 */
export async function fitOnPage(
  msg: FitRequest,
  cancel: CancelToken,
  hooks: { onStart: (b: Backend) => void; onIteration: (rec: IterationRecord) => void },
): Promise<{ reply: FitReply; result?: FitResult }> {
  const { fitId } = msg;
  const failed = (outcome: FitFailure, e: unknown): { reply: FitReply } => ({
    reply: { type: 'fitFailed', fitId, outcome, message: messageOf(e) },
  });
  let backend: Backend;
  try {
    backend = await backendFor(msg.placement);
  } catch (e) {
    return failed('unavailable', e);
  }
  try {
    hooks.onStart(backend);
    const result = await fitRfm(fromWireDataset(msg.train), msg.options, {
      backend,
      test: msg.test ? fromWireDataset(msg.test) : undefined,
      valFraction: msg.valFraction,
      cancel,
      onIteration: hooks.onIteration,
    });
    return { reply: { type: 'fitDone', fitId, result: toWireFitResult(result) }, result };
  } catch (e) {
    if (e instanceof CancelledError || cancel.cancelled) return failed('cancelled', e);
    if (e instanceof InputError) return failed('error', e);
    // Any other failure on the GPU (device lost, validation, out of memory) lets the host move on.
    if (e instanceof BackendError || msg.placement === 'page-gpu') return failed('unavailable', e);
    return failed('error', e);
  } finally {
    backend.dispose();
  }
}
