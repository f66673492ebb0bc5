// The catapult lab's phase pictures and batch-size sweep (CPU float64). Prints JSON.
// Run: node --import tsx bench/catapult-phases.mjs
import { CpuCatapultBackend, lrSweep, batchSweep } from '../src/core/catapult/index.ts';

const backend = new CpuCatapultBackend();
const grid = [0.25, 0.5, 0.75, 0.9, 1.1, 1.25, 1.5, 1.75, 1.9, 2.1, 2.5, 3, 4];
const t0 = performance.now();
const linear = [];
for (const seed of [0, 1, 2]) {
  for (const p of await lrSweep('linear', grid, { width: 1000, steps: 500, seed }, backend))
    linear.push({ seed, x: p.etaOverEdge, phase: p.phase, exact: p.recursionPhase });
}
const relu = [];
for (const seed of [0, 1, 2]) {
  for (const p of await lrSweep(
    'relu',
    grid,
    { width: 256, n: 128, d: 10, batch: 128, steps: 300, every: 50, seed },
    backend,
  )) {
    relu.push({
      seed,
      x: p.etaOverEdge,
      phase: p.phase,
      catapults: p.catapults,
      lambdaEndOverEdge: +(p.finalLambda / p.edge).toFixed(3),
    });
  }
}
const batches = await batchSweep(
  [8, 16, 32, 64, 128],
  [0, 1, 2, 3],
  { width: 256, n: 128, d: 10, steps: 400, every: 100, lrFactor: 1.5 },
  backend,
);
const bySize = {};
for (const b of batches) {
  const s = (bySize[b.batch] ??= { runs: 0, divergent: 0, catapults: 0, alignment: 0, testLoss: 0, ok: 0 });
  s.runs++;
  if (b.phase === 'divergent') {
    s.divergent++;
    continue;
  }
  s.ok++;
  s.catapults += b.catapults;
  s.alignment += b.finalAlignment ?? 0;
  s.testLoss += b.testLoss ?? 0;
}
const batchSummary = Object.entries(bySize).map(([batch, s]) => ({
  batch: +batch,
  runs: s.runs,
  divergent: s.divergent,
  mean_catapults: +(s.catapults / Math.max(s.ok, 1)).toFixed(2),
  mean_final_alignment: +(s.alignment / Math.max(s.ok, 1)).toFixed(4),
  mean_test_loss: +(s.testLoss / Math.max(s.ok, 1)).toFixed(4),
}));
const phaseRow = (rows) =>
  grid.map(
    (x) =>
      `${x}: ${rows
        .filter((r) => r.x === x)
        .map((r) => r.phase[0])
        .join('')}`,
  );
console.log(
  JSON.stringify(
    {
      note: 'eta in units of 2/lambda_0; phases per seed (l = lazy, c = catapult, d = divergent)',
      linear_toy_m1000: phaseRow(linear),
      linear_matches_exact_recursion: linear.every((r) => r.phase === r.exact),
      relu_gd_m256_n128_d10: phaseRow(relu),
      batch_sweep_eta_1_5_over_lambda0: batchSummary,
      seconds: +((performance.now() - t0) / 1000).toFixed(1),
    },
    null,
    1,
  ),
);
