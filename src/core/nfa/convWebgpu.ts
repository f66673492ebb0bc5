// Conv networks of the NFA on a GPUDevice (docs/science.md §6): batched forward (convForward, convActPool, which
// also records each max-pool window's argmax) and, for the patch-AGOP, the gradients of every network output
// back through the layers (convRouteBackward through the recorded argmax when pool windows do not overlap,
// convActPoolBackward when they do; convBackwardInput) with the k x k Grams of the gradients at each layer's
// convolution output summed on the device in segments (convGram). Images are batched so no per-batch buffer
// exceeds maxBatchBytes, and the batch buffers are reused from batch to batch; the float64 host adds the
// segments and batches. The patch-AGOP itself, W^T H W, is formed on the host (compute.ts), so device
// arithmetic (f32) touches only the gradients. The convolutions are register-tiled for lavapipe, where
// loads rather than multiply-adds set the speed (see kernels/convBackwardInput.wgsl).
import { BackendError } from '../errors';
import { USAGE_COPY_DST, USAGE_COPY_SRC, USAGE_STORAGE, grid1d, type GpuContext, type GpuOp } from '../gpu/context';
import { mat, type Mat } from '../mat';
import { ACTIVATION_WGSL_CODE as ACTIVATION_CODE } from './activation';
import { positions, size3, type ConvNet, type NetLayer } from './convnet';
import {
  convActPool,
  convActPoolBackward,
  convBackwardInput,
  convForward,
  convGram,
  convRouteBackward,
} from './kernels/programs';

interface Uploaded {
  /** c x kh x kw x k16 floats (convForward.wgsl). */
  W: GPUBuffer;
  b: GPUBuffer;
  /** kh x kw x k x c16 floats (convBackwardInput.wgsl); null for the first layer (never back-propagated through). */
  Wt: GPUBuffer | null;
}

/** Channels per invocation of convForward / convBackwardInput (one workgroup_id.z block each). */
const BLOCK = 16;
const blocks = (n: number): number => Math.ceil(n / BLOCK);

/** Positions per invocation (the PX override of convForward / convBackwardInput) along a row of `width`. */
function tileWidth(l: NetLayer, width: number): number {
  return l.outShape[1] === 1 && l.outShape[2] === 1 ? 1 : Math.min(8, width);
}

/** W (k x c x kh x kw) as c x kh x kw x k16, output channels zero-padded to a multiple of 16. */
function forwardWeights(l: NetLayer): Float32Array {
  const k16 = blocks(l.k) * BLOCK;
  const taps = l.c * l.kh * l.kw;
  const out = new Float32Array(taps * k16);
  for (let o = 0; o < l.k; o++) for (let t = 0; t < taps; t++) out[t * k16 + o] = l.W[o * taps + t];
  return out;
}

/** W (k x c x kh x kw) as kh x kw x k x c16, channels zero-padded to a multiple of 16. */
function transposedWeights(l: NetLayer): Float32Array {
  const c16 = blocks(l.c) * BLOCK;
  const out = new Float32Array(l.kh * l.kw * l.k * c16);
  for (let o = 0; o < l.k; o++)
    for (let c = 0; c < l.c; c++)
      for (let u = 0; u < l.kh; u++)
        for (let v = 0; v < l.kw; v++)
          out[((u * l.kw + v) * l.k + o) * c16 + c] = l.W[((o * l.c + c) * l.kh + u) * l.kw + v];
  return out;
}

function geometry(l: NetLayer, images: number, outputs: number, applyAct: boolean, xStride: number) {
  return {
    images,
    outputs,
    c: l.inShape[0],
    h: l.inShape[1],
    w: l.inShape[2],
    k: l.k,
    ho: l.outShape[1],
    wo: l.outShape[2],
    kh: l.kh,
    kw: l.kw,
    stride: l.stride,
    padding: l.padding,
    ph: l.nextShape[1],
    pw: l.nextShape[2],
    poolSize: l.pool?.size ?? 1,
    poolStride: l.pool?.stride ?? 1,
    xStride,
    applyAct: applyAct ? 1 : 0,
    poolKind: l.pool?.kind === 'max' ? 1 : l.pool?.kind === 'avg' ? 2 : 0,
  };
}

