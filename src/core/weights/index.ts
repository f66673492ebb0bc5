// One entry point for every weight format: open (header/directory only), list, read one tensor.
import { InputError } from '../errors';
import { looksLikeNpy, openNpy, openNpz } from './npy';
import { openSafetensors } from './safetensors';
import { openTorch } from './torch';
import type { ReadOptions } from './budget';
import type { ByteSource, TensorInfo, WeightFile } from './types';
import { looksLikeZip, openZip } from './zip';

export type { ReadOptions, YieldNow } from './budget';
export type { ByteSource, DType, TensorInfo, WeightFile, WeightFormat } from './types';
export { bytesSource, numel } from './types';
export { writeSafetensors, type TensorToWrite } from './safetensors';

/**
 * Picks the reader by extension, falling back to the file's magic bytes. Long parses (a pickle, a zip
 * directory, an inflated header) hand the event loop back every few milliseconds (`options.yieldNow`).
 */
export async function openWeights(source: ByteSource, fileName: string, options?: ReadOptions): Promise<WeightFile> {
  const ext = /\.([A-Za-z0-9]+)$/.exec(fileName)?.[1]?.toLowerCase() ?? '';
  if (ext === 'safetensors') return openSafetensors(source, fileName, options);
  if (ext === 'pt' || ext === 'pth' || ext === 'ckpt') return openTorch(source, fileName, options);
  if (ext === 'npz') return openNpz(source, fileName, options);
  if (ext === 'npy') return openNpy(source, fileName);
  const head = await source.read(0, Math.min(16, source.size));
  if (looksLikeNpy(head)) return openNpy(source, fileName);
  if (looksLikeZip(head)) {
    const zip = await openZip(source, fileName, options);
    return zip.entries.some((e) => e.name.endsWith('/data.pkl'))
      ? openTorch(source, fileName, options)
      : openNpz(source, fileName, options);
  }
  if (source.size >= 8) {
    const len = new DataView(head.buffer, head.byteOffset, head.length).getBigUint64(0, true);
    if (len < BigInt(source.size) && head[8] === 0x7b) return openSafetensors(source, fileName, options);
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

/** Running summary (Welford's update, so large tensors do not lose precision in the mean or spread). */
export class StatsAccumulator {
  private n = 0;
  private mean = 0;
  private m2 = 0;
  private min = Infinity;
  private max = -Infinity;
  private nonFinite = 0;

  add(values: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!Number.isFinite(v)) {
        this.nonFinite++;
        continue;
      }
      this.n++;
      if (v < this.min) this.min = v;
      if (v > this.max) this.max = v;
      const delta = v - this.mean;
      this.mean += delta / this.n;
      this.m2 += delta * (v - this.mean);
    }
  }

  result(): TensorStats {
    if (this.n === 0) return { min: NaN, max: NaN, mean: NaN, std: NaN, nonFinite: this.nonFinite };
    return {
      min: this.min,
      max: this.max,
      mean: this.mean,
      std: Math.sqrt(this.m2 / this.n),
      nonFinite: this.nonFinite,
    };
  }
}

export function tensorStats(values: ArrayLike<number>): TensorStats {
  const acc = new StatsAccumulator();
  acc.add(values);
  return acc.result();
}

/** Statistics of one tensor of an opened file, read chunk by chunk (works beyond MAX_READ_ELEMENTS for contiguous tensors). */
export async function tensorStatsOf(file: WeightFile, name: string, elementsPerChunk?: number): Promise<TensorStats> {
  const acc = new StatsAccumulator();
  for await (const chunk of file.chunks(name, elementsPerChunk)) acc.add(chunk);
  return acc.result();
}
