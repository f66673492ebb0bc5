// The catapult lab's two-layer ReLU sessions on any GPUDevice (navigator.gpu or Dawn in Node). A
// session uploads X, y and the weights once and keeps them resident in f32; a GD/SGD step is three
// dispatches with nothing read back; residuals, NTK-vector products and the d x d AGOP come back as
// float64. Nothing n x n is formed: K v = J (J^T v) / n.
import { BackendError } from '../errors';
import type { GpuLease } from '../gpu/lease';
import { GpuContext, USAGE_COPY_DST, USAGE_COPY_SRC, USAGE_STORAGE, roundUp, type GpuOp } from '../gpu/context';
import { reluForward, reluInputGrad, reluNtkApply, reluUpdate, reluWeightGrad } from './kernels/programs';
import { encodeTransposeProduct } from '../gpu/encodeTransposeProduct';
import type { CatapultBackend, ReluProblem, ReluSession } from './backend';

export class WebGpuCatapultBackend implements CatapultBackend {
  readonly name = 'webgpu' as const;
  readonly device: string;
  readonly ctx: GpuContext;
  private disposed = false;

  /** `release` gives the context back (a lease's release(), or disposing a context of its own). */
  constructor(
    ctx: GpuContext,
    private readonly release: () => void = () => {},
  ) {
    this.ctx = ctx;
    this.device = ctx.name;
  }

  static async create(gpu: GPU, options: { keepAlive?: unknown } = {}): Promise<WebGpuCatapultBackend> {
    const ctx = await GpuContext.open(gpu, 'feature-lens catapult', options.keepAlive);
    return new WebGpuCatapultBackend(ctx, () => ctx.dispose());
  }

  /** A backend on the surface's shared device; dispose() gives it back. */
  static async leased(lease: GpuLease): Promise<WebGpuCatapultBackend> {
    return new WebGpuCatapultBackend(await lease.acquire(), () => lease.release());
  }

  /** Buffers currently allocated: those of open sessions only. */
  get liveBuffers(): number {
    return this.ctx.liveBuffers;
  }

  async createSession(p: ReluProblem): Promise<ReluSession> {
    const n = p.X.rows,
      d = p.X.cols,
      m = p.width;
    if (p.W.length !== m * d || p.a.length !== m || p.y.length !== n)
      throw new RangeError('catapult webgpu: problem shapes disagree');
    if (this.disposed) throw new BackendError('webgpu', 'catapult createSession: backend already disposed');
    return this.ctx.run('catapult createSession', async () => new WebGpuReluSession(this.ctx, p));
  }

