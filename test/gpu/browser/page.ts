// Runs in headless Chromium: the same fit through WebGpuBackend on navigator.gpu and through the CPU
// backend, in the page, and exposes both results to the test (window.__result).
import { CpuBackend } from '../../../src/core/rfm/cpu';
import { WebGpuBackend } from '../../../src/core/rfm/webgpu';
import { fitRfm } from '../../../src/core/rfm/fit';
import { fitResultToJson } from '../../../src/core/rfm/serialize';
import { parseClassCsv } from '../classCsv';

declare global {
  interface Window {
    __csv: string;
    __result: unknown;
  }
}

async function main(): Promise<unknown> {
  if (!navigator.gpu) return { error: 'navigator.gpu is missing' };
  // Every GPU path: CG solve on the device and predictions on the device.
  const gpu = await WebGpuBackend.create(navigator.gpu, { directSolveMaxN: 0, maxPredictError: Infinity });
  const ds = parseClassCsv(window.__csv, 'iris.csv');
  const options = { iters: 2 };
  const g = await fitRfm(ds, options, { backend: gpu, valFraction: 0.2 });
  const c = await fitRfm(ds, options, { backend: new CpuBackend(), valFraction: 0.2 });
  const live = gpu.liveBuffers;
  gpu.dispose();
  // The JSON report: plain arrays survive page.evaluate.
  const pick = (r: typeof g) => {
    const j = fitResultToJson(r);
    return {
      backend: j.backend,
      device: j.device,
      test_metric: j.final.test_metric,
      test_mse: j.final.test_mse,
      M: j.M,
      importance: j.importance,
    };
  };
  return { gpu: pick(g), cpu: pick(c), liveBuffers: live };
}

main().then(
  (r) => (window.__result = r),
  (e) => (window.__result = { error: String(e?.stack ?? e) }),
);
