import { BackendError } from '../errors';
import type { Backend, GradMoments, KernelSpec, SolveHints, SolveResult } from './backend';
import { InputError } from '../errors';
import { mat, type Mat } from '../mat';
import { CpuBackend } from './cpu';
import {
  gradAccumulate,
  gradFused,
  kernelMatrix,
  kernelTimesCols,
  kernelTimesColsSym,
  kernelTimesColsSymReduce,
} from './kernels/programs';
import { encodeTransposeProduct } from '../gpu/encodeTransposeProduct';
import { transposeProduct } from '../gpu/programs';
import type { GpuProgram } from '../gpu/program';
import type { GpuLease } from '../gpu/lease';
import { cpuEmulatedAdapter } from '../compute';
import { HostSymmetricMatrix, hostSymvAvailable, hostSymvBytes } from '../linalg/hostSymv';
import {
  GpuContext,
  USAGE_COPY_DST,
  USAGE_COPY_SRC,
  USAGE_MAP_READ,
  USAGE_STORAGE,
  grid1d,
  roundUp,
  type GpuOp as Op,
  type Pace,
  type PreparedDispatch,
} from '../gpu/context';
import {
  DEFAULT_ITERATIVE_OPTIONS,
  IterativeSolver,
  type IterativeOptions,
  type KernelOps,
  type SolveStats,
  type SolverLimits,
} from './solvers';

/*
 * WebGPU backend over any GPUDevice (navigator.gpu in a browser or webview, Dawn in Node).
 * Points arrive already transformed by R (R^T R = M), so every kernel is a function of plain
 * Euclidean distance (src/core/backend.ts). Storage and products are f32 on the device; everything
 * whose rounding would show in the result (solve scalars and vectors, small factorizations, sums
 * across tiles) is float64 on the host.
 *
 * Solve (the solver fitRfm resolved, rfm/solvers.ts; without one, by size): direct is the CPU
 * backend's float64 solve (kernel matrix and Cholesky on the
 * host). There the n^3/6 factorization dominates and n^2 d kernel flops are cheap; a kernel matrix
 * rounded to f32 was measured to move Gaussian-kernel test MSE by 1.3e-3 relative (wine, L = 5)
 * even with an exact float64 factorization of it. Larger n keeps K on the device in row tiles and
 * runs conjugate gradients with a Nyström preconditioner (rank up to nystromRank, factored in float64
 * on the host while the device builds K), f64 vectors on the host, one batched GPU product per
 * iteration, to a relative residual of cgTolerance (cgIntermediateTolerance for intermediate RFM
 * rounds; or the best residual reached before f32 rounding stalls it). With subgroups, that product
 * reads about half of the symmetric K (kernelTimesColsSym.wgsl) and only that half is built; without
 * them, all of K and kernelTimesCols.wgsl. On a CPU-emulated adapter (hostProducts) that half is
 * read back once per solve and the products run on the host's SIMD lanes (linalg/hostSymv.ts). When K does not fit
 * maxDeviceBytes, each CG product recomputes its kernel tiles instead. CG and EigenPro are the
 * shared host orchestration of rfm/solvers.ts over this backend's kernel blocks and kernel-block x
 * vector products (kernelMatrix.wgsl + kernelTimesCols.wgsl); EigenPro recomputes every block
 * (O(n) device memory).
 *
 * Gradients (AGOP): for d <= 32 one kernel computes the gradient weights and sums them in the same
 * pass (gradFused.wgsl); larger d writes a weight tile first (kernelMatrix.wgsl, gradAccumulate.wgsl).
 */

/** Device options, plus the shared iterative solvers' settings (solvers.ts IterativeOptions: CG and EigenPro tolerances, Nyström rank). */
export interface WebGpuBackendOptions extends Partial<IterativeOptions> {
  /** Device memory the backend may hold at once (bytes); K is recomputed per CG product beyond, and `auto` picks EigenPro. Default 3 GiB. */
  maxDeviceBytes?: number;
  /** Largest n solved directly in float64 on the host (CPU backend) by `auto`. Default 1000: measured on lavapipe, 4 solves of a fit took 0.82 s direct vs 0.87 s CG at n = 1000, 2.83 s vs 1.05 s at n = 1500. */
  directSolveMaxN?: number;
  /** Rows of one query tile in predict / gradMoments (capped further by the binding limit). Default 2048. */
  queryTileRows?: number;
  /** Caps the storage-binding size used for tiling below the device's limit (tests emulate small devices with it). */
  maxBindingBytes?: number;
  /** Predictions whose estimated f32 error (1e-7 x the largest column norm |alpha|_2) exceeds this run in float64 on the host. Default 1e-5. */
  maxPredictError?: number;
  /**
   * CG products with the stored K read about half of it (kernelTimesColsSym.wgsl) when the device has
   * subgroups. Default true; false multiplies with the full K (tests compare the two).
   */
  symmetricProduct?: boolean;
  /**
   * Where the CG products with the stored K run. true: K is built on the device (only the half the
   * product reads), read back once per solve into WebAssembly memory and multiplied on the host's SIMD
   * lanes (linalg/hostSymv.ts); false: on the device. Default: true when the adapter is the CPU
   * emulating a GPU (compute.ts cpuEmulatedAdapter: lavapipe, SwiftShader) and this runtime has
   * WebAssembly SIMD, else false. On lavapipe the device product reads K at 3.5-4.5 GB/s through
   * per-lane gathers; the host loop reads it at 10-13 GB/s on the same cores (measured: n = 2000,
   * 2.4 ms vs 0.6 ms per product; n = 4000, 7.3 ms vs 3.1 ms). On a hardware GPU the device product
   * is far faster than any host loop.
   */
  hostProducts?: boolean;
  /** Host memory the host products' copy of K may take (bytes); the device product beyond. Default 3 GiB. */
  maxHostBytes?: number;
}

export type { AdapterDescription } from '../gpu/context';

/** How one solve went (solvers.ts). */
export type { SolveStats } from './solvers';

