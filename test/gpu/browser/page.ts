// Runs in headless Chromium: the same fit through WebGpuBackend on navigator.gpu and through the CPU
// backend, in the page, and exposes both results to the test (window.__result).
import { CpuBackend } from '../../../src/core/backends/cpu';
import { WebGpuBackend } from '../../../src/core/backends/webgpu';
import type { Dataset } from '../../../src/core/data/dataset';
import { mat } from '../../../src/core/mat';
import { fitRfm } from '../../../src/core/rfm/fit';

declare global {
  interface Window {
    __csv: string;
    __result: unknown;
  }
}

function parse(text: string): Dataset {
  const lines = text.trim().split(/\r?\n/);
  const header = lines[0].split(',');
  const d = header.length - 1;
  const rows = lines.slice(1).map((l) => l.split(','));
  const classes = [...new Set(rows.map((r) => r[d]))].sort();
  const X = new Float64Array(rows.length * d);
  const y = new Float64Array(rows.length);
  rows.forEach((r, i) => {
    for (let j = 0; j < d; j++) X[i * d + j] = Number(r[j]);
    y[i] = classes.indexOf(r[d]);
  });
  return { source: 'iris.csv', X: mat(rows.length, d, X), featureNames: header.slice(0, d), y, targetName: header[d], task: 'classification', classes };
}

async function main(): Promise<unknown> {
  if (!navigator.gpu) return { error: 'navigator.gpu is missing' };
  // Every GPU path: CG solve on the device and predictions on the device.
  const gpu = await WebGpuBackend.create(navigator.gpu, { directSolveMaxN: 0, maxPredictError: Infinity });
  const ds = parse(window.__csv);
  const options = { iters: 2 };
  const g = await fitRfm(ds, options, { backend: gpu, valFraction: 0.2 });
  const c = await fitRfm(ds, options, { backend: new CpuBackend(), valFraction: 0.2 });
  const live = gpu.liveBuffers;
  gpu.dispose();
  const pick = (r: typeof g) => ({ backend: r.backend, device: r.device, test_metric: r.final.test_metric, test_mse: r.final.test_mse, M: r.M, importance: r.importance });
  return { gpu: pick(g), cpu: pick(c), liveBuffers: live };
}

main().then(
  (r) => (window.__result = r),
  (e) => (window.__result = { error: String(e?.stack ?? e) }),
);
