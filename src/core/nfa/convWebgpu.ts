// Conv networks of the NFA on a GPUDevice (docs/science.md §6): batched forward (convForward, convActPool) and,
// for the patch-AGOP, the gradients of every network output back through the layers (convActPoolBackward,
// convBackwardInput) with the k x k Grams of the gradients at each layer's convolution output summed on
// the device in segments (convGram). Images are batched so no per-batch buffer exceeds maxBatchBytes; the
// float64 host adds the segments and batches. The patch-AGOP itself, W^T H W, is formed on the host
// (compute.ts), so device arithmetic (f32) touches only the gradients.
import { BackendError } from '../errors';
import { USAGE_COPY_SRC, USAGE_STORAGE, grid1d, type GpuContext, type GpuOp } from '../gpu/context';
import { mat, type Mat } from '../mat';
import { ACTIVATION_WGSL_CODE as ACTIVATION_CODE } from './activation';
import { positions, size3, type ConvNet, type NetLayer } from './convnet';
import { convActPool, convActPoolBackward, convBackwardInput, convForward, convGram } from './kernels/programs';

interface Uploaded {
  /** c x kh x kw x ceil(k/4) vec4s (convForward.wgsl). */
  W: GPUBuffer;
  b: GPUBuffer;
  /** kh x kw x k x ceil(c/4) vec4s (convBackwardInput.wgsl); null for the first layer (never back-propagated through). */
  Wt: GPUBuffer | null;
}

/** W (k x c x kh x kw) as c x kh x kw x k4 vec4s, output channels zero-padded to a multiple of 4. */
function forwardWeights(l: NetLayer): Float32Array {
  const k4 = Math.ceil(l.k / 4);
  const taps = l.c * l.kh * l.kw;
  const out = new Float32Array(taps * k4 * 4);
  for (let o = 0; o < l.k; o++)
    for (let t = 0; t < taps; t++) out[(t * k4 + (o >> 2)) * 4 + (o & 3)] = l.W[o * taps + t];
  return out;
}

