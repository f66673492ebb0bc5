/**
 * Phases of training at a given learning rate (docs/science.md §3): lazy (loss falls, the NTK barely
 * moves), catapult (loss rises sharply, the top NTK eigenvalue drops below 2/eta, loss falls), or
 * divergent. Decided from the loss trajectory alone, never from the learning-rate factor.
 */
export type Phase = 'lazy' | 'catapult' | 'divergent';

export interface PhaseOptions {
  /** A catapult: the loss climbs above this multiple of its running minimum. */
  riseFactor: number;
  /**
   * Rises whose peak stays below this fraction of the initial loss are ignored: once the loss has
   * converged to ~1e-30 its relative wiggles are float64 rounding in f, not dynamics.
   */
  floor: number;
}

export const DEFAULT_PHASE_OPTIONS: PhaseOptions = { riseFactor: 2, floor: 1e-12 };

export interface Catapult {
  /** Step where the loss first exceeded riseFactor x its running minimum, step of the peak, step where it fell back below that minimum (-1 if never). */
  readonly start: number;
  readonly peak: number;
  readonly end: number;
  /** Peak loss over the running minimum before it. */
  readonly heightRatio: number;
}

/**
 * Rise-and-return episodes of a full-batch loss trajectory (one per catapult; SGD can have many).
 * Works from step 0, where the first catapult of a large learning rate starts, unlike a detector that
 * needs a baseline history.
 */
export function findCatapults(losses: ArrayLike<number>, options: Partial<PhaseOptions> = {}): Catapult[] {
  const { riseFactor, floor } = { ...DEFAULT_PHASE_OPTIONS, ...options };
  const out: Catapult[] = [];
  let runMin = losses.length ? losses[0] : NaN;
  const ignoreBelow = floor * runMin;
  let open: { start: number; peak: number; level: number; top: number } | undefined;
  for (let t = 1; t < losses.length; t++) {
    const L = losses[t];
    const v = Number.isFinite(L) ? L : Infinity;
    if (open) {
      if (v > open.top) {
        open.top = v;
        open.peak = t;
      }
      if (v <= open.level) {
        out.push({ start: open.start, peak: open.peak, end: t, heightRatio: open.top / open.level });
        open = undefined;
        runMin = v;
      }
    } else if (v > riseFactor * runMin && v > ignoreBelow) {
      open = { start: t, peak: t, level: runMin, top: v };
    } else if (v < runMin) runMin = v;
  }
  if (open) out.push({ start: open.start, peak: open.peak, end: -1, heightRatio: open.top / open.level });
  return out;
}

/** divergent: the loss became non-finite or ended above where it started; catapult: it rose and came back; else lazy. */
export function classifyPhase(losses: ArrayLike<number>, options: Partial<PhaseOptions> = {}): Phase {
  if (losses.length === 0) throw new RangeError('classifyPhase: empty trajectory');
  const L0 = losses[0];
  for (let t = 0; t < losses.length; t++) if (!Number.isFinite(losses[t])) return 'divergent';
  if (losses[losses.length - 1] > L0) return 'divergent';
  return findCatapults(losses, options).length > 0 ? 'catapult' : 'lazy';
}
