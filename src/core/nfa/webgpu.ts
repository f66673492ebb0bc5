// NFA compute on any GPUDevice (navigator.gpu in a browser or webview, Dawn in Node): batched MLP
// forward and Jacobian back-propagation in WGSL. Per row batch the stacked Jacobians J_l (B*c x inDim_l)
// exist once on the device and only their Gram sums J_l^T J_l (inDim_l^2) come back; the float64 host
// adds batches. Device arithmetic is f32; the last layer's AGOP sum, B W^T W, is exact on the host.
import { BackendError } from '../errors';
import type { GpuLease } from '../gpu/lease';
import { GpuContext, USAGE_COPY_SRC, USAGE_STORAGE, grid1d, roundUp, type GpuOp } from '../gpu/context';
import { mlpForward, mlpJacobian } from './kernels/programs';
import { encodeTransposeProduct } from '../gpu/encodeTransposeProduct';
import { mat, type Mat } from '../mat';
import { ACTIVATION_WGSL_CODE } from './activation';
import type { NfaBackend, TrainProblem, TrainSession } from './backend';
import type { ConvNet } from './convnet';
import { ConvGpu } from './convWebgpu';
import type { Mlp } from './network';
import { WebGpuTrainSession } from './webgpuTrain';

export interface WebGpuNfaOptions {
  /** Largest single device buffer for per-batch activations or Jacobians (bytes). Default 32 MiB. */
  maxBatchBytes?: number;
}

interface LayerBuffers {
  W: GPUBuffer;
  b: GPUBuffer;
  inPad: number;
  outPad: number;
}

export class WebGpuNfaBackend implements NfaBackend {
  readonly name = 'webgpu' as const;
  readonly device: string;
  private readonly ctx: GpuContext;
  private readonly maxBatchBytes: number;
  private disposed = false;

  /** `release` gives the context back (a lease's release(), or disposing a context of its own). */
  constructor(
    ctx: GpuContext,
    options: WebGpuNfaOptions = {},
    private readonly release: () => void = () => {},
  ) {
    this.ctx = ctx;
    this.device = ctx.name;
    this.maxBatchBytes = Math.min(options.maxBatchBytes ?? 32 * 1024 ** 2, this.ctx.maxBinding);
  }

  static async create(gpu: GPU, options: WebGpuNfaOptions & { keepAlive?: unknown } = {}): Promise<WebGpuNfaBackend> {
    const ctx = await GpuContext.open(gpu, 'feature-lens nfa', options.keepAlive);
    return new WebGpuNfaBackend(ctx, options, () => ctx.dispose());
  }

  /** A backend on the surface's shared device; dispose() gives it back. */
  static async leased(lease: GpuLease, options: WebGpuNfaOptions = {}): Promise<WebGpuNfaBackend> {
    return new WebGpuNfaBackend(await lease.acquire(), options, () => lease.release());
  }

  /** Buffers currently allocated (0 between calls). */
  get liveBuffers(): number {
    return this.ctx.liveBuffers;
  }

  /** Gives the device back (the lease keeps it for the next run); this backend is unusable afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.release();
  }

  private run<T>(name: string, body: (op: GpuOp) => Promise<T>): Promise<T> {
    if (this.disposed) return Promise.reject(new BackendError('webgpu', `${name}: backend already disposed`));
    return this.ctx.run(name, body);
  }

  /** The lab's training on this device (shares the pipelines and the buffer count); dispose the session when done. */
  async createTrainSession(problem: TrainProblem): Promise<TrainSession> {
    return this.run(
      'nfa training session',
      async () => new WebGpuTrainSession(this.ctx, problem, { maxBatchBytes: this.maxBatchBytes }),
    );
  }

  async convForward(net: ConvNet, X: Mat): Promise<Mat> {
    return this.run('conv forward', (op) => new ConvGpu(this.ctx, this.maxBatchBytes).forward(op, net, X));
  }

  async outputGradGrams(net: ConvNet, X: Mat): Promise<Float64Array[]> {
    return this.run('conv patch-AGOP', (op) => new ConvGpu(this.ctx, this.maxBatchBytes).outputGradGrams(op, net, X));
  }

