// lin-RFM matrix completion on any GPUDevice (navigator.gpu or Dawn in Node): the LinRfmBackend
// (backend.ts) whose iteration runs on the device. setProblem uploads the train entries (CSR), the
// validation entries and zeroed W (current and best), G and P once; an iteration is one command
// buffer (per-row ridge solves + predictions + put-back in ridgePredict.wgsl, the validation sum in
// heldOutError.wgsl, WᵀW in the shared transposeProduct.wgsl) and reads back only m + 1 floats (the
// per-row train residuals and the validation sum), summed in float64 on the host.
//
// Scaling: the device keeps G as the raw WᵀW (no 1/m pass) and P as the raw G or G·G; the 1/m or
// 1/m² goes into the solve as ridgePredict's pScale, and readGram divides by m in float64.
//
// Precision: f32 storage and arithmetic on the device (Cholesky of s P_OO + λI included). The
// relative error of a solve is about f32 rounding times cond(s P_OO + λI) ≲ |P| / λ; test/gpu/linrfm
// states the measured agreement with the float64 CPU backend.
//
// Row length: rows with at most RIDGE_SHARED_MAX (80) train entries factor in workgroup memory; longer
// rows use slots of a storage scratch buffer of k(k+1)/2 + k floats each, dispatched in batches that
// fit SCRATCH_BUDGET_BYTES (one slot at least; a row whose slot exceeds the device's binding limit is a
// BackendError, i.e. the CPU placement: k up to ~8000 with a 128 MiB binding).
import { BackendError } from '../errors';
import type { GpuLease } from '../gpu/lease';
import { GpuContext, USAGE_COPY_DST, USAGE_COPY_SRC, USAGE_STORAGE, roundUp } from '../gpu/context';
import { encodeTransposeProduct } from '../gpu/encodeTransposeProduct';
import { heldOutError, ridgePredict } from './kernels/programs';
import type { LinRfmBackend, LinRfmPRule, LinRfmProblem, LinRfmStep, ObservedCsr } from './backend';

/** Rows whose train count fits ridgePredict.wgsl's workgroup-memory Cholesky (its K_SHARED and sA size). */
export const RIDGE_SHARED_MAX = 80;

/** Scratch the long-row (storage-buffer Cholesky) path may hold at once. */
export const SCRATCH_BUDGET_BYTES = 64 * 1024 * 1024;

const STORAGE = USAGE_STORAGE | USAGE_COPY_DST | USAGE_COPY_SRC;
const tri = (k: number): number => (k * (k + 1)) / 2;

interface DeviceProblem {
  m: number;
  d: number;
  dPad: number;
  rowPtr: GPUBuffer;
  obs: GPUBuffer;
  rowList: GPUBuffer;
  /** Rows of rowList[0 .. small) factor in workgroup memory; the rest in scratch slots. */
  small: number;
  large: number;
  slotFloats: number;
  slotsPerBatch: number;
  scratch: GPUBuffer;
  validation: GPUBuffer;
  validationCount: number;
  W: GPUBuffer;
  best: GPUBuffer;
  G: GPUBuffer;
  P: GPUBuffer;
  fitRes: GPUBuffer;
  sse: GPUBuffer;
  /** The factor ridgePredict applies to the P buffer (1 after setP, 1/m after 'gram', 1/m² after 'gramSquared'). */
  pScale: number;
}

/** (column, f32 value bits) pairs of one CSR, as ridgePredict.wgsl reads them. */
function packEntries(csr: ObservedCsr, index: (row: number, col: number) => number): Uint32Array {
  const n = csr.colIdx.length;
  const out = new Uint32Array(2 * n);
  const f = new Float32Array(out.buffer);
  for (let i = 0; i + 1 < csr.rowPtr.length; i++)
    for (let e = csr.rowPtr[i]; e < csr.rowPtr[i + 1]; e++) {
      out[2 * e] = index(i, csr.colIdx[e]);
      f[2 * e + 1] = csr.values[e];
    }
  return out;
}

export class WebGpuLinRfmBackend implements LinRfmBackend {
  readonly name = 'webgpu' as const;
  readonly device: string;
  private disposed = false;
  private problem: DeviceProblem | null = null;

  /** `release` gives the context back (a lease's release(), or disposing a context of its own). */
  constructor(
    readonly ctx: GpuContext,
    private readonly release: () => void = () => {},
    private readonly scratchBudget = SCRATCH_BUDGET_BYTES,
  ) {
    this.device = ctx.name;
  }

  /** A backend on a device of its own (tests); dispose() destroys it. */
  static async create(
    gpu: GPU,
    options: { keepAlive?: unknown; scratchBudget?: number } = {},
  ): Promise<WebGpuLinRfmBackend> {
    const ctx = await GpuContext.open(gpu, 'feature-lens linrfm', options.keepAlive);
    return new WebGpuLinRfmBackend(ctx, () => ctx.dispose(), options.scratchBudget);
  }