type KernelVariant = 0 | 1 | 2 | 3;

export class WebGpuBackend implements Backend {
  readonly name = 'webgpu' as const;
  readonly device: string;
  /** What `auto` weighs: direct up to directSolveMaxN, CG while the f32 K fits maxDeviceBytes, EigenPro beyond. */
  readonly solverLimits: SolverLimits;
  private disposed = false;
  private readonly opts: Required<Omit<WebGpuBackendOptions, keyof IterativeOptions>>;
  private readonly maxBinding: number;
  private readonly host = new CpuBackend();
  private readonly iterative: IterativeSolver;
  /**
   * The stored K's tile buffers, kept from one solve to the next of the same fit (SolveHints.agopNext)
   * and overwritten there: allocating (and zero-filling) them per solve cost lavapipe about as much as
   * computing K (measured at n = 8000: K build 360 ms of process CPU into kept buffers, 610-680 ms
   * into new ones; n = 4000: 70-190 vs 150-270 ms). Freed after a fit's last solve and on dispose.
   */
  private keptK: { n: number; ld: number; sym: boolean; tiles: KTile[] } | null = null;
  /**
   * The host products' K and the device tile and staging buffers that fill it, kept from one solve to
   * the next of the same fit like keptK (all overwritten where read).
   */
  private keptHostK: { n: number; ld: number; host: HostSymmetricMatrix; tile: GPUBuffer; staging: GPUBuffer } | null =
    null;
  /** Set when the device's subgroups turned out not to be consecutive invocations: full products from then on. */
  private symmetricBroken = false;

  /** `release` gives the context back (a lease's release(), or disposing a context of its own). */
  constructor(
    /** Pipeline cache, labelled buffers, error scopes: the surface's device, shared with NFA and catapult. */
    private readonly ctx: GpuContext,
    options: WebGpuBackendOptions = {},
    private readonly giveBack: () => void = () => {},
  ) {
    this.device = ctx.name;
    this.opts = {
      maxDeviceBytes: options.maxDeviceBytes ?? 3 * 1024 ** 3,
      directSolveMaxN: options.directSolveMaxN ?? 1000,
      queryTileRows: options.queryTileRows ?? 2048,
      maxPredictError: options.maxPredictError ?? 1e-5,
      maxBindingBytes: options.maxBindingBytes ?? Infinity,
      symmetricProduct: options.symmetricProduct ?? true,
      hostProducts: options.hostProducts ?? (cpuEmulatedAdapter(ctx.adapter) && hostSymvAvailable()),
      maxHostBytes: options.maxHostBytes ?? 3 * 1024 ** 3,
    };
    this.maxBinding = Math.min(this.ctx.maxBinding, this.opts.maxBindingBytes);
    const iterative: Partial<IterativeOptions> = {};
    for (const key of Object.keys(DEFAULT_ITERATIVE_OPTIONS) as (keyof IterativeOptions)[])
      if (options[key] !== undefined) iterative[key] = options[key];
    this.iterative = new IterativeSolver({ ...DEFAULT_ITERATIVE_OPTIONS, ...iterative });
    this.solverLimits = {
      directMaxN: this.opts.directSolveMaxN,
      // K is stored as f32 rows of ld = n rounded up to 8.
      cgMaxN: Math.floor(Math.sqrt(this.opts.maxDeviceBytes / 4)) - 8,
    };
  }

  /** One entry per solve, oldest first (benchmarks and tests read it). */
  get solveLog(): SolveStats[] {
    return this.iterative.log;
  }

  /** Requests a core adapter, then a compatibility-mode one, and a device with the adapter's own limits. */
  static async create(gpu: GPU, options: WebGpuBackendOptions & { keepAlive?: unknown } = {}): Promise<WebGpuBackend> {
    const ctx = await GpuContext.open(gpu, 'feature-lens rfm', options.keepAlive);
    return new WebGpuBackend(ctx, options, () => ctx.dispose());
  }

  /** A backend on the surface's shared device (pipelines compiled once per session); dispose() gives it back. */
  static async leased(lease: GpuLease, options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
    return new WebGpuBackend(await lease.acquire(), options, () => lease.release());
  }

  /** The GPUDevice underneath (tests destroy it to exercise device loss). */
  get deviceForTests(): GPUDevice {
    return this.ctx.device;
  }

  /** Whether the device has subgroups (the symmetric CG product needs them). */
  get hasSubgroups(): boolean {
    return this.ctx.subgroupMinSize !== null;
  }

  /** Buffers currently allocated by this backend (0 between operations). */
  get liveBuffers(): number {
    return this.ctx.liveBuffers;
  }

  /** Gives the device back (the lease keeps it for the next run); this backend is unusable afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.dropKeptK();
    this.giveBack();
  }

  // ---------------------------------------------------------------- public ops

  async solve(X: Mat, kernel: KernelSpec, Y: Mat, reg: number, hints?: SolveHints): Promise<SolveResult> {
    if (Y.rows !== X.rows) throw new InputError(`solve: ${X.rows} points but ${Y.rows} target rows`);
    // Without a solver named (a caller other than fitRfm), the size rule this backend always had.
    const solver = hints?.solver ?? (X.rows <= this.opts.directSolveMaxN ? 'direct' : 'cg');
    if (solver === 'direct') {
      const r = await this.host.directSolve(X, kernel, Y, reg);
      this.iterative.logDirect(r.seconds);
      return r;
    }
    // Another solve of the same size follows (the fit's next round): its K reuses this one's buffers.
    const keep = hints?.agopNext === true;
    this.warmFitPipelines(X.cols, kernel, Y.cols);
    try {
      return await this.exclusive('solve', (op) =>
        this.iterative.solve(solver, this.kernelOps(op, X, kernel, Y.cols, keep), Y, reg, hints),
      );
    } finally {
      if (!keep) this.dropKeptK();
    }
  }

  /**
   * A fit's pipelines beyond the solve's first (the stored K's build, the test predictions, the AGOP)
   * start compiling in the background when its first solve starts, while the host factors the
   * preconditioner: made one by one at first use they held the host ~8 ms each on lavapipe (48 ms of
   * a 0.56 s fit at n = 2000, measured).
   */
  private warmFitPipelines(d: number, kernel: KernelSpec, c: number): void {
    const variant = kernelVariant(kernel, false);
    const dPad = roundUp(d, 4);
    const list: [GpuProgram, Record<string, number>][] = [
      // (Not the plain kernel matrix: the solve's first dispatch, the preconditioner's block, needs it at once.)
      [kernelMatrix, { KERNEL: variant, SYMMETRIC: 2, BAND: SYM_BAND }],
      [kernelTimesCols, { COLUMNS: c === 1 ? 1 : 4 }],
      [transposeProduct, { DIAG_ONLY: 0 }],
    ];
    // gradMoments's fused kernel for d <= 32 (beyond, kernelMatrix and gradAccumulate).
    if (dPad / 4 <= 8) list.push([gradFused, { KERNEL: kernelVariant(kernel, true), DPAD4: dPad / 4 }]);
    void this.ctx.warmPipelines(list);
  }

