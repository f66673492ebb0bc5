import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  classifyPhase,
  findCatapults,
  linearToyInit,
  toyRecursion,
  toyStep,
  trainLinearToy,
  lrSweep,
  CpuCatapultBackend,
} from '../../src/core/catapult/index';

test('one toy step by hand: u = (1, 2, 0, 0), v = (.5, 1, 0, 0), m = 4, y = .25, eta = .1', () => {
  // f = (.5 + 2) / 2 = 1.25, lambda = (5 + 1.25) / 4; after GD u = (.975, 1.95), v = (.45, .9):
  // f' = (.975 * .45 + 1.95 * .9) / 2 = 1.096875, lambda' = (.975^2 + 1.95^2 + .45^2 + .9^2) / 4 = 1.44140625
  const s = toyStep({ f: 1.25, lambda: 1.5625 }, 0.25, 0.1, 4);
  assert.ok(Math.abs(s.f - 1.096875) < 1e-15);
  assert.ok(Math.abs(s.lambda - 1.44140625) < 1e-15);
});

/** GD on the weight vectors against the exact scalar recursion, while the loss is far from rounding noise. */
function assertMatchesRecursion(factor: number, seed: number) {
  const run = trainLinearToy({ width: 1000, lrFactor: factor, steps: 60, seed, y: 0 });
  const rec = toyRecursion(linearToyInit(1000, seed), 0, run.lr, 1000, 60);
  assert.equal(run.losses.length, rec.losses.length);
  const L0 = rec.losses[0];
  for (let t = 0; t < rec.losses.length; t++) {
    if (!(rec.losses[t] > 1e-16 * L0) || !(rec.losses[t] < 1e100)) continue;
    const rel = Math.abs(run.losses[t] - rec.losses[t]) / rec.losses[t];
    assert.ok(rel < 1e-6, `f=${factor} seed=${seed} step ${t}: GD ${run.losses[t]} vs recursion ${rec.losses[t]}`);
    assert.ok(Math.abs(run.lambdas[t] - rec.lambdas[t]) < 1e-9 * rec.lambdas[t]);
  }
  return { run, rec };
}

for (const seed of [0, 1, 2, 3]) {
  test(`docs/science.md §5 toy phases, m = 1000, y = 0, seed ${seed}`, () => {
    // 1.5 / lambda_0: the loss decreases monotonically (|1 - eta lambda| = .5)
    const lazy = assertMatchesRecursion(1.5, seed);
    for (const L of [lazy.run.losses, lazy.rec.losses]) {
      for (let t = 1; t < L.length && L[t - 1] > 1e-20 * L[0]; t++)
        assert.ok(L[t] < L[t - 1], `1.5: loss rose at step ${t}`);
    }
    assert.equal(lazy.run.phase, 'lazy');
    assert.equal(classifyPhase(lazy.rec.losses), 'lazy');

    // 3 / lambda_0: the loss spikes, lambda falls below 2 / eta, then it converges
    const cat = assertMatchesRecursion(3, seed);
    const longRec = toyRecursion(linearToyInit(1000, seed), 0, cat.run.lr, 1000, 300);
    for (const [L, lam] of [
      [cat.run.losses, cat.run.lambdas],
      [longRec.losses, longRec.lambdas],
    ]) {
      assert.ok(Math.max(...L) > 10 * L[0], 'a spike');
      assert.ok(lam[lam.length - 1] < 2 / cat.run.lr, 'lambda ends below 2/eta');
      assert.ok(lam[0] > 2 / cat.run.lr, 'lambda starts above 2/eta');
    }
    assert.ok(longRec.losses[longRec.losses.length - 1] < 1e-20 * longRec.losses[0], 'converges');
    assert.equal(classifyPhase(longRec.losses), 'catapult');
    assert.equal(trainLinearToy({ width: 1000, lrFactor: 3, steps: 300, seed }).phase, 'catapult');
    assert.equal(findCatapults(longRec.losses).length, 1);

    // 5 / lambda_0: diverges
    const div = trainLinearToy({ width: 1000, lrFactor: 5, steps: 300, seed });
    const divRec = toyRecursion(linearToyInit(1000, seed), 0, div.lr, 1000, 300);
    assert.ok(!(divRec.losses[divRec.losses.length - 1] < 1e100), 'the recursion blows up');
    assert.ok(!(div.losses[div.losses.length - 1] < 1e100), 'GD blows up');
    assert.equal(div.phase, 'divergent');
    assert.equal(classifyPhase(divRec.losses), 'divergent');
  });
}

test('linear lr sweep: the phase picture in units of 2/lambda_0 (edges 1 and 2 for the toy)', async () => {
  const pts = await lrSweep(
    'linear',
    [0.5, 0.9, 1.2, 1.5, 1.9, 2.2, 3],
    { width: 1000, steps: 400, seed: 5 },
    new CpuCatapultBackend(),
  );
  assert.deepEqual(
    pts.map((p) => p.phase),
    ['lazy', 'lazy', 'catapult', 'catapult', 'catapult', 'divergent', 'divergent'],
  );
  for (const p of pts.filter((q) => q.phase === 'catapult')) assert.ok(p.finalLambda < p.edge);
  assert.deepEqual(
    pts.map((p) => p.recursionPhase),
    pts.map((p) => p.phase),
  );
});

test('phase classification reads only the trajectory', () => {
  assert.equal(classifyPhase([1, 0.5, 0.25]), 'lazy');
  assert.equal(classifyPhase([1, 0.9, 3, 0.5, 0.1]), 'catapult');
  assert.equal(classifyPhase([1, 2, 4, 8]), 'divergent');
  assert.equal(classifyPhase([1, 0.5, NaN]), 'divergent');
  // a rise at the level of float64 rounding after convergence is not a catapult
  assert.equal(classifyPhase([1, 1e-20, 1e-31, 5e-31, 1e-32]), 'lazy');
  assert.deepEqual(
    findCatapults([1, 0.5, 2, 0.4, 0.3, 1, 0.2]).map((c) => [c.start, c.peak, c.end]),
    [
      [2, 2, 3],
      [5, 5, 6],
    ],
  );
});