  /** A backend on the surface's shared device; dispose() gives it back. */
  static async leased(lease: GpuLease): Promise<WebGpuLinRfmBackend> {
    return new WebGpuLinRfmBackend(await lease.acquire(), () => lease.release());
  }

  async setProblem(problem: LinRfmProblem): Promise<void> {
    this.live('setProblem');
    this.freeProblem();
    const { rows: m, cols: d, train, validation } = problem;
    const dPad = roundUp(d, 4);
    const ctx = this.ctx;
    ctx.checkBinding(m * dPad * 4, `the ${m} x ${d} completed matrix (f32)`);
    ctx.checkBinding(dPad * dPad * 4, `the ${d} x ${d} Gram matrix (f32)`);
    const small: number[] = [];
    const large: number[] = [];
    let kMax = 0;
    for (let i = 0; i < m; i++) {
      const k = train.rowPtr[i + 1] - train.rowPtr[i];
      (k <= RIDGE_SHARED_MAX ? small : large).push(i);
      if (k > RIDGE_SHARED_MAX) kMax = Math.max(kMax, k);
    }
    const slotFloats = large.length ? roundUp(tri(kMax) + kMax, 4) : 4;
    if (large.length) ctx.checkBinding(slotFloats * 4, `the ridge system of a row with ${kMax} observed entries`);
    const slotsPerBatch = Math.max(
      1,
      Math.min(large.length, Math.floor(Math.min(this.scratchBudget, ctx.maxBinding) / (slotFloats * 4))),
    );
    const valEntries = packEntries(validation, (i, j) => i * dPad + j);
    await ctx.run('linrfm setProblem', async () => {
      const buf = (size: number, label: string): GPUBuffer => ctx.persistent(size, STORAGE, `linrfm ${label}`);
      const put = (b: GPUBuffer, data: Uint32Array): void => {
        if (data.byteLength) ctx.device.queue.writeBuffer(b, 0, data.buffer, data.byteOffset, data.byteLength);
      };
      const p: DeviceProblem = {
        m,
        d,
        dPad,
        rowPtr: buf((m + 1) * 4, 'rowPtr'),
        obs: buf(train.colIdx.length * 8, 'train entries'),
        rowList: buf(m * 4, 'row order'),
        small: small.length,
        large: large.length,
        slotFloats,
        slotsPerBatch,
        scratch: buf(slotsPerBatch * slotFloats * 4, 'long-row scratch'),
        validation: buf(valEntries.byteLength, 'validation entries'),
        validationCount: validation.colIdx.length,
        W: buf(m * dPad * 4, 'W'),
        best: buf(m * dPad * 4, 'best W'),
        G: buf(dPad * dPad * 4, 'G'),
        P: buf(dPad * dPad * 4, 'P'),
        fitRes: buf(m * 4, 'row train residuals'),
        sse: buf(16, 'validation sum'),
        pScale: 1,
      };
      this.problem = p;
      put(p.rowPtr, Uint32Array.from(train.rowPtr));
      put(
        p.obs,
        packEntries(train, (_i, j) => j),
      );
      put(p.rowList, Uint32Array.from([...small, ...large]));
      put(p.validation, valEntries);
    });
  }

  async setP(P: Float64Array): Promise<void> {
    const p = this.current('setP');
    if (P.length !== p.d * p.d) throw new RangeError(`linrfm setP: P has ${P.length} entries, expected ${p.d * p.d}`);
    const padded = new Float32Array(p.dPad * p.dPad);
    for (let a = 0; a < p.d; a++) for (let b = 0; b < p.d; b++) padded[a * p.dPad + b] = P[a * p.d + b];
    await this.ctx.run('linrfm setP', async () => {
      this.ctx.device.queue.writeBuffer(p.P, 0, padded.buffer, 0, padded.byteLength);
      p.pScale = 1;
    });
  }

