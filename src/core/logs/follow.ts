import { chooseLossColumn, type ColumnChoice } from './columns';
import { createLogReader } from './readers';
import { SpikeDetector, type Spike, type SpikeParams } from './spikes';
import type { LogKind, LogProblem, LogReader, ScalarPoint } from './types';

/** A growable float64 column: amortised O(1) appends, views without copies. */
class Column {
  private data = new Float64Array(1024);
  length = 0;
  push(x: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = x;
  }
  view(from = 0): Float64Array {
    return this.data.subarray(from, this.length);
  }
}

/** The column choice, or 'pending' while the requested column (or any column) has not appeared yet. */
export type FollowColumn = ColumnChoice | { readonly kind: 'pending'; readonly column: string | undefined };

export interface FollowUpdate {
  /** True when everything shown so far must be dropped (file rewritten, column changed). */
  readonly restarted: boolean;
  /** Points of the loss column appended by this update (views: copy them to keep them). */
  readonly steps: Float64Array;
  readonly values: Float64Array;
  /** Spikes that became final in this update, and the spike in progress, if any. */
  readonly newSpikes: Spike[];
  readonly openSpike: Spike | undefined;
  readonly problems: LogProblem[];
  readonly column: FollowColumn;
  /** More bytes are waiting than one update reads (`maxBytesPerUpdate`): call sync again. */
  readonly behind: boolean;
}

export interface FollowOptions {
  column?: string;
  spikes?: Partial<SpikeParams>;
  /** Bounded work per update: at most this many new bytes are read by one sync. */
  maxBytesPerUpdate?: number;
}

/** The file as the follower sees it: its current size and a byte-range reader. */
export interface FileSource {
  size(): Promise<number>;
  read(start: number, end: number): Promise<Uint8Array>;
}

const PREFIX = 4096;

/**
 * Follows a training log as it grows (live view): reads only the bytes appended since the last sync,
 * keeps every tag's series, runs the spike detector incrementally on the loss column. A file that
 * shrank or whose first bytes changed (Lightning's CSVLogger rewrites metrics.csv whole when a new
 * metric appears) is read again from the start.
 */
export class LogFollower {
  private reader: LogReader;
  private detector: SpikeDetector;
  private readonly tags = new Map<string, { steps: Column; values: Column }>();
  private prefix = new Uint8Array(0);
  private chosen: string | undefined;
  private requested: string | undefined;
  private fed = 0;

  constructor(
    readonly kind: LogKind,
    private readonly options: FollowOptions = {},
  ) {
    this.reader = createLogReader(kind);
    this.detector = new SpikeDetector(options.spikes);
    this.requested = options.column;
  }

  get bytesRead(): number {
    return this.reader.bytesRead;
  }
  get tagNames(): readonly string[] {
    return this.reader.tags;
  }

  /** The full series of a tag read so far (views). */
  series(tag: string): { steps: Float64Array; values: Float64Array } | undefined {
    const s = this.tags.get(tag);
    return s && { steps: s.steps.view(), values: s.values.view() };
  }

  async sync(file: FileSource): Promise<FollowUpdate> {
    const size = await file.size();
    let restarted = false;
    const head = await file.read(0, Math.min(PREFIX, size));
    const known = Math.min(this.prefix.length, head.length);
    let same = size >= this.bytesRead;
    for (let i = 0; same && i < known; i++) same = head[i] === this.prefix[i];
    if (!same) {
      this.restart();
      restarted = true;
    }
    if (this.prefix.length < PREFIX && head.length > this.prefix.length) this.prefix = head.slice();
    const limit = this.options.maxBytesPerUpdate ?? 4 * 1024 * 1024;
    const start = this.bytesRead;
    const end = Math.min(size, start + limit);
    const bytes = end > start ? await file.read(start, end) : new Uint8Array(0);
    const u = this.push(bytes);
    return { ...u, restarted: restarted || u.restarted, behind: end < size };
  }

  /** Feeds bytes directly (when the caller tracks the file itself). */
  push(bytes: Uint8Array): FollowUpdate {
    const r = this.reader.push(bytes);
    return this.absorb(r.points, r.problems, false);
  }

  /** The file is complete: a last line without newline is read, an open spike reported. */
  finish(): FollowUpdate {
    const r = this.reader.finish();
    const u = this.absorb(r.points, r.problems, false);
    const closing = this.chosen ? this.detector.finish() : [];
    return { ...u, newSpikes: [...u.newSpikes, ...closing], openSpike: undefined };
  }

  /** The user picked the loss column (after an ambiguous choice, or to switch): detection restarts on it. */
  setColumn(column: string): FollowUpdate {
    this.requested = column;
    this.chosen = undefined;
    return this.absorb([], [], true);
  }

  private restart(): void {
    this.reader = createLogReader(this.kind);
    this.tags.clear();
    this.prefix = new Uint8Array(0);
    this.chosen = undefined;
    this.detector = new SpikeDetector(this.options.spikes);
  }

  private absorb(points: ScalarPoint[], problems: LogProblem[], restarted: boolean): FollowUpdate {
    for (const p of points) {
      let s = this.tags.get(p.tag);
      if (!s) {
        s = { steps: new Column(), values: new Column() };
        this.tags.set(p.tag, s);
      }
      s.steps.push(p.step);
      s.values.push(p.value);
    }
    const waiting =
      this.reader.tags.length === 0 || (this.requested !== undefined && !this.reader.tags.includes(this.requested));
    const choice: FollowColumn = waiting
      ? { kind: 'pending', column: this.requested }
      : chooseLossColumn(this.reader.tags, this.requested, 'log');
    const empty = new Float64Array(0);
    if (choice.kind !== 'chosen')
      return {
        restarted,
        steps: empty,
        values: empty,
        newSpikes: [],
        openSpike: undefined,
        problems,
        column: choice,
        behind: false,
      };
    if (this.chosen !== choice.column) {
      // first decision or a switch: everything of the column is new to the viewer and the detector
      if (this.chosen !== undefined) restarted = true;
      this.chosen = choice.column;
      this.detector = new SpikeDetector(this.options.spikes);
      this.fed = 0;
    }
    const s = this.tags.get(choice.column)!;
    const steps = s.steps.view(this.fed),
      values = s.values.view(this.fed);
    const newSpikes = this.detector.push(steps, values);
    this.fed = s.values.length;
    return {
      restarted,
      steps,
      values,
      newSpikes,
      openSpike: this.detector.open(),
      problems,
      column: choice,
      behind: false,
    };
  }
}