  /**
   * K(X, X) P through the CG solve's stored-K product (the host's with hostProducts, else the device's
   * symmetric one where the device allows it), with `onHost` and `symmetric` saying which ran: tests
   * compare it with float64 and with the full product.
   */
  async storedKernelTimes(
    X: Mat,
    kernel: KernelSpec,
    P: Mat,
  ): Promise<{ out: Float64Array; symmetric: boolean; onHost: boolean }> {
    return this.exclusive('storedKernelTimes', async (op) => {
      const ops = this.kernelOps(op, X, kernel, P.cols);
      await ops.prepare?.();
      const out = await ops.times(null, null, P.data, P.cols);
      return { out, symmetric: ops.symmetric, onHost: ops.onHost };
    });
  }

  private dropKeptK(): void {
    if (this.keptK) this.ctx.destroyPersistent(...this.keptK.tiles.map((t) => t.buf));
    this.keptK = null;
    if (this.keptHostK) this.ctx.destroyPersistent(this.keptHostK.tile, this.keptHostK.staging);
    this.keptHostK = null;
  }

  /**
   * Kernel blocks and products on the device for the shared iterative solvers (solvers.ts). The
   * points go up once; prepare() (CG) keeps K on the device in row tiles when it fits maxDeviceBytes,
   * otherwise every product recomputes its tiles (EigenPro always does: O(n) device memory).
   */
  private kernelOps(
    op: Op,
    X: Mat,
    kernel: KernelSpec,
    c: number,
    keep = false,
  ): KernelOps & { readonly symmetric: boolean; readonly onHost: boolean } {
    const n = X.rows;
    const variant = kernelVariant(kernel, false);
    const pts = this.uploadPointsT(op, X, 'train points (transposed)');
    let tiles: KTile[] | null = null;
    // The stored K in host memory, multiplied there (hostProducts).
    let hostK: HostSymmetricMatrix | null = null;
    // The stored K's products read half of it (kernelTimesColsSym.wgsl), and K is built to match.
    let sym = this.symmetricPlan(n, pts.ld, c);
    // The stored-K product's buffers, kept across CG iterations (one set per column count).
    let scratch: ProductScratch | null = null;
    const subset = (idx: Int32Array | null, label: string): PointsT =>
      idx ? this.uploadPointsT(op, rowsOf(X, idx), label) : pts;
    const done = (p: PointsT): void => {
      if (p !== pts) this.release(op, p.buf);
    };
    return {
      n,
      /** Whether the device's stored-K products read half of it (false after a subgroup-layout fallback, and on the host). */
      get symmetric() {
        return hostK === null && sym !== null;
      },
      /** Whether the stored K's products run on the host (hostProducts). */
      get onHost() {
        return hostK !== null;
      },
      block: async (a, b) => {
        const pa = subset(a, 'kernel block rows (transposed)'),
          pb = subset(b, 'kernel block columns (transposed)');
        const out = await this.kernelMatrixHost(op, pa, pb, variant, kernel.bandwidth);
        done(pa);
        done(pb);
        return out;
      },
      times: async (a, b, p, c, pacer) => {
        if (!a && !b && hostK) return hostK.times(p, c, pacer);
        if (!a && !b && tiles) {
          if (scratch?.c !== c || scratch.sym !== (sym !== null)) {
            if (scratch) this.releaseScratch(op, scratch);
            scratch = this.productScratch(op, n, pts.ld, c, sym);
          }
          const out = await this.storedKTimes(op, tiles, n, pts.ld, p, c, scratch);
          if (out) return out;
          // Subgroups of non-consecutive invocations: from now on the full K and full products.
          this.symmetricBroken = true;
          sym = null;
          this.dropKeptK();
          tiles = this.kernelTilesOnDevice(op, pts, variant, kernel.bandwidth, keep, null);
          this.releaseScratch(op, scratch);
          scratch = this.productScratch(op, n, pts.ld, c, null);
          return (await this.storedKTimes(op, tiles, n, pts.ld, p, c, scratch))!;
        }
        const pa = subset(a, 'batch rows (transposed)'),
          pb = subset(b, 'batch columns (transposed)');
        const out = await this.recomputedKTimes(op, pa, pb, variant, kernel.bandwidth, p, c);
        done(pa);
        done(pb);
        return out;
      },
      prepare: async () => {
        if (tiles || hostK) return;
        if (this.opts.hostProducts && hostSymvBytes(n) <= this.opts.maxHostBytes) {
          hostK = await this.kernelOnHost(op, pts, variant, kernel.bandwidth, keep);
          if (hostK) return;
        }
        if (n * pts.ld * 4 + (sym?.bytes ?? 0) > this.opts.maxDeviceBytes) return;
        tiles = this.kernelTilesOnDevice(op, pts, variant, kernel.bandwidth, keep, sym);
        await this.sync();
      },
    };
  }

