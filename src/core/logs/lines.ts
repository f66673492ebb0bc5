import type { PushResult } from './types';

/**
 * Splits a byte stream into complete lines, holding a partial last line (a file being written) until
 * its newline arrives. UTF-8 is decoded in streaming mode so a character split across chunks survives.
 */
export class LineSplitter {
  private readonly decoder = new TextDecoder('utf-8');
  private partial = '';
  /** 1-based number of the next line to be returned. */
  nextLine = 1;
  bytesRead = 0;

  /** Complete lines (without '\n' or a trailing '\r') and the line number of the first. */
  push(bytes: Uint8Array): { lines: string[]; firstLine: number } {
    this.bytesRead += bytes.length;
    const text = this.partial + this.decoder.decode(bytes, { stream: true });
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    return this.take(parts);
  }

  /** The file is complete: a last line without newline counts. */
  finish(): { lines: string[]; firstLine: number } {
    const rest = this.partial + this.decoder.decode();
    this.partial = '';
    return this.take(rest.length > 0 ? [rest] : []);
  }

  private take(parts: string[]): { lines: string[]; firstLine: number } {
    const firstLine = this.nextLine;
    this.nextLine += parts.length;
    for (let i = 0; i < parts.length; i++) if (parts[i].endsWith('\r')) parts[i] = parts[i].slice(0, -1);
    return { lines: parts, firstLine };
  }
}

/** Numbers as training scripts write them, including Python's nan/inf spellings; undefined if not a number. */
export function parseNumber(raw: string): number | undefined {
  const s = raw.trim();
  if (s === '') return undefined;
  const n = Number(s);
  if (!Number.isNaN(n)) return n;
  switch (s.toLowerCase()) {
    case 'nan':
    case '-nan':
    case '+nan':
      return NaN;
    case 'inf':
    case '+inf':
    case 'infinity':
    case '+infinity':
      return Infinity;
    case '-inf':
    case '-infinity':
      return -Infinity;
    default:
      return undefined;
  }
}

/** Column/key names taken as the step, most preferred first. */
export const STEP_NAMES = [
  'step',
  'global_step',
  '_step',
  'globalstep',
  'trainer/global_step',
  'iteration',
  'iter',
  'it',
  'steps',
  'batch',
  'epoch',
];

export function findStepName(names: readonly string[]): string | undefined {
  const lower = names.map((n) => n.trim().toLowerCase());
  for (const want of STEP_NAMES) {
    const i = lower.indexOf(want);
    if (i >= 0) return names[i];
  }
  return undefined;
}

/**
 * What the CSV and JSON Lines readers share: bytes in, complete lines out through a LineSplitter,
 * and the tags in order of first appearance. Subclasses turn a batch of lines into points.
 */
export abstract class LineLogReader {
  private readonly lines = new LineSplitter();
  private readonly seen = new Set<string>();
  private readonly tagList: string[] = [];

  get tags(): readonly string[] {
    return this.tagList;
  }
  get bytesRead(): number {
    return this.lines.bytesRead;
  }

  push(bytes: Uint8Array): PushResult {
    const { lines, firstLine } = this.lines.push(bytes);
    return this.read(lines, firstLine);
  }

  finish(): PushResult {
    const { lines, firstLine } = this.lines.finish();
    return this.read(lines, firstLine);
  }

  protected noteTag(tag: string): void {
    if (!this.seen.has(tag)) {
      this.seen.add(tag);
      this.tagList.push(tag);
    }
  }

  /** Points and problems of `lines`, the first of which is line `firstLine` (1-based) of the file. */
  protected abstract read(lines: string[], firstLine: number): PushResult;
}
