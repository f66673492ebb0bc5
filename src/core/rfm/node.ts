/**
 * The CPU backend on every core (Node only): the float64 CPU backend whose heavy loops — predictions,
 * AGOP gradient moments, and CG's packed kernel matrix and its products — run split by rows over
 * worker threads (rfm/cpuWorker.ts) on SharedArrayBuffers. Each worker runs the same row-range
 * functions as the single-thread CpuBackend (rfm/cpu.ts), which stays the oracle tests compare with;
 * direct and EigenPro solves run on the main thread as there. The results equal the single-thread
 * backend's up to the order of floating-point sums across threads.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { BackendError } from '../errors';
import { mat, type Mat } from '../mat';
import type { GradMoments, KernelSpec } from './backend';
import { CpuBackend, CpuKernelOps, momentsFromGradSums, type CpuSolveOps } from './cpu';
import type { IterativeOptions } from './solvers';
import type { CpuTask } from './cpuWorker';

/** A Float64Array on shared memory (workers see it without a copy). */
function shared(length: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(Math.max(1, length) * 8), 0, length);
}

function sharedCopy(a: Float64Array): Float64Array {
  const s = shared(a.length);
  s.set(a);
  return s;
}

const sharedMat = (m: Mat): Mat => mat(m.rows, m.cols, sharedCopy(m.data));

/** The worker script: the bundle's dist/rfmWorker.js next to this bundle, or the source file under tsx; null if neither is there. */
export function cpuWorkerFile(): string | null {
  // dirname(__filename): tsx sets __filename but not always __dirname (a .ts imported from ESM).
  const dir = dirname(__filename);
  for (const f of [join(dir, 'rfmWorker.js'), join(dir, 'cpuWorker.ts')]) if (existsSync(f)) return f;
  return null;
}

/** Worker threads that each run one task at a time; they do not keep the process alive when idle. */
export class CpuPool {
  private workers: Worker[] = [];

  constructor(readonly size: number = Math.max(1, availableParallelism())) {}

