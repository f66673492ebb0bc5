// What every reader of JSON the user may have edited shares: zod's first problem as one line for an
// InputError (the model file, the dataset schema inside it, run records, revived view state).
import type { z } from 'zod';

/** The first problem zod found, as `field a.b: message (got …)`, for an InputError. */
export function describeIssue(error: z.ZodError, root: unknown): string {
  const issue = error.issues[0];
  const path = issue.path.map(String).join('.');
  let got: unknown = root;
  for (const k of issue.path)
    got = got !== null && typeof got === 'object' ? (got as Record<PropertyKey, unknown>)[k] : undefined;
  const shown = got === undefined ? 'missing' : Array.isArray(got) ? `an array of ${got.length}` : JSON.stringify(got);
  const brief = typeof shown === 'string' && shown.length > 40 ? `${shown.slice(0, 40)}…` : shown;
  return `field ${path || '(top level)'} ${issue.message.replace(/^Invalid input: /, '')} (got ${brief})`;
}
