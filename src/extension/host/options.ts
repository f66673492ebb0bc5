import * as vscode from 'vscode';
import type { Task } from '../../core/data/dataset';
import { parseRfmOptions, parseValFraction, RFM_OPTION_SPECS } from '../../core/rfm/options';
import { DEFAULT_VAL_FRACTION, type RfmOptions } from '../../core/rfm/types';
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

/** Settings `featureLens.rfm.*` over the paper defaults; a bad value is an InputError naming the setting. */
export function settingsRfmOptions(): RfmOptions {
  const c = vscode.workspace.getConfiguration('featureLens.rfm');
  const raw = Object.fromEntries(Object.keys(RFM_OPTION_SPECS).map((key) => [key, c.get(key)]));
  return parseRfmOptions(raw, (key) => `setting featureLens.rfm.${key}`);
}

export function settingsBackend(): BackendChoice {
  return vscode.workspace.getConfiguration('featureLens').get<BackendChoice>('backend', 'auto');
}

export function settingsValFraction(): number {
  return vscode.workspace.getConfiguration('featureLens').get<number>('valFraction', DEFAULT_VAL_FRACTION);
}

const WHERE = 'featureLens.fitRfm option';

/** The command's arguments over the settings, checked as the CLI checks its flags. */
export function resolveRfmOptions(args: FitArgs): RfmOptions {
  return parseRfmOptions(args as Record<string, unknown>, WHERE, settingsRfmOptions());
}

export function resolveValFraction(args: FitArgs): number {
  return args.valFraction === undefined
    ? parseValFraction(settingsValFraction(), 'setting featureLens.valFraction')
    : parseValFraction(args.valFraction, `${WHERE} valFraction`);
}

export function topK(): number {
  return vscode.workspace.getConfiguration('featureLens').get<number>('topK', 30);
}
