import { InputError } from '../errors';
import { CsvLogReader } from './csv';
import { JsonlLogReader } from './jsonl';
import { TfEventsReader } from './tfevents';
import type { LogKind, LogProblem, LogReader, ScalarPoint } from './types';

export function createLogReader(kind: LogKind): LogReader {
  switch (kind) {
    case 'csv': return new CsvLogReader();
    case 'jsonl': return new JsonlLogReader();
    case 'tfevents': return new TfEventsReader();
  }
}

/** The reader kind for a file name, or undefined when the name does not say. */
export function logKindOf(fileName: string): LogKind | undefined {
  const base = fileName.split(/[\\/]/).pop() ?? fileName;
  if (/tfevents/.test(base)) return 'tfevents';
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

/** Reads a complete log file at once (the incremental reader fed one chunk, then finished). */
export function readLog(bytes: Uint8Array, fileName: string): LogContents {
  const kind = logKindOf(fileName);
  if (!kind) throw new InputError(`${fileName}: unknown log format; expected a .csv, .jsonl/.ndjson or TensorBoard events.out.tfevents.* file`);
  const reader = createLogReader(kind);
  const a = reader.push(bytes);
  const b = reader.finish();
  return { kind, points: [...a.points, ...b.points], problems: [...a.problems, ...b.problems], tags: reader.tags, stepSource: reader.stepSource };
}