/** Seconds per kernel step (benchmarks), by `clock` (default: wall time; a bench may pass process CPU time). */
export interface ConvProfile {
  seconds: Map<string, number>;
  clock?: () => number;
}

/**
 * Where one batch's dispatches go: a single compute pass submitted with the read-back, or, when profiling,
 * one submit per named step awaited with onSubmittedWorkDone so its wall time lands under the step's name.
 */
class Steps {
  private readonly enc: GPUCommandEncoder;
  private pass: GPUComputePassEncoder;

  constructor(
    private readonly device: GPUDevice,
    private readonly profile: ConvProfile | undefined,
    label: string,
  ) {
    this.enc = device.createCommandEncoder({ label });
    this.pass = this.enc.beginComputePass({ label });
  }

  async step(name: string, encode: (pass: GPUComputePassEncoder) => void): Promise<void> {
    if (!this.profile) return encode(this.pass);
    const enc = this.device.createCommandEncoder({ label: name });
    const pass = enc.beginComputePass({ label: name });
    encode(pass);
    pass.end();
    await this.timed(name, enc);
  }

  /** Zeroes the first `bytes` of buf (outside a compute pass: the batch's pass is ended and begun again). */
  async clear(name: string, buf: GPUBuffer, bytes: number): Promise<void> {
    if (!this.profile) {
      this.pass.end();
      this.enc.clearBuffer(buf, 0, bytes);
      this.pass = this.enc.beginComputePass({ label: 'conv batch (continued)' });
      return;
    }
    const enc = this.device.createCommandEncoder({ label: name });
    enc.clearBuffer(buf, 0, bytes);
    await this.timed(name, enc);
  }

  private async timed(name: string, enc: GPUCommandEncoder): Promise<void> {
    if (!this.profile) return;
    const clock = this.profile.clock ?? (() => performance.now() / 1000);
    const t0 = clock();
    this.device.queue.submit([enc.finish()]);
    await this.device.queue.onSubmittedWorkDone();
    const { seconds } = this.profile;
    seconds.set(name, (seconds.get(name) ?? 0) + clock() - t0);
  }

  /** Ends the pass; the encoder then takes the read-back copies. */
  finish(): GPUCommandEncoder {
    this.pass.end();
    return this.enc;
  }
}

/** The conv-network passes on one GpuContext; each public method runs inside the caller's ctx.run op. */
export class ConvGpu {
  /** `profile` (benchmarks): seconds per kernel step, summed over batches; each step is then its own submit. */
  constructor(
    private readonly ctx: GpuContext,
    private readonly maxBatchBytes: number,
    private readonly profile?: ConvProfile,
  ) {}

  /**
   * Batch buffers by label, made for the first (largest) batch and reused by the next ones: a fresh
   * buffer is zeroed and paged in by the driver on first use, which on lavapipe cost as much as a kernel.
   */
  private readonly pool = new Map<string, GPUBuffer>();

  private reuse(op: GpuOp, bytes: number, usage: number, label: string): GPUBuffer {
    const b = this.pool.get(label);
    if (b && b.size >= bytes) return b;
    const made = this.ctx.buffer(op, bytes, usage, label);
    this.pool.set(label, made);
    return made;
  }

  /** Releases the batch's buffers but the uploaded weights and the reusable ones. */
  private endBatch(op: GpuOp, keep: Set<GPUBuffer>): void {
    const pooled = new Set(this.pool.values());
    this.ctx.release(op, ...op.buffers.filter((b) => !keep.has(b) && !pooled.has(b)));
  }

  private grid(invocations: number): [number, number, number] {
    return grid1d(invocations, this.ctx.device.limits.maxComputeWorkgroupsPerDimension);
  }