  async predict(Z: Mat, X: Mat, kernel: KernelSpec, alpha: Mat): Promise<Mat> {
    if (alpha.rows !== X.rows) throw new InputError(`predict: ${X.rows} centres but ${alpha.rows} coefficient rows`);
    if (Z.cols !== X.cols) throw new InputError(`predict: query points have ${Z.cols} features, centres ${X.cols}`);
    // f32 kernel values carry ~6e-8 relative rounding, so a prediction sum_i alpha_i k_i is off by
    // about 1e-7 |alpha|_2 (independent roundings add in quadrature). Strongly cancelling coefficients
    // (Gaussian kernels with a small ridge: |alpha|_2 = 2.4e3 on wine, L = 5, where device predictions
    // moved the test MSE by 1.5e-3 relative, measured) go to the float64 host instead; Laplace fits
    // (|alpha|_2 of 15-180 on iris, wine, breast_cancer, ~21 on the n = 4000 benchmark; test MSE moved
    // by at most 1.4e-6 relative) stay on the device.
    if (f32PredictError(alpha) > this.opts.maxPredictError) return this.host.predict(Z, X, kernel, alpha);
    return this.exclusive('predict', async (op) => {
      const zPts = this.uploadPointsT(op, Z, 'query points (transposed)');
      const xPts = this.uploadPointsT(op, X, 'centres (transposed)');
      const out = await this.recomputedKTimes(
        op,
        zPts,
        xPts,
        kernelVariant(kernel, false),
        kernel.bandwidth,
        alpha.data,
        alpha.cols,
      );
      return mat(Z.rows, alpha.cols, out);
    });
  }

  async gradMoments(Z: Mat, X: Mat, kernel: KernelSpec, alpha: Mat, diagOnly: boolean): Promise<GradMoments> {
    if (alpha.rows !== X.rows)
      throw new InputError(`gradMoments: ${X.rows} centres but ${alpha.rows} coefficient rows`);
    if (Z.cols !== X.cols) throw new InputError(`gradMoments: query points have ${Z.cols} features, centres ${X.cols}`);
    return this.exclusive('gradMoments', async (op) => {
      const d = X.cols;
      const c = alpha.cols;
      const dPad = roundUp(d, 4);
      const cPad = roundUp(c, 4);
      const n = X.rows;
      const zPts = this.uploadPointsT(op, Z, 'query points (transposed)');
      const xPts = this.uploadPointsT(op, X, 'centres (transposed)');
      const xRows = this.upload(op, padRows(X, dPad), 'centres (rows, padded)');
      const alphaBuf = this.upload(op, toF32(alpha.data), 'alpha');
      const ld = xPts.ld;
      const tileRows = this.queryTileRows(ld, c * dPad * 4);
      // d <= 32: weights computed inside the gradient kernel (gradFused.wgsl); larger d: a weight
      // tile from kernelMatrix.wgsl, then gradAccumulate.wgsl.
      const fused = dPad / 4 <= 8;
      const wTile = fused ? null : this.buffer(op, tileRows * ld * 4, USAGE_STORAGE, 'gradient weights tile');
      const gTile = this.buffer(op, tileRows * c * dPad * 4, USAGE_STORAGE, 'gradients tile');
      const zTile = this.buffer(op, tileRows * dPad * 4, USAGE_STORAGE | USAGE_COPY_DST, 'query rows tile');
      const indicator = new Float32Array(tileRows * c * cPad);
      for (let r = 0; r < tileRows * c; r++) indicator[r * cPad + (r % c)] = 1;
      const indicatorBuf = this.upload(op, indicator, 'class indicator');
      const outerBuf = this.buffer(op, dPad * dPad * 4, USAGE_STORAGE | USAGE_COPY_SRC, 'gradient outer tile');
      const sumBuf = this.buffer(op, cPad * dPad * 4, USAGE_STORAGE | USAGE_COPY_SRC, 'gradient sum tile');
      const outer = new Float64Array(d * d);
      const sum = new Float64Array(c * d);
      const zPadded = padRows(Z, dPad);
      const variant = kernelVariant(kernel, true);
      for (let z0 = 0; z0 < Z.rows; z0 += tileRows) {
        const rows = Math.min(tileRows, Z.rows - z0);
        this.ctx.device.queue.writeBuffer(zTile, 0, zPadded, z0 * dPad, rows * dPad);
        const enc = this.ctx.device.createCommandEncoder({ label: 'gradMoments tile' });
        const pass = enc.beginComputePass({ label: 'gradMoments tile' });
        const maxGroups = this.ctx.device.limits.maxComputeWorkgroupsPerDimension;
        if (wTile) {
          this.encodeKernelMatrix(op, pass, zPts, z0, rows, xPts, wTile, variant, kernel.bandwidth);
          const [gx, gy, stride] = grid1d(Math.ceil(rows / 4) * c * (dPad / 4), maxGroups);
          this.ctx.dispatchProgram(
            op,
            pass,
            gradAccumulate,
            { rows, n, c, dPad4: dPad / 4, ldW: ld, xStride: stride },
            [wTile, alphaBuf, xRows, zTile, gTile],
            [gx, gy],
          );
        } else {
          const [gx, gy, stride] = grid1d(Math.ceil(rows / 2) * c, maxGroups);
          this.ctx.dispatchProgram(
            op,
            pass,
            gradFused,
            { rows, n, c, xStride: stride, invL: 1 / kernel.bandwidth },
            [alphaBuf, xRows, zTile, gTile],
            [gx, gy],
            { KERNEL: variant, DPAD4: dPad / 4 },
          );
        }
        encodeTransposeProduct(
          this.ctx,
          op,
          pass,
          [gTile, gTile, outerBuf],
          rows * c,
          dPad,
          dPad,
          'gradient outer products',
          {
            diagOnly,
          },
        );
        encodeTransposeProduct(
          this.ctx,
          op,
          pass,
          [indicatorBuf, gTile, sumBuf],
          rows * c,
          cPad,
          dPad,
          'gradient sums',
        );
        pass.end();
        const [o, s] = await this.readBack(
          op,
          enc,
          [
            [outerBuf, 0, dPad * dPad],
            [sumBuf, 0, cPad * dPad],
          ],
          { kind: 'gradient moments', work: rows * n * c * dPad },
        );
        for (let a = 0; a < d; a++)
          for (let b = 0; b < d; b++) if (!diagOnly || a === b) outer[a * d + b] += o[a * dPad + b];
        for (let cc = 0; cc < c; cc++) for (let j = 0; j < d; j++) sum[cc * d + j] += s[cc * dPad + j];
      }
      if (diagOnly) {
        const diag = new Float64Array(d);
        for (let a = 0; a < d; a++) diag[a] = outer[a * d + a];
        return { outer: diag, sum: mat(c, d, sum) };
      }
      return { outer, sum: mat(c, d, sum) };
    });
  }

