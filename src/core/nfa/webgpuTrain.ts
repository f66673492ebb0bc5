// The training lab on any GPUDevice (navigator.gpu or Dawn in Node). A session uploads X, Y, the weights
// and the optimizer moments once; a minibatch step is gather, forward, MSE delta, backward and the
// optimizer update, all dispatches in one pass with nothing read back. Only the epoch's loss (per-row
// squared errors, summed in float64 on the host), gradients on request and checkpoints come back.
// Weights, gradients and moments live in flat f32 vectors with every layer's W and b at aligned offsets,
// so the forward/backward kernels bind ranges of them and the optimizer is one elementwise dispatch.
// Backward: delta_{L-1} = 2/(Bc) (Z - Y); per layer gW, gB = delta^T [H, 1]; G_l = delta_l W_l and
// delta_{l-1} = G_l * act'(Z_{l-1}) with mlpJacobian.wgsl (c = 1) — the NFA Jacobian kernel's two modes.
import { BackendError } from '../errors';
import {
  GpuContext,
  USAGE_COPY_DST,
  USAGE_COPY_SRC,
  USAGE_STORAGE,
  USAGE_UNIFORM,
  grid1d,
  roundUp,
  type Binding,
  type GpuOp,
} from '../gpu/context';
import { packParams, type GpuProgram, type ParamValues } from '../gpu/program';
import {
  mlpForward,
  mlpGatherRows,
  mlpJacobian,
  mlpMseDelta,
  mlpOptimizerStep,
  mlpWeightGrad,
} from './kernels/programs';
import { ACTIVATION_WGSL_CODE } from './activation';
import {
  checkProblem,
  cloneMlp,
  decayFactor,
  freshOptimizerState,
  hasBias,
  parameterTensors,
  type OptimizerState,
  type TrainProblem,
  type TrainSession,
} from './backend';
import type { LossAndGrads } from './mlp';
import type { Mlp } from './network';

/** Rows per forward chunk of the epoch loss, at most (each chunk's activations are one buffer per layer). */
const LOSS_CHUNK_ROWS = 4096;

export interface WebGpuTrainOptions {
  /** Largest per-layer activation buffer of one loss chunk (bytes); the chunk rows follow. Minibatches are limited by the device only. */
  maxBatchBytes: number;
}

interface LayerLayout {
  inDim: number;
  outDim: number;
  inPad: number;
  outPad: number;
  /** Offsets (f32 elements) of W (outPad x inPad) and b (outPad) in the flat parameter vector. */
  wOff: number;
  bOff: number;
}

/** One dispatch before it is bound: a declared program, its named uniform values, then its buffers. */
interface DispatchSpec<F extends string = string> {
  program: GpuProgram<F>;
  values: ParamValues<F>;
  buffers: Binding[];
  groups: [number, number];
  constants: Record<string, number>;
}

/** A spec whose values are checked against the program's declared Params. */
function spec<F extends string>(
  program: GpuProgram<F>,
  values: ParamValues<F>,
  buffers: Binding[],
  groups: [number, number],
  constants: Record<string, number> = {},
): DispatchSpec {
  return { program, values, buffers, groups, constants };
}

/** Per-batch activations, sized for `rows` rows. */
interface BatchBuffers {
  rows: number;
  Xb: GPUBuffer;
  Yb: GPUBuffer;
  Z: GPUBuffer[];
  A: GPUBuffer[];
  delta: GPUBuffer[];
  /** G[l] = dLoss/d(input of layer l), l >= 1 (G[0] unused). */
  G: (GPUBuffer | null)[];
  rowLoss: GPUBuffer;
}

interface BoundDispatch {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  groups: [number, number];
}

export class WebGpuTrainSession implements TrainSession {
  private readonly n: number;
  private readonly c: number;
  private readonly layers: LayerLayout[];
  private readonly count: number;
  private readonly net: Mlp;
  /** False: the network has no biases; their slots stay zero (their gradients are never written). */
  private readonly bias: boolean;
  private readonly X: GPUBuffer;
  private readonly Y: GPUBuffer;
  private readonly order: GPUBuffer;
  private readonly params: GPUBuffer;
  private readonly grads: GPUBuffer;
  private readonly m1: GPUBuffer;
  private readonly m2: GPUBuffer;
  private step: number;
  private batch: { buffers: BatchBuffers; owned: GPUBuffer[]; programs: Map<number, BoundDispatch[]> } | null = null;
  private closed = false;

