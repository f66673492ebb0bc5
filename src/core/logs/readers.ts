import { InputError } from '../errors';
import { formatBytes, MAX_LOG_BYTES } from '../limits';
import { CsvLogReader } from './csv';
import { JsonlLogReader } from './jsonl';
import { TfEventsReader } from './tfevents';
import type { LogKind, LogProblem, LogReader, ScalarPoint } from './types';

export function createLogReader(kind: LogKind): LogReader {
  switch (kind) {
    case 'csv':
      return new CsvLogReader();
    case 'jsonl':
      return new JsonlLogReader();
    case 'tfevents':
      return new TfEventsReader();
  }
}

/** The reader kind for a file name, or undefined when the name does not say. */
export function logKindOf(fileName: string): LogKind | undefined {
  const base = fileName.split(/[\\/]/).pop() ?? fileName;
  if (/^events\.out\.tfevents\./.test(base) || /\.tfevents$/.test(base)) return 'tfevents';
  if (/\.(csv|tsv)$/i.test(base)) return 'csv';
  if (/\.(jsonl|ndjson)$/i.test(base)) return 'jsonl';
  return undefined;
}

export interface LogContents {
  readonly kind: LogKind;
  readonly points: ScalarPoint[];
  readonly problems: LogProblem[];
  readonly tags: readonly string[];
  readonly stepSource: string;
}

/**
 * Refuses a log read at once (from its stat size, before a byte is read) over MAX_LOG_BYTES; `what`
 * names the file or folder. Following a growing log reads only its new bytes and has no such limit.
 */
export function checkLogSize(bytes: number, what: string): void {
  if (bytes > MAX_LOG_BYTES)
    throw new InputError(
      `${what}: is ${formatBytes(bytes)}, over the ${formatBytes(MAX_LOG_BYTES)} limit for a log read at once; expected a smaller log (keep its last part, e.g. tail -c 100M, or log less often)`,
    );
}

/** Reads a complete log file at once (the incremental reader fed one chunk, then finished). */
export function readLog(bytes: Uint8Array, fileName: string): LogContents {
  const kind = logKindOf(fileName);
  if (!kind)
    throw new InputError(
      `${fileName}: unknown log format; expected a .csv, .jsonl/.ndjson or TensorBoard events.out.tfevents.* file`,
    );
  const reader = createLogReader(kind);
  const a = reader.push(bytes);
  const b = reader.finish();
  return {
    kind,
    points: [...a.points, ...b.points],
    problems: [...a.problems, ...b.problems],
    tags: reader.tags,
    stepSource: reader.stepSource,
  };
}

/**
 * Joins the points of a run's event files, given in write order (name order: the names carry the
 * start time). A file that starts a tag at or below a step already seen is a run resumed from a
 * checkpoint: the earlier points of that tag from that step on are dropped, as TensorBoard does.
 */
export function mergeEventFiles(parts: readonly (readonly ScalarPoint[])[]): ScalarPoint[] {
  let kept: ScalarPoint[] = [];
  for (const part of parts) {
    const firstStep = new Map<string, number>();
    for (const p of part) if (!firstStep.has(p.tag)) firstStep.set(p.tag, p.step);
    kept = kept.filter((p) => {
      const f = firstStep.get(p.tag);
      return f === undefined || p.step < f;
    });
    kept.push(...part);
  }
  return kept;
}
