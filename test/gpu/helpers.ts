// Shared by the Node WebGPU tests: a Dawn-backed WebGpuBackend (no adapter = failure, never a skip),
// the fixture datasets and comparison helpers.
import { readFileSync } from 'node:fs';
import { createBackend } from '../../src/core/backends/node';
import { WebGpuBackend, type WebGpuBackendOptions } from '../../src/core/backends/webgpu';
import type { Dataset } from '../../src/core/data/dataset';
import { mat, type Mat } from '../../src/core/mat';

export async function gpuBackend(options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
  const { backend } = await createBackend('webgpu', options);
  if (!(backend instanceof WebGpuBackend)) throw new Error(`expected a WebGPU backend, got ${backend.name}`);
  return backend;
}

/** Last column is the target (class labels, as the sklearn fixtures are written). */
export function fixture(name: 'iris' | 'wine' | 'breast_cancer'): Dataset {
  const url = new URL(`../fixtures/${name}.csv`, import.meta.url);
  const lines = readFileSync(url, 'utf8').trim().split(/\r?\n/);
  const header = lines[0].split(',');
  const d = header.length - 1;
  const rows = lines.slice(1).map((l) => l.split(','));
  const classes = [...new Set(rows.map((r) => r[d]))].sort();
  const X = new Float64Array(rows.length * d);
  const y = new Float64Array(rows.length);
  rows.forEach((r, i) => {
    for (let j = 0; j < d; j++) X[i * d + j] = Number(r[j]);
    y[i] = classes.indexOf(r[d]);
  });
  return { source: `${name}.csv`, X: mat(rows.length, d, X), featureNames: header.slice(0, d), y, targetName: header[d], task: 'classification', classes };
}

/** Deterministic pseudo-random numbers (mulberry32) so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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
