import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  completeMatrix,
  FULL_SPECTRUM_COLS,
  frobenius2FromGram,
  rankEstimate,
  singularValuesFromGram,
  SPECTRUM_TOP,
  splitObserved,
  type PartialMatrix,
} from '../../src/core/linrfm/complete';
import { eighSym } from '../../src/core/linalg/eigh';
import { CpuLinRfmBackend, gramOverRows, ridgeSolveRow } from '../../src/core/linrfm/cpu';
import { heldOutError, lowRank } from './linrfm-helpers';

test('ridgeSolveRow solves (P_OO + λI) a = y', () => {
  const d = 3;
  const P = Float64Array.from([4, 1, 0.5, 1, 3, 0.2, 0.5, 0.2, 2]);
  const cols = Int32Array.from([0, 2]);
  const a = ridgeSolveRow(P, d, cols, Float64Array.from([1, 2]), 0.1, new Float64Array(4));
  // [[4.1, 0.5], [0.5, 2.1]] a = [1, 2]
  assert.ok(Math.abs(4.1 * a[0] + 0.5 * a[1] - 1) < 1e-12);
  assert.ok(Math.abs(0.5 * a[0] + 2.1 * a[1] - 2) < 1e-12);
});

test('one CPU iteration from P = I: predictions y/(1+λ) on the observed entries, then put back', async () => {
  const matrix: PartialMatrix = { rows: 2, cols: 3, data: Float64Array.from([1, NaN, 2, NaN, 3, 4]) };
  const problem = splitObserved(matrix, 0.25, 1);
  const b = new CpuLinRfmBackend();
  await b.setProblem(problem);
  await b.setP(Float64Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]));
  const step = await b.iterate(0.5);
  let sse = 0;
  for (const y of problem.train.values) sse += (y / 1.5 - y) ** 2;
  assert.ok(Math.abs(step.trainSse - sse) < 1e-12);
  const W = await b.readCompleted('current');
  let valSse = 0;
  for (const y of problem.validation.values) valSse += y * y; // the held-back entry predicts 0 with P = I
  assert.ok(Math.abs(step.validationSse - valSse) < 1e-12);
  const G = await b.readGram();
  const expect = gramOverRows(W, 2, 3);
  assert.deepEqual(Array.from(G), Array.from(expect));
  assert.equal(problem.validation.values.length, 1);
  assert.equal(problem.train.values.length, 3);
});

for (const alpha of [0.5, 1]) {
  test(`α = ${alpha}: 100 x 100 rank 3 at 30% observed is recovered (held-out relative MSE < 1e-3)`, async () => {
    const { truth, matrix } = lowRank(100, 100, 3, 0.3, 7);
    const seen: { iteration: number; refit: boolean }[] = [];
    const res = await completeMatrix(
      matrix,
      { alpha },
      { backend: new CpuLinRfmBackend(), onProgress: (p) => seen.push({ iteration: p.iteration, refit: !!p.refit }) },
    );
    assert.equal(res.converged, true);
    assert.equal(res.stopReason, 'tolerance');
    assert.ok(res.validationError < 1e-3);
    const heldOut = heldOutError(res.completed, truth, matrix);
    assert.ok(heldOut < 1e-3, `held-out ${heldOut}`);
    assert.equal(res.rankEstimate, 3);
    // Progress: every validated iteration, then the refit's (at least 100, all observed entries).
    assert.equal(res.refitIterations, Math.max(res.iterations, 100));
    assert.deepEqual(
      seen,
      Array.from({ length: res.iterations + res.refitIterations }, (_, i) => ({
        iteration: i + 1,
        refit: i >= res.iterations,
      })),
    );
    // Observed entries are returned exactly.
    for (let f = 0; f < truth.length; f++)
      if (!Number.isNaN(matrix.data[f])) assert.equal(res.completed[f], matrix.data[f]);
    // Without the refit: the accepted iterate itself, still within 5x of its validation error.
    const plain = await completeMatrix(matrix, { alpha, refit: false }, { backend: new CpuLinRfmBackend() });
    assert.equal(plain.refitIterations, 0);
    assert.equal(plain.iterations, res.iterations);
    const heldOutPlain = heldOutError(plain.completed, truth, matrix);
    assert.ok(heldOutPlain < 5e-3 && heldOutPlain > heldOut, `held-out ${heldOutPlain}`);
  });
}