  iterate(reg: number): Promise<LinRfmStep> {
    const p = this.current('iterate');
    if (!(reg > 0)) throw new RangeError(`linrfm iterate: the ridge must be positive, got ${reg}`);
    return this.ctx.run('linrfm iterate', async (op) => {
      const ctx = this.ctx;
      const maxGroups = ctx.device.limits.maxComputeWorkgroupsPerDimension;
      const grid = (n: number): [number, number] => {
        const x = Math.max(1, Math.min(n, maxGroups));
        return [x, Math.ceil(n / x)];
      };
      const enc = ctx.device.createCommandEncoder({ label: 'linrfm iterate' });
      const pass = enc.beginComputePass();
      const ridge = (rowOffset: number, rowCount: number, global: number, slotFloats: number): void =>
        ctx.dispatchProgram(
          op,
          pass,
          ridgePredict,
          { rowOffset, rowCount, d: p.d, ldP: p.dPad, ldW: p.dPad, lambda: reg, pScale: p.pScale, slotFloats },
          [p.rowList, p.rowPtr, p.obs, p.P, p.W, p.fitRes, p.scratch],
          grid(rowCount),
          { SCRATCH_GLOBAL: global },
        );
      if (p.small) ridge(0, p.small, 0, 0);
      for (let at = 0; at < p.large; at += p.slotsPerBatch)
        ridge(p.small + at, Math.min(p.slotsPerBatch, p.large - at), 1, p.slotFloats);
      ctx.dispatchProgram(op, pass, heldOutError, { count: p.validationCount }, [p.W, p.validation, p.sse], [1, 1]);
      encodeTransposeProduct(this.ctx, op, pass, [p.W, p.W, p.G], p.m, p.dPad, p.dPad, 'WᵀW', { symmetric: true });
      pass.end();
      const [res, sse] = await ctx.readBack(op, enc, [
        [p.fitRes, 0, p.m],
        [p.sse, 0, 1],
      ]);
      let trainSse = 0;
      for (let i = 0; i < p.m; i++) {
        if (res[i] < 0)
          throw new BackendError(
            'webgpu',
            `linrfm: the f32 Cholesky of row ${i} lost positive definiteness (ridge ${reg} too small for f32)`,
          );
        trainSse += res[i];
      }
      return { trainSse, validationSse: p.validationCount ? sse[0] : 0 };
    });
  }

  updateP(rule: LinRfmPRule): Promise<void> {
    const p = this.current('updateP');
    return this.ctx.run('linrfm updateP', async (op) => {
      const enc = this.ctx.device.createCommandEncoder({ label: 'linrfm updateP' });
      if (rule === 'gram') {
        enc.copyBufferToBuffer(p.G, 0, p.P, 0, p.dPad * p.dPad * 4);
        p.pScale = 1 / p.m;
      } else {
        // G is symmetric, so GᵀG = G².
        const pass = enc.beginComputePass();
        encodeTransposeProduct(this.ctx, op, pass, [p.G, p.G, p.P], p.dPad, p.dPad, p.dPad, 'G·G', { symmetric: true });
        pass.end();
        p.pScale = 1 / (p.m * p.m);
      }
      this.ctx.device.queue.submit([enc.finish()]);
    });
  }

  async readGram(): Promise<Float64Array> {
    const p = this.current('readGram');
    const raw = await this.read('linrfm readGram', p.G, p.dPad, p.dPad);
    const out = new Float64Array(p.d * p.d);
    for (let a = 0; a < p.d; a++) for (let b = 0; b < p.d; b++) out[a * p.d + b] = raw[a * p.dPad + b] / p.m;
    return out;
  }

  keepBest(): Promise<void> {
    const p = this.current('keepBest');
    return this.ctx.run('linrfm keepBest', async () => {
      const enc = this.ctx.device.createCommandEncoder({ label: 'linrfm keepBest' });
      enc.copyBufferToBuffer(p.W, 0, p.best, 0, p.m * p.dPad * 4);
      this.ctx.device.queue.submit([enc.finish()]);
    });
  }

  async readCompleted(which: 'current' | 'best'): Promise<Float64Array> {
    const p = this.current('readCompleted');
    const raw = await this.read('linrfm readCompleted', which === 'best' ? p.best : p.W, p.m, p.dPad);
    const out = new Float64Array(p.m * p.d);
    for (let i = 0; i < p.m; i++) for (let j = 0; j < p.d; j++) out[i * p.d + j] = raw[i * p.dPad + j];
    return out;
  }

  /** Gives the device back (the lease keeps it for the next run); this backend is unusable afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.freeProblem();
    this.release();
  }

  private read(name: string, buf: GPUBuffer, rows: number, ld: number): Promise<Float64Array> {
    return this.ctx.run(name, async (op) => {
      const enc = this.ctx.device.createCommandEncoder({ label: name });
      const [out] = await this.ctx.readBack(op, enc, [[buf, 0, rows * ld]]);
      return out;
    });
  }

  private live(what: string): void {
    if (this.disposed) throw new BackendError('webgpu', `linrfm ${what}: backend already disposed`);
  }

  private current(what: string): DeviceProblem {
    this.live(what);
    if (!this.problem) throw new RangeError(`linrfm ${what}: setProblem first`);
    return this.problem;
  }

  private freeProblem(): void {
    const p = this.problem;
    if (!p) return;
    this.problem = null;
    this.ctx.destroyPersistent(
      p.rowPtr,
      p.obs,
      p.rowList,
      p.scratch,
      p.validation,
      p.W,
      p.best,
      p.G,
      p.P,
      p.fitRes,
      p.sse,
    );
  }
}