/** W (k x c x kh x kw) as kh x kw x k x c4 vec4s, channels zero-padded to a multiple of 4. */
function transposedWeights(l: NetLayer): Float32Array {
  const c4 = Math.ceil(l.c / 4);
  const out = new Float32Array(l.kh * l.kw * l.k * c4 * 4);
  for (let o = 0; o < l.k; o++)
    for (let c = 0; c < l.c; c++)
      for (let u = 0; u < l.kh; u++)
        for (let v = 0; v < l.kw; v++)
          out[(((u * l.kw + v) * l.k + o) * c4 + (c >> 2)) * 4 + (c & 3)] = l.W[((o * l.c + c) * l.kh + u) * l.kw + v];
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

/** The conv-network passes on one GpuContext; each public method runs inside the caller's ctx.run op. */
export class ConvGpu {
  constructor(
    private readonly ctx: GpuContext,
    private readonly maxBatchBytes: number,
  ) {}

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
  private encodeForward(
    op: GpuOp,
    pass: GPUComputePassEncoder,
    net: ConvNet,
    up: Uploaded[],
    X: Mat,
    r0: number,
    rows: number,
  ): { z: GPUBuffer[]; outs: GPUBuffer[]; out: GPUBuffer } {
    let a = this.ctx.upload(
      op,
      Float32Array.from(X.data.subarray(r0 * X.cols, (r0 + rows) * X.cols)),
      'images (batch)',
    );
    const z: GPUBuffer[] = [];
    const outs: GPUBuffer[] = [];
    const L = net.layers.length;
    net.layers.forEach((l, i) => {
      const zi = this.ctx.buffer(op, rows * size3(l.outShape) * 4, USAGE_STORAGE | USAGE_COPY_SRC, `Z of ${l.name}`);
      // 4 output channels per invocation.
      const [gx, gy, xs] = this.grid(rows * Math.ceil(l.k / 4) * positions(l));
      this.ctx.dispatchProgram(
        op,
        pass,
        convForward,
        geometry(l, rows, 1, false, xs),
        [a, up[i].W, up[i].b, zi],
        [gx, gy],
      );
      z.push(zi);
      const act = i < L - 1;
      if (!act && !l.pool) {
        a = zi;
        outs.push(a);
        return;
      }
      const next = this.ctx.buffer(
        op,
        rows * size3(l.nextShape) * 4,
        USAGE_STORAGE | USAGE_COPY_SRC,
        `output of ${l.name}`,
      );
      const [hx, hy, ys] = this.grid(rows * size3(l.nextShape));
      this.ctx.dispatchProgram(op, pass, convActPool, geometry(l, rows, 1, act, ys), [zi, next], [hx, hy], {
        ACTIVATION: ACTIVATION_CODE[net.activation],
      });
      a = next;
      outs.push(a);
    });
    return { z, outs, out: a };
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
      const enc = this.ctx.device.createCommandEncoder({ label: 'conv features batch' });
      const pass = enc.beginComputePass({ label: 'conv features batch' });
      const f = this.encodeForward(op, pass, net, up, X, r0, rows);
      pass.end();
      const back = await this.ctx.readBack(
        op,
        enc,
        sizes.map((s, l) => [f.outs[l], 0, rows * s] as [GPUBuffer, number, number]),
      );
      back.forEach((y, l) => out[l].set(y, r0 * sizes[l]));
      this.ctx.release(op, ...op.buffers.filter((b) => !keep.has(b)));
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
      const enc = this.ctx.device.createCommandEncoder({ label: 'conv forward batch' });
      const pass = enc.beginComputePass({ label: 'conv forward batch' });
      const f = this.encodeForward(op, pass, net, up, X, r0, rows);
      pass.end();
      const [y] = await this.ctx.readBack(op, enc, [[f.out, 0, rows * outDim]]);
      out.set(y, r0 * outDim);
      this.ctx.release(op, ...op.buffers.filter((b) => !keep.has(b)));
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
      const enc = this.ctx.device.createCommandEncoder({ label: 'conv patch-AGOP batch' });
      const pass = enc.beginComputePass({ label: 'conv patch-AGOP batch' });
      const { z } = this.encodeForward(op, pass, net, up, X, r0, rows);
      // Virtual image q = n * O + o starts with the unit gradient of output o.
      const seed = new Float32Array(V * O);
      for (let q = 0; q < V; q++) seed[q * O + (q % O)] = 1;
      let ga = this.ctx.upload(op, seed, 'output gradients (batch)');
      const partials: { l: number; buf: GPUBuffer; count: number }[] = [];
      for (let l = L - 1; l >= 0; l--) {
        const layer = net.layers[l];
        const gz = this.ctx.buffer(op, V * size3(layer.outShape) * 4, USAGE_STORAGE, `gradient at Z of ${layer.name}`);
        const [gx, gy, xs] = this.grid(V * size3(layer.outShape));
        this.ctx.dispatchProgram(
          op,
          pass,
          convActPoolBackward,
          geometry(layer, rows, O, l < L - 1, xs),
          [z[l], ga, gz],
          [gx, gy],
          { ACTIVATION: act },
        );
        partials.push({ l, ...this.encodeGram(op, pass, gz, V, layer) });
        if (l > 0) {
          const gin = this.ctx.buffer(
            op,
            V * size3(layer.inShape) * 4,
            USAGE_STORAGE,
            `gradient at the input of ${layer.name}`,
          );
          const [bx, by, bs] = this.grid(V * Math.ceil(layer.inShape[0] / 4) * layer.inShape[1] * layer.inShape[2]);
          this.ctx.dispatchProgram(
            op,
            pass,
            convBackwardInput,
            geometry(layer, rows, O, false, bs),
            [gz, up[l].Wt!, gin],
            [bx, by],
          );
          ga = gin;
        }
      }
      pass.end();
      const back = await this.ctx.readBack(
        op,
        enc,
        partials.map((p) => [p.buf, 0, p.count] as [GPUBuffer, number, number]),
      );
      partials.forEach((p, i) => {
        const kk = net.layers[p.l].k ** 2;
        const h = H[p.l];
        const part = back[i];
        for (let s = 0; s < part.length; s += kk) for (let j = 0; j < kk; j++) h[j] += part[s + j];
      });
      this.ctx.release(op, ...op.buffers.filter((b) => !keep.has(b)));
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
    const blocks = Math.ceil(k / 4);
    // Enough (segment, block) invocations to fill the device; a segment is a run of virtual images.
    const segments = Math.max(1, Math.min(V, Math.ceil(4096 / (blocks * blocks))));
    const perSegment = Math.ceil(V / segments);
    const count = segments * k * k;
    const buf = this.ctx.buffer(op, count * 4, USAGE_STORAGE | USAGE_COPY_SRC, `partial Grams of ${l.name}`);
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
