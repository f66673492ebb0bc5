// One entry point for every weight format: open (header/directory only), list, read one tensor.
import { InputError } from '../errors';
import { looksLikeNpy, openNpy, openNpz } from './npy';
import { openSafetensors } from './safetensors';
import { openTorch } from './torch';
import type { ByteSource, TensorInfo, WeightFile } from './types';
import { looksLikeZip, openZip } from './zip';

export type { ByteSource, DType, TensorInfo, WeightFile, WeightFormat } from './types';
export { bytesSource, numel } from './types';
export { writeSafetensors, type TensorToWrite } from './safetensors';

/** Picks the reader by extension, falling back to the file's magic bytes. */
export async function openWeights(source: ByteSource, fileName: string): Promise<WeightFile> {
  const ext = /\.([A-Za-z0-9]+)$/.exec(fileName)?.[1]?.toLowerCase() ?? '';
  if (ext === 'safetensors') return openSafetensors(source, fileName);
  if (ext === 'pt' || ext === 'pth' || ext === 'ckpt') return openTorch(source, fileName);
  if (ext === 'npz') return openNpz(source, fileName);
  if (ext === 'npy') return openNpy(source, fileName);
  const head = await source.read(0, Math.min(16, source.size));
  if (looksLikeNpy(head)) return openNpy(source, fileName);
  if (looksLikeZip(head)) {
    const zip = await openZip(source, fileName);
    return zip.entries.some((e) => e.name.endsWith('/data.pkl')) ? openTorch(source, fileName) : openNpz(source, fileName);
  }
  if (source.size >= 8) {
    const len = new DataView(head.buffer, head.byteOffset, head.length).getBigUint64(0, true);
    if (len < BigInt(source.size) && head[8] === 0x7b) return openSafetensors(source, fileName);
  }
  throw new InputError(`${fileName}: unrecognised weight file (expected .safetensors, PyTorch .pt/.pth, .npz or .npy)`);
}

export async function listTensors(source: ByteSource, fileName: string): Promise<TensorInfo[]> {
  return [...(await openWeights(source, fileName)).tensors];
}

export async function readTensor(source: ByteSource, fileName: string, name: string): Promise<Float64Array> {
  return (await openWeights(source, fileName)).read(name);
}

export interface TensorStats {
  min: number;
  max: number;
  mean: number;
  /** Population standard deviation (divides by n), as numpy's default. */
  std: number;
  /** NaN or infinite entries, excluded from the other figures. */
  nonFinite: number;
}

/** Summary statistics; mean and spread by Welford's update so large tensors do not lose precision. */
export function tensorStats(values: ArrayLike<number>): TensorStats {
  let min = Infinity, max = -Infinity, mean = 0, m2 = 0, n = 0, nonFinite = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) { nonFinite++; continue; }
    n++;
    if (v < min) min = v;
    if (v > max) max = v;
    const delta = v - mean;
    mean += delta / n;
    m2 += delta * (v - mean);
  }
  if (n === 0) return { min: NaN, max: NaN, mean: NaN, std: NaN, nonFinite };
  return { min, max, mean, std: Math.sqrt(m2 / n), nonFinite };
}
