/**
 * A worker thread of the multi-threaded CPU backend (rfm/node.ts): runs one of the CPU backend's row
 * range kernels (rfm/cpu.ts, the same functions the single-thread backend runs) on its share of the
 * rows, over SharedArrayBuffer-backed arrays, and answers with an empty message when done (or the
 * error's message). Bundled as dist/rfmWorker.js (esbuild.mjs); under tsx this file runs directly.
 */
import { parentPort } from 'node:worker_threads';
import { gradMomentsRows, gradSumsPackedRows, packedKernelRows, packedTimesRows, predictRows } from './cpu';
import type { KernelSpec } from './backend';
import type { Mat } from '../mat';

/** One worker's share of a kernel (the fields the row-range functions of rfm/cpu.ts take). */
export type CpuTask =
  | { op: 'predict'; Z: Mat; X: Mat; kernel: KernelSpec; alpha: Mat; r0: number; r1: number; out: Float64Array }
  | {
      op: 'grad';
      Z: Mat;
      X: Mat;
      kernel: KernelSpec;
      alpha: Mat;
      diagOnly: boolean;
      r0: number;
      r1: number;
      outer: Float64Array;
      sum: Float64Array;
    }
  | { op: 'packedKernel'; X: Mat; kernel: KernelSpec; r0: number; r1: number; K: Float64Array }
  | {
      op: 'packedGrad';
      K: Float64Array;
      X: Mat;
      kernel: KernelSpec;
      alpha: Mat;
      r0: number;
      r1: number;
      G: Float64Array;
      S: Float64Array;
    }
  | { op: 'packedTimes'; K: Float64Array; p: Float64Array; c: number; r0: number; r1: number; out: Float64Array };

parentPort?.on('message', (t: CpuTask) => {
  try {
    switch (t.op) {
      case 'predict':
        predictRows(t.Z, t.X, t.kernel, t.alpha, t.r0, t.r1, t.out);
        break;
      case 'grad':
        gradMomentsRows(t.Z, t.X, t.kernel, t.alpha, t.diagOnly, t.r0, t.r1, t.outer, t.sum);
        break;
      case 'packedKernel':
        packedKernelRows(t.X, t.kernel, t.r0, t.r1, t.K);
        break;
      case 'packedGrad':
        gradSumsPackedRows(t.K, t.X, t.kernel, t.alpha, t.r0, t.r1, t.G, t.S);
        break;
      case 'packedTimes':
        packedTimesRows(t.K, t.p, t.c, t.r0, t.r1, t.out);
        break;
    }
    parentPort?.postMessage({ ok: true });
  } catch (e) {
    parentPort?.postMessage({ ok: false, message: e instanceof Error ? e.message : String(e) });
  }
});
