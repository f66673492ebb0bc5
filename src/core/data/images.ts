// Image-shaped data: each row of X is one image flattened row-major in (C, H, W) order, and the dataset
// carries `imageShape = [C, H, W]`. Arrays of 3 or 4 dimensions say their shape themselves; a 2-D table
// (CSV, a 2-D .npy, Parquet) gets it declared (`imageShape`, the CLI's --image-shape C,H,W).
import { InputError } from '../errors';
import { MAX_EIGEN_IMAGE_FEATURES } from '../limits';
import { signedEigenpairs } from '../linalg/eigh';

/** Channels, height, width of every image (row-major C,H,W flattening of a row of X). */
export type ImageShape = readonly [c: number, h: number, w: number];

/** A channels-last array is read as channels-first when its last axis looks like channels and axis 1 does not. */
const CHANNEL_COUNTS = new Set([1, 3, 4]);

export function imageShapeText(s: ImageShape): string {
  return `${s[0]},${s[1]},${s[2]}`;
}

/**
 * `C,H,W` (or `H,W` for one channel) as typed on a command line. `what` names the option in messages,
 * e.g. `--image-shape`.
 */
export function parseImageShape(text: string, what: string): ImageShape {
  const parts = text.split(/[,x×]/).map((s) => s.trim());
  const nums = parts.map(Number);
  if (
    (parts.length !== 2 && parts.length !== 3) ||
    parts.some((p) => !/^\d+$/.test(p)) ||
    nums.some((v) => !Number.isSafeInteger(v) || v < 1)
  ) {
    throw new InputError(
      `${what}: '${text}' is not an image shape; expected C,H,W (or H,W for one channel) as positive integers, e.g. 3,32,32`,
    );
  }
  return (nums.length === 2 ? [1, nums[0], nums[1]] : [nums[0], nums[1], nums[2]]) as ImageShape;
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

// Whether a 2-D table's features are the pixels of an image when nothing declared it, and a feature
// matrix over pixels as images (diag(M), M's top eigenvectors), so the views can draw what the RFM papers
// show instead of a table of pixel names. In order of trust: a declared shape (Dataset.imageShape),
// pixel names with row and column (px_2_5, pixel_2_5, px_0_2_5 with a channel), numbered pixel names
// (pixel0..pixel63, px1..px784) on a square count, and anonymous numbered columns (col0.., x0.., 0..) on
// a square count of at least 64 (8 x 8, sklearn's digits).

export type ImageShapeSource = 'declared' | 'names' | 'numbered' | 'square';

export interface DetectedImage {
  shape: ImageShape;
  /** How it was found, for the caption ("from the column names"). */
  source: ImageShapeSource;
}

/** Anonymous numbered columns make an image only from 8 x 8 up: 4, 9 or 16 features are rarely pixels. */
export const MIN_ANONYMOUS_PIXELS = 64;

const GRID = /^(?:px|pixels?)[_\-. ]?(\d+)[_\-x. ](\d+)(?:[_\-x. ](\d+))?$/i;
const NUMBERED = /^(?:px|pixels?)[_\-. ]?(\d+)$/i;
const ANONYMOUS = /^(?:col|column|x|f|feature|c|v|var)?[_\-. ]?(\d+)$/i;

function isqrt(n: number): number | null {
  const s = Math.round(Math.sqrt(n));
  return s * s === n ? s : null;
}

/** Numbers read from each name with `re` (group 1), when all names match and run k0, k0+1, ... in order. */
function consecutive(names: readonly string[], re: RegExp): boolean {
  let first = -1;
  for (const [i, n] of names.entries()) {
    const m = re.exec(n.trim());
    if (!m) return false;
    const k = Number(m[1]);
    if (i === 0) {
      if (k !== 0 && k !== 1) return false;
      first = k;
    } else if (k !== first + i) return false;
  }
  return names.length > 0;
}

/** px_r_c (or px_ch_r_c) names covering a full grid in row-major order, numbered from 0 or 1. */
function fromGridNames(names: readonly string[]): ImageShape | null {
  const idx: number[][] = [];
  for (const n of names) {
    const m = GRID.exec(n.trim());
    if (!m) return null;
    idx.push(
      m
        .slice(1)
        .filter((x) => x !== undefined)
        .map(Number),
    );
  }
  if (!idx.length || idx.some((t) => t.length !== idx[0].length)) return null;
  const dims = idx[0].length === 3 ? [0, 1, 2] : [0, 1];
  const lo = dims.map((k) => Math.min(...idx.map((t) => t[k])));
  const size = dims.map((k) => Math.max(...idx.map((t) => t[k])) - lo[k] + 1);
  if (lo.some((x) => x !== 0 && x !== 1)) return null;
  const [c, h, w] = size.length === 3 ? size : [1, ...size];
  if (c * h * w !== names.length) return null;
  // Row-major: the name at position i is the pixel at i (otherwise the columns are not an image as laid out).
  for (const [i, t] of idx.entries()) {
    const rel = t.map((x, k) => x - lo[k]);
    const pos = rel.length === 3 ? (rel[0] * h + rel[1]) * w + rel[2] : rel[0] * w + rel[1];
    if (pos !== i) return null;
  }
  return [c, h, w];
}

/**
 * The image shape of features named `names`, or null when they do not look like an image. `declared`
 * (Dataset.imageShape, a flag) wins when it fits the feature count.
 */
export function detectImageShape(names: readonly string[], declared?: readonly number[] | null): DetectedImage | null {
  const d = names.length;
  const fits = (s: readonly number[]) =>
    s.length === 3 && s.every((x) => Number.isInteger(x) && x >= 1) && s[0] * s[1] * s[2] === d;
  if (declared && fits(declared)) {
    return { shape: [declared[0], declared[1], declared[2]], source: 'declared' };
  }
  const grid = fromGridNames(names);
  if (grid) return { shape: grid, source: 'names' };
  const side = isqrt(d);
  if (side === null || side < 2) return null;
  if (consecutive(names, NUMBERED)) return { shape: [1, side, side], source: 'numbered' };
  if (d >= MIN_ANONYMOUS_PIXELS && consecutive(names, ANONYMOUS)) return { shape: [1, side, side], source: 'square' };
  return null;
}

/** One image of a feature matrix: what webview/shared/images.ts renderImageGrid draws. */
export interface MatrixImage {
  title: string;
  data: Float64Array;
  shape: ImageShape;
  signed: boolean;
}

/**
 * diag(`name`) and its top `k` eigenvectors (largest eigenvalue first, each signed so its largest loading
 * is positive: signedEigenpairs) as images of `shape`, for a d x d symmetric row-major matrix M. The
 * eigenvectors are left out above MAX_EIGEN_IMAGE_FEATURES features (the decomposition is O(d³)).
 */
export function matrixImages(M: Float64Array, shape: ImageShape, k = 3, name = 'M'): MatrixImage[] {
  const d = shape[0] * shape[1] * shape[2];
  if (M.length !== d * d) throw new Error(`matrixImages: a ${d} x ${d} matrix has ${d * d} entries, got ${M.length}`);
  const diag = Float64Array.from({ length: d }, (_, i) => M[i * d + i]);
  const out: MatrixImage[] = [{ title: `diag(${name})`, data: diag, shape, signed: false }];
  if (k > 0 && d <= MAX_EIGEN_IMAGE_FEATURES) {
    const { values, vectors } = signedEigenpairs(M, d, k);
    vectors.forEach((v, i) =>
      out.push({ title: `v${i + 1} of ${name} (λ=${values[i].toPrecision(3)})`, data: v, shape, signed: true }),
    );
  }
  return out;
}
