// Precision/recall of the loss-spike detector (default parameters) on synthetic logs with injected
// spikes of known position, across noise levels, Gaussian and heavy-tailed (Student-t, 3 dof) noise.
// Prints JSON. Run: node --import tsx bench/spikes-eval.mjs
import { detectSpikes, DEFAULT_SPIKE_PARAMS } from '../src/core/logs/spikes.ts';
import { syntheticLoss, scoreDetections } from '../src/core/logs/syntheticSpikes.ts';

const seeds = 40,
  points = 3000,
  perLog = 10;
const rows = [];
for (const heavyTails of [false, true]) {
  for (const noise of [0.01, 0.02, 0.05, 0.1, 0.2]) {
    for (const [minHeight, maxHeight] of [
      [1.5, 3],
      [3, 30],
    ]) {
      let det = 0,
        hits = 0,
        truth = 0,
        peakErr = 0,
        falseOnClean = 0;
      for (let seed = 1; seed <= seeds; seed++) {
        const { steps, values, spikes } = syntheticLoss({
          noise,
          minHeight,
          maxHeight,
          seed,
          points,
          spikes: perLog,
          heavyTails,
        });
        const found = detectSpikes(steps, values);
        const s = scoreDetections(
          spikes,
          found.map((f) => f.peak),
        );
        det += found.length;
        hits += s.hits;
        truth += spikes.length;
        for (const f of found) {
          const near = spikes.find((x) => f.peak >= x.onset - 2 && f.peak <= x.end);
          if (near) peakErr += Math.abs(f.peak - near.peak);
        }
        const clean = syntheticLoss({ noise, seed: seed + 1000, points, spikes: 0, heavyTails });
        falseOnClean += detectSpikes(clean.steps, clean.values).length;
      }
      rows.push({
        noise: heavyTails ? `t3 sd ${noise}` : `gauss sd ${noise}`,
        heights: `${minHeight}-${maxHeight}`,
        injected: truth,
        detected: det,
        precision: +(hits / Math.max(det, 1)).toFixed(3),
        recall: +(hits / truth).toFixed(3),
        mean_peak_error_points: +(peakErr / Math.max(hits, 1)).toFixed(2),
        false_spikes_per_1000_points_without_spikes: +((falseOnClean / (seeds * points)) * 1000).toFixed(3),
      });
    }
  }
}
console.log(
  JSON.stringify({
    params: DEFAULT_SPIKE_PARAMS,
    seeds,
    points_per_log: points,
    spikes_per_log: perLog,
    results: rows,
  }),
);
