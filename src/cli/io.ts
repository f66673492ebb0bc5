import { stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { InputError } from '../core/errors';

/**
 * One option of a command: how it parses AND how --help states it (the help text and parseArgs'
 * configuration are both generated from this, so an option cannot be accepted without being listed).
 */
export interface OptionSpec {
  type: 'string' | 'boolean';
  /** The value's placeholder in --help (COL, N, FILE); string options. */
  arg?: string;
  /** What the option does. */
  help: string;
  /** The default, as --help states it ('auto', 'off', 'not written'). */
  default: string;
  short?: string;
}

/** A command's arguments and options: the single source of its parser and its --help. */
export interface CommandSpec {
  name: string;
  summary: string;
  /** Positional arguments in order: [NAME, meaning]; optional ones as [NAME] in `synopsis`. */
  args: readonly (readonly [string, string])[];
  /** The usage line after `feature-lens <name>` (default: the argument names and [options]). */
  synopsis?: string;
  options: Readonly<Record<string, OptionSpec>>;
  /** Text after the option list (output rules, notes). */
  notes?: string;
}

/** Parsed option values: strings for string options, booleans for flags; undefined when not given. */
export type OptionValues<O> = { [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : string };

const HELP: OptionSpec = { type: 'boolean', short: 'h', help: 'print this help and exit', default: 'off' };
const COLUMN = 24;

function wrap(text: string, indent: number, width = 100): string[] {
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(' ')) {
      if (line && indent + line.length + 1 + word.length > width) {
        out.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    out.push(line);
  }
  return out;
}

function entry(name: string, help: string): string {
  const lines = wrap(help, COLUMN);
  const head = `  ${name}`;
  const first = head.length < COLUMN ? head.padEnd(COLUMN) + lines[0] : `${head}\n${' '.repeat(COLUMN)}${lines[0]}`;
  return [first, ...lines.slice(1).map((l) => ' '.repeat(COLUMN) + l)].join('\n');
}

/** The --help text of a command: usage, arguments, every option with its meaning and default. */
export function helpText(spec: CommandSpec): string {
  const synopsis = spec.synopsis ?? [...spec.args.map(([n]) => n), '[options]'].join(' ');
  const parts = [`usage: feature-lens ${spec.name} ${synopsis}`, wrap(spec.summary, 0).join('\n')];
  if (spec.args.length) parts.push(['arguments:', ...spec.args.map(([n, h]) => entry(n, h))].join('\n'));
  const options = Object.entries({ ...spec.options, help: HELP }).map(([name, o]) =>
    entry(`--${name}${o.arg ? ` ${o.arg}` : ''}${o.short ? `, -${o.short}` : ''}`, `${o.help} (default: ${o.default})`),
  );
  parts.push(['options:', ...options].join('\n'));
  if (spec.notes) parts.push(spec.notes);
  return parts.join('\n\n');
}

/** A value that is a negative number (`-3`, `-0.5`, `-1e-3`, `-inf`): parseArgs would read it as a flag. */
const NEGATIVE = /^-(\d|\.\d|inf|Infinity|NaN)/i;

/**
 * Parses a command's arguments by its spec. Returns undefined after printing --help (exit 0). Unknown
 * options and missing values are InputErrors that say how to see the options; a negative number after a
 * string option is taken as its value (so `--bandwidth -3` reaches the option's own check).
 */
export function parseCommand<S extends CommandSpec>(
  args: string[],
  spec: S,
): { values: OptionValues<S['options']>; positionals: string[] } | undefined {
  const all: Record<string, OptionSpec> = { ...spec.options, help: HELP };
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const name = a.startsWith('--') ? a.slice(2) : undefined;
    if (name && all[name]?.type === 'string' && i + 1 < args.length && NEGATIVE.test(args[i + 1])) {
      joined.push(`${a}=${args[++i]}`);
    } else joined.push(a);
  }
  const options = Object.fromEntries(
    Object.entries(all).map(([k, o]) => [k, o.short ? { type: o.type, short: o.short } : { type: o.type }]),
  );
  let parsed;
  try {
    parsed = parseArgs({ args: joined, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new InputError(`${parseProblem(e as NodeJS.ErrnoException, all)}; see feature-lens ${spec.name} --help`);
  }
  if (parsed.values.help) {
    process.stdout.write(helpText(spec) + '\n');
    return undefined;
  }
  return { values: parsed.values as OptionValues<S['options']>, positionals: parsed.positionals };
}

/** parseArgs' message in our words: the option as typed, what it expected. */
function parseProblem(e: NodeJS.ErrnoException, all: Record<string, OptionSpec>): string {
  const opt = /'(-[^' ]+)/.exec(e.message)?.[1] ?? '';
  const spec = all[opt.replace(/^--?/, '')];
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option '${opt}'`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return spec?.type === 'boolean'
        ? `${opt} is a switch and takes no value`
        : `${opt}: expected a value (${spec?.arg ?? 'VALUE'}); a value starting with - is written ${opt}=-VALUE`;
    default:
      return e.message;
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

/** The command's one positional argument, or an InputError saying what was expected (`what`, e.g. "DATA file"). */
export function onePositional(positionals: readonly string[], what: string, command: string): string {
  if (positionals.length !== 1)
    throw new InputError(`expected one ${what}, got ${positionals.length}; see feature-lens ${command} --help`);
  return positionals[0];
}

/** The two positional arguments of a command (`what` names them, e.g. 'WEIGHTS and DATA'), or an InputError. */
export function twoPositionals(positionals: readonly string[], what: string, command: string): [string, string] {
  if (positionals.length !== 2)
    throw new InputError(
      `expected ${what}, got ${positionals.length} positional argument(s); see feature-lens ${command} --help`,
    );
  return [positionals[0], positionals[1]];
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