  private upload(op: GpuOp, net: ConvNet): Uploaded[] {
    return net.layers.map((l, i) => {
      this.ctx.checkBinding(l.W.length * 4 * 2, `layer '${l.name}' weights`);
      const b = new Float32Array(l.k);
      if (l.b) b.set(l.b);
      return {
        W: this.ctx.upload(op, forwardWeights(l), `weights of ${l.name}`),
        b: this.ctx.upload(op, b, `bias of ${l.name}`),
        Wt: i > 0 ? this.ctx.upload(op, transposedWeights(l), `transposed weights of ${l.name}`) : null,
      };
    });
  }

  /** Images per batch: every per-batch buffer (outputs virtual images x the widest map) within maxBatchBytes. */
  private batchImages(net: ConvNet, outputs: number): number {
    const widest = Math.max(size3(net.input), ...net.layers.map((l) => Math.max(size3(l.outShape), size3(l.inShape))));
    const images = Math.floor(this.maxBatchBytes / (4 * outputs * widest));
    if (images < 1)
      throw new BackendError(
        'webgpu',
        `one image's ${outputs} x ${widest} gradient entries exceed the ${this.maxBatchBytes}-byte batch buffer limit`,
      );
    return images;
  }

  /** Encodes the forward pass of `rows` images at row r0; returns each layer's Z and the last layer's output. */
  private async encodeForward(
    op: GpuOp,
    steps: Steps,
    net: ConvNet,
    up: Uploaded[],
    X: Mat,
    r0: number,
    rows: number,
  ): Promise<{ z: GPUBuffer[]; arg: (GPUBuffer | null)[]; outs: GPUBuffer[]; out: GPUBuffer }> {
    const pixels = Float32Array.from(X.data.subarray(r0 * X.cols, (r0 + rows) * X.cols));
    let a = this.reuse(op, pixels.byteLength, USAGE_STORAGE | USAGE_COPY_DST, 'images (batch)');
    this.ctx.device.queue.writeBuffer(a, 0, pixels.buffer, pixels.byteOffset, pixels.byteLength);
    const z: GPUBuffer[] = [];
    const outs: GPUBuffer[] = [];
    const arg: (GPUBuffer | null)[] = [];
    const L = net.layers.length;
    for (const [i, l] of net.layers.entries()) {
      const zi = this.reuse(op, rows * size3(l.outShape) * 4, USAGE_STORAGE | USAGE_COPY_SRC, `Z of ${l.name}`);
      // 16 output channels by px positions per invocation, a channel block per workgroup_id.z.
      const px = tileWidth(l, l.outShape[2]);
      const [gx, gy, xs] = this.grid(rows * l.outShape[1] * Math.ceil(l.outShape[2] / px));
      await steps.step(`forward ${l.name}`, (pass) =>
        this.ctx.dispatchProgram(
          op,
          pass,
          convForward,
          geometry(l, rows, 1, false, xs),
          [a, up[i].W, up[i].b, zi],
          [gx, gy, blocks(l.k)],
          { PX: px },
        ),
      );
      z.push(zi);
      const act = i < L - 1;
      if (!act && !l.pool) {
        a = zi;
        outs.push(a);
        arg.push(null);
        continue;
      }
      const next = this.reuse(op, rows * size3(l.nextShape) * 4, USAGE_STORAGE | USAGE_COPY_SRC, `output of ${l.name}`);
      const argmax = this.reuse(op, rows * size3(l.nextShape) * 4, USAGE_STORAGE, `pool argmax of ${l.name}`);
      arg.push(argmax);
      const [hx, hy, ys] = this.grid(rows * size3(l.nextShape));
      await steps.step(`activation/pool ${l.name}`, (pass) =>
        this.ctx.dispatchProgram(op, pass, convActPool, geometry(l, rows, 1, act, ys), [zi, next, argmax], [hx, hy], {
          ACTIVATION: ACTIVATION_CODE[net.activation],
        }),
      );
      a = next;
      outs.push(a);
    }
    return { z, arg, outs, out: a };
  }

