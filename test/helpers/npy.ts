// Float64 .npy / .npz bytes built in memory for tests (the header writer is the fuzz corpus's).
import { zipSync } from 'fflate';
import { npy } from '../fuzz/corpus';

/** A little-endian float64 .npy of `shape` holding `values` in C order. */
export function npyOf(shape: number[], values: ArrayLike<number>): Uint8Array {
  return npy(shape, new Uint8Array(Float64Array.from(values).buffer));
}

/** An .npz (deflated) of float64 arrays, as np.savez_compressed writes it. */
export function npzOf(arrays: Record<string, { shape: number[]; values: ArrayLike<number> }>): Uint8Array {
  const files: Record<string, Uint8Array> = {};
  for (const [name, a] of Object.entries(arrays)) files[`${name}.npy`] = npyOf(a.shape, a.values);
  return zipSync(files);
}