  // ---------------------------------------------------------------- building blocks

  /** Kernel matrix K(A, B) read back to the host (A.n x B.n), kept in f32: the values are f32 already, and it halves the host memory (8 MB for K_nS at n = 8000). */
  private async kernelMatrixHost(
    op: Op,
    a: PointsT,
    b: PointsT,
    variant: KernelVariant,
    bandwidth: number,
  ): Promise<Float32Array> {
    const out = new Float32Array(a.n * b.n);
    const tileRows = this.rowsPerBinding(b.ld);
    const tile = this.buffer(op, Math.min(tileRows, a.n) * b.ld * 4, USAGE_STORAGE | USAGE_COPY_SRC, 'kernel tile');
    for (let r0 = 0; r0 < a.n; r0 += tileRows) {
      const rows = Math.min(tileRows, a.n - r0);
      const enc = this.ctx.device.createCommandEncoder({ label: 'kernel matrix tile' });
      const pass = enc.beginComputePass({ label: 'kernel matrix tile' });
      this.encodeKernelMatrix(op, pass, a, r0, rows, b, tile, variant, bandwidth);
      pass.end();
      const [k] = await this.readBack(op, enc, [[tile, 0, rows * b.ld]]);
      for (let i = 0; i < rows; i++) for (let j = 0; j < b.n; j++) out[(r0 + i) * b.n + j] = k[i * b.ld + j];
    }
    return out;
  }

  /**
   * K(X, X) built on the device band by band (kernelMatrix.wgsl SYMMETRIC = 2: each row from the start
   * of its 256-row band, which covers the host product's reads from its 4-row group on) and read back
   * into host memory for the host products (hostProducts). One device tile of at most 8 MiB and its
   * staging buffer are reused across tiles (and, with keep, across the fit's solves, with the host
   * matrix). Null when this runtime cannot hold it (no WebAssembly SIMD, or past wasm32's 4 GiB).
   */
  private async kernelOnHost(
    op: Op,
    pts: PointsT,
    variant: KernelVariant,
    bandwidth: number,
    keep: boolean,
  ): Promise<HostSymmetricMatrix | null> {
    const { n, ld } = pts;
    const byBinding = Math.floor(this.maxBinding / (ld * 4) / SYM_BAND) * SYM_BAND;
    const tileRows = Math.min(byBinding, Math.max(SYM_BAND, Math.floor(TILE_BYTES / (ld * 4) / SYM_BAND) * SYM_BAND));
    if (tileRows < SYM_BAND) return null;
    const rowsMax = Math.min(tileRows, n);
    const kept = this.keptHostK?.n === n && this.keptHostK.ld === ld ? this.keptHostK : null;
    if (!kept) this.dropKeptK();
    const host = kept?.host ?? HostSymmetricMatrix.create(n);
    if (!host) return null;
    const bytes = rowsMax * ld * 4;
    const make = (usage: number, label: string): GPUBuffer =>
      keep ? this.ctx.persistent(bytes, usage, label) : this.buffer(op, bytes, usage, label);
    const tile = kept?.tile ?? make(USAGE_STORAGE | USAGE_COPY_SRC, 'kernel rows (for the host)');
    const staging = kept?.staging ?? make(USAGE_MAP_READ | USAGE_COPY_DST, 'kernel rows (read-back)');
    if (keep && !kept) this.keptHostK = { n, ld, host, tile, staging };
    const hld = host.ld;
    for (let r0 = 0; r0 < n; r0 += tileRows) {
      const rows = Math.min(tileRows, n - r0);
      const enc = this.ctx.device.createCommandEncoder({ label: 'kernel matrix (for the host)' });
      const pass = enc.beginComputePass({ label: 'kernel matrix (for the host)' });
      this.encodeKernelMatrix(op, pass, pts, r0, rows, pts, tile, variant, bandwidth, 2);
      pass.end();
      const dst = host.rows(r0, rows);
      await this.ctx.readWith(
        enc,
        tile,
        rows * ld * 4,
        staging,
        (k) => {
          // Row i from its band's start (all the product reads); columns n..hld are the device's zeros.
          for (let i = 0; i < rows; i++) {
            const from = Math.floor((r0 + i) / SYM_BAND) * SYM_BAND;
            dst.set(k.subarray(i * ld + from, i * ld + hld), i * hld + from);
          }
        },
        { kind: 'kernel band', work: rows * (n - r0) * pts.d },
      );
    }
    if (!keep) this.release(op, tile, staging);
    return host;
  }

