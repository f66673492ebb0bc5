// RFM options from untyped input (CLI flags, command arguments, settings, a page's message): the one
// place that says what each option accepts. Every caller names its source in `where`, so the message
// points at the flag, setting or argument the user wrote.
import { InputError } from '../errors';
import type { Task } from '../data/dataset';
import { DEFAULT_RFM_OPTIONS, type RfmOptions } from './types';
import { SOLVER_CHOICES } from './solvers';

type Spec =
  | { kind: 'choice'; values: readonly (string | number)[] }
  | { kind: 'boolean' }
  | { kind: 'number'; want: string; ok: (v: number) => boolean };

const positive: Spec = { kind: 'number', want: 'a positive number', ok: (v) => v > 0 };

/** What each option accepts (docs/science.md §1 for their meaning). */
export const RFM_OPTION_SPECS: { readonly [K in keyof RfmOptions]: Spec } = {
  kernel: { kind: 'choice', values: ['laplace', 'gaussian'] },
  bandwidth: positive,
  reg: { kind: 'number', want: 'a number >= 0', ok: (v) => v >= 0 },
  iters: { kind: 'number', want: 'an integer 0..100', ok: (v) => Number.isInteger(v) && v >= 0 && v <= 100 },
  diag: { kind: 'boolean' },
  centerGrads: { kind: 'boolean' },
  agopPower: { kind: 'choice', values: [1, 0.5] },
  normalize: { kind: 'choice', values: ['max', 'none'] },
  standardize: { kind: 'boolean' },
  earlyStop: { kind: 'boolean' },
  agopSamples: { kind: 'number', want: 'a positive integer', ok: (v) => Number.isInteger(v) && v > 0 },
  seed: { kind: 'number', want: 'an integer', ok: Number.isInteger },
  solver: { kind: 'choice', values: SOLVER_CHOICES },
};

const TASK: Spec = { kind: 'choice', values: ['classification', 'regression'] };
const VAL_FRACTION: Spec = { kind: 'number', want: 'a number >= 0 and < 1', ok: (v) => v >= 0 && v < 1 };

/** Names an option in messages: a string prefix ("featureLens.fitRfm option kernel") or a function (CLI flags). */
export type Where = string | ((key: string) => string);

export interface ParseOptions {
  /** Values are command-line text: numbers are parsed from strings, shown quoted in messages. */
  text?: boolean;
}

function label(where: Where, key: string): string {
  return typeof where === 'function' ? where(key) : `${where} ${key}`;
}

/** The value `raw` as `spec` reads it, or what was expected instead ("a positive number"). */
function read(spec: Spec, raw: unknown, text: boolean): { value: unknown } | { want: string } {
  const num = text && typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  switch (spec.kind) {
    case 'choice':
      return spec.values.includes(num as string | number)
        ? { value: num }
        : spec.values.includes(raw as string)
          ? { value: raw }
          : { want: `one of ${spec.values.join(', ')}` };
    case 'boolean':
      return typeof raw === 'boolean' ? { value: raw } : { want: 'true or false' };
    case 'number':
      return typeof num === 'number' && Number.isFinite(num) && spec.ok(num) ? { value: num } : { want: spec.want };
  }
}

function check(spec: Spec, raw: unknown, name: string, o: ParseOptions): unknown {
  const r = read(spec, raw, !!o.text);
  if ('value' in r) return r.value;
  const got = o.text && typeof raw === 'string' ? `'${raw}'` : JSON.stringify(raw);
  throw new InputError(`${name}: expected ${r.want}, got ${got}`);
}

/**
 * RFM options from `raw` over `base`: keys of `raw` that are not RFM options are ignored (a command's
 * arguments carry more), undefined or null values keep the base. Throws an InputError naming the
 * first bad option.
 */
export function parseRfmOptions(
  raw: Readonly<Record<string, unknown>>,
  where: Where,
  base: RfmOptions = DEFAULT_RFM_OPTIONS,
  o: ParseOptions = {},
): RfmOptions {
  const out: Record<string, unknown> = { ...base };
  for (const key of Object.keys(RFM_OPTION_SPECS) as (keyof RfmOptions)[]) {
    const v = raw[key];
    if (v === undefined || v === null) continue;
    out[key] = check(RFM_OPTION_SPECS[key], v, label(where, key), o);
  }
  return out as unknown as RfmOptions;
}

/** What is wrong with `text` as the value of option `key` (an input box's check), or undefined. */
export function rfmOptionProblem(key: keyof RfmOptions | 'valFraction', text: string): string | undefined {
  const r = read(key === 'valFraction' ? VAL_FRACTION : RFM_OPTION_SPECS[key], text, true);
  return 'want' in r ? r.want : undefined;
}

/** The validation fraction held out when no test file is given: [0, 1). */
export function parseValFraction(raw: unknown, where: string, o: ParseOptions = {}): number {
  return check(VAL_FRACTION, raw, where, o) as number;
}

/** The task of a fit: classification or regression. */
export function parseTask(raw: unknown, where: string, o: ParseOptions = {}): Task {
  return check(TASK, raw, where, o) as Task;
}
