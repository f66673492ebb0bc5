/**
 * Loss-spike detection (the spikes docs/science.md §3 explains as catapults).
 *
 * Works on log(loss), where a spike is a multiplicative jump and training noise is roughly
 * scale-free. Each point is compared with the median of the last `baselinePoints` points that are
 * not part of a spike; its excess over that median, in units of the noise's robust spread
 * (1.4826 * MAD of consecutive differences over `window` points / sqrt 2, floored at `minScale`;
 * differences, so a steeply falling early loss does not look noisy), must pass `threshold` and the
 * loss must be at least `minHeightRatio` times the baseline. While a spike is open the baseline is frozen at its value at
 * onset, so a long spike cannot raise its own reference; it closes (recovers) when the excess falls
 * below `releaseThreshold` spreads. Spikes closer than `mergeGap` points merge into one.
 * Work per point is O(window) (sorted-window insert/remove and a linear MAD walk).
 */
export interface SpikeParams {
  /** Trailing non-spike points whose consecutive differences give the noise scale (MAD). */
  window: number;
  /** Trailing non-spike points whose median is the baseline: short, so a falling loss does not leave it behind. */
  baselinePoints: number;
  /** Points needed in the window before anything is flagged. */
  minHistory: number;
  /** Entry: log-excess above the baseline, in robust standard deviations. */
  threshold: number;
  /** Minimum prominence: peak loss / baseline loss. */
  minHeightRatio: number;
  /** Recovery: log-excess back below this many robust standard deviations (or a quarter of log minHeightRatio, if larger). */
  releaseThreshold: number;
  /** A spike starting at most this many points after the previous one recovered is merged into it. */
  mergeGap: number;
  /** A spike not recovered after this many points is closed as unrecovered and the baseline restarts (a level shift). */
  maxWidth: number;
  /**
   * Fewest points above the recovery level for a spike to count: 2 rejects one-point outliers of
   * heavy-tailed SGD noise; use 1 for sparsely logged losses where a spike may be a single point.
   */
  minPoints: number;
  /** Floor of the robust spread in log units (0.01 ~ 1%), so a near-flat loss does not flag tiny wiggles. */
  minScale: number;
  /**
   * 'log' (positive losses: a spike is a multiplicative jump); 'linear' (losses that can be zero or
   * negative, e.g. a negative log-likelihood: excess over the baseline in units of |baseline|, the ratio
   * read as 1 + excess / |baseline|); 'auto' (default): log until a value <= 0 arrives, then linear.
   */
  scale?: 'auto' | 'log' | 'linear';
}

export const DEFAULT_SPIKE_PARAMS: SpikeParams = {
  window: 50,
  baselinePoints: 10,
  minHistory: 10,
  threshold: 6,
  minHeightRatio: 1.5,
  releaseThreshold: 2,
  mergeGap: 5,
  maxWidth: 1000,
  minPoints: 2,
  minScale: 0.01,
};

export interface Spike {
  /** Steps (log units): first point of the rise, highest point, first point back at baseline (last point seen if unrecovered). */
  readonly start: number;
  readonly peak: number;
  readonly end: number;
  /** Peak loss / baseline loss (Infinity if the loss became NaN or infinite). */
  readonly heightRatio: number;
  /** end - start, in steps. */
  readonly width: number;
  readonly recovered: boolean;
  /** Indices into the pushed points. */
  readonly startIndex: number;
  readonly peakIndex: number;
  readonly endIndex: number;
  /** The loss at the peak and the baseline loss (exp of the window median at onset). */
  readonly peakValue: number;
  readonly baseline: number;
}

interface OpenSpike {
  startIndex: number;
  start: number;
  peakIndex: number;
  peak: number;
  peakExcess: number;
  peakValue: number;
  endIndex: number;
  end: number;
  logBase: number;
  scale: number;
  recovered: boolean;
  elevatedPoints: number;
}

function insertSorted(a: number[], x: number): void {
  let lo = 0,
    hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  a.splice(lo, 0, x);
}

function removeSorted(a: number[], x: number): void {
  let lo = 0,
    hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  a.splice(lo, 1);
}

