import * as vscode from 'vscode';
import { InputError } from '../../core/errors';
import type { Task } from '../../core/data/dataset';
import { DEFAULT_RFM_OPTIONS, type RfmOptions } from '../../core/rfm/types';
import type { BackendChoice } from '../../core/compute';

/** The built-in dataset extensions; `featureLens.datasetExtensions` adds to them. */
export const BUILTIN_DATASET_EXTENSIONS = ['.csv', '.tsv', '.npy', '.npz', '.parquet'];

/**
 * Arguments of `featureLens.fitRfm(uri, args)`: the CLI's options in camelCase. With `target` set the
 * command asks nothing. `test` is a second file (uri or path) used as the test set.
 */
export interface FitArgs extends Partial<Omit<RfmOptions, 'seed'>> {
  target?: string | number;
  task?: Task;
  /** Fill missing feature values instead of rejecting the file (CLI --impute). */
  impute?: boolean;
  test?: vscode.Uri | string;
  backend?: BackendChoice;
  valFraction?: number;
  seed?: number;
  /** Show the panel beside the editor (default true). The fit runs on the host when false. */
  panel?: boolean;
}

export function datasetExtensions(): string[] {
  const extra = vscode.workspace.getConfiguration('featureLens').get<string[]>('datasetExtensions', []);
  const norm = extra
    .filter((e) => typeof e === 'string' && e.length > 1)
    .map((e) => (e.startsWith('.') ? e : '.' + e).toLowerCase());
  return [...new Set([...BUILTIN_DATASET_EXTENSIONS, ...norm])];
}

export function isDatasetUri(uri: vscode.Uri): boolean {
  const lower = uri.path.toLowerCase();
  return datasetExtensions().some((e) => lower.endsWith(e));
}

/** Settings `featureLens.rfm.*` over the paper defaults. */
export function rfmDefaults(): RfmOptions {
  const c = vscode.workspace.getConfiguration('featureLens.rfm');
  const o = { ...DEFAULT_RFM_OPTIONS };
  for (const key of Object.keys(o) as (keyof RfmOptions)[]) {
    const v = c.get(key);
    if (v !== undefined && v !== null) (o as Record<string, unknown>)[key] = v;
  }
  return o;
}

export function settingsBackend(): BackendChoice {
  return vscode.workspace.getConfiguration('featureLens').get<BackendChoice>('backend', 'auto');
}

export function settingsValFraction(): number {
  return vscode.workspace.getConfiguration('featureLens').get<number>('valFraction', 0.2);
}

const CHOICES: { [K in keyof RfmOptions]?: readonly unknown[] } = {
  kernel: ['laplace', 'gaussian'],
  agopPower: [1, 0.5],
  normalize: ['max', 'none'],
};
const BOOLEANS: (keyof RfmOptions)[] = ['diag', 'centerGrads', 'standardize', 'earlyStop'];
const POSITIVE: (keyof RfmOptions)[] = ['bandwidth'];
const NON_NEGATIVE: (keyof RfmOptions)[] = ['reg'];
const COUNTS: (keyof RfmOptions)[] = ['iters', 'agopSamples', 'seed'];

/** Merges command arguments over the settings, rejecting anything the CLI would reject. */
export function resolveRfmOptions(args: FitArgs): RfmOptions {
  const o = rfmDefaults();
  const where = 'featureLens.fitRfm options';
  for (const key of Object.keys(DEFAULT_RFM_OPTIONS) as (keyof RfmOptions)[]) {
    const v = (args as Record<string, unknown>)[key];
    if (v === undefined) continue;
    const choices = CHOICES[key];
    if (choices && !choices.includes(v))
      throw new InputError(`${where}: '${key}' must be one of ${choices.join(', ')}, got ${JSON.stringify(v)}`);
    if (BOOLEANS.includes(key) && typeof v !== 'boolean')
      throw new InputError(`${where}: '${key}' must be true or false, got ${JSON.stringify(v)}`);
    if (POSITIVE.includes(key) && !(typeof v === 'number' && v > 0 && Number.isFinite(v)))
      throw new InputError(`${where}: '${key}' must be a positive number, got ${JSON.stringify(v)}`);
    if (NON_NEGATIVE.includes(key) && !(typeof v === 'number' && v >= 0 && Number.isFinite(v)))
      throw new InputError(`${where}: '${key}' must be a number >= 0, got ${JSON.stringify(v)}`);
    if (COUNTS.includes(key) && !(typeof v === 'number' && Number.isInteger(v) && v >= 0))
      throw new InputError(`${where}: '${key}' must be a whole number >= 0, got ${JSON.stringify(v)}`);
    (o as unknown as Record<string, unknown>)[key] = v;
  }
  return o;
}

export function resolveBackend(args: FitArgs): BackendChoice {
  const b = args.backend ?? settingsBackend();
  if (!['auto', 'webgpu', 'cpu'].includes(b))
    throw new InputError(`featureLens.fitRfm options: 'backend' must be auto, webgpu or cpu, got ${JSON.stringify(b)}`);
  return b;
}

export function resolveValFraction(args: FitArgs): number {
  const v = args.valFraction ?? settingsValFraction();
  if (!(typeof v === 'number' && v >= 0 && v < 1))
    throw new InputError(`featureLens.fitRfm options: 'valFraction' must be in [0, 1), got ${JSON.stringify(v)}`);
  return v;
}

export function topK(): number {
  return vscode.workspace.getConfiguration('featureLens').get<number>('topK', 30);
}
