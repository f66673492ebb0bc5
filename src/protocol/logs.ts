// Messages between the extension host and the loss-spike view: a training log followed live.

/** A spike as the view draws and lists it (src/core/logs/spikes.ts Spike; positions in log steps). */
export interface WireSpike {
  start: number;
  peak: number;
  end: number;
  /** null when the peak is NaN/Infinity (structured clone keeps Infinity, JSON would not: be explicit). */
  heightRatio: number | null;
  width: number;
  recovered: boolean;
  peakValue: number | null;
  baseline: number;
}

/** Which loss column is shown, or the choice the user has to make. */
export interface LogColumnState {
  /** The column followed, null while waiting for data or for the user's pick. */
  column: string | null;
  /** Likeliest columns when no single one is best (the picker offers these first). */
  candidates: string[];
  /** Every numeric column/key/tag seen so far. */
  all: string[];
}

export type LogsHostToWebview =
  /** `requested` is the file or run folder the user asked for: the page keeps it for WebviewPanelSerializer. */
  | { type: 'logInfo'; title: string; source: string; requested: string; logScale: boolean; smoothing: number }
  /**
   * New points of the followed column since the last message, batched (about 10 per second).
   * `reset` drops everything shown before (file rewritten, column switched). steps/values are
   * float64 arrays of equal length.
   */
  /** Show this step range (the user chose *Show* on a spike notification). */
  | { type: 'logZoom'; start: number; end: number }
  | {
      type: 'logPoints';
      reset: boolean;
      steps: ArrayBuffer;
      values: ArrayBuffer;
      spikes: WireSpike[];
      openSpike: WireSpike | null;
      columns: LogColumnState;
      status: string;
      problems: string[];
    };

/** What a spikes view keeps across reloads. */
export interface LogsPanelState {
  requested: string;
  column: string | null;
}

/** Besides these, the page sends the control messages every page does ('ready', 'log'; see WebviewHost). */
export type LogsWebviewToHost =
  | { type: 'pickColumn'; column: string }
  /** What the view holds after applying a message (for tests and the host's status). */
  | { type: 'logShown'; points: number; spikes: number };

export function toWireSpike(s: {
  start: number;
  peak: number;
  end: number;
  heightRatio: number;
  width: number;
  recovered: boolean;
  peakValue: number;
  baseline: number;
}): WireSpike {
  const fin = (v: number) => (Number.isFinite(v) ? v : null);
  return {
    start: s.start,
    peak: s.peak,
    end: s.end,
    heightRatio: fin(s.heightRatio),
    width: s.width,
    recovered: s.recovered,
    peakValue: fin(s.peakValue),
    baseline: s.baseline,
  };
}
