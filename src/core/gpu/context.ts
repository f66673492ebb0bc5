// Device plumbing shared by the WebGPU compute backends (RFM, NFA, catapult lab): adapter and device
// acquisition, a pipeline cache, labelled buffers counted while alive, read-back, and one op at a time
// inside error scopes so any GPU failure surfaces as a BackendError. Browser-safe: any GPU object.
import { BackendError, InputError } from '../errors';
import { packParams, type GpuProgram, type ParamValues } from './program';
import { cpuEmulatedAdapter } from '../compute';

// Numeric usage flags: the GPUBufferUsage global is absent in Node unless webgpu's globals are installed.
export const USAGE_MAP_READ = 0x0001;
export const USAGE_COPY_SRC = 0x0004;
export const USAGE_COPY_DST = 0x0008;
export const USAGE_UNIFORM = 0x0040;
export const USAGE_STORAGE = 0x0080;
const MAP_MODE_READ = 0x0001;

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  description?: string;
  /** Set when the device was created with the `subgroups` feature: the smallest subgroup size it may use. */
  subgroupMinSize?: number;
  /** The adapter says it is a fallback (software) adapter (GPUAdapterInfo.isFallbackAdapter). */
  fallback?: boolean;
}

export const roundUp = (v: number, m: number): number => Math.ceil(v / m) * m;

export function deviceName(adapter: AdapterDescription): string {
  const detail = adapter.description ? ` (${adapter.description})` : '';
  return `webgpu ${adapter.vendor || 'unknown'}/${adapter.architecture || 'unknown'}${detail}`;
}

/** Requests a core adapter, then a compatibility-mode one, and a device with the adapter's own limits. */
export async function requestGpuDevice(
  gpu: GPU,
  label: string,
): Promise<{ device: GPUDevice; adapter: AdapterDescription }> {
  let adapter = await gpu.requestAdapter();
  if (!adapter) adapter = await gpu.requestAdapter({ featureLevel: 'compatibility' } as GPURequestAdapterOptions);
  if (!adapter) throw new BackendError('webgpu', 'no WebGPU adapter available');
  const wanted = [
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxStorageBuffersPerShaderStage',
    'maxComputeWorkgroupStorageSize',
    'maxComputeInvocationsPerWorkgroup',
    'maxComputeWorkgroupSizeX',
    'maxComputeWorkgroupsPerDimension',
  ] as const;
  const requiredLimits: Record<string, number> = {};
  for (const key of wanted) requiredLimits[key] = adapter.limits[key];
  // Subgroup operations (the symmetric CG product, rfm/kernels/kernelTimesColsSym.wgsl) where the
  // adapter has them and says how small a subgroup can be.
  const subgroupMinSize = adapter.features.has('subgroups') ? (adapter.info?.subgroupMinSize ?? 0) : 0;
  const requiredFeatures: GPUFeatureName[] = subgroupMinSize >= 1 ? ['subgroups'] : [];
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ label, requiredLimits, requiredFeatures });
  } catch (e) {
    throw new BackendError('webgpu', `requestDevice failed: ${(e as Error).message}`, e);
  }
  const info = adapter.info ?? ({ vendor: '', architecture: '', description: '' } as GPUAdapterInfo);
  return {
    device,
    adapter: {
      vendor: info.vendor,
      architecture: info.architecture,
      description: info.description,
      ...((info as { isFallbackAdapter?: boolean }).isFallbackAdapter ? { fallback: true } : {}),
      ...(device.features.has('subgroups') && subgroupMinSize >= 1 ? { subgroupMinSize } : {}),
    },
  };
}

/** A read-back's kind of work and its size (mapWhenDone paces exact repeats of both). */
export interface Pace {
  kind: string;
  work: number;
}

