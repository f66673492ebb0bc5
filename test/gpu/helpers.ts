// Shared by the Node WebGPU tests: a Dawn-backed WebGpuBackend (no adapter = failure, never a skip),
// the fixture datasets and comparison helpers.
import { readFileSync } from 'node:fs';
import { hostGpu } from '../../src/core/node';
import { WebGpuBackend, type WebGpuBackendOptions } from '../../src/core/rfm/webgpu';
import type { Dataset } from '../../src/core/data/dataset';
import { mat, type Mat } from '../../src/core/mat';
import { rng } from '../../src/core/random';
import { parseClassCsv } from './classCsv';

// Seeded random numbers (the core's mulberry32) so failures reproduce.
export { rng };

/** A WebGPU backend on a device of its own (tests destroy devices; the host's shared lease must not see that). */
export async function gpuBackend(options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
  const gpu = await hostGpu();
  return WebGpuBackend.create(gpu, { ...options, keepAlive: gpu });
}

/** Last column is the target (class labels, as the sklearn fixtures are written). */
export function fixture(name: 'iris' | 'wine' | 'breast_cancer'): Dataset {
  return parseClassCsv(readFileSync(new URL(`../fixtures/${name}.csv`, import.meta.url), 'utf8'), `${name}.csv`);
}

export function randomMat(rows: number, cols: number, seed: number, scale = 1): Mat {
  const r = rng(seed);
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = (r() * 2 - 1) * scale;
  return mat(rows, cols, data);
}

/** |a - b|_F / |b|_F. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}