function medianOfSorted(a: readonly number[]): number {
  const n = a.length,
    h = n >> 1;
  return n % 2 ? a[h] : (a[h - 1] + a[h]) / 2;
}

/** Median of |a_i - m| for sorted a: merge the two runs of distances walking outward from m. */
function madOfSorted(a: readonly number[], m: number): number {
  const n = a.length;
  let right = 0;
  while (right < n && a[right] < m) right++;
  let left = right - 1;
  const take = (k: number): number => {
    let d = 0;
    for (let c = 0; c <= k; c++) {
      const dl = left >= 0 ? m - a[left] : Infinity;
      const dr = right < n ? a[right] - m : Infinity;
      if (dl <= dr) {
        d = dl;
        left--;
      } else {
        d = dr;
        right++;
      }
    }
    return d;
  };
  const h = n >> 1;
  if (n % 2) return take(h);
  const lower = take(h - 1);
  const upper = take(0);
  return (lower + upper) / 2;
}

/** The last `capacity` numbers pushed, also kept sorted for order statistics. */
class RollingSorted {
  private readonly ring: Float64Array;
  private start = 0;
  count = 0;
  readonly sorted: number[] = [];
  constructor(readonly capacity: number) {
    this.ring = new Float64Array(capacity);
  }
  push(x: number): void {
    if (this.count === this.capacity) {
      removeSorted(this.sorted, this.ring[this.start]);
      this.ring[this.start] = x;
      this.start = (this.start + 1) % this.capacity;
    } else {
      this.ring[(this.start + this.count) % this.capacity] = x;
      this.count++;
    }
    insertSorted(this.sorted, x);
  }
  clear(): void {
    this.start = 0;
    this.count = 0;
    this.sorted.length = 0;
  }
}

/**
 * Incremental detector: push points as they arrive; each call returns the spikes that became final
 * (recovered and past the merge gap, or closed unrecovered). `open()` shows a spike in progress.
 */
export class SpikeDetector {
  readonly params: SpikeParams;
  /** Recent non-spike log-losses: their median is the baseline. */
  private readonly levels: RollingSorted;
  /** Differences of consecutive non-spike log-losses: their MAD is the noise scale, blind to the trend. */
  private readonly diffs: RollingSorted;
  private lastLevel = NaN;
  private index = -1;
  private lastCalm = true;
  private riseStart: { index: number; step: number } | undefined;
  private active: OpenSpike | undefined;
  private pending: OpenSpike | undefined;
  /** Whether values are compared on a log scale (positive losses) or as they are (any sign). */
  private linear: boolean;

  constructor(params: Partial<SpikeParams> = {}) {
    this.params = { ...DEFAULT_SPIKE_PARAMS, ...params };
    const p = this.params;
    if (!(p.window >= 3 && p.minHistory >= 3 && p.minHistory <= p.window && p.baselinePoints >= 1))
      throw new RangeError('spikes: need 3 <= minHistory <= window, baselinePoints >= 1');
    if (!(
      p.threshold > 0 &&
      p.minHeightRatio >= 1 &&
      p.releaseThreshold >= 0 &&
      p.mergeGap >= 0 &&
      p.maxWidth >= 1 &&
      p.minPoints >= 1 &&
      p.minScale > 0
    ))
      throw new RangeError('spikes: invalid parameters');
    this.linear = p.scale === 'linear';
    this.levels = new RollingSorted(Math.min(p.window, p.baselinePoints));
    this.diffs = new RollingSorted(p.window);
  }

  /** Pushes points in order; returns the spikes that became final. */
  push(steps: ArrayLike<number>, values: ArrayLike<number>): Spike[] {
    const out: Spike[] = [];
    for (let k = 0; k < values.length; k++) this.pushOne(steps[k], values[k], out);
    return out;
  }

  /** The end of the log: a pending spike becomes final, an open one is reported unrecovered. */
  finish(): Spike[] {
    const out: Spike[] = [];
    if (this.pending) {
      out.push(this.freeze(this.pending));
      this.pending = undefined;
    }
    const a = this.active;
    if (a && (a.elevatedPoints >= this.params.minPoints || a.peakExcess === Infinity)) out.push(this.freeze(a));
    this.active = undefined;
    return out;
  }

