// Aligned patches of images (docs/science.md §6): every image of shape (C, H, W) is cut into the same grid of
// C x q x q patches (stride s, no padding); patch p of image i is the vector x_{i,p} of D = C·q·q values
// in (channel, row, column) order, the order of a Conv2d filter flattened by PyTorch.
import { InputError } from '../errors';
import type { ImageShape } from '../data/images';
import type { Mat } from '../mat';

export interface PatchGeometry {
  readonly imageShape: ImageShape;
  /** Patch side q. */
  readonly q: number;
  readonly stride: number;
  /** Positions down and across: floor((H - q) / s) + 1, floor((W - q) / s) + 1. */
  readonly down: number;
  readonly across: number;
  /** Positions P = down · across. */
  readonly P: number;
  /** Patch length D = C·q·q (the feature matrix M is D x D). */
  readonly D: number;
  /** offsets[t] = pixel offset in the flattened image of patch entry t, relative to the patch's corner. */
  readonly offsets: Int32Array;
  /** corners[p] = pixel offset of position p's top-left corner (channel 0). */
  readonly corners: Int32Array;
}

/** The patch grid; `where` names the data in messages (the image shape is the data's, q and s the flags'). */
export function patchGeometry(imageShape: ImageShape, q: number, stride: number, where: string): PatchGeometry {
  const [c, h, w] = imageShape;
  if (!Number.isInteger(q) || q < 1 || q > h || q > w)
    throw new InputError(
      `${where}: patch size ${q} does not fit images of ${h} x ${w} pixels; expected --patch between 1 and ${Math.min(h, w)}`,
    );
  if (!Number.isInteger(stride) || stride < 1)
    throw new InputError(`${where}: stride ${stride}; expected --stride a positive integer`);
  const down = Math.floor((h - q) / stride) + 1;
  const across = Math.floor((w - q) / stride) + 1;
  const D = c * q * q;
  const offsets = new Int32Array(D);
  for (let k = 0; k < c; k++)
    for (let a = 0; a < q; a++) for (let b = 0; b < q; b++) offsets[(k * q + a) * q + b] = (k * h + a) * w + b;
  const corners = new Int32Array(down * across);
  for (let r = 0; r < down; r++) for (let s = 0; s < across; s++) corners[r * across + s] = r * stride * w + s * stride;
  return { imageShape, q, stride, down, across, P: down * across, D, offsets, corners };
}

/**
 * Patches of every row of X mapped by R (k x D, R^T R = M), position-major: the block of position p
 * (n x k) starts at p·n·k, so one position's patches form a matrix (`positionMat`). Distances between
 * transformed patches are the M-distances between the patches.
 */
export interface PatchSet {
  readonly n: number;
  readonly P: number;
  readonly k: number;
  readonly data: Float64Array;
}

export function transformedPatches(X: Mat, g: PatchGeometry, R: Mat): PatchSet {
  const n = X.rows,
    d = X.cols,
    { P, D, offsets, corners } = g,
    k = R.rows;
  if (R.cols !== D) throw new Error(`transformedPatches: R has ${R.cols} columns, patches ${D}`);
  const out = new Float64Array(P * n * k);
  const patch = new Float64Array(D);
  for (let p = 0; p < P; p++)
    for (let i = 0; i < n; i++) {
      const base = i * d + corners[p];
      for (let t = 0; t < D; t++) patch[t] = X.data[base + offsets[t]];
      const o = (p * n + i) * k;
      for (let r = 0; r < k; r++) {
        let s = 0;
        const ro = r * D;
        for (let t = 0; t < D; t++) s += R.data[ro + t] * patch[t];
        out[o + r] = s;
      }
    }
  return { n, P, k, data: out };
}

/** The n x k matrix of position p's transformed patches (a view, no copy). */
export function positionMat(s: PatchSet, p: number): Mat {
  return { rows: s.n, cols: s.k, data: s.data.subarray(p * s.n * s.k, (p + 1) * s.n * s.k) };
}
