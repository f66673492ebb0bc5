import { normal as makeNormal, rng as makeRng } from '../random';

/**
 * Synthetic training-loss curves with spikes at known places, for measuring the detector
 * (bench/spikes-eval.mjs, test/unit/spikes-*.test.ts) and for demos.
 * Loss = (floor + scale * exp(-t / decay)) * exp(noise * N(0,1)) * exp(spike profile), the profile of
 * a spike of height h rising linearly over `rise` points to log h, then decaying as exp(-(t - peak) / tau).
 */
export interface SyntheticSpikeOptions {
  points: number;
  spikes: number;
  /** Standard deviation of the multiplicative (log-space) noise. */
  noise: number;
  /** Spike height ratios drawn log-uniformly from this range. */
  minHeight: number;
  maxHeight: number;
  /** Minimum distance in points between injected spikes. */
  separation: number;
  /** Student-t noise with 3 degrees of freedom (scaled to the same sd) instead of Gaussian: SGD's outliers. */
  heavyTails: boolean;
  seed: number;
}

export interface InjectedSpike {
  /** Index of the first raised point, of the peak, and of the point where the excess is under 5% of log h. */
  readonly onset: number;
  readonly peak: number;
  readonly end: number;
  readonly height: number;
}

export function syntheticLoss(opts: Partial<SyntheticSpikeOptions> = {}): {
  steps: Float64Array;
  values: Float64Array;
  spikes: InjectedSpike[];
} {
  const o: SyntheticSpikeOptions = {
    points: 3000,
    spikes: 10,
    noise: 0.05,
    minHeight: 2,
    maxHeight: 20,
    separation: 150,
    heavyTails: false,
    seed: 1,
    ...opts,
  };
  const rnd = makeRng(o.seed);
  const normal = makeNormal(rnd);
  const n = o.points;
  const logExcess = new Float64Array(n);
  const spikes: InjectedSpike[] = [];
  const warmup = 60;
  for (let tries = 0; spikes.length < o.spikes && tries < 10000; tries++) {
    const onset = warmup + Math.floor(rnd() * (n - warmup - 80));
    if (spikes.some((s) => Math.abs(s.onset - onset) < o.separation)) continue;
    const height = Math.exp(Math.log(o.minHeight) + rnd() * (Math.log(o.maxHeight) - Math.log(o.minHeight)));
    const rise = 1 + Math.floor(rnd() * 3);
    const tau = 2 + rnd() * 10;
    const peak = onset + rise - 1;
    const end = Math.min(n - 1, peak + Math.ceil(tau * Math.log(20)));
    for (let t = onset; t < n; t++) {
      const prof = t <= peak ? (t - onset + 1) / rise : Math.exp(-(t - peak) / tau);
      if (prof < 1e-4) break;
      logExcess[t] += Math.log(height) * prof;
    }
    spikes.push({ onset, peak, end, height });
  }
  spikes.sort((a, b) => a.onset - b.onset);
  // t_3 = N / sqrt(chi2_3 / 3) has variance 3; divide by sqrt(3) for unit variance.
  const draw = o.heavyTails
    ? () => {
        const z = normal();
        const c = normal() ** 2 + normal() ** 2 + normal() ** 2;
        return z / Math.sqrt(c / 3) / Math.sqrt(3);
      }
    : normal;
  const steps = new Float64Array(n);
  const values = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    steps[t] = t;
    values[t] = (0.1 + 2 * Math.exp(-t / (n / 6))) * Math.exp(o.noise * draw() + logExcess[t]);
  }
  return { steps, values, spikes };
}

/**
 * Matches detected spikes to injected ones: a detection is a hit when its peak lies within
 * [onset - tolerance, end] of an injected spike not matched yet.
 */
export function scoreDetections(
  injected: readonly InjectedSpike[],
  detectedPeaks: readonly number[],
  tolerance = 2,
): { hits: number; precision: number; recall: number } {
  const used = new Set<number>();
  let hits = 0;
  for (const p of detectedPeaks) {
    const k = injected.findIndex((s, j) => !used.has(j) && p >= s.onset - tolerance && p <= s.end);
    if (k >= 0) {
      used.add(k);
      hits++;
    }
  }
  return {
    hits,
    precision: detectedPeaks.length ? hits / detectedPeaks.length : 1,
    recall: injected.length ? hits / injected.length : 1,
  };
}