  async forward(net: Mlp, X: Mat): Promise<Mat> {
    checkInput(net, X);
    return this.run('nfa forward', async (op) => {
      const layers = this.uploadLayers(op, net);
      const c = net.layers[net.layers.length - 1].outDim;
      const cPad = layers[layers.length - 1].outPad;
      const out = new Float64Array(X.rows * c);
      const batch = this.batchRows(net, 1);
      for (let r0 = 0; r0 < X.rows; r0 += batch) {
        const rows = Math.min(batch, X.rows - r0);
        const enc = this.ctx.device.createCommandEncoder({ label: 'nfa forward batch' });
        const pass = enc.beginComputePass({ label: 'nfa forward batch' });
        const { pre } = this.encodeForward(op, pass, net, layers, X, r0, rows);
        pass.end();
        const [z] = await this.ctx.readBack(op, enc, [[pre[pre.length - 1], 0, rows * cPad]]);
        for (let r = 0; r < rows; r++) for (let o = 0; o < c; o++) out[(r0 + r) * c + o] = z[r * cPad + o];
        this.ctx.release(op, ...this.batchBuffers(op, layers));
      }
      return mat(X.rows, c, out);
    });
  }

  async features(net: Mlp, X: Mat): Promise<Float64Array[]> {
    checkInput(net, X);
    const hidden = net.layers.slice(0, -1);
    if (!hidden.length) return [];
    return this.run('nfa features', async (op) => {
      const layers = this.uploadLayers(op, net);
      const out = hidden.map((l) => new Float64Array(X.rows * l.outDim));
      const batch = this.batchRows(net, 1);
      for (let r0 = 0; r0 < X.rows; r0 += batch) {
        const rows = Math.min(batch, X.rows - r0);
        const enc = this.ctx.device.createCommandEncoder({ label: 'nfa features batch' });
        const pass = enc.beginComputePass({ label: 'nfa features batch' });
        const { post } = this.encodeForward(op, pass, net, layers, X, r0, rows);
        pass.end();
        const back = await this.ctx.readBack(
          op,
          enc,
          hidden.map((_, l) => [post[l], 0, rows * layers[l].outPad] as [GPUBuffer, number, number]),
        );
        hidden.forEach((layer, l) => {
          const m = layer.outDim,
            mPad = layers[l].outPad;
          for (let r = 0; r < rows; r++) for (let k = 0; k < m; k++) out[l][(r0 + r) * m + k] = back[l][r * mPad + k];
        });
        this.ctx.release(op, ...this.batchBuffers(op, layers));
      }
      return out;
    });
  }

  async convFeatures(net: ConvNet, X: Mat): Promise<Float64Array[]> {
    return this.run('conv features', (op) => new ConvGpu(this.ctx, this.maxBatchBytes).features(op, net, X));
  }

