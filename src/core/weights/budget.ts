// Work budgets and event-loop pacing shared by the weight readers. A crafted file must fail with an
// InputError (file, what, the limit) in bounded time and memory, and a long parse must hand the event
// loop back every few milliseconds: the same readers run inside the VS Code extension host.

/** Hands control back to the event loop once (a macrotask, so timers, messages and repaints run). */
export type YieldNow = () => Promise<void>;

/** A zero timeout: a macrotask in Node and on a page alike (a resolved promise would not let timers in). */
export const defaultYield: YieldNow = () => new Promise((resolve) => setTimeout(resolve, 0));

export interface ReadOptions {
  /** How a long parse hands the event loop back (default: a zero timeout). */
  readonly yieldNow?: YieldNow;
  /** Longest synchronous stretch between yields, in milliseconds (default 10). */
  readonly sliceMs?: number;
  /** Calls to `due()` between two reads of the clock (default 256; 1 when each call is a big step). */
  readonly clockEvery?: number;
}

/** Limits of the pickle VM and the checkpoint walk; a torch.save pickle holds structure only (tensor data is stored apart). */
export const PICKLE_LIMITS = {
  /** Largest data.pkl read (bytes). */
  maxBytes: 256 * 2 ** 20,
  /** Opcodes executed plus items moved between containers. */
  maxWork: 40_000_000,
  /** Values created plus items stored in containers. */
  maxObjects: 8_000_000,
  /** Containers nested deeper than this are not a checkpoint. */
  maxNesting: 64,
  /** Distinct containers and references visited by the checkpoint walk. */
  maxVisits: 10_000_000,
  /** Tensors a checkpoint may list. */
  maxTensors: 500_000,
} as const;

/** Zip limits: the central directory is read whole, members are inflated in bounded steps. */
export const ZIP_LIMITS = {
  /** Largest central directory read (bytes). */
  maxDirectoryBytes: 256 * 2 ** 20,
  /** Compressed bytes pushed to the inflater per step (DEFLATE expands at most 1032:1, so ≤ 4 MiB out). */
  inflateStep: 4 * 1024,
} as const;

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
  constructor(options: ReadOptions = {}) {
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