  /** Call inside ctx.run (device errors of the uploads then surface as one BackendError). */
  constructor(
    private readonly ctx: GpuContext,
    private readonly problem: TrainProblem,
    private readonly options: WebGpuTrainOptions,
  ) {
    checkProblem(problem);
    const { X, Y, net } = problem;
    this.n = X.rows;
    this.c = Y.cols;
    this.net = cloneMlp(net);
    this.bias = hasBias(net);
    const align = Math.max(4, ctx.device.limits.minStorageBufferOffsetAlignment / 4);
    let at = 0;
    this.layers = net.layers.map((l) => {
      const inPad = roundUp(l.inDim, 4),
        outPad = roundUp(l.outDim, 4);
      const wOff = roundUp(at, align);
      const bOff = roundUp(wOff + outPad * inPad, align);
      at = bOff + outPad;
      return { inDim: l.inDim, outDim: l.outDim, inPad, outPad, wOff, bOff };
    });
    this.count = roundUp(at, 4);
    const d0 = this.layers[0].inPad,
      cPad = this.layers[this.layers.length - 1].outPad;
    ctx.checkBinding(this.count * 4, `the network's ${this.count} parameters (padded)`);
    ctx.checkBinding(this.n * d0 * 4, `${this.n} training rows x ${X.cols} inputs`);
    ctx.checkBinding(this.n * cPad * 4, `${this.n} training rows x ${this.c} targets`);
    const state = problem.resume ?? freshOptimizerState(net);
    this.step = state.step;
    this.X = this.resident(padRows(X.data, this.n, X.cols, d0), 'lab training inputs X');
    this.Y = this.resident(padRows(Y.data, this.n, this.c, cPad), 'lab training targets Y');
    this.order = ctx.persistent(this.n * 4, USAGE_STORAGE | USAGE_COPY_DST, 'lab minibatch row order');
    this.params = this.resident(this.flat(parameterTensors(net)), 'lab parameters (flat W, b per layer)');
    this.m1 = this.resident(this.flat(state.m1), 'lab optimizer first moments');
    this.m2 = this.resident(this.flat(state.m2), 'lab optimizer second moments');
    this.grads = ctx.persistent(this.count * 4, USAGE_STORAGE | USAGE_COPY_SRC, 'lab gradients (flat)');
  }

  private resident(data: Float32Array, label: string): GPUBuffer {
    const buf = this.ctx.persistent(data.byteLength, USAGE_STORAGE | USAGE_COPY_DST | USAGE_COPY_SRC, label);
    this.ctx.device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
    return buf;
  }

  /** Tensors W_0, b_0, W_1, ... packed at the layout's padded, aligned offsets. */
  private flat(tensors: Float64Array[]): Float32Array {
    const out = new Float32Array(this.count);
    this.layers.forEach((L, l) => {
      const W = tensors[2 * l],
        b = tensors[2 * l + 1];
      for (let o = 0; o < L.outDim; o++)
        for (let k = 0; k < L.inDim; k++) out[L.wOff + o * L.inPad + k] = W[o * L.inDim + k];
      for (let o = 0; o < b.length; o++) out[L.bOff + o] = b[o];
    });
    return out;
  }

  private unflat(v: Float64Array): Float64Array[] {
    return this.layers.flatMap((L) => {
      const W = new Float64Array(L.outDim * L.inDim);
      for (let o = 0; o < L.outDim; o++)
        for (let k = 0; k < L.inDim; k++) W[o * L.inDim + k] = v[L.wOff + o * L.inPad + k];
      return [W, this.bias ? v.slice(L.bOff, L.bOff + L.outDim) : new Float64Array(0)];
    });
  }

