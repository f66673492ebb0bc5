import { z } from 'zod';
import { InputError } from '../errors';
import { describeIssue } from '../validate';
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

const encoding = z.discriminatedUnion('kind', [
  z.object({ column: z.string(), kind: z.literal('numeric'), fill: z.number() }),
  z.object({ column: z.string(), kind: z.literal('categorical'), categories: z.array(z.string()), fill: z.string() }),
]);

/** A dataset schema as JSON (inside a saved model): the encodings must make exactly the named columns. */
export const DatasetSchemaSchema: z.ZodType<DatasetSchema, unknown> = z
  .object({
    features: z.array(encoding),
    featureNames: z.array(z.string()),
    targetName: z.string(),
    task: z.enum(['classification', 'regression']),
    classes: z.array(z.string()).optional(),
  })
  .superRefine((s, ctx) => {
    if (s.task === 'classification' && s.classes === undefined)
      ctx.addIssue({ code: 'custom', path: ['classes'], message: 'must list the classes of a classification target' });
    const width = s.features.reduce((w, f) => w + (f.kind === 'numeric' ? 1 : f.categories.length), 0);
    if (width !== s.featureNames.length)
      ctx.addIssue({
        code: 'custom',
        path: ['featureNames'],
        message: `must be ${width} names (the columns the encodings make)`,
      });
  });

/** A schema read back from JSON may have been edited or truncated: check its shape before trusting it. */
export function assertSchema(value: unknown, where: string): asserts value is DatasetSchema {
  const parsed = DatasetSchemaSchema.safeParse(value);
  if (!parsed.success) throw new InputError(`${where}: dataset schema ${describeIssue(parsed.error, value)}`);
}