  /** Each hidden layer's output (after the activation and its pooling), rows x its flattened size, as NfaBackend.convFeatures. */
  async features(op: GpuOp, net: ConvNet, X: Mat): Promise<Float64Array[]> {
    const hidden = net.layers.slice(0, -1);
    if (!hidden.length) return [];
    const up = this.upload(op, net);
    const keep = new Set(up.flatMap((u) => (u.Wt ? [u.W, u.b, u.Wt] : [u.W, u.b])));
    const sizes = hidden.map((l) => size3(l.nextShape));
    const out = sizes.map((s) => new Float64Array(X.rows * s));
    const batch = this.batchImages(net, 1);
    for (let r0 = 0; r0 < X.rows; r0 += batch) {
      const rows = Math.min(batch, X.rows - r0);
      const steps = new Steps(this.ctx.device, this.profile, 'conv features batch');
      const f = await this.encodeForward(op, steps, net, up, X, r0, rows);
      const back = await this.ctx.readBack(
        op,
        steps.finish(),
        sizes.map((s, l) => [f.outs[l], 0, rows * s] as [GPUBuffer, number, number]),
      );
      back.forEach((y, l) => out[l].set(y, r0 * sizes[l]));
      this.endBatch(op, keep);
    }
    return out;
  }

  async forward(op: GpuOp, net: ConvNet, X: Mat): Promise<Mat> {
    const up = this.upload(op, net);
    const outDim = size3(net.layers[net.layers.length - 1].nextShape);
    const out = new Float64Array(X.rows * outDim);
    const keep = new Set(up.flatMap((u) => (u.Wt ? [u.W, u.b, u.Wt] : [u.W, u.b])));
    const batch = this.batchImages(net, 1);
    for (let r0 = 0; r0 < X.rows; r0 += batch) {
      const rows = Math.min(batch, X.rows - r0);
      const steps = new Steps(this.ctx.device, this.profile, 'conv forward batch');
      const f = await this.encodeForward(op, steps, net, up, X, r0, rows);
      const [y] = await this.ctx.readBack(op, steps.finish(), [[f.out, 0, rows * outDim]]);
      out.set(y, r0 * outDim);
      this.endBatch(op, keep);
    }
    return mat(X.rows, outDim, out);
  }