  /**
   * K(X, X) kept on the device in row tiles that each fit one binding: into the previous solve's
   * buffers when they have this shape (keptK), else into new ones, kept for the next solve when
   * `keep` (persistent) or the op's.
   */
  private kernelTilesOnDevice(
    op: Op,
    pts: PointsT,
    variant: KernelVariant,
    bandwidth: number,
    keep: boolean,
    sym: SymmetricPlan | null,
  ): KTile[] {
    const tileRows = sym ? sym.tileRows : this.rowsPerBinding(pts.ld);
    const kept =
      this.keptK?.n === pts.n && this.keptK.ld === pts.ld && this.keptK.sym === (sym !== null)
        ? this.keptK.tiles
        : null;
    if (!kept && keep) this.dropKeptK();
    const tiles: KTile[] = [];
    const enc = this.ctx.device.createCommandEncoder({ label: 'kernel matrix' });
    const pass = enc.beginComputePass({ label: 'kernel matrix' });
    // For the symmetric product only the bands it reads (kernelMatrix.wgsl SYMMETRIC = 2); else, when
    // one tile holds all of K, its upper half computed and mirrored (SYMMETRIC = 1).
    const mode = sym ? 2 : pts.n <= tileRows ? 1 : 0;
    for (let r0 = 0; r0 < pts.n; r0 += tileRows) {
      const rows = Math.min(tileRows, pts.n - r0);
      const bytes = rows * pts.ld * 4,
        label = `kernel rows ${r0}..${r0 + rows}`;
      const buf =
        kept?.[tiles.length].buf ??
        (keep ? this.ctx.persistent(bytes, USAGE_STORAGE, label) : this.buffer(op, bytes, USAGE_STORAGE, label));
      this.encodeKernelMatrix(op, pass, pts, r0, rows, pts, buf, variant, bandwidth, mode);
      tiles.push({ r0, rows, buf });
    }
    pass.end();
    this.ctx.device.queue.submit([enc.finish()]);
    if (keep && !kept) this.keptK = { n: pts.n, ld: pts.ld, sym: sym !== null, tiles };
    return tiles;
  }

  /**
   * Whether the stored K's CG products can read half of it (kernelTimesColsSym.wgsl), and with what:
   * the device has subgroups of at least 8 invocations (lanes 0-7 hold a block's 8 partials), 256-row
   * tiles fit a binding, and the column partials for up to c columns (partialBytes) fit a binding
   * and, with K, the memory budget. Null: the full K and the full product.
   */
  private symmetricPlan(n: number, ld: number, c: number): SymmetricPlan | null {
    const min = this.ctx.subgroupMinSize;
    if (!this.opts.symmetricProduct || this.symmetricBroken || min === null || min < 8 || min > 64) return null;
    // (Not rowsPerBinding: a size no tile fits is refused where K is built, not here.)
    const tileRows = Math.floor(this.maxBinding / (ld * 4) / SYM_BAND) * SYM_BAND;
    const slots = 64 / min;
    const bytes = partialBytes(n, ld, c, slots);
    if (tileRows < SYM_BAND || bytes > this.maxBinding || !Number.isInteger(slots)) return null;
    return { tileRows, slots, bytes };
  }

  /** Buffers of one stored-K product shape: P^T (upload), K P (output) and its staging copy; the symmetric product's column partials and flag. */
  private productScratch(op: Op, n: number, ld: number, c: number, sym: SymmetricPlan | null): ProductScratch {
    const cPad = roundUp(c, 4);
    return {
      c,
      sym: sym !== null,
      slots: sym?.slots ?? 0,
      pt: this.buffer(op, cPad * ld * 4, USAGE_STORAGE | USAGE_COPY_DST, 'CG direction (transposed)'),
      out: this.buffer(op, n * cPad * 4, USAGE_STORAGE | USAGE_COPY_SRC, 'K times direction'),
      staging: this.buffer(op, (n * cPad + 4) * 4, USAGE_MAP_READ | USAGE_COPY_DST, 'K times direction (readback)'),
      // Sized for this c (at most the c the plan was made for).
      partials: sym
        ? this.buffer(op, partialBytes(n, ld, c, sym.slots), USAGE_STORAGE, 'symmetric product column partials')
        : null,
      flag: sym ? this.buffer(op, 16, USAGE_STORAGE | USAGE_COPY_SRC, 'subgroup layout flag') : null,
    };
  }

  private releaseScratch(op: Op, s: ProductScratch): void {
    this.release(op, s.pt, s.out, s.staging, ...(s.partials && s.flag ? [s.partials, s.flag] : []));
  }

  /**
   * K P with K held on the device (P rounded to f32 like K; splitting P into f32 hi + lo parts was
   * measured to change neither CG iteration counts nor fitted values, at twice the work). The
   * buffers are the solve's (scratch): CG calls this every iteration. With scratch.sym, the
   * symmetric product over the band-built K (null when the device's subgroups are not consecutive
   * invocations: the caller rebuilds K in full and multiplies again).
   */
  private async storedKTimes(
    op: Op,
    tiles: KTile[],
    n: number,
    ld: number,
    p: Float64Array,
    c: number,
    scratch: ProductScratch,
  ): Promise<Float64Array | null> {
    const { pt, cPad } = columnsT(p, n, c, ld);
    this.ctx.device.queue.writeBuffer(scratch.pt, 0, pt.buffer, pt.byteOffset, pt.byteLength);
    const enc = this.ctx.device.createCommandEncoder({ label: 'K times P' });
    const pass = enc.beginComputePass({ label: 'K times P' });
    // The same dispatches every iteration: made once per solve (scratch).
    scratch.dispatches ??= this.productDispatches(op, tiles, n, ld, c, scratch);
    for (const d of scratch.dispatches) this.ctx.encodePrepared(pass, d);
    pass.end();
    const ranges: [GPUBuffer, number, number][] = [[scratch.out, 0, n * cPad]];
    if (scratch.flag) ranges.push([scratch.flag, 0, 1]);
    const [out, flag] = await this.ctx.readBack(op, enc, ranges, scratch.staging);
    // The flag is a u32 read as f32: any set bit is nonzero.
    return flag && flag[0] !== 0 ? null : dropPadding(out, n, c, cPad);
  }

