// docs/science.md §5: the iris AGOP after round 0, loaded through the real CSV loader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readDatasetFile } from '../../src/core/data/node';
import { CpuBackend } from '../../src/core/rfm/cpu';
import { fitRfm } from '../../src/core/rfm/fit';

test('iris (150 rows, one-hot, L = 10, reg = 1e-3): AGOP diagonal after round 0', async () => {
  const { dataset } = await readDatasetFile('test/fixtures/iris.csv', { target: 'species' });
  assert.equal(dataset.task, 'classification');
  assert.deepEqual(dataset.classes, ['setosa', 'versicolor', 'virginica']);
  // One round with the paper's scaling: M_1 is the raw AGOP (no power, no normalisation, raw features).
  const r = await fitRfm(
    dataset,
    { iters: 1, bandwidth: 10, reg: 1e-3, normalize: 'none', agopPower: 1, standardize: false },
    { backend: new CpuBackend() },
  );
  const want = [0.094661, 0.171267, 0.205099, 0.409586];
  r.importance.forEach((v, j) => assert.ok(Math.abs(v - want[j]) < 1e-5, `diag[${j}] = ${v}, want ${want[j]}`));
  assert.equal(r.final.trainMetric, 1);
});
