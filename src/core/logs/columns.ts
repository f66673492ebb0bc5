import { InputError } from '../errors';
import type { ScalarPoint } from './types';

export interface ColumnCandidate {
  readonly column: string;
  /** Higher is likelier the training loss; 0 means not loss-like. */
  readonly score: number;
}

function lossScore(name: string): number {
  const n = name.toLowerCase();
  const isLoss = /loss|nll|cross_?entropy|\bce\b|mse|objective|cost/.test(n);
  if (!isLoss) return 0;
  const heldOut = /val|valid|test|eval|dev/.test(n);
  if (heldOut) return 10;
  if (
    n === 'loss' ||
    n === 'train_loss' ||
    n === 'train/loss' ||
    n === 'loss/train' ||
    n === 'training_loss' ||
    n === 'train_loss_step'
  )
    return 100;
  if (/epoch/.test(n)) return 40; // epoch aggregates hide the spikes a per-step loss shows
  if (/loss/.test(n) && /train/.test(n)) return 80;
  if (/loss/.test(n)) return 60;
  return 30;
}

/** Loss-like tags, likeliest first (ties keep the log's order). */
export function rankLossColumns(tags: readonly string[]): ColumnCandidate[] {
  return tags
    .map((column, i) => ({ column, score: lossScore(column), i }))
    .filter((c) => c.score > 0)
    .sort((a, b) => b.score - a.score || a.i - b.i)
    .map(({ column, score }) => ({ column, score }));
}

export type ColumnChoice =
  | { readonly kind: 'chosen'; readonly column: string }
  /** No single best column: the UI asks the user to pick from these (loss-like first, then all tags). */
  | { readonly kind: 'ambiguous'; readonly candidates: readonly string[] };

/** Picks the requested column, else the single best loss-like one. Throws InputError for an unknown request. */
export function chooseLossColumn(tags: readonly string[], requested: string | undefined, source: string): ColumnChoice {
  if (requested !== undefined) {
    if (!tags.includes(requested))
      throw new InputError(`${source}: no numeric column '${requested}'; columns: ${tags.join(', ') || '(none)'}`);
    return { kind: 'chosen', column: requested };
  }
  const ranked = rankLossColumns(tags);
  if (ranked.length === 1 || (ranked.length > 1 && ranked[0].score > ranked[1].score))
    return { kind: 'chosen', column: ranked[0].column };
  const candidates =
    ranked.length > 0 ? ranked.filter((c) => c.score === ranked[0].score).map((c) => c.column) : [...tags];
  return { kind: 'ambiguous', candidates };
}

export interface Series {
  readonly tag: string;
  readonly steps: Float64Array;
  readonly values: Float64Array;
}

/** The points of one tag in file order. */
export function seriesOf(points: readonly ScalarPoint[], tag: string): Series {
  let n = 0;
  for (const p of points) if (p.tag === tag) n++;
  const steps = new Float64Array(n);
  const values = new Float64Array(n);
  let k = 0;
  for (const p of points)
    if (p.tag === tag) {
      steps[k] = p.step;
      values[k] = p.value;
      k++;
    }
  return { tag, steps, values };
}
