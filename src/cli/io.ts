import { stat } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InputError } from '../core/errors';

type CliOptions = ParseArgsConfig['options'];
// Spelled out so the declaration names only exported node:util types (its ParsedResults is internal).
type ParsedCli<T extends CliOptions> = ReturnType<
  typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>
>;

/** node:util parseArgs with our error style (unknown flags and missing values become InputErrors). */
export function parseCli<T extends CliOptions>(args: string[], options: T, usage: string): ParsedCli<T> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new InputError(`${(e as Error).message}\n${usage}`);
  }
}

export function numberFlag(
  name: string,
  raw: string | undefined,
  check: (v: number) => boolean,
  want: string,
): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || !check(v))
    throw new InputError(`--${name}: expected ${want}, got '${raw}'`);
  return v;
}

/**
 * Checks that an input the CLI reads itself is not a folder, FIFO or device (reading /dev/zero or a
 * pipe would never end): an InputError naming it. A path that cannot be stat'ed is left to the reader,
 * whose message names the error.
 */
export async function requireInputFile(path: string, expected: string): Promise<void> {
  const s = await stat(path).catch(() => undefined);
  if (s?.isDirectory()) throw new InputError(`${path}: is a folder, expected ${expected}`);
  if (s && !s.isFile()) throw new InputError(`${path}: is not a regular file (a device or FIFO), expected ${expected}`);
}

export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const w = header.map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  // Text columns align left, numbers right.
  const numeric = header.map((_, c) =>
    rows.every((r) => typeof r[c] === 'number' || /^[-+\d.e]+$|^-$/.test(String(r[c]))),
  );
  return cells
    .map((r) =>
      r
        .map((v, c) => (numeric[c] ? v.padStart(w[c]) : v.padEnd(w[c])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export const fmt = (v: number | null, digits = 4) => (v === null ? '-' : v.toFixed(digits));