/** A pipeline's cache key: the program's name and its override constants in key order. */
function pipelineKey(prog: GpuProgram, constants: Record<string, number>): string {
  const sorted = Object.fromEntries(Object.entries(constants).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return `${prog.name}|${JSON.stringify(sorted)}`;
}

/** Buffers of one op: all destroyed when the op ends, whatever happened. */
export interface GpuOp {
  buffers: GPUBuffer[];
}

export type Binding = GPUBuffer | { buffer: GPUBuffer; offset: number; size: number };

/** A dispatch's pipeline, bindings and grid, made once (GpuContext.prepareProgram). */
export interface PreparedDispatch {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  groups: [number, number] | [number, number, number];
}

/**
 * One device and what every op on it needs. `keepAlive` holds anything that must stay reachable while
 * the device is used (Dawn's `create()` object in Node: if it is collected, the device dies under us).
 */
export class GpuContext {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  /** Keys of pipelines being compiled by warmPipelines. */
  private readonly warming = new Set<string>();
  /** The shortest time (ms) a read-back of each kind and size took (mapWhenDone). */
  private readonly paces = new Map<string, number>();
  /** Whether read-backs sleep before mapping (a CPU-emulated adapter: see mapWhenDone). */
  readonly paceSleeps: boolean;
  /** Uniforms of prepared dispatches: release(op) leaves them (the op's end frees them). */
  private readonly keptUniforms = new WeakSet<GPUBuffer>();
  private readonly modules = new Map<string, GPUShaderModule>();
  private liveBufferCount = 0;
  private lostMessage: string | null = null;
  private disposed = false;
  private queue: Promise<unknown> = Promise.resolve();
  readonly maxBinding: number;

  /** "webgpu vendor/architecture (description)", as backends report it. */
  readonly name: string;

  /** The smallest subgroup size when the device has the `subgroups` feature, else null. */
  readonly subgroupMinSize: number | null;

  constructor(
    readonly device: GPUDevice,
    private readonly keepAlive?: unknown,
    readonly adapter: AdapterDescription = { vendor: '', architecture: '' },
  ) {
    this.name = deviceName(adapter);
    this.subgroupMinSize = adapter.subgroupMinSize ?? null;
    this.paceSleeps = cpuEmulatedAdapter(adapter);
    this.maxBinding = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    void device.lost.then((info) => {
      if (!this.disposed) this.lostMessage = `device lost (${info.reason}): ${info.message}`;
    });
  }

  get liveBuffers(): number {
    return this.liveBufferCount;
  }

  /** False once disposed or lost: a lease makes a new device instead of handing this one out. */
  get isUsable(): boolean {
    return !this.disposed && this.lostMessage === null;
  }

  /** A context on a device of its own (tests, one-off use); dispose it when done. */
  static async open(gpu: GPU, label: string, keepAlive?: unknown): Promise<GpuContext> {
    const { device, adapter } = await requestGpuDevice(gpu, label);
    return new GpuContext(device, keepAlive, adapter);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pipelines.clear();
    this.modules.clear();
    this.device.destroy();
    void this.keepAlive;
  }

  /** The program's pipeline for these override constants, cached by program name and constants (in key order). */
  pipeline(prog: GpuProgram, constants: Record<string, number> = {}): GPUComputePipeline {
    const key = pipelineKey(prog, constants);
    let p = this.pipelines.get(key);
    if (!p) {
      p = this.device.createComputePipeline(this.pipelineDescriptor(prog, constants, key));
      this.pipelines.set(key, p);
    }
    return p;
  }

  /**
   * Starts compiling pipelines an op will need soon (createComputePipelineAsync: off the calling
   * thread where the implementation can), so that pipeline() finds them made. One that is not done
   * by then is made by pipeline() as before; a failure here is left to pipeline() to report.
   * Resolves when these are compiled (callers need not wait; tests do).
   */
  warmPipelines(list: [GpuProgram, Record<string, number>][]): Promise<void> {
    const pending: Promise<void>[] = [];
    for (const [prog, constants] of list) {
      const key = pipelineKey(prog, constants);
      if (this.pipelines.has(key) || this.warming.has(key)) continue;
      this.warming.add(key);
      pending.push(
        this.device
          .createComputePipelineAsync(this.pipelineDescriptor(prog, constants, key))
          .then((p) => {
            if (!this.pipelines.has(key)) this.pipelines.set(key, p);
          })
          .catch(() => {})
          .finally(() => this.warming.delete(key)),
      );
    }
    return Promise.all(pending).then(() => {});
  }

  private pipelineDescriptor(
    prog: GpuProgram,
    constants: Record<string, number>,
    key: string,
  ): GPUComputePipelineDescriptor {
    let module = this.modules.get(prog.name);
    if (!module) {
      module = this.device.createShaderModule({ label: `${prog.name}.wgsl`, code: prog.code });
      this.modules.set(prog.name, module);
    }
    return { label: key, layout: 'auto', compute: { module, entryPoint: 'main', constants } };
  }

  /** Dispatches a declared program: its Params packed from named values (see program.ts), then `buffers`. */
  dispatchProgram<F extends string>(
    op: GpuOp,
    pass: GPUComputePassEncoder,
    prog: GpuProgram<F>,
    values: ParamValues<F>,
    buffers: Binding[],
    groups: [number, number] | [number, number, number],
    constants: Record<string, number> = {},
  ): void {
    this.dispatch(op, pass, prog, constants, packParams(prog, values), buffers, groups);
  }

  /** Sets pipeline and bindings (the packed Params uniform first, then `buffers`) and dispatches. */
  private dispatch(
    op: GpuOp,
    pass: GPUComputePassEncoder,
    prog: GpuProgram,
    constants: Record<string, number>,
    params: ArrayBuffer,
    buffers: Binding[],
    groups: [number, number] | [number, number, number],
  ): void {
    this.encodePrepared(pass, this.prepare(op, prog, constants, params, buffers, groups, false));
  }

  /**
   * A dispatch made once and encoded many times (encodePrepared): a loop's fixed work, such as the CG
   * solve's product, skips a uniform buffer and a bind group per iteration (~0.3 ms of the product's
   * host time on lavapipe at n = 2000, measured). Its uniform stays until the op ends (release(op)
   * does not free it).
   */
  prepareProgram<F extends string>(
    op: GpuOp,
    prog: GpuProgram<F>,
    values: ParamValues<F>,
    buffers: Binding[],
    groups: [number, number] | [number, number, number],
    constants: Record<string, number> = {},
  ): PreparedDispatch {
    return this.prepare(op, prog, constants, packParams(prog, values), buffers, groups, true);
  }

  encodePrepared(pass: GPUComputePassEncoder, d: PreparedDispatch): void {
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bindGroup);
    pass.dispatchWorkgroups(d.groups[0], d.groups[1], d.groups[2] ?? 1);
  }

  private prepare(
    op: GpuOp,
    prog: GpuProgram,
    constants: Record<string, number>,
    params: ArrayBuffer,
    buffers: Binding[],
    groups: [number, number] | [number, number, number],
    kept: boolean,
  ): PreparedDispatch {
    const pipeline = this.pipeline(prog, constants);
    const uniform = this.uniform(op, params, `${prog.name} params`);
    if (kept) this.keptUniforms.add(uniform);
    const bindGroup = this.device.createBindGroup({
      label: `${prog.name} bindings`,
      layout: pipeline.getBindGroupLayout(0),
      entries: [uniform, ...buffers].map((b, binding) => ({ binding, resource: 'buffer' in b ? b : { buffer: b } })),
    });
    return { pipeline, bindGroup, groups };
  }

  /** Throws a BackendError when a single binding of `bytes` would exceed the device limit. */
  checkBinding(bytes: number, what: string): void {
    if (bytes > this.maxBinding)
      throw new BackendError(
        'webgpu',
        `${what} needs ${bytes} bytes in one binding, more than the device's ${this.maxBinding} (maxStorageBufferBindingSize)`,
      );
  }

  buffer(op: GpuOp, size: number, usage: number, label: string): GPUBuffer {
    const buf = this.device.createBuffer({ label, size: Math.max(16, roundUp(size, 16)), usage });
    op.buffers.push(buf);
    this.liveBufferCount++;
    return buf;
  }

  /** A buffer that outlives ops (session state); freed by destroyPersistent. */
  persistent(size: number, usage: number, label: string): GPUBuffer {
    const buf = this.device.createBuffer({ label, size: Math.max(16, roundUp(size, 16)), usage });
    this.liveBufferCount++;
    return buf;
  }

  destroyPersistent(...bufs: GPUBuffer[]): void {
    for (const b of bufs) {
      b.destroy();
      this.liveBufferCount--;
    }
  }

  upload(op: GpuOp, data: Float32Array | Uint32Array, label: string, extraUsage = 0): GPUBuffer {
    const buf = this.buffer(op, data.byteLength, USAGE_STORAGE | USAGE_COPY_DST | extraUsage, label);
    this.device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
    return buf;
  }

  uniform(op: GpuOp, data: ArrayBuffer, label: string): GPUBuffer {
    const buf = this.buffer(op, data.byteLength, USAGE_UNIFORM | USAGE_COPY_DST, label);
    this.device.queue.writeBuffer(buf, 0, data);
    return buf;
  }

  /** Destroys buffers of an op early (per row batch), including every uniform of already submitted work. */
  release(op: GpuOp, ...bufs: GPUBuffer[]): void {
    const keep: GPUBuffer[] = [];
    for (const b of op.buffers) {
      if (bufs.includes(b) || (b.usage & USAGE_UNIFORM && !this.keptUniforms.has(b))) {
        b.destroy();
        this.liveBufferCount--;
      } else keep.push(b);
    }
    op.buffers.length = 0;
    op.buffers.push(...keep);
  }

  /**
   * Submits enc plus copies of the given ranges (f32 element offsets/counts) and returns them as
   * float64. `reuse` (a MAP_READ | COPY_DST buffer of the op, large enough) is mapped instead of a
   * fresh staging buffer and kept: loops that read back every step (CG) skip a buffer per step.
   */
  async readBack(
    op: GpuOp,
    enc: GPUCommandEncoder,
    ranges: [GPUBuffer, number, number][],
    reuse?: GPUBuffer,
    pace?: Pace,
  ): Promise<Float64Array[]> {
    const total = ranges.reduce((s, r) => s + r[2], 0);
    const staging = reuse ?? this.buffer(op, total * 4, USAGE_MAP_READ | USAGE_COPY_DST, 'readback');
    let at = 0;
    for (const [buf, offset, count] of ranges) {
      enc.copyBufferToBuffer(buf, offset * 4, staging, at * 4, count * 4);
      at += count;
    }
    this.device.queue.submit([enc.finish()]);
    try {
      await this.mapWhenDone(staging, pace);
    } catch (e) {
      throw this.failure('reading results back', e);
    }
    const f = new Float32Array(staging.getMappedRange().slice(0, total * 4));
    staging.unmap();
    if (!reuse) this.release(op, staging);
    const out: Float64Array[] = [];
    at = 0;
    for (const [, , count] of ranges) {
      out.push(Float64Array.from(f.subarray(at, at + count)));
      at += count;
    }
    return out;
  }

  /**
   * Submits enc plus a copy of src's first `bytes` into `staging` (a MAP_READ | COPY_DST buffer at
   * least that large), maps it and hands `use` the float32 view before unmapping: large read-backs
   * (a kernel matrix) copied once, straight to where they go, without float64 copies.
   */
  async readWith(
    enc: GPUCommandEncoder,
    src: GPUBuffer,
    bytes: number,
    staging: GPUBuffer,
    use: (data: Float32Array) => void,
    pace?: Pace,
  ): Promise<void> {
    enc.copyBufferToBuffer(src, 0, staging, 0, bytes);
    this.device.queue.submit([enc.finish()]);
    try {
      await this.mapWhenDone(staging, pace, bytes);
    } catch (e) {
      throw this.failure('reading results back', e);
    }
    try {
      use(new Float32Array(staging.getMappedRange(0, bytes)));
    } finally {
      staging.unmap();
    }
  }

  /**
   * Maps `staging` once the work just submitted is done. Waiting on mapAsync, Dawn in Node polls from
   * the event loop (setImmediate) until the GPU finishes; on an adapter that is the CPU emulating a
   * GPU that poll takes a core from the emulated device (measured on lavapipe, 2 cores: a 1000 x 2000
   * predict took 15.7 ms of wall and 27 ms of CPU waited on at once, 12.4 ms and 17 ms after
   * sleeping first). So on such an adapter a read-back of the same kind and size as one before (a
   * fit's next round, the next CG iteration) first sleeps half the shortest time that one took, then
   * maps. Only exact repeats: time per unit of work is far from linear (fixed costs dominate small
   * jobs, and the first of a kind pays one-off costs), and predicting across sizes overslept
   * (a 500-row warm-up fit paced the 2000-row fit's read-backs: 0.95 s instead of 0.52 s, measured).
   */
  private async mapWhenDone(staging: GPUBuffer, pace: Pace | undefined, bytes?: number): Promise<void> {
    const t0 = performance.now();
    const key = pace && this.paceSleeps ? `${pace.kind}|${pace.work}` : null;
    const seen = key === null ? undefined : this.paces.get(key);
    if (seen !== undefined && seen >= 4) await new Promise<void>((resolve) => setTimeout(resolve, seen / 2));
    await (bytes === undefined ? staging.mapAsync(MAP_MODE_READ) : staging.mapAsync(MAP_MODE_READ, 0, bytes));
    if (key === null) return;
    if (this.paces.size >= 256 && seen === undefined) this.paces.clear();
    this.paces.set(key, Math.min(seen ?? Infinity, performance.now() - t0));
  }

  private failure(what: string, cause: unknown): BackendError {
    if (cause instanceof BackendError) return cause;
    const msg = this.lostMessage ?? (cause instanceof Error ? cause.message : String(cause));
    return new BackendError('webgpu', `${what}: ${msg}`, cause);
  }

  /**
   * Runs one op at a time (error scopes are per device, not per op), inside validation,
   * out-of-memory and internal error scopes; any GPU error becomes one BackendError. Every buffer
   * the op created is destroyed afterwards, whatever happened.
   */
  run<T>(name: string, body: (op: GpuOp) => Promise<T>): Promise<T> {
    const go = async (): Promise<T> => {
      if (this.disposed) throw new BackendError('webgpu', `${name}: backend already disposed`);
      if (this.lostMessage) throw new BackendError('webgpu', `${name}: ${this.lostMessage}`);
      const op: GpuOp = { buffers: [] };
      const dev = this.device;
      dev.pushErrorScope('internal');
      dev.pushErrorScope('out-of-memory');
      dev.pushErrorScope('validation');
      let result: T | undefined;
      let thrown: unknown;
      try {
        result = await body(op);
      } catch (e) {
        thrown = e;
      }
      const errors: (GPUError | null)[] = [];
      for (let i = 0; i < 3; i++) {
        try {
          errors.push(await dev.popErrorScope());
        } catch (e) {
          errors.push(null);
          thrown ??= e;
        }
      }
      for (const b of op.buffers) b.destroy();
      this.liveBufferCount -= op.buffers.length;
      op.buffers.length = 0;
      const gpuError = errors.find((e) => e !== null);
      if (gpuError) {
        const kind = errors[0] ? 'validation error' : errors[1] ? 'out of memory' : 'internal error';
        throw new BackendError('webgpu', `${name}: ${kind}: ${gpuError.message}`, gpuError);
      }
      if (thrown !== undefined) {
        if (thrown instanceof InputError || thrown instanceof BackendError) throw thrown;
        throw this.failure(name, thrown);
      }
      return result as T;
    };
    const next = this.queue.then(go, go);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

/** Flattens a large invocation count into an (x, y) grid of 64-wide workgroups; returns [x, y, x invocations]. */
export function grid1d(invocations: number, maxPerDim: number): [number, number, number] {
  const groups = Math.max(1, Math.ceil(invocations / 64));
  const x = Math.min(groups, maxPerDim);
  return [x, Math.ceil(groups / x), x * 64];
}