  /** The stored-K product's dispatches: symmetric (per tile, then the reduction) or full (per tile). */
  private productDispatches(
    op: Op,
    tiles: KTile[],
    n: number,
    ld: number,
    c: number,
    scratch: ProductScratch,
  ): PreparedDispatch[] {
    const cPad = roundUp(c, 4);
    const columns = c === 1 ? 1 : 4;
    if (scratch.partials && scratch.flag) {
      const { partials, flag } = scratch;
      return [
        ...tiles.map((t) =>
          this.ctx.prepareProgram(
            op,
            kernelTimesColsSym,
            { rows: t.rows, n, ld4: ld / 4, cPad4: cPad / 4, r0: t.r0 },
            [t.buf, scratch.pt, scratch.out, partials, flag],
            [Math.ceil(t.rows / SYM_BAND), cPad / 4],
            { COLUMNS: columns, SUBGROUP_MIN: 64 / scratch.slots },
          ),
        ),
        this.ctx.prepareProgram(
          op,
          kernelTimesColsSymReduce,
          { n, ld4: ld / 4, cPad4: cPad / 4, slots: scratch.slots },
          [partials, scratch.out],
          [Math.ceil(n / 4 / 64), cPad / 4],
          { COLUMNS: columns },
        ),
      ];
    }
    return tiles.map((t) =>
      this.ctx.prepareProgram(
        op,
        kernelTimesCols,
        { rows: t.rows, ld4: ld / 4, cPad4: cPad / 4 },
        [t.buf, scratch.pt, { buffer: scratch.out, offset: t.r0 * cPad * 4, size: t.rows * cPad * 4 }],
        [Math.ceil(t.rows / 4 / 64), cPad / 4],
        { COLUMNS: columns },
      ),
    );
  }

  /** K(A, B) P computed tile by tile without keeping K (predict, and CG when K exceeds the memory budget). */
  private async recomputedKTimes(
    op: Op,
    a: PointsT,
    b: PointsT,
    variant: KernelVariant,
    bandwidth: number,
    p: Float64Array,
    c: number,
  ): Promise<Float64Array> {
    const { pt, cPad } = columnsT(p, b.n, c, b.ld);
    const ptBuf = this.upload(op, pt, 'coefficients (transposed)');
    const tileRows = this.queryTileRows(b.ld, cPad * 4);
    const kTile = this.buffer(op, Math.min(tileRows, a.n) * b.ld * 4, USAGE_STORAGE, 'kernel tile');
    const outBuf = this.buffer(op, a.n * cPad * 4, USAGE_STORAGE | USAGE_COPY_SRC, 'kernel times coefficients');
    const enc = this.ctx.device.createCommandEncoder({ label: 'K(A,B) P' });
    const pass = enc.beginComputePass({ label: 'K(A,B) P' });
    for (let r0 = 0; r0 < a.n; r0 += tileRows) {
      const rows = Math.min(tileRows, a.n - r0);
      this.encodeKernelMatrix(op, pass, a, r0, rows, b, kTile, variant, bandwidth);
      this.ctx.dispatchProgram(
        op,
        pass,
        kernelTimesCols,
        { rows, ld4: b.ld / 4, cPad4: cPad / 4 },
        [kTile, ptBuf, { buffer: outBuf, offset: r0 * cPad * 4, size: rows * cPad * 4 }],
        [Math.ceil(rows / 4 / 64), cPad / 4],
        { COLUMNS: c === 1 ? 1 : 4 },
      );
    }
    pass.end();
    const [out] = await this.readBack(op, enc, [[outBuf, 0, a.n * cPad]], {
      kind: 'kernel times coefficients',
      work: a.n * b.n * (a.d + c),
    });
    this.release(op, ptBuf, kTile, outBuf);
    return dropPadding(out, a.n, c, cPad);
  }

  private encodeKernelMatrix(
    op: Op,
    pass: GPUComputePassEncoder,
    a: PointsT,
    r0: number,
    rows: number,
    b: PointsT,
    out: GPUBuffer,
    variant: KernelVariant,
    bandwidth: number,
    /** kernelMatrix.wgsl SYMMETRIC: 0 every entry, 1 upper half mirrored (one tile), 2 the symmetric product's bands. */
    symmetric: 0 | 1 | 2 = 0,
  ): void {
    this.ctx.dispatchProgram(
      op,
      pass,
      kernelMatrix,
      {
        rowsA: rows,
        rowsB: b.n,
        d: a.d,
        ldA4: a.ld / 4,
        ldB4: b.ld / 4,
        ldOut: b.ld,
        invL: 1 / bandwidth,
        aCol4: r0 / 4,
      },
      [a.buf, b.buf, out],
      [Math.ceil(b.ld / 8 / 64), Math.ceil(rows / 8)],
      { KERNEL: variant, SYMMETRIC: symmetric, BAND: SYM_BAND },
    );
  }

  // ---------------------------------------------------------------- memory and errors

  // Tile heights are multiples of 64 rows so that output offsets (rows x cPad x 4 bytes) meet the
  // 256-byte minStorageBufferOffsetAlignment.
  private rowsPerBinding(ld: number): number {
    const rows = Math.floor(this.maxBinding / (ld * 4) / 64) * 64;
    if (rows < 64) throw this.tooLarge(`64 kernel rows over ${ld} points`, Math.floor(this.maxBinding / 256 / 8) * 8);
    return rows;
  }

  private queryTileRows(ld: number, extraBytesPerRow: number): number {
    const byBinding = Math.floor(this.maxBinding / Math.max(ld * 4, extraBytesPerRow) / 64) * 64;
    if (byBinding < 64) {
      if (extraBytesPerRow > ld * 4)
        throw this.tooLarge(`64 query rows of ${extraBytesPerRow} bytes of gradients`, null);
      throw this.tooLarge(`64 kernel rows over ${ld} points`, Math.floor(this.maxBinding / 256 / 8) * 8);
    }
    return Math.min(byBinding, roundUp(this.opts.queryTileRows, 64));
  }

  /** A BackendError (so a fit can continue on the CPU) naming the limit and the largest n that fits. */
  private tooLarge(what: string, largestN: number | null): BackendError {
    const hint =
      largestN === null ? 'use fewer classes or features' : `the largest n this device can tile is ${largestN}`;
    return new BackendError(
      'webgpu',
      `${what} exceed the device's ${this.maxBinding}-byte storage binding (maxStorageBufferBindingSize); ${hint}`,
    );
  }