  /** Per layer, H_l = sum over rows, outputs and positions of g g^T (k x k), as NfaBackend.outputGradGrams. */
  async outputGradGrams(op: GpuOp, net: ConvNet, X: Mat): Promise<Float64Array[]> {
    const L = net.layers.length;
    const up = this.upload(op, net);
    const keep = new Set(up.flatMap((u) => (u.Wt ? [u.W, u.b, u.Wt] : [u.W, u.b])));
    const O = size3(net.layers[L - 1].nextShape);
    const H = net.layers.map((l) => new Float64Array(l.k * l.k));
    const batch = this.batchImages(net, O);
    const act = ACTIVATION_CODE[net.activation];
    for (let r0 = 0; r0 < X.rows; r0 += batch) {
      const rows = Math.min(batch, X.rows - r0);
      const V = rows * O;
      const steps = new Steps(this.ctx.device, this.profile, 'conv patch-AGOP batch');
      const { z, arg } = await this.encodeForward(op, steps, net, up, X, r0, rows);
      // Virtual image q = n * O + o starts with the unit gradient of output o.
      const seed = new Float32Array(V * O);
      for (let q = 0; q < V; q++) seed[q * O + (q % O)] = 1;
      let ga = this.reuse(op, seed.byteLength, USAGE_STORAGE | USAGE_COPY_DST, 'output gradients (batch)');
      this.ctx.device.queue.writeBuffer(ga, 0, seed.buffer, seed.byteOffset, seed.byteLength);
      const partials: { l: number; buf: GPUBuffer; count: number }[] = [];
      for (let l = L - 1; l >= 0; l--) {
        const layer = net.layers[l];
        const gzBytes = V * size3(layer.outShape) * 4;
        const gz = this.reuse(op, gzBytes, USAGE_STORAGE | USAGE_COPY_DST, `gradient at Z of ${layer.name}`);
        const gaNow = ga;
        // Windows that do not overlap route each pooled cell's gradient alone (convRouteBackward, which
        // needs the pool's argmax: the last layer without activation or pool has none, and needs none).
        // It writes only the cells a window sends to: the others must read 0, whatever the last batch left.
        const overlap = layer.pool !== null && layer.pool.stride < layer.pool.size;
        if (!overlap && layer.pool) await steps.clear(`clear ${layer.name}`, gz, gzBytes);
        const [gx, gy, xs] = this.grid(V * (overlap ? size3(layer.outShape) : size3(layer.nextShape)));
        await steps.step(`pool/activation backward ${layer.name}`, (pass) =>
          this.ctx.dispatchProgram(
            op,
            pass,
            overlap ? convActPoolBackward : convRouteBackward,
            geometry(layer, rows, O, l < L - 1, xs),
            overlap ? [z[l], gaNow, gz] : [z[l], arg[l] ?? z[l], gaNow, gz],
            [gx, gy],
            { ACTIVATION: act },
          ),
        );
        let gram!: { buf: GPUBuffer; count: number };
        await steps.step(`gram ${layer.name}`, (pass) => (gram = this.encodeGram(op, pass, gz, V, layer)));
        partials.push({ l, ...gram });
        if (l > 0) {
          const gin = this.reuse(
            op,
            V * size3(layer.inShape) * 4,
            USAGE_STORAGE,
            `gradient at the input of ${layer.name}`,
          );
          const px = tileWidth(layer, layer.inShape[2]);
          const [bx, by, bs] = this.grid(V * layer.inShape[1] * Math.ceil(layer.inShape[2] / px));
          await steps.step(`backward input ${layer.name}`, (pass) =>
            this.ctx.dispatchProgram(
              op,
              pass,
              convBackwardInput,
              geometry(layer, rows, O, false, bs),
              [gz, up[l].Wt!, gin],
              [bx, by, blocks(layer.inShape[0])],
              { PX: px },
            ),
          );
          ga = gin;
        }
      }
      const back = await this.ctx.readBack(
        op,
        steps.finish(),
        partials.map((p) => [p.buf, 0, p.count] as [GPUBuffer, number, number]),
      );
      partials.forEach((p, i) => {
        const kk = net.layers[p.l].k ** 2;
        const h = H[p.l];
        const part = back[i];
        for (let s = 0; s < part.length; s += kk) for (let j = 0; j < kk; j++) h[j] += part[s + j];
      });
      this.endBatch(op, keep);
    }
    // convGram writes the upper triangle (by blocks): mirror it.
    net.layers.forEach((l, i) => {
      const k = l.k,
        h = H[i];
      for (let a = 0; a < k; a++) for (let b = a + 1; b < k; b++) h[b * k + a] = h[a * k + b];
    });
    return H;
  }

  /** Partial Grams of G (V x k x P) in segments, for the host to add. */
  private encodeGram(
    op: GpuOp,
    pass: GPUComputePassEncoder,
    G: GPUBuffer,
    V: number,
    l: NetLayer,
  ): { buf: GPUBuffer; count: number } {
    const P = positions(l),
      k = l.k;
    const blocks = Math.ceil(k / 8);
    // Enough (segment, block) invocations to fill the device; a segment is a run of virtual images.
    const segments = Math.max(1, Math.min(V, Math.ceil(4096 / (blocks * blocks))));
    const perSegment = Math.ceil(V / segments);
    const count = segments * k * k;
    // Reused: the lower blocks are never written, so they stay 0 from creation.
    const buf = this.reuse(op, count * 4, USAGE_STORAGE | USAGE_COPY_SRC, `partial Grams of ${l.name}`);
    const [gx, gy, xs] = this.grid(segments * blocks * blocks);
    this.ctx.dispatchProgram(
      op,
      pass,
      convGram,
      { rows: V, k, positions: P, segments, perSegment, xStride: xs, blocks },
      [G, buf],
      [gx, gy],
    );
    return { buf, count };
  }
}
