import type { Dataset } from './dataset';
import { takeRows } from '../mat';
import { permutation } from '../random';
import { InputError } from '../errors';

function subset(ds: Dataset, idx: ArrayLike<number>, label: string): Dataset {
  const y = new Float64Array(idx.length);
  for (let i = 0; i < idx.length; i++) y[i] = ds.y[idx[i]];
  return { ...ds, source: `${ds.source} (${label})`, X: takeRows(ds.X, idx), y };
}

/** A seeded random split: `fraction` of the rows (at least one) become the held-out part. */
export function splitDataset(ds: Dataset, fraction: number, seed: number): { train: Dataset; held: Dataset } {
  if (!(fraction > 0 && fraction < 1))
    throw new InputError(`validation fraction must be between 0 and 1 (exclusive), got ${fraction}`);
  const n = ds.X.rows;
  const nHeld = Math.max(1, Math.round(n * fraction));
  if (n - nHeld < 2) throw new InputError(`${ds.source}: ${n} rows are too few to hold out ${fraction} of them`);
  const p = permutation(n, seed);
  // Sorted index lists keep the original row order inside each part (easier to read when debugging).
  const held = Array.from(p.subarray(0, nHeld)).sort((a, b) => a - b);
  const train = Array.from(p.subarray(nHeld)).sort((a, b) => a - b);
  return { train: subset(ds, train, 'train'), held: subset(ds, held, 'validation') };
}
