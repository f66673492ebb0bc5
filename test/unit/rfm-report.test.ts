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
    'held_out',
  ]);
  assert.deepEqual(Object.keys(j.iterations[0]), [
    'iter',
    'train_metric',
    'train_mse',
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
  assert.deepEqual(Object.keys(j.final), [
    'train_metric',
    'test_metric',
    'test_mse',
    'validation_metric',
    'validation_mse',
  ]);
  assert.equal(j.final.validation_metric, r.final.testMetric);
  assert.deepEqual(j.held_out, { kind: 'split', fraction: 0.2, seed: 0, rows: 30 });
  assert.equal(JSON.stringify(fitResultToJson(r)).includes('fallback'), false);
  assert.equal(j.M.length, 4);
  assert.deepEqual(j.M[1], Array.from(r.M.subarray(4, 8)));
  assert.deepEqual(j.importance, Array.from(r.importance));

  const back = JSON.parse(JSON.stringify(j));
  assert.deepEqual(matrixFromReport(back), r.M);
  assert.deepEqual(finalFromReport(back.final), r.final);
  // The panel's "train MSE" line reads train_mse back (it was once dropped, leaving the line empty).
  assert.equal(j.iterations[1].train_mse, r.iterations[1].trainMse);
  assert.ok(r.iterations[1].trainMse > 0 && Number.isFinite(r.iterations[1].trainMse));
  assert.deepEqual(iterationFromReport(back.iterations[1]), r.iterations[1]);
  // A report written before train_mse existed reads back with no train MSE, not a wrong one.
  const { train_mse: _old, ...oldIteration } = back.iterations[1];
  assert.equal(iterationFromReport(oldIteration).trainMse, null);
});

test('early stopping chooses on an inner split of the training rows, not on the reported validation rows', async () => {
  const { dataset } = await readDatasetFile('test/fixtures/iris.csv', { target: 'species' });
  const r = await fitRfm(dataset, { iters: 3, earlyStop: true }, { backend: new CpuBackend(), valFraction: 0.2 });
  // 150 rows: 30 validation, of the 120 left 24 choose the iteration and 96 are the kernel's centers.
  assert.deepEqual(r.heldOut, { kind: 'split', fraction: 0.2, seed: 0, rows: 30 });
  assert.deepEqual(r.selection, { on: 'inner split', rows: 24 });
  assert.equal(r.nTrain, 96);
  assert.equal(r.model.centers.rows, 96);
  for (const it of r.iterations) assert.ok(it.selectMse !== undefined && it.selectMetric !== undefined);
  const j = fitResultToJson(r);
  assert.deepEqual(j.early_stop, { selected_on: 'inner split', rows: 24 });
  assert.equal(j.iterations[0].select_mse, r.iterations[0].selectMse);
});