  /** A spike in progress (not yet final), if any: for live views. */
  open(): Spike | undefined {
    const s = this.active ?? this.pending;
    return s ? this.freeze(s) : undefined;
  }

  private addToWindow(z: number): void {
    this.levels.push(z);
    if (Number.isFinite(this.lastLevel)) this.diffs.push(z - this.lastLevel);
    this.lastLevel = z;
  }

  private clearWindow(): void {
    this.levels.clear();
    this.diffs.clear();
    this.lastLevel = NaN;
  }

  /** The least excess over `base` that is prominent enough: log(minHeightRatio), or its linear analogue. */
  private heightLevel(base: number): number {
    const r = this.params.minHeightRatio;
    return this.linear ? (r - 1) * Math.abs(base) : Math.log(r);
  }

  private releaseLevel(scale: number, base: number): number {
    return Math.max(this.params.releaseThreshold * scale, 0.25 * this.heightLevel(base));
  }

  /**
   * A value <= 0 has no log: in 'auto' mode the detector switches to the linear scale for the rest of
   * the series (the spikes found so far are final; the baseline is learnt afresh in the new units).
   */
  private switchToLinear(out: Spike[]): void {
    if (this.pending) out.push(this.freeze(this.pending));
    const a = this.active;
    if (a && (a.elevatedPoints >= this.params.minPoints || a.peakExcess === Infinity)) out.push(this.freeze(a));
    this.pending = undefined;
    this.active = undefined;
    this.clearWindow();
    this.lastCalm = true;
    this.riseStart = undefined;
    this.linear = true;
  }

  private pushOne(step: number, value: number, out: Spike[]): void {
    const i = ++this.index;
    const p = this.params;
    // NaN / ±Infinity is a loss that blew up: maximally elevated, a spike even as a single point.
    // Values <= 0 have no log: compared linearly ('auto' switches at the first one; 'log' skips them).
    let z: number;
    if (!Number.isFinite(value)) z = Infinity;
    else if (this.linear) z = value;
    else if (value > 0) z = Math.log(value);
    else if ((this.params.scale ?? 'auto') === 'auto') {
      this.switchToLinear(out);
      z = value;
    } else return;

    if (this.pending && !this.active && i - this.pending.endIndex > p.mergeGap) {
      out.push(this.freeze(this.pending));
      this.pending = undefined;
    }

    if (this.active) {
      const ev = this.active;
      const excess = z - ev.logBase;
      ev.endIndex = i;
      ev.end = step;
      if (excess > this.releaseLevel(ev.scale, ev.logBase)) ev.elevatedPoints++;
      if (excess > ev.peakExcess) {
        ev.peakExcess = excess;
        ev.peakIndex = i;
        ev.peak = step;
        ev.peakValue = value;
      }
      if (excess <= this.releaseLevel(ev.scale, ev.logBase)) {
        ev.recovered = true;
        this.active = undefined;
        // Too brief to be a spike: a lone outlier is dropped (its point stayed out of the baseline);
        // a lone NaN/Inf is not an outlier of the noise but a blow-up, and always counts.
        if (ev.elevatedPoints >= p.minPoints || ev.peakExcess === Infinity) this.pending = ev;
        this.addToWindow(z);
        this.lastCalm = true;
      } else if (i - ev.startIndex >= p.maxWidth) {
        this.active = undefined;
        out.push(this.freeze(ev));
        this.clearWindow(); // the loss has moved to a new level: learn it afresh
        this.lastCalm = true;
      }
      return;
    }

    if (this.diffs.count + 1 < p.minHistory) {
      if (Number.isFinite(z)) this.addToWindow(z);
      return;
    }
    const med = medianOfSorted(this.levels.sorted);
    // A difference of two independent noisy points has sqrt(2) times the noise's spread.
    const d = this.diffs.sorted;
    // minScale is relative (log units ~ a fraction); on the linear scale it is that fraction of |baseline|.
    const floor = this.linear ? p.minScale * Math.max(Math.abs(med), Number.MIN_VALUE) : p.minScale;
    const scale = Math.max((1.4826 * madOfSorted(d, medianOfSorted(d))) / Math.SQRT2, floor);
    const excess = z - med;
    if (this.lastCalm || !this.riseStart) this.riseStart = { index: i, step };
    if (excess > Math.max(p.threshold * scale, this.heightLevel(med))) {
      const start = this.riseStart;
      const merge = this.pending && start.index - this.pending.endIndex <= p.mergeGap ? this.pending : undefined;
      if (merge) {
        this.pending = undefined;
        merge.recovered = false;
        merge.elevatedPoints++;
        merge.endIndex = i;
        merge.end = step;
        const ex = z - merge.logBase;
        if (ex > merge.peakExcess) {
          merge.peakExcess = ex;
          merge.peakIndex = i;
          merge.peak = step;
          merge.peakValue = value;
        }
        this.active = merge;
      } else {
        if (this.pending) {
          out.push(this.freeze(this.pending));
          this.pending = undefined;
        }
        this.active = {
          startIndex: start.index,
          start: start.step,
          peakIndex: i,
          peak: step,
          peakExcess: excess,
          peakValue: value,
          endIndex: i,
          end: step,
          logBase: med,
          scale,
          recovered: false,
          elevatedPoints: 1,
        };
      }
      this.lastCalm = false;
      return;
    }
    this.lastCalm = excess <= this.releaseLevel(scale, med);
    this.addToWindow(z);
  }

