// Image-shaped data: each row of X is one image flattened row-major in (C, H, W) order, and the dataset
// carries `imageShape = [C, H, W]`. Arrays of 3 or 4 dimensions say their shape themselves; a 2-D table
// (CSV, a 2-D .npy, Parquet) gets it declared (`imageShape`, the CLI's --image-shape C,H,W).
import { InputError } from '../errors';
import type { ImageShape } from './image-shape';

export type { ImageShape };

/** A channels-last array is read as channels-first when its last axis looks like channels and axis 1 does not. */
const CHANNEL_COUNTS = new Set([1, 3, 4]);

export function imageShapeText(s: ImageShape): string {
  return `${s[0]},${s[1]},${s[2]}`;
}

/**
 * How a 3-D (N, H, W) or 4-D array of images is laid out. `channelsLast` undefined infers it: (N, H, W, C)
 * when the last axis is 1, 3 or 4 and axis 1 is not; explicit true/false is obeyed.
 */
export function arrayImageLayout(
  shape: readonly number[],
  channelsLast: boolean | undefined,
  what: string,
): { imageShape: ImageShape; channelsLast: boolean } {
  if (shape.length === 3) return { imageShape: [1, shape[1], shape[2]], channelsLast: false };
  if (shape.length !== 4)
    throw new InputError(
      `${what}: has ${shape.length} dimensions; expected images as (N, C, H, W), (N, H, W) or (N, H, W, C)`,
    );
  const last = channelsLast ?? (CHANNEL_COUNTS.has(shape[3]) && !CHANNEL_COUNTS.has(shape[1]));
  const imageShape: ImageShape = last ? [shape[3], shape[1], shape[2]] : [shape[1], shape[2], shape[3]];
  if (imageShape.some((v) => v === 0))
    throw new InputError(`${what}: an image axis has length 0; expected images of at least 1 x 1 pixel`);
  return { imageShape, channelsLast: last };
}

/** Reorders each of `n` rows from (H, W, C) to (C, H, W). */
export function channelsLastToFirst(data: Float64Array, n: number, shape: ImageShape): Float64Array {
  const [c, h, w] = shape;
  const size = c * h * w;
  const out = new Float64Array(data.length);
  for (let i = 0; i < n; i++) {
    const base = i * size;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let k = 0; k < c; k++) out[base + (k * h + y) * w + x] = data[base + (y * w + x) * c + k];
  }
  return out;
}

/** The column of the (H, W, C)-ordered row that lands at (C, H, W)-ordered position j. */
export function channelsLastSource(j: number, shape: ImageShape): number {
  const [c, h, w] = shape;
  const k = Math.floor(j / (h * w));
  const y = Math.floor((j % (h * w)) / w);
  const x = j % w;
  return (y * w + x) * c + k;
}

export function sameImageShape(a: ImageShape, b: ImageShape): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
}