  private run<T>(name: string, body: (op: GpuOp) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new BackendError('webgpu', `${name}: training session already disposed`));
    return this.ctx.run(name, body);
  }

  private wRange(buf: GPUBuffer, l: number): Binding {
    const L = this.layers[l];
    return { buffer: buf, offset: L.wOff * 4, size: L.outPad * L.inPad * 4 };
  }

  private bRange(buf: GPUBuffer, l: number): Binding {
    const L = this.layers[l];
    return { buffer: buf, offset: L.bOff * 4, size: L.outPad * 4 };
  }

  private grid(invocations: number): [number, number, number] {
    return grid1d(invocations, this.ctx.device.limits.maxComputeWorkgroupsPerDimension);
  }

  /** Forward of B batch rows (Xb -> Z, A per layer), then the MSE delta and row losses at lossOffset. */
  private forwardSpecs(bb: BatchBuffers, B: number, lossOffset: number): DispatchSpec[] {
    const specs: DispatchSpec[] = [];
    const act = ACTIVATION_WGSL_CODE[this.net.activation];
    this.layers.forEach((L, l) => {
      const [gx, gy, stride] = this.grid(Math.ceil(B / 4) * (L.outPad / 4));
      specs.push(
        spec(
          mlpForward,
          { rows: B, inPad4: L.inPad / 4, outDim: L.outDim, outPad4: L.outPad / 4, xStride: stride },
          [l === 0 ? bb.Xb : bb.A[l - 1], this.wRange(this.params, l), this.bRange(this.params, l), bb.Z[l], bb.A[l]],
          [gx, gy],
          { ACTIVATION: act },
        ),
      );
    });
    const last = this.layers.length - 1;
    specs.push(
      spec(
        mlpMseDelta,
        { rows: B, cPad4: this.layers[last].outPad / 4, scale: 2 / (B * this.c), lossOffset },
        [bb.Z[last], bb.Yb, bb.delta[last], bb.rowLoss],
        [Math.ceil(B / 64), 1],
      ),
    );
    return specs;
  }

  /** Back-propagation of the deltas through every layer into the flat gradient vector. */
  private backwardSpecs(bb: BatchBuffers, B: number): DispatchSpec[] {
    const specs: DispatchSpec[] = [];
    const act = ACTIVATION_WGSL_CODE[this.net.activation];
    for (let l = this.layers.length - 1; l >= 0; l--) {
      const L = this.layers[l];
      const H = l === 0 ? bb.Xb : bb.A[l - 1];
      let [gx, gy, stride] = this.grid((L.outPad / 4) * (L.inPad / 4));
      specs.push(
        spec(
          mlpWeightGrad,
          { rows: B, outPad4: L.outPad / 4, inPad4: L.inPad / 4, xStride: stride },
          [bb.delta[l], H, this.wRange(this.grads, l), this.bRange(this.grads, l)],
          [gx, gy],
          { HAS_BIAS: this.bias ? 1 : 0 },
        ),
      );
      if (l === 0) break;
      const G = bb.G[l] as GPUBuffer;
      // G_l = delta_l W_l: identity activation (Z bound but its derivative is 1).
      [gx, gy, stride] = this.grid(Math.ceil(B / 4) * (L.inPad / 4));
      specs.push(
        spec(
          mlpJacobian,
          { jRows: B, c: 1, mPad4: L.outPad / 4, nPad4: L.inPad / 4, xStride: stride },
          [bb.delta[l], bb.delta[l], this.wRange(this.params, l), G],
          [gx, gy],
          { ACTIVATION: ACTIVATION_WGSL_CODE.identity, SHARED_NEXT: 0, MASK_ONLY: 0 },
        ),
      );
      // delta_{l-1} = G_l * act'(Z_{l-1}) (W bound, unread).
      specs.push(
        spec(
          mlpJacobian,
          { jRows: B, c: 1, mPad4: L.inPad / 4, nPad4: L.inPad / 4, xStride: stride },
          [G, bb.Z[l - 1], this.wRange(this.params, l), bb.delta[l - 1]],
          [gx, gy],
          { ACTIVATION: act, SHARED_NEXT: 0, MASK_ONLY: 1 },
        ),
      );
    }
    return specs;
  }

  private allocBatch(rows: number, make: (size: number, label: string) => GPUBuffer): BatchBuffers {
    const widest = Math.max(...this.layers.map((L) => Math.max(L.inPad, L.outPad)));
    this.ctx.checkBinding(rows * widest * 4, `a minibatch of ${rows} rows x ${widest} units`);
    const last = this.layers[this.layers.length - 1];
    return {
      rows,
      Xb: make(rows * this.layers[0].inPad * 4, 'lab batch inputs'),
      Yb: make(rows * last.outPad * 4, 'lab batch targets'),
      Z: this.layers.map((L, l) => make(rows * L.outPad * 4, `lab batch pre-activation of layer ${l}`)),
      A: this.layers.map((L, l) => make(rows * L.outPad * 4, `lab batch activation of layer ${l}`)),
      delta: this.layers.map((L, l) => make(rows * L.outPad * 4, `lab batch dLoss/dZ of layer ${l}`)),
      G: this.layers.map((L, l) =>
        l === 0 ? null : make(rows * L.inPad * 4, `lab batch dLoss/d(input) of layer ${l}`),
      ),
      rowLoss: make(rows * 4, 'lab batch row losses'),
    };
  }

  /** The batch buffers for at least `rows` rows, and forward+backward bound once per batch size (uniforms included). */
  private programFor(rows: number): { bb: BatchBuffers; dispatches: BoundDispatch[] } {
    if (!this.batch || this.batch.buffers.rows < rows) {
      if (this.batch) this.ctx.destroyPersistent(...this.batch.owned);
      const owned: GPUBuffer[] = [];
      const buffers = this.allocBatch(rows, (size, label) => {
        const b = this.ctx.persistent(size, USAGE_STORAGE | USAGE_COPY_SRC, label);
        owned.push(b);
        return b;
      });
      this.batch = { buffers, owned, programs: new Map() };
    }
    const batch = this.batch;
    let dispatches = batch.programs.get(rows);
    if (!dispatches) {
      dispatches = [...this.forwardSpecs(batch.buffers, rows, 0), ...this.backwardSpecs(batch.buffers, rows)].map(
        (s) => {
          const pipeline = this.ctx.pipeline(s.program, s.constants);
          const params = packParams(s.program, s.values);
          const uniform = this.ctx.persistent(
            params.byteLength,
            USAGE_UNIFORM | USAGE_COPY_DST,
            `${s.program.name} params (batch of ${rows})`,
          );
          batch.owned.push(uniform);
          this.ctx.device.queue.writeBuffer(uniform, 0, params);
          const bindGroup = this.ctx.device.createBindGroup({
            label: `${s.program.name} bindings (batch of ${rows})`,
            layout: pipeline.getBindGroupLayout(0),
            entries: [uniform, ...s.buffers].map((b, binding) => ({
              binding,
              resource: 'buffer' in b ? b : { buffer: b },
            })),
          });
          return { pipeline, bindGroup, groups: s.groups };
        },
      );
      batch.programs.set(rows, dispatches);
    }
    return { bb: batch.buffers, dispatches };
  }

  /** Caller mistakes are not device failures: checked before the op, so they stay RangeErrors. */
  private checkRows(rows: Uint32Array): void {
    if (rows.length > this.n) throw new RangeError(`training: ${rows.length} batch rows, the session has ${this.n}`);
    for (const i of rows) if (i >= this.n) throw new RangeError(`training: row ${i} of ${this.n}`);
  }

  /** Inside the op: an earlier call still queued behind another op must not see these rows. */
  private writeOrder(rows: Uint32Array): void {
    this.ctx.device.queue.writeBuffer(this.order, 0, rows.buffer, rows.byteOffset, rows.byteLength);
  }

  /** Copies B rows into the batch inputs and targets: order[start..start+B) (byOrder), else start..start+B. */
  private gather(op: GpuOp, pass: GPUComputePassEncoder, bb: BatchBuffers, start: number, B: number, byOrder: boolean) {
    this.ctx.dispatchProgram(
      op,
      pass,
      mlpGatherRows,
      { rows: B, start, xPad4: this.layers[0].inPad / 4, yPad4: this.layers[this.layers.length - 1].outPad / 4 },
      [this.order, this.X, this.Y, bb.Xb, bb.Yb],
      [Math.ceil(B / 64), 1],
      { USE_ORDER: byOrder ? 1 : 0 },
    );
  }

  /** Gathers rows order[start..start+B) and runs forward + backward: the flat gradients of that batch. */
  private encodeGradients(op: GpuOp, pass: GPUComputePassEncoder, start: number, B: number): BatchBuffers {
    const { bb, dispatches } = this.programFor(B);
    this.gather(op, pass, bb, start, B, true);
    for (const d of dispatches) {
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(d.groups[0], d.groups[1]);
    }
    return bb;
  }

  async steps(rows: Uint32Array, batch: number): Promise<void> {
    if (!(Number.isInteger(batch) && batch > 0)) throw new RangeError(`training: batch ${batch}`);
    if (rows.length === 0) return;
    this.checkRows(rows);
    const o = this.problem.optimizer;
    return this.run('nfa training steps', async (op) => {
      this.writeOrder(rows);
      const enc = this.ctx.device.createCommandEncoder({ label: 'lab training steps' });
      const pass = enc.beginComputePass({ label: 'lab training steps' });
      this.programFor(Math.min(batch, rows.length));
      const [gx, gy, stride] = this.grid(this.count / 4);
      for (let start = 0; start < rows.length; start += batch) {
        this.encodeGradients(op, pass, start, Math.min(batch, rows.length - start));
        const t = ++this.step;
        this.ctx.dispatchProgram(
          op,
          pass,
          mlpOptimizerStep,
          {
            count4: this.count / 4,
            xStride: stride,
            lr: o.lr,
            momentum: o.momentum,
            beta1: o.beta1,
            beta2: o.beta2,
            eps: o.eps,
            c1: 1 - o.beta1 ** t,
            c2: 1 - o.beta2 ** t,
            oneMinusBeta1: 1 - o.beta1,
            oneMinusBeta2: 1 - o.beta2,
            decay: decayFactor(o),
          },
          [this.params, this.grads, this.m1, this.m2],
          [gx, gy],
          { OPTIMIZER: o.kind === 'sgd' ? 0 : 1 },
        );
      }
      pass.end();
      this.ctx.device.queue.submit([enc.finish()]);
    });
  }

  async gradients(rows: Uint32Array): Promise<LossAndGrads> {
    if (rows.length === 0) throw new RangeError('training: gradients of no rows');
    this.checkRows(rows);
    return this.run('nfa training gradients', async (op) => {
      this.writeOrder(rows);
      const enc = this.ctx.device.createCommandEncoder({ label: 'lab gradients' });
      const pass = enc.beginComputePass({ label: 'lab gradients' });
      const bb = this.encodeGradients(op, pass, 0, rows.length);
      pass.end();
      const [g, rl] = await this.ctx.readBack(op, enc, [
        [this.grads, 0, this.count],
        [bb.rowLoss, 0, rows.length],
      ]);
      const tensors = this.unflat(g);
      return {
        loss: rl.reduce((s, v) => s + v, 0) / (rows.length * this.c),
        gradW: tensors.filter((_, i) => i % 2 === 0),
        gradB: tensors.filter((_, i) => i % 2 === 1),
      };
    });
  }

  async loss(): Promise<number> {
    return this.run('nfa training loss', async (op) => {
      const widest = Math.max(...this.layers.map((L) => Math.max(L.inPad, L.outPad)));
      const chunk = Math.max(
        1,
        Math.min(this.n, LOSS_CHUNK_ROWS, Math.floor(this.options.maxBatchBytes / (4 * widest))),
      );
      this.ctx.checkBinding(this.n * 4, `row losses of ${this.n} rows`);
      const bb = this.allocBatch(chunk, (size, label) =>
        this.ctx.buffer(op, size, USAGE_STORAGE | USAGE_COPY_SRC, label),
      );
      const rowLoss = this.ctx.buffer(op, this.n * 4, USAGE_STORAGE | USAGE_COPY_SRC, 'lab row losses (all rows)');
      const enc = this.ctx.device.createCommandEncoder({ label: 'lab loss' });
      const pass = enc.beginComputePass({ label: 'lab loss' });
      for (let r0 = 0; r0 < this.n; r0 += chunk) {
        const B = Math.min(chunk, this.n - r0);
        this.gather(op, pass, bb, r0, B, false);
        for (const s of this.forwardSpecs({ ...bb, rowLoss }, B, r0))
          this.ctx.dispatchProgram(op, pass, s.program, s.values, s.buffers, s.groups, s.constants);
      }
      pass.end();
      const [rl] = await this.ctx.readBack(op, enc, [[rowLoss, 0, this.n]]);
      let sum = 0;
      for (const v of rl) sum += v;
      return sum / (this.n * this.c);
    });
  }

  async checkpoint(): Promise<{ net: Mlp; state: OptimizerState }> {
    return this.run('nfa training checkpoint', async (op) => {
      const enc = this.ctx.device.createCommandEncoder({ label: 'lab checkpoint' });
      const [w, m1, m2] = await this.ctx.readBack(op, enc, [
        [this.params, 0, this.count],
        [this.m1, 0, this.count],
        [this.m2, 0, this.count],
      ]);
      const tensors = this.unflat(w);
      const net: Mlp = {
        ...this.net,
        layers: this.net.layers.map((l, i) => ({ ...l, W: tensors[2 * i], b: this.bias ? tensors[2 * i + 1] : null })),
      };
      return { net, state: { m1: this.unflat(m1), m2: this.unflat(m2), step: this.step } };
    });
  }

  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    // WebGPU defers freeing a destroyed buffer until work already submitted with it has finished.
    this.ctx.destroyPersistent(
      this.X,
      this.Y,
      this.order,
      this.params,
      this.grads,
      this.m1,
      this.m2,
      ...(this.batch?.owned ?? []),
    );
    this.batch = null;
  }
}

function padRows(src: ArrayLike<number>, rows: number, cols: number, width: number): Float32Array {
  const out = new Float32Array(rows * width);
  for (let i = 0; i < rows; i++) for (let k = 0; k < cols; k++) out[i * width + k] = src[i * cols + k];
  return out;
}
