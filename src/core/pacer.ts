// Event-loop pacing for long synchronous work in core (weight readers, CPU backends): the same code runs
// inside the VS Code extension host and on pages, where a stretch of more than a few milliseconds
// holds everything else up.

/** Hands control back to the event loop once (a macrotask, so timers, messages and repaints run). */
export type YieldNow = () => Promise<void>;

/** A zero timeout: a macrotask in Node and on a page alike (a resolved promise would not let timers in). */
export const defaultYield: YieldNow = () => new Promise((resolve) => setTimeout(resolve, 0));

export interface PaceOptions {
  /** How long work hands the event loop back (default: a zero timeout). */
  readonly yieldNow?: YieldNow;
  /** Longest synchronous stretch between yields, in milliseconds (default 10). */
  readonly sliceMs?: number;
  /** Calls to `due()` between two reads of the clock (default 256; 1 when each call is a big step). */
  readonly clockEvery?: number;
}

/**
 * Counts work and says when to yield: `due()` is a cheap synchronous check to call in hot loops,
 * `pause()` yields and restarts the clock.
 */
export class Pacer {
  private n = 0;
  private started = Date.now();
  private readonly sliceMs: number;
  private readonly yieldNow: YieldNow;
  private readonly clockEvery: number;
  constructor(options: PaceOptions = {}) {
    this.sliceMs = options.sliceMs ?? 10;
    this.yieldNow = options.yieldNow ?? defaultYield;
    this.clockEvery = Math.max(1, options.clockEvery ?? 256);
  }
  /** True about every `sliceMs` of synchronous work (the clock is read once per `clockEvery` calls). */
  due(): boolean {
    if (++this.n % this.clockEvery !== 0) return false;
    return Date.now() - this.started >= this.sliceMs;
  }
  async pause(): Promise<void> {
    await this.yieldNow();
    this.started = Date.now();
  }
  /** Yields if a slice has passed. */
  async tick(): Promise<void> {
    if (this.due()) await this.pause();
  }
}
