// One GPU device per surface (the extension host, the CLI process, each page), shared by every run
// there: a device and its pipeline cache cost tens to hundreds of milliseconds to create (lavapipe
// compiles every pipeline anew), so runs borrow the surface's GpuContext instead of making their own.
// The device is released after an idle period and on dispose, and made again after it is lost.
import { BackendError } from '../errors';
import { GpuContext, requestGpuDevice } from './context';

export interface GpuLeaseOptions {
  /** The GPU entry point (navigator.gpu, Dawn's create()), or why there is none (BackendError). */
  gpu: () => Promise<{ gpu: GPU; keepAlive?: unknown }>;
  label: string;
  /** Released after this long with no borrower (default 60 s). */
  idleMs?: number;
}

export class GpuLease {
  private ctx: GpuContext | null = null;
  private opening: Promise<GpuContext> | null = null;
  private borrowers = 0;
  private idle: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;
  /** Devices created so far (a reused lease keeps this at 1). */
  created = 0;

  constructor(private readonly options: GpuLeaseOptions) {}

  /** The surface's context, creating the device when there is none or it was lost. Pair with release(). */
  async acquire(): Promise<GpuContext> {
    if (this.disposed) throw new BackendError('webgpu', `${this.options.label}: the GPU lease was disposed`);
    clearTimeout(this.idle);
    this.borrowers++;
    try {
      if (this.ctx && !this.ctx.isUsable) this.drop();
      if (this.ctx) return this.ctx;
      this.opening ??= this.open().finally(() => (this.opening = null));
      return await this.opening;
    } catch (e) {
      this.release();
      throw e;
    }
  }

  /** Gives back one acquire(); the device is freed once nobody has borrowed it for idleMs. */
  release(): void {
    this.borrowers = Math.max(0, this.borrowers - 1);
    if (this.borrowers > 0 || this.disposed) return;
    clearTimeout(this.idle);
    this.idle = setTimeout(() => {
      if (this.borrowers === 0) this.drop();
    }, this.options.idleMs ?? 60_000);
    // A Node process (the CLI) must be able to exit while the idle timer runs.
    (this.idle as { unref?: () => void }).unref?.();
  }

  /** Frees the device now; later acquire() calls fail. */
  dispose(): void {
    this.disposed = true;
    clearTimeout(this.idle);
    this.drop();
  }

  private async open(): Promise<GpuContext> {
    const { gpu, keepAlive } = await this.options.gpu();
    const { device, adapter } = await requestGpuDevice(gpu, this.options.label);
    this.created++;
    const ctx = new GpuContext(device, keepAlive, adapter);
    if (this.disposed) {
      ctx.dispose();
      throw new BackendError('webgpu', `${this.options.label}: the GPU lease was disposed`);
    }
    this.ctx = ctx;
    return ctx;
  }

  private drop(): void {
    this.ctx?.dispose();
    this.ctx = null;
  }
}
