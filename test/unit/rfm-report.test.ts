// The JSON report of a fit is made only by fitResultToJson: snake_case fields in the order they have
// always been written (reports are compared byte for byte), M as nested rows, and it reads back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readDatasetFile } from '../../src/core/data/node';
import { CpuBackend } from '../../src/core/rfm/cpu';
import { fitRfm } from '../../src/core/rfm/fit';
import { finalFromReport, fitResultToJson, iterationFromReport, matrixFromReport } from '../../src/core/rfm/serialize';

test('the report: fields, order, nested M; and what the panel reads back from it', async () => {
  const { dataset } = await readDatasetFile('test/fixtures/iris.csv', { target: 'species' });
  const r = await fitRfm(dataset, { iters: 2 }, { backend: new CpuBackend(), valFraction: 0.2 });
  const j = fitResultToJson({ ...r, fallback: 'webgpu backend: device lost; continued on cpu (cpu float64)' });
  assert.deepEqual(Object.keys(j), [
    'task',
    'n_train',
    'n_test',
    'd',
    'feature_names',
    'backend',
    'device',
    'fallback',
    'solver',
    'options',
    'iterations',
    'best_iter',
    'final',
    'M',
    'importance',
    'seconds',
  ]);
  assert.deepEqual(Object.keys(j.iterations[0]), [
    'iter',
    'train_metric',
    'test_metric',
    'test_mse',
    'seconds',
    'phases',
    'reg_used',
    'solver',
    'solver_iterations',
    'rel_residual',
  ]);
  assert.equal(j.solver, 'direct'); // n = 120 <= 1000: auto is direct on the CPU
  assert.deepEqual(Object.keys(j.final), ['train_metric', 'test_metric', 'test_mse']);
  assert.equal(JSON.stringify(fitResultToJson(r)).includes('fallback'), false);
  assert.equal(j.M.length, 4);
  assert.deepEqual(j.M[1], Array.from(r.M.subarray(4, 8)));
  assert.deepEqual(j.importance, Array.from(r.importance));

  const back = JSON.parse(JSON.stringify(j));
  assert.deepEqual(matrixFromReport(back), r.M);
  assert.deepEqual(finalFromReport(back.final), r.final);
  assert.deepEqual(iterationFromReport(back.iterations[1]), { ...r.iterations[1], trainMse: null });
});