  async agopSums(net: Mlp, X: Mat): Promise<Float64Array[]> {
    checkInput(net, X);
    const L = net.layers.length;
    const last = net.layers[L - 1];
    const c = last.outDim;
    const sums = net.layers.map((l) => new Float64Array(l.inDim * l.inDim));
    // Every row's Jacobian at the last layer's input is W_{L-1} itself: the sum is B W^T W, exact here.
    for (let o = 0; o < c; o++) {
      const w = last.W.subarray(o * last.inDim, (o + 1) * last.inDim);
      for (let i = 0; i < last.inDim; i++)
        for (let j = 0; j < last.inDim; j++) sums[L - 1][i * last.inDim + j] += X.rows * (w[i] * w[j]);
    }
    if (L === 1 || X.rows === 0) return sums;
    return this.run('nfa agopSums', async (op) => {
      const layers = this.uploadLayers(op, net);
      const batch = this.batchRows(net, c);
      for (let r0 = 0; r0 < X.rows; r0 += batch) {
        const rows = Math.min(batch, X.rows - r0);
        const enc = this.ctx.device.createCommandEncoder({ label: 'nfa agop batch' });
        const pass = enc.beginComputePass({ label: 'nfa agop batch' });
        const { pre } = this.encodeForward(op, pass, net, layers, X, r0, rows);
        const grams: { l: number; buf: GPUBuffer; nPad: number }[] = [];
        let next = layers[L - 1].W;
        let shared = 1;
        for (let l = L - 2; l >= 0; l--) {
          const m = net.layers[l].outDim,
            n = net.layers[l].inDim;
          const mPad = layers[l].outPad,
            nPad = layers[l].inPad;
          const act = ACTIVATION_WGSL_CODE[net.activation];
          const gram = this.ctx.buffer(
            op,
            nPad * nPad * 4,
            USAGE_STORAGE | USAGE_COPY_SRC,
            `jacobian gram at layer ${l} input`,
          );
          grams.push({ l, buf: gram, nPad });
          if (l === 0 && narrowIsCheaper(rows * c, m, n)) {
            // sum J_0^T J_0 = W_0^T (sum V^T V) W_0 with V = J_1 * act'(Z_0): J_0 is never formed.
            const V = this.ctx.buffer(
              op,
              rows * c * mPad * 4,
              USAGE_STORAGE,
              'jacobian times activation derivative at layer 0 (batch)',
            );
            this.jacobianStep(
              op,
              pass,
              { ACTIVATION: act, SHARED_NEXT: shared, MASK_ONLY: 1 },
              rows * c,
              c,
              mPad,
              mPad,
              [next, pre[0], layers[0].W, V],
            );
            const H = this.ctx.buffer(op, mPad * mPad * 4, USAGE_STORAGE, 'V^T V at layer 0 (batch)');
            encodeTransposeProduct(
              this.ctx,
              op,
              pass,
              [V, V, H],
              rows * c,
              mPad,
              mPad,
              `layer '${net.layers[0].name}'`,
            );
            const HW = this.ctx.buffer(op, mPad * nPad * 4, USAGE_STORAGE, 'V^T V W at layer 0 (batch)');
            this.jacobianStep(
              op,
              pass,
              { ACTIVATION: ACTIVATION_WGSL_CODE.identity, SHARED_NEXT: 0, MASK_ONLY: 0 },
              mPad,
              1,
              mPad,
              nPad,
              [H, H, layers[0].W, HW],
            );
            encodeTransposeProduct(
              this.ctx,
              op,
              pass,
              [layers[0].W, HW, gram],
              mPad,
              nPad,
              nPad,
              `layer '${net.layers[0].name}'`,
            );
            break;
          }
          const J = this.ctx.buffer(op, rows * c * nPad * 4, USAGE_STORAGE, `jacobian at layer ${l} input (batch)`);
          this.jacobianStep(op, pass, { ACTIVATION: act, SHARED_NEXT: shared, MASK_ONLY: 0 }, rows * c, c, mPad, nPad, [
            next,
            pre[l],
            layers[l].W,
            J,
          ]);
          encodeTransposeProduct(
            this.ctx,
            op,
            pass,
            [J, J, gram],
            rows * c,
            nPad,
            nPad,
            `layer '${net.layers[l].name}'`,
          );
          next = J;
          shared = 0;
        }
        pass.end();
        const back = await this.ctx.readBack(
          op,
          enc,
          grams.map((g) => [g.buf, 0, g.nPad * g.nPad] as [GPUBuffer, number, number]),
        );
        grams.forEach((g, q) => {
          const n = net.layers[g.l].inDim;
          for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) sums[g.l][i * n + j] += back[q][i * g.nPad + j];
        });
        // Everything but the weights is per batch.
        this.ctx.release(op, ...this.batchBuffers(op, layers));
      }
      // f32 Gram blocks are symmetric up to rounding order; the interface promises exact symmetry.
      for (let l = 0; l < L - 1; l++) symmetrize(sums[l], net.layers[l].inDim);
      return sums;
    });
  }

  /** Jout (jRows x nPad) = Jnext act'(Z) W, or the masked Jnext alone (MASK_ONLY): mlpJacobian.wgsl. */
  private jacobianStep(
    op: GpuOp,
    pass: GPUComputePassEncoder,
    constants: Record<string, number>,
    jRows: number,
    c: number,
    mPad: number,
    nPad: number,
    buffers: GPUBuffer[],
  ): void {
    const [gx, gy, stride] = grid1d(
      Math.ceil(jRows / 4) * (nPad / 4),
      this.ctx.device.limits.maxComputeWorkgroupsPerDimension,
    );
    this.ctx.dispatchProgram(
      op,
      pass,
      mlpJacobian,
      { jRows, c, mPad4: mPad / 4, nPad4: nPad / 4, xStride: stride },
      buffers,
      [gx, gy],
      constants,
    );
  }

  /** Rows per batch so that no activation or Jacobian buffer exceeds maxBatchBytes. */
  private batchRows(net: Mlp, c: number): number {
    const widest = Math.max(...net.layers.map((l) => Math.max(roundUp(l.inDim, 4), roundUp(l.outDim, 4))));
    const rows = Math.floor(this.maxBatchBytes / (4 * c * widest) / 4) * 4;
    if (rows < 4)
      throw new BackendError(
        'webgpu',
        `4 rows of ${c} x ${widest} Jacobian entries exceed the ${this.maxBatchBytes}-byte batch buffer limit`,
      );
    return rows;
  }

  private uploadLayers(op: GpuOp, net: Mlp): LayerBuffers[] {
    return net.layers.map((layer, l) => {
      const inPad = roundUp(layer.inDim, 4),
        outPad = roundUp(layer.outDim, 4);
      const W = new Float32Array(outPad * inPad);
      for (let o = 0; o < layer.outDim; o++)
        for (let k = 0; k < layer.inDim; k++) W[o * inPad + k] = layer.W[o * layer.inDim + k];
      const b = new Float32Array(outPad);
      if (layer.b) b.set(layer.b);
      this.ctx.checkBinding(W.byteLength, `layer '${layer.name}' weights`);
      return {
        W: this.ctx.upload(op, W, `weights of ${layer.name} (${l})`),
        b: this.ctx.upload(op, b, `bias of ${layer.name} (${l})`),
        inPad,
        outPad,
      };
    });
  }

  /** Buffers of op other than the layer weights (the per-batch ones), to free between batches. */
  private batchBuffers(op: GpuOp, layers: LayerBuffers[]): GPUBuffer[] {
    const keep = new Set<GPUBuffer>(layers.flatMap((l) => [l.W, l.b]));
    return op.buffers.filter((b) => !keep.has(b));
  }

  /** Encodes the forward pass of rows r0..r0+rows; returns each layer's pre-activation and activation buffers. */
  private encodeForward(
    op: GpuOp,
    pass: GPUComputePassEncoder,
    net: Mlp,
    layers: LayerBuffers[],
    X: Mat,
    r0: number,
    rows: number,
  ): { pre: GPUBuffer[]; post: GPUBuffer[] } {
    const d = X.cols,
      dPad = layers[0].inPad;
    const x = new Float32Array(rows * dPad);
    for (let r = 0; r < rows; r++) for (let k = 0; k < d; k++) x[r * dPad + k] = X.data[(r0 + r) * d + k];
    let h = this.ctx.upload(op, x, 'network inputs (batch)');
    const pre: GPUBuffer[] = [];
    const post: GPUBuffer[] = [];
    net.layers.forEach((layer, l) => {
      const { inPad, outPad } = layers[l];
      const z = this.ctx.buffer(
        op,
        rows * outPad * 4,
        USAGE_STORAGE | USAGE_COPY_SRC,
        `pre-activation of ${layer.name} (batch)`,
      );
      const a = this.ctx.buffer(
        op,
        rows * outPad * 4,
        USAGE_STORAGE | USAGE_COPY_SRC,
        `activation of ${layer.name} (batch)`,
      );
      const [gx, gy, stride] = grid1d(
        Math.ceil(rows / 4) * (outPad / 4),
        this.ctx.device.limits.maxComputeWorkgroupsPerDimension,
      );
      this.ctx.dispatchProgram(
        op,
        pass,
        mlpForward,
        { rows, inPad4: inPad / 4, outDim: layer.outDim, outPad4: outPad / 4, xStride: stride },
        [h, layers[l].W, layers[l].b, z, a],
        [gx, gy],
        { ACTIVATION: ACTIVATION_WGSL_CODE[net.activation] },
      );
      pre.push(z);
      post.push(a);
      h = a;
    });
    return { pre, post };
  }
}

/**
 * Multiply-adds per batch for the first layer (out m, in n, R = rows * c Jacobian rows): forming J_0 and
 * its Gram, against V^T V and the congruence W^T H W (independent of R).
 */
function narrowIsCheaper(R: number, m: number, n: number): boolean {
  return (R * m * m) / 2 + m * m * n + m * n * n < R * m * n + (R * n * n) / 2;
}

function checkInput(net: Mlp, X: Mat): void {
  if (X.cols !== net.layers[0].inDim)
    throw new Error(`forward: X has ${X.cols} columns, layer '${net.layers[0].name}' takes ${net.layers[0].inDim}`);
}

function symmetrize(G: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const s = 0.5 * (G[i * n + j] + G[j * n + i]);
      G[i * n + j] = s;
      G[j * n + i] = s;
    }
  }
}