  private freeze(ev: OpenSpike): Spike {
    return {
      start: ev.start,
      peak: ev.peak,
      end: ev.end,
      heightRatio: this.linear
        ? ev.peakExcess === Infinity
          ? Infinity
          : 1 + ev.peakExcess / Math.max(Math.abs(ev.logBase), ev.scale)
        : Math.exp(ev.peakExcess),
      width: ev.end - ev.start,
      recovered: ev.recovered,
      startIndex: ev.startIndex,
      peakIndex: ev.peakIndex,
      endIndex: ev.endIndex,
      peakValue: ev.peakValue,
      baseline: this.linear ? ev.logBase : Math.exp(ev.logBase),
    };
  }
}

/** All spikes of a complete series (steps and values of equal length). */
export function detectSpikes(
  steps: ArrayLike<number>,
  values: ArrayLike<number>,
  params: Partial<SpikeParams> = {},
): Spike[] {
  if (steps.length !== values.length) throw new RangeError(`spikes: ${steps.length} steps but ${values.length} values`);
  const d = new SpikeDetector(params);
  return [...d.push(steps, values), ...d.finish()];
}

/**
 * What the detector treats specially in a series, as problems to report: each NaN/±Inf point (a loss
 * that blew up; still a spike where it is one) and values <= 0 (compared linearly, not on a log scale).
 */
export function seriesProblems(
  steps: ArrayLike<number>,
  values: ArrayLike<number>,
  column: string,
  maxListed = 20,
): { message: string }[] {
  const out: { message: string }[] = [];
  let nonFinite = 0;
  let nonPositive = 0;
  let firstNonPositive = -1;
  for (let k = 0; k < values.length; k++) {
    const v = values[k];
    if (!Number.isFinite(v)) {
      if (nonFinite++ < maxListed)
        out.push({ message: `step ${steps[k]}: ${column} is ${v} (a non-finite loss; counted as a spike)` });
    } else if (v <= 0 && nonPositive++ === 0) firstNonPositive = k;
  }
  if (nonFinite > maxListed) out.push({ message: `... ${nonFinite - maxListed} more non-finite values of ${column}` });
  if (nonPositive > 0)
    out.push({
      message: `${column} has ${nonPositive} value(s) <= 0 (first ${values[firstNonPositive]} at step ${steps[firstNonPositive]}); from there spikes are measured on a linear scale (height = 1 + excess / |baseline|), not as ratios of a positive loss`,
    });
  return out;
}
