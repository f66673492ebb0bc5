// Whether a table's features are the pixels of an image, and its shape (C, H, W; each row of X is the
// row-major C,H,W flattening), so the views can draw diag(M) and M's eigenvectors as images instead of
// a table of pixel names. In order of trust: a declared shape (--image-shape, or Dataset.imageShape from
// a 3-/4-D array), pixel names with row and column (px_2_5, pixel_2_5, px_0_2_5 with a channel),
// numbered pixel names (pixel0..pixel63, px1..px784) on a square count, and anonymous numbered columns
// (col0.., x0.., 0..) on a square count of at least 64 (8 x 8, sklearn's digits).
import { InputError } from '../errors';
import { signedEigenpairs } from '../linalg/eigh';

export type ImageShape = readonly [c: number, h: number, w: number];

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

/** The problem with a declared shape for `d` features, or null when it fits. */
export function imageShapeProblem(shape: readonly number[], d: number): string | null {
  if (shape.length !== 3 || shape.some((x) => !Number.isInteger(x) || x < 1)) {
    return `an image shape is three positive integers C x H x W, got ${shape.join(' x ')}`;
  }
  const n = shape[0] * shape[1] * shape[2];
  return n === d ? null : `${shape.join(' x ')} = ${n} pixels, but the data has ${d} features`;
}

/** "8x8", "1x8x8", "3,32,32" → C, H, W (before the data is read); an InputError that names `what` otherwise. */
export function parseImageShapeText(text: string, what = '--image-shape'): ImageShape {
  const parts = text.trim().split(/\s*[x×,]\s*/i);
  const nums = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
  if (!(parts.length === 2 || parts.length === 3) || nums.some((x) => !Number.isSafeInteger(x) || x < 1)) {
    throw new InputError(`${what} ${text}: expected H x W or C x H x W in positive integers, e.g. 28x28 or 3x32x32`);
  }
  return (nums.length === 2 ? [1, ...nums] : nums) as unknown as ImageShape;
}

/** parseImageShapeText, and an InputError that names `what` when it is not a shape for d features. */
export function parseImageShape(text: string, d: number, what = '--image-shape'): ImageShape {
  const shape = parseImageShapeText(text, what);
  const problem = imageShapeProblem(shape, d);
  if (problem) throw new InputError(`${what} ${text}: ${problem}; give a shape whose product is ${d}`);
  return shape;
}

/**
 * The image shape of features named `names`, or null when they do not look like an image. `declared`
 * (Dataset.imageShape, a flag) wins when it fits the feature count.
 */
export function detectImageShape(names: readonly string[], declared?: readonly number[] | null): DetectedImage | null {
  const d = names.length;
  if (declared && !imageShapeProblem(declared, d)) {
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

/** Eigenvectors are drawn up to this many features (784 = 28 x 28 and 1024 = 32 x 32 included). */
export const MAX_EIGEN_IMAGE_FEATURES = 1024;

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
