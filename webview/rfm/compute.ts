// Runs an RFM fit inside the panel: on navigator.gpu through the same orchestrator and WGSL kernels
// as Node, or on the CPU backend when the host sends the fit back here after GPU attempts failed.
import type { Backend } from '../../src/core/rfm/backend';
import { BackendError } from '../../src/core/errors';
import { CpuBackend } from '../../src/core/rfm/cpu';
import { WebGpuBackend } from '../../src/core/rfm/webgpu';
import { CancelledError, InputError } from '../../src/core/errors';
import { fitRfm } from '../../src/core/rfm/fit';
import type { IterationRecord } from '../../src/core/rfm/types';
import { fromWireDataset } from '../../src/protocol/wire';
import { toWireFitResult, type HostToWebview, type WebviewToHost } from '../../src/protocol/rfm';

type FitMessage = Extract<HostToWebview, { type: 'fit' }>;

export interface FitHooks {
  post: (m: WebviewToHost) => void;
  onBackend: (backend: string, device: string, reason: string) => void;
  onIteration: (rec: IterationRecord) => void;
  onDone: (result: ReturnType<typeof toWireFitResult>) => void;
}

class GpuUnavailable extends Error {}

const nextTask = () => new Promise<void>((r) => setTimeout(r, 0));

/**
 * The CPU backend computes synchronously, so awaiting it never lets the page handle a message or
 * repaint. Yielding one task before each phase lets a Cancel from the host and the live curves in.
 */
function yielding(inner: Backend): Backend {
  return {
    name: inner.name,
    device: inner.device,
    solve: async (...a) => (await nextTask(), inner.solve(...a)),
    predict: async (...a) => (await nextTask(), inner.predict(...a)),
    gradMoments: async (...a) => (await nextTask(), inner.gradMoments(...a)),
    dispose: () => inner.dispose(),
  };
}

/** A GPU backend on this page's navigator.gpu, or a GpuUnavailable saying why there is none. */
async function panelGpu(): Promise<Backend> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) throw new GpuUnavailable('this panel has no navigator.gpu (WebGPU is disabled in this browser)');
  // Software and compatibility-only adapters (SwiftShader, lavapipe via GL) answer only the second ask.
  const adapter =
    (await gpu.requestAdapter()) ??
    (await gpu.requestAdapter({ featureLevel: 'compatibility' } as GPURequestAdapterOptions));
  if (!adapter) throw new GpuUnavailable('navigator.gpu.requestAdapter() found no adapter in this panel');
  try {
    return await WebGpuBackend.create(gpu);
  } catch (e) {
    throw new GpuUnavailable(
      `the panel's WebGPU device could not start: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

export async function runFitInPanel(msg: FitMessage, cancel: { cancelled: boolean }, hooks: FitHooks): Promise<void> {
  const { fitId } = msg;
  const fail = (gpuUnavailable: boolean, cancelled: boolean, message: string) =>
    hooks.post({ type: 'fitFailed', fitId, gpuUnavailable, cancelled, message });
  let backend: Backend;
  let reason: string;
  if (msg.allowGpu) {
    try {
      backend = await panelGpu();
    } catch (e) {
      fail(true, false, e instanceof Error ? e.message : String(e));
      return;
    }
    reason = 'WebGPU in the panel';
  } else if (msg.allowCpu) {
    backend = yielding(new CpuBackend());
    reason = msg.view.backendReason ? `${msg.view.backendReason} → CPU in the panel` : 'CPU in the panel';
  } else {
    fail(false, false, 'the host allowed neither GPU nor CPU');
    return;
  }
  hooks.onBackend(backend.name, backend.device, reason);
  hooks.post({ type: 'backend', fitId, backend: backend.name, device: backend.device, reason });
  try {
    const result = await fitRfm(fromWireDataset(msg.train), msg.options, {
      backend,
      test: msg.test ? fromWireDataset(msg.test) : undefined,
      valFraction: msg.valFraction,
      cancel,
      onIteration: (record) => {
        hooks.onIteration(record);
        hooks.post({ type: 'iteration', fitId, record });
      },
    });
    const wire = toWireFitResult(result);
    hooks.onDone(wire);
    hooks.post({ type: 'fitDone', fitId, result: wire });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (e instanceof CancelledError || cancel.cancelled) fail(false, true, 'cancelled');
    else if (e instanceof InputError) fail(false, false, message);
    // Any other failure on the GPU path (device lost, validation, out of memory) lets the host retry elsewhere.
    else if (msg.allowGpu || e instanceof BackendError) fail(true, false, `WebGPU in the panel failed: ${message}`);
    else fail(false, false, message);
  } finally {
    backend.dispose();
  }
}