  private uploadPointsT(op: Op, x: Mat, label: string): PointsT {
    const n = x.rows;
    const d = x.cols;
    const ld = roundUp(Math.max(n, 1), 8);
    if (ld * d * 4 > this.maxBinding) {
      throw this.tooLarge(
        `${label}: ${n} points x ${d} features`,
        Math.min(Math.floor(this.maxBinding / (4 * d) / 8) * 8, Math.floor(this.maxBinding / 256 / 8) * 8),
      );
    }
    const t = new Float32Array(d * ld);
    for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) t[k * ld + i] = x.data[i * d + k];
    return { buf: this.upload(op, t, label), n, d, ld };
  }

  private buffer(op: Op, size: number, usage: number, label: string): GPUBuffer {
    return this.ctx.buffer(op, size, usage, label);
  }

  private upload(op: Op, data: Float32Array, label: string): GPUBuffer {
    return this.ctx.upload(op, data, label);
  }

  /** Destroys buffers before the op ends (per CG iteration), so long solves do not pile them up. */
  private release(op: Op, ...bufs: GPUBuffer[]): void {
    this.ctx.release(op, ...bufs);
  }

  private readBack(
    op: Op,
    enc: GPUCommandEncoder,
    ranges: [GPUBuffer, number, number][],
    pace?: Pace,
  ): Promise<Float64Array[]> {
    return this.ctx.readBack(op, enc, ranges, undefined, pace);
  }

  private async sync(): Promise<void> {
    await this.ctx.device.queue.onSubmittedWorkDone();
  }

  private exclusive<T>(name: string, body: (op: Op) => Promise<T>): Promise<T> {
    if (this.disposed) return Promise.reject(new BackendError('webgpu', `${name}: backend already disposed`));
    return this.ctx.run(name, body);
  }
}

interface KTile {
  r0: number;
  rows: number;
  buf: GPUBuffer;
}

interface ProductScratch {
  c: number;
  /** The product's dispatches, made at its first use. */
  dispatches?: PreparedDispatch[];
  sym: boolean;
  /** Column-partial slots per band (symmetric product). */
  slots: number;
  pt: GPUBuffer;
  out: GPUBuffer;
  staging: GPUBuffer;
  partials: GPUBuffer | null;
  flag: GPUBuffer | null;
}

/** Rows per band of the symmetric product: 64 invocations x 4 rows (kernelTimesColsSym.wgsl). */
const SYM_BAND = 256;
/**
 * Largest device tile of K built for the host products (kernelOnHost): each tile's copy into host
 * memory is one synchronous stretch between two waits on the device (8 MiB: a few ms; 4, 8 and 32 MiB
 * fitted equally fast at n = 2000, measured).
 */
const TILE_BYTES = 8 * 1024 ** 2;

/**
 * Bytes of the symmetric product's column partials: bands x slots x columns (1 for one column, else
 * c rounded up to 4) x ld f32; 1/32 of K for one column with subgroups of 8 (lavapipe).
 */
function partialBytes(n: number, ld: number, c: number, slots: number): number {
  return Math.ceil(n / SYM_BAND) * slots * (c === 1 ? 1 : roundUp(c, 4)) * ld * 4;
}

interface SymmetricPlan {
  /** Rows per K tile: a multiple of SYM_BAND. */
  tileRows: number;
  slots: number;
  /** Bytes of the column partials for the plan's column count. */
  bytes: number;
}

interface PointsT {
  buf: GPUBuffer;
  n: number;
  d: number;
  /** Padded point count (multiple of 8): the row stride of the transposed layout. */
  ld: number;
}

function kernelVariant(kernel: KernelSpec, gradient: boolean): KernelVariant {
  if (!(kernel.bandwidth > 0)) throw new InputError(`kernel bandwidth must be positive, got ${kernel.bandwidth}`);
  const base = kernel.name === 'laplace' ? 0 : 1;
  return (base + (gradient ? 2 : 0)) as KernelVariant;
}

function f32PredictError(alpha: Mat): number {
  let worst = 0;
  for (let col = 0; col < alpha.cols; col++) {
    let s = 0;
    for (let i = 0; i < alpha.rows; i++) s += alpha.data[i * alpha.cols + col] ** 2;
    worst = Math.max(worst, Math.sqrt(s));
  }
  return 1e-7 * worst;
}

function rowsOf(x: Mat, idx: Int32Array): Mat {
  const out = new Float64Array(idx.length * x.cols);
  for (let r = 0; r < idx.length; r++) out.set(x.data.subarray(idx[r] * x.cols, (idx[r] + 1) * x.cols), r * x.cols);
  return mat(idx.length, x.cols, out);
}

function toF32(a: Float64Array): Float32Array {
  return Float32Array.from(a);
}

function padRows(x: Mat, width: number): Float32Array<ArrayBuffer> {
  const out = new Float32Array(x.rows * width);
  for (let i = 0; i < x.rows; i++) for (let k = 0; k < x.cols; k++) out[i * width + k] = x.data[i * x.cols + k];
  return out;
}

/** Columns of p (n x c, float64) as f32 rows of length ld, padded with zero rows to cPad (multiple of 4). */
function columnsT(p: Float64Array, n: number, c: number, ld: number): { pt: Float32Array; cPad: number } {
  const cPad = roundUp(c, 4);
  const pt = new Float32Array(cPad * ld);
  for (let i = 0; i < n; i++) for (let col = 0; col < c; col++) pt[col * ld + i] = p[i * c + col];
  return { pt, cPad };
}

function dropPadding(out: Float64Array, n: number, c: number, cPad: number): Float64Array {
  if (c === cPad) return out;
  const r = new Float64Array(n * c);
  for (let i = 0; i < n; i++) for (let col = 0; col < c; col++) r[i * c + col] = out[i * cPad + col];
  return r;
}
