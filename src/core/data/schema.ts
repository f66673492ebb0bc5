import { InputError } from '../errors';
import type { Task } from './dataset';

/**
 * How one source column becomes features. `fill` is the training file's mean (numeric) or most frequent
 * value (categorical), kept so that a test file imputed with `impute: true` is filled the way training was.
 */
export type FeatureEncoding =
  | { readonly column: string; readonly kind: 'numeric'; readonly fill: number }
  | {
      readonly column: string;
      readonly kind: 'categorical';
      readonly categories: readonly string[];
      readonly fill: string;
    };

/**
 * Everything needed to encode another file exactly like the training file: which columns, in which order,
 * which one-hot categories, the target and its classes. Plain JSON so it can travel inside a saved model.
 */
export interface DatasetSchema {
  readonly features: readonly FeatureEncoding[];
  /** Names of the encoded feature columns of X, in order (`col` for numeric, `col=value` for one-hot). */
  readonly featureNames: readonly string[];
  readonly targetName: string;
  readonly task: Task;
  readonly classes?: readonly string[];
}

/** A schema read back from JSON may have been edited or truncated: check its shape before trusting it. */
export function assertSchema(value: unknown, where: string): asserts value is DatasetSchema {
  const fail = (what: string): never => {
    throw new InputError(`${where}: dataset schema ${what}`);
  };
  if (typeof value !== 'object' || value === null) fail('is not an object');
  const s = value as Record<string, unknown>;
  if (typeof s.targetName !== 'string') fail('has no string "targetName"');
  if (s.task !== 'classification' && s.task !== 'regression') fail('"task" must be "classification" or "regression"');
  if (!Array.isArray(s.features)) fail('has no "features" array');
  if (!Array.isArray(s.featureNames)) fail('has no "featureNames" array');
  if (s.task === 'classification' && !(Array.isArray(s.classes) && s.classes.every((c) => typeof c === 'string')))
    fail('is for classification but has no "classes" list of strings');
  let width = 0;
  for (const [i, f] of (s.features as unknown[]).entries()) {
    const e = f as Record<string, unknown>;
    if (typeof e?.column !== 'string') fail(`feature ${i} has no "column" name`);
    if (e.kind === 'numeric') {
      if (typeof e.fill !== 'number') fail(`feature '${e.column}' has no numeric "fill"`);
      width += 1;
    } else if (e.kind === 'categorical') {
      if (!Array.isArray(e.categories) || typeof e.fill !== 'string')
        fail(`feature '${e.column}' needs "categories" and a string "fill"`);
      width += (e.categories as unknown[]).length;
    } else fail(`feature '${e.column}' has kind ${JSON.stringify(e.kind)}; expected "numeric" or "categorical"`);
  }
  if (width !== (s.featureNames as unknown[]).length)
    fail(`lists ${(s.featureNames as unknown[]).length} feature names but its encodings make ${width} columns`);
}