  /** Gives the device back (the lease keeps it for the next run); this backend is unusable afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.release();
  }
}

class WebGpuReluSession implements ReluSession {
  private readonly n: number;
  private readonly d: number;
  private readonly m: number;
  private readonly dPad: number;
  private readonly X: GPUBuffer;
  private readonly y: GPUBuffer;
  private readonly W: GPUBuffer;
  private readonly a: GPUBuffer;
  private readonly Z: GPUBuffer;
  private readonly e: GPUBuffer;
  private readonly rows: GPUBuffer;
  private readonly gW: GPUBuffer;
  private readonly ga: GPUBuffer;
  private readonly all: GPUBuffer[];
  private closed = false;

  constructor(
    private readonly ctx: GpuContext,
    p: ReluProblem,
  ) {
    this.n = p.X.rows;
    this.d = p.X.cols;
    this.m = p.width;
    const { n, d, m } = this;
    this.dPad = roundUp(d, 4);
    ctx.checkBinding(n * m * 4, `hidden activations of ${n} rows x ${m} units`);
    ctx.checkBinding(n * this.dPad * 4, `${n} rows x ${d} inputs`);
    const rw = USAGE_STORAGE | USAGE_COPY_DST | USAGE_COPY_SRC;
    this.X = this.resident(padRows(p.X.data, n, d, this.dPad), 'catapult inputs X');
    this.y = this.resident(Float32Array.from(p.y), 'catapult targets y');
    this.W = this.resident(padRows(p.W, m, d, this.dPad), 'catapult first-layer weights W');
    this.a = this.resident(Float32Array.from(p.a), 'catapult second-layer weights a');
    this.Z = ctx.persistent(n * m * 4, rw, 'catapult hidden pre-activations Z');
    this.e = ctx.persistent(n * 4, rw, 'catapult residuals / coefficients');
    this.rows = ctx.persistent(n * 4, rw, 'catapult batch rows');
    this.gW = ctx.persistent(m * this.dPad * 4, rw, 'catapult J^T v (W part)');
    this.ga = ctx.persistent(m * 4, rw, 'catapult J^T v (a part)');
    this.all = [this.X, this.y, this.W, this.a, this.Z, this.e, this.rows, this.gW, this.ga];
  }

  private resident(data: Float32Array, label: string): GPUBuffer {
    const buf = this.ctx.persistent(data.byteLength, USAGE_STORAGE | USAGE_COPY_DST | USAGE_COPY_SRC, label);
    this.ctx.device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
    return buf;
  }

  private run<T>(name: string, body: (op: GpuOp) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new BackendError('webgpu', `${name}: session already disposed`));
    return this.ctx.run(name, body);
  }

  /** Z and residuals for `count` rows (rows buffer when useRows). */
  private encodeForward(op: GpuOp, pass: GPUComputePassEncoder, count: number, useRows: boolean): void {
    this.ctx.dispatchProgram(
      op,
      pass,
      reluForward,
      { count, m: this.m, dPad4: this.dPad / 4, useRows: useRows ? 1 : 0, scale: 1 / Math.sqrt(this.m) },
      [this.X, this.W, this.a, this.y, this.rows, this.Z, this.e],
      [Math.ceil(count / 64), 1],
    );
  }

  private encodeWeightGrad(
    op: GpuOp,
    pass: GPUComputePassEncoder,
    count: number,
    useRows: boolean,
    v: GPUBuffer,
  ): void {
    this.ctx.dispatchProgram(
      op,
      pass,
      reluWeightGrad,
      { count, m: this.m, dPad4: this.dPad / 4, useRows: useRows ? 1 : 0 },
      [this.X, this.rows, this.Z, v, this.gW, this.ga],
      [Math.ceil((this.m * this.dPad) / 4 / 64), 1],
    );
  }

  async residuals(): Promise<Float64Array> {
    return this.run('catapult residuals', async (op) => {
      const enc = this.ctx.device.createCommandEncoder({ label: 'catapult residuals' });
      const pass = enc.beginComputePass({ label: 'catapult residuals' });
      this.encodeForward(op, pass, this.n, false);
      pass.end();
      const [r] = await this.ctx.readBack(op, enc, [[this.e, 0, this.n]]);
      return r;
    });
  }

  async step(lr: number, rows?: Uint32Array): Promise<void> {
    // Caller mistakes are not device failures: checked before the op, so they stay RangeErrors.
    if (rows) for (const i of rows) if (i >= this.n) throw new RangeError(`catapult step: row ${i} of ${this.n}`);
    if (rows?.length === 0) return;
    return this.run('catapult step', async (op) => {
      const count = rows ? rows.length : this.n;
      if (rows) {
        this.ctx.device.queue.writeBuffer(this.rows, 0, rows.buffer, rows.byteOffset, rows.byteLength);
      }
      const enc = this.ctx.device.createCommandEncoder({ label: 'catapult step' });
      const pass = enc.beginComputePass({ label: 'catapult step' });
      this.encodeForward(op, pass, count, !!rows);
      this.encodeWeightGrad(op, pass, count, !!rows, this.e);
      this.ctx.dispatchProgram(
        op,
        pass,
        reluUpdate,
        { m: this.m, dPad4: this.dPad / 4, s: lr / (Math.sqrt(this.m) * count) },
        [this.W, this.a, this.gW, this.ga],
        [Math.ceil(this.m / 64), 1],
      );
      pass.end();
      this.ctx.device.queue.submit([enc.finish()]);
    });
  }

