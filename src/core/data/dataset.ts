import type { Mat } from '../mat';

export type Task = 'classification' | 'regression';

/**
 * A numeric table ready for learning: features X (n x d, float64, row-major) and one target column.
 * For classification `y` holds class indices into `classes` (-1 for a label unseen in training);
 * for regression it holds the values.
 */
export interface Dataset {
  /** File name (or other label) used in messages. */
  readonly source: string;
  readonly X: Mat;
  readonly featureNames: string[];
  readonly y: Float64Array;
  readonly targetName: string;
  readonly task: Task;
  readonly classes?: string[];
  /** False when the file had no target column (rows to predict, loaded with `targetOptional`); y is then NaN. */
  readonly hasTarget?: boolean;
  /**
   * Set when every row of X is one image flattened row-major in (C, H, W) order (so X has C·H·W columns):
   * from a 3-/4-D array, or declared for a table (`imageShape` option, the CLI's --image-shape).
   */
  readonly imageShape?: readonly [c: number, h: number, w: number];
}