test('α = 0.75 (P = G^1.5 by eigendecomposition each iteration): 60 x 50 rank 2 at 40% is recovered', async () => {
  const { truth, matrix } = lowRank(60, 50, 2, 0.4, 3);
  const res = await completeMatrix(matrix, { alpha: 0.75 }, { backend: new CpuLinRfmBackend() });
  assert.equal(res.converged, true);
  assert.equal(res.alpha, 0.75);
  const heldOut = heldOutError(res.completed, truth, matrix);
  assert.ok(heldOut < 1e-3, `held-out ${heldOut}`);
  assert.equal(res.rankEstimate, 2);
});

test('below the degrees of freedom r(m + d − r) α = ½ is reported as not converged', async () => {
  // 40 x 40 rank 8: r(m + d − r) = 576 degrees of freedom, 20% observed = ~320 entries.
  const { matrix } = lowRank(40, 40, 8, 0.2, 3);
  const res = await completeMatrix(matrix, { alpha: 0.5, maxIters: 400 }, { backend: new CpuLinRfmBackend() });
  assert.equal(res.converged, false);
  assert.notEqual(res.stopReason, 'tolerance');
  assert.ok(res.validationError >= 1e-3);
});

test('rankEstimate counts singular values above sqrt(min(10e, 0.25))·‖Ŷ‖_F', () => {
  assert.equal(rankEstimate(Float64Array.from([10, 5, 1e-3, 1e-4]), 1e-4), 2); // level sqrt(1e-3)·‖·‖_F ≈ 0.35
  assert.equal(rankEstimate(Float64Array.from([10, 5, 1e-3, 1e-4]), 1e-13), 4);
  assert.equal(rankEstimate(Float64Array.from([10, 5, 1e-3, 1e-4]), 0.5), 1); // capped at 0.5·‖·‖_F ≈ 5.6
  assert.equal(rankEstimate(Float64Array.from([0, 0]), 1e-4), 0);
});

test('past FULL_SPECTRUM_COLS columns the spectrum is its top SPECTRUM_TOP values, equal to the full one there', () => {
  // Rank 4 plus small noise, 160 x 150: the full eigendecomposition is the reference.
  const m = 160;
  const d = FULL_SPECTRUM_COLS + 22;
  const { truth } = lowRank(m, d, 4, 0.5, 3);
  const W = Float64Array.from(truth, (v, i) => v + 1e-3 * Math.sin(7 * i));
  const G = gramOverRows(W, m, d);
  const top = singularValuesFromGram(G, d, m);
  const full = Float64Array.from(eighSym(G, d).values, (v) => Math.sqrt(Math.max(v, 0) * m));
  assert.equal(top.length, SPECTRUM_TOP);
  for (let j = 0; j < 4; j++) assert.ok(Math.abs(top[j] - full[j]) <= 1e-9 * full[0], `σ${j}: ${top[j]} vs ${full[j]}`);
  // ‖W‖_F² from the trace equals Σσ² over the whole spectrum, so the rank estimate is the full one's.
  const fro2 = frobenius2FromGram(G, d, m);
  assert.ok(Math.abs(fro2 - full.reduce((a, v) => a + v * v, 0)) < 1e-9 * fro2);
  assert.equal(rankEstimate(top, 1e-6, fro2), rankEstimate(full, 1e-6));
  assert.equal(rankEstimate(top, 1e-6, fro2), 4);
});

test('the paced CPU backend gives the same completion and hands the event loop back within an iteration', async () => {
  const { matrix } = lowRank(300, 200, 3, 0.3, 5);
  const problem = splitObserved(matrix, 0.05, 1);
  let yields = 0;
  const paced = new CpuLinRfmBackend({
    sliceMs: 1,
    yieldNow: () => new Promise((r) => setImmediate(() => (yields++, r()))),
  });
  const plain = new CpuLinRfmBackend();
  const identity = new Float64Array(200 * 200);
  for (let j = 0; j < 200; j++) identity[j * 200 + j] = 1;
  for (const b of [paced, plain]) {
    await b.setProblem(problem);
    await b.setP(identity);
  }
  for (let it = 0; it < 2; it++) {
    const before = yields;
    const [a, b] = [await paced.iterate(0.05), await plain.iterate(0.05)];
    assert.deepEqual(a, b);
    assert.ok(yields > before, 'no yield inside the iteration');
    await paced.updateP('gramSquared');
    await plain.updateP('gramSquared');
  }
  assert.deepEqual(await paced.readCompleted('current'), await plain.readCompleted('current'));
});

test('a cancelled run throws CancelledError', async () => {
  const { matrix } = lowRank(20, 20, 2, 0.5, 1);
  const ac = new AbortController();
  await assert.rejects(
    completeMatrix(
      matrix,
      {},
      { backend: new CpuLinRfmBackend(), signal: ac.signal, onProgress: (p) => p.iteration === 3 && ac.abort() },
    ),
    /cancelled/,
  );
});