  async ntkMatVec(v: Float64Array): Promise<Float64Array> {
    if (v.length !== this.n) throw new RangeError(`ntkMatVec: vector of ${v.length}, ${this.n} rows`);
    return this.run('catapult ntkMatVec', async (op) => {
      const vBuf = this.ctx.upload(op, Float32Array.from(v), 'NTK product input v');
      const out = this.ctx.buffer(op, this.n * 4, USAGE_STORAGE | USAGE_COPY_SRC, 'NTK product K v');
      const enc = this.ctx.device.createCommandEncoder({ label: 'catapult ntkMatVec' });
      const pass = enc.beginComputePass({ label: 'catapult ntkMatVec' });
      this.encodeForward(op, pass, this.n, false);
      this.encodeWeightGrad(op, pass, this.n, false, vBuf);
      this.ctx.dispatchProgram(
        op,
        pass,
        reluNtkApply,
        { n: this.n, m: this.m, dPad4: this.dPad / 4, s: 1 / (this.m * this.n) },
        [this.X, this.Z, this.a, this.gW, this.ga, out],
        [Math.ceil(this.n / 64), 1],
      );
      pass.end();
      const [r] = await this.ctx.readBack(op, enc, [[out, 0, this.n]]);
      return r;
    });
  }

  async agop(): Promise<Float64Array> {
    return this.run('catapult agop', async (op) => {
      const { n, d, dPad } = this;
      const G = this.ctx.buffer(op, n * dPad * 4, USAGE_STORAGE, 'input gradients');
      const gram = this.ctx.buffer(op, dPad * dPad * 4, USAGE_STORAGE | USAGE_COPY_SRC, 'input gradient gram');
      const enc = this.ctx.device.createCommandEncoder({ label: 'catapult agop' });
      const pass = enc.beginComputePass({ label: 'catapult agop' });
      this.encodeForward(op, pass, n, false);
      this.ctx.dispatchProgram(
        op,
        pass,
        reluInputGrad,
        { n, m: this.m, dPad4: dPad / 4, scale: 1 / Math.sqrt(this.m) },
        [this.Z, this.a, this.W, G],
        [Math.ceil((n * dPad) / 4 / 64), 1],
      );
      encodeTransposeProduct(this.ctx, op, pass, [G, G, gram], n, dPad, dPad, 'input-gradient Gram');
      pass.end();
      const [g] = await this.ctx.readBack(op, enc, [[gram, 0, dPad * dPad]]);
      const out = new Float64Array(d * d);
      for (let r = 0; r < d; r++)
        for (let c = 0; c < d; c++) out[r * d + c] = (0.5 * (g[r * dPad + c] + g[c * dPad + r])) / n;
      return out;
    });
  }

  async weights(): Promise<{ W: Float64Array; a: Float64Array }> {
    return this.run('catapult weights', async (op) => {
      const enc = this.ctx.device.createCommandEncoder({ label: 'catapult weights' });
      const [Wp, a] = await this.ctx.readBack(op, enc, [
        [this.W, 0, this.m * this.dPad],
        [this.a, 0, this.m],
      ]);
      const W = new Float64Array(this.m * this.d);
      for (let j = 0; j < this.m; j++) for (let k = 0; k < this.d; k++) W[j * this.d + k] = Wp[j * this.dPad + k];
      return { W, a };
    });
  }

  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    // WebGPU defers freeing a destroyed buffer until work already submitted with it has finished.
    this.ctx.destroyPersistent(...this.all);
  }
}

function padRows(src: ArrayLike<number>, rows: number, cols: number, width: number): Float32Array {
  const out = new Float32Array(rows * width);
  for (let i = 0; i < rows; i++) for (let k = 0; k < cols; k++) out[i * width + k] = src[i * cols + k];
  return out;
}
