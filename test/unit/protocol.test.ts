// The host<->panel wire format: a fit result and a dataset survive the trip through ArrayBuffers
// (structured clone is what VS Code applies to webview messages).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadDataset } from '../../src/core/data/index';
import { fitRfm } from '../../src/core/rfm/fit';
import { CpuBackend } from '../../src/core/rfm/cpu';
import { fitResultToJson } from '../../src/core/rfm/serialize';
import { fromWireDataset, toWireDataset } from '../../src/protocol/wire';
import { fromWireFitResult, toWireFitResult } from '../../src/protocol/rfm';

test('a fit result and its dataset cross the wire unchanged, tensors as ArrayBuffers', async () => {
  const bytes = new Uint8Array(readFileSync(new URL('../fixtures/iris.csv', import.meta.url)));
  const { dataset } = await loadDataset(bytes, 'iris.csv', { target: 'species' });
  const wireData = structuredClone(toWireDataset(dataset));
  assert.ok(wireData.X.data instanceof ArrayBuffer && wireData.y instanceof ArrayBuffer);
  const back = fromWireDataset(wireData);
  assert.deepEqual(back.X.data, dataset.X.data);
  assert.deepEqual(back.y, dataset.y);
  assert.deepEqual(back.classes, dataset.classes);

  const result = await fitRfm(back, { iters: 1 }, { backend: new CpuBackend(), valFraction: 0.2 });
  const wire = structuredClone(toWireFitResult(result));
  assert.ok(wire.M instanceof ArrayBuffer && wire.model.alpha.data instanceof ArrayBuffer);
  const restored = fromWireFitResult(wire);
  assert.deepEqual(fitResultToJson(restored), fitResultToJson(result));
  // M and the importances stay typed on both sides; only their buffers cross.
  assert.ok(wire.importance instanceof ArrayBuffer);
  assert.ok(restored.M instanceof Float64Array && restored.importance instanceof Float64Array);
  assert.deepEqual(restored.M, result.M);
  assert.deepEqual(restored.model.alpha.data, result.model.alpha.data);
  assert.deepEqual(restored.model.centers.data, result.model.centers.data);
  assert.deepEqual(restored.model.M.data, result.model.M.data);
  assert.deepEqual(restored.model.standardize?.mean, result.model.standardize?.mean);
});