  private start(): Worker[] {
    if (this.workers.length === 0)
      for (let i = 0; i < this.size; i++) {
        const file = cpuWorkerFile()!;
        // The source file (tests, benchmarks under tsx) needs tsx's require hook inside the thread.
        const w = file.endsWith('.ts')
          ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(file)});`, { eval: true })
          : new Worker(file);
        w.unref();
        this.workers.push(w);
      }
    return this.workers;
  }

  /** Runs tasks[i] on worker i (at most `size` tasks). */
  run(tasks: CpuTask[]): Promise<void> {
    const workers = this.start();
    return Promise.all(
      tasks.map(
        (t, i) =>
          new Promise<void>((resolve, reject) => {
            const w = workers[i];
            const done = (m: { ok: boolean; message?: string }) => {
              w.off('error', failed);
              w.unref();
              if (m.ok) resolve();
              else reject(new BackendError('cpu', `worker thread: ${m.message}`));
            };
            const failed = (e: Error) => {
              w.off('message', done);
              reject(new BackendError('cpu', `worker thread failed: ${e.message}`));
            };
            w.ref();
            w.once('message', done);
            w.once('error', failed);
            w.postMessage(t);
          }),
      ),
    ).then(() => undefined);
  }

  dispose(): void {
    for (const w of this.workers) void w.terminate();
    this.workers = [];
  }
}

/** Row ranges splitting [0, n) in `parts` of equal work, for work per row growing like row^power (0: uniform, 1: a triangle). */
export function rowSplits(n: number, parts: number, power: 0 | 1): [number, number][] {
  const out: [number, number][] = [];
  let prev = 0;
  for (let k = 1; k <= parts; k++) {
    const end = k === parts ? n : Math.round(power === 0 ? (n * k) / parts : n * Math.sqrt(k / parts));
    out.push([prev, Math.max(prev, end)]);
    prev = Math.max(prev, end);
  }
  return out.filter(([a, b]) => b > a);
}

/** The float64 CPU backend with its heavy loops on worker threads (one per core). */
export class ThreadedCpuBackend extends CpuBackend {
  readonly threads: number;

  constructor(
    private readonly pool: CpuPool = new CpuPool(),
    options: Partial<IterativeOptions> = {},
  ) {
    super(options);
    this.threads = pool.size;
  }

  override async predict(Z: Mat, X: Mat, kernel: KernelSpec, alpha: Mat): Promise<Mat> {
    if (this.threads < 2 || Z.rows * X.rows < 1e5) return super.predict(Z, X, kernel, alpha);
    const out = shared(Z.rows * alpha.cols);
    const [z, x, a] = [sharedMat(Z), sharedMat(X), sharedMat(alpha)];
    await this.pool.run(
      rowSplits(Z.rows, this.threads, 0).map(([r0, r1]) => ({
        op: 'predict',
        Z: z,
        X: x,
        kernel,
        alpha: a,
        r0,
        r1,
        out,
      })),
    );
    return mat(Z.rows, alpha.cols, Float64Array.from(out));
  }

  protected override async gradMomentsComputed(
    Z: Mat,
    X: Mat,
    kernel: KernelSpec,
    alpha: Mat,
    diagOnly: boolean,
  ): Promise<GradMoments> {
    if (this.threads < 2 || Z.rows * X.rows < 1e5) return super.gradMomentsComputed(Z, X, kernel, alpha, diagOnly);
    const d = X.cols,
      c = alpha.cols;
    const [z, x, a] = [sharedMat(Z), sharedMat(X), sharedMat(alpha)];
    const parts = rowSplits(Z.rows, this.threads, 0).map(([r0, r1]) => ({
      r0,
      r1,
      outer: shared(diagOnly ? d : d * d),
      sum: shared(c * d),
    }));
    await this.pool.run(parts.map((p) => ({ op: 'grad', Z: z, X: x, kernel, alpha: a, diagOnly, ...p })));
    const outer = new Float64Array(diagOnly ? d : d * d),
      sum = new Float64Array(c * d);
    for (const p of parts) {
      for (let i = 0; i < outer.length; i++) outer[i] += p.outer[i];
      for (let i = 0; i < sum.length; i++) sum[i] += p.sum[i];
    }
    return { outer, sum: mat(c, d, sum) };
  }

  protected override async gradMomentsStored(
    K: Float64Array,
    X: Mat,
    kernel: KernelSpec,
    alpha: Mat,
    diagOnly: boolean,
  ): Promise<GradMoments> {
    if (this.threads < 2 || !(K.buffer instanceof SharedArrayBuffer))
      return super.gradMomentsStored(K, X, kernel, alpha, diagOnly);
    const n = X.rows,
      d = X.cols,
      c = alpha.cols;
    const [x, a] = [sharedMat(X), sharedMat(alpha)];
    const parts = rowSplits(n, this.threads, 1).map(([r0, r1]) => ({ r0, r1, G: shared(n * c * d), S: shared(n * c) }));
    await this.pool.run(parts.map((p) => ({ op: 'packedGrad', K, X: x, kernel, alpha: a, ...p })));
    const G = Float64Array.from(parts[0].G),
      S = Float64Array.from(parts[0].S);
    for (const p of parts.slice(1)) {
      for (let i = 0; i < G.length; i++) G[i] += p.G[i];
      for (let i = 0; i < S.length; i++) S[i] += p.S[i];
    }
    return momentsFromGradSums(X, c, G, S, diagOnly);
  }

  protected override kernelOps(X: Mat, kernel: KernelSpec, store: boolean): CpuSolveOps {
    if (!store || this.threads < 2) return super.kernelOps(X, kernel, store);
    // CG over a stored K: built and multiplied on the workers; blocks (the preconditioner's K(X, S)) on this thread.
    const single = new CpuKernelOps(X, kernel, false);
    const n = X.rows;
    const x = sharedMat(X);
    let K: Float64Array | null = null;
    const pool = this.pool,
      threads = this.threads;
    return {
      n,
      storedK: () => K,
      block: (a, b) => single.block(a, b),
      prepare: async () => {
        if (K) return;
        const k = shared((n * (n + 1)) / 2);
        await pool.run(
          rowSplits(n, threads, 1).map(([r0, r1]) => ({ op: 'packedKernel', X: x, kernel, r0, r1, K: k })),
        );
        K = k;
      },
      times: async (a, b, p, c) => {
        if (a || b || !K) return single.times(a, b, p, c);
        const ps = sharedCopy(p);
        const splits = rowSplits(n, threads, 1);
        const outs = splits.map(() => shared(n * c));
        await pool.run(splits.map(([r0, r1], i) => ({ op: 'packedTimes', K: K!, p: ps, c, r0, r1, out: outs[i] })));
        const out = Float64Array.from(outs[0]);
        for (let t = 1; t < outs.length; t++) for (let i = 0; i < out.length; i++) out[i] += outs[t][i];
        return out;
      },
    };
  }

  override dispose(): void {
    this.pool.dispose();
    super.dispose();
  }
}
