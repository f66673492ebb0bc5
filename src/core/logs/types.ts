/** One scalar from a training log: a CSV cell, a JSONL field or a TensorBoard summary value. */
export interface ScalarPoint {
  /** CSV column, JSONL key (nested keys joined with '/') or TensorBoard tag. */
  readonly tag: string;
  /** The log's step (its step column/key/field), else the 0-based data row index. */
  readonly step: number;
  /** May be NaN or +-Infinity: a diverged loss is data, not a parse error. */
  readonly value: number;
  /** Seconds since the epoch when the log records it (TensorBoard always does). */
  readonly wallTime?: number;
}

/** A record that could not be read; the reader skipped it and carried on. */
export interface LogProblem {
  readonly message: string;
  /** 1-based line number (CSV, JSONL). */
  readonly line?: number;
  /** Byte offset of the record from the start of the file (TensorBoard). */
  readonly byteOffset?: number;
}

export interface PushResult {
  readonly points: ScalarPoint[];
  readonly problems: LogProblem[];
}

export type LogKind = 'csv' | 'jsonl' | 'tfevents';

/**
 * An incremental reader: feed it a file's bytes in order, in chunks of any size (a growing file is
 * read by pushing only the bytes appended since the last read). A partial last line or record is held
 * until the rest arrives; `finish()` says the file is complete (a final line without newline is then
 * read; a truncated final record is reported).
 */
export interface LogReader {
  readonly kind: LogKind;
  push(bytes: Uint8Array): PushResult;
  finish(): PushResult;
  /** Tags seen so far, in order of first appearance. */
  readonly tags: readonly string[];
  /** Where steps come from: the step column/key name, 'row index', or 'event step' (TensorBoard). */
  readonly stepSource: string;
  /** Bytes consumed so far (held partial data included). */
  readonly bytesRead: number;
}
