// Where each feature computes and how it falls back: the one placement policy of Feature Lens. The
// extension host, the webview pages, the CLI and the tests all plan and run through this module; what
// differs per surface is only how a placement's backend is obtained (`attempt`).
import { BackendError, CancelledError, InputError } from './errors';

/** What the user asks for: `featureLens.backend`, `--backend`, a command argument. */
export type BackendChoice = 'auto' | 'webgpu' | 'cpu';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'webgpu', 'cpu'];

/** Parses a backend choice; `where` names the flag, setting or argument in the error. */
export function parseBackendChoice(value: unknown, where: string): BackendChoice {
  if (typeof value === 'string' && (BACKEND_CHOICES as readonly string[]).includes(value))
    return value as BackendChoice;
  // The CLI's wording since its first release (tests and scripts match it).
  throw new InputError(`${where}: expected auto, cpu or webgpu, got '${String(value)}'`);
}

/** A place a computation can run: a webview page's GPU or thread, or the extension host's / CLI's. */
export type Placement = 'page-gpu' | 'host-gpu' | 'page-cpu' | 'host-cpu';

/** The features that compute; each declares its placements in PLACEMENTS. */
export type ComputeFeature =
  'rfm' | 'nfa' | 'nfaTrain' | 'catapult' | 'convrfm' | 'grokking' | 'collapse' | 'linrfm' | 'deepRfm';

/**
 * Preferred order per feature. Pages come first where the feature has a page that can compute (their
 * GPU is the user's browser GPU, and their thread is not the extension host's); the host's Dawn next;
 * the CPU last, on the page when there is one so the host's event loop stays free.
 */
export const PLACEMENTS: Readonly<Record<ComputeFeature, readonly Placement[]>> = {
  rfm: ['page-gpu', 'host-gpu', 'page-cpu', 'host-cpu'],
  nfa: ['host-gpu', 'host-cpu'],
  nfaTrain: ['host-gpu', 'host-cpu'],
  catapult: ['page-gpu', 'host-gpu', 'page-cpu', 'host-cpu'],
  // On the host (the CLI, the extension's command): the patch kernel matrix and, per position, the RFM
  // backend's patch gradients.
  convrfm: ['host-gpu', 'host-cpu'],
  grokking: ['page-gpu', 'host-gpu', 'page-cpu', 'host-cpu'],
  // Neural collapse of a network's layers: the forward pass on the host's NFA backend, metrics in float64.
  collapse: ['host-gpu', 'host-cpu'],
  // Matrix completion (core/linrfm): the CLI and the extension's command run it on the host.
  linrfm: ['host-gpu', 'host-cpu'],
  // Deep RFM (rfm/deep.ts): each layer's kernel solve and AGOP on the host's RFM backend.
  deepRfm: ['host-gpu', 'host-cpu'],
};

/**
 * Work (in the feature's own unit) below which `auto` tries the CPU first: there a GPU's fixed cost per
 * dispatch and read-back outweighs the arithmetic. lin-RFM counts rows x cols² (one iteration's WᵀW);
 * measured on this machine: 100 x 100 at 15% observed, 600 iterations took 7 s on the CPU and 92 s on
 * WebGPU (lavapipe), ~150 ms per iteration of mostly fixed cost, while 1000 x 1000 is arithmetic-bound.
 */
export const CPU_FIRST_BELOW: Partial<Record<ComputeFeature, number>> = { linrfm: 1e8 };

export const isGpu = (p: Placement): boolean => p === 'page-gpu' || p === 'host-gpu';

/**
 * Whether a WebGPU adapter is the CPU emulating a GPU (Mesa's lavapipe / llvmpipe, SwiftShader, WARP):
 * it says so (isFallbackAdapter) or its names do. Inside a GPU placement on such an adapter, work bound
 * by memory bandwidth runs faster as native SIMD on the same cores than through the emulated device
 * (the RFM CG product: rfm/webgpu.ts hostProducts), while compute-bound kernels stay on it.
 */
export function cpuEmulatedAdapter(a: {
  vendor: string;
  architecture: string;
  description?: string;
  fallback?: boolean;
}): boolean {
  return (
    a.fallback === true ||
    /llvmpipe|lavapipe|swiftshader|software|microsoft basic render/i.test(
      `${a.vendor} ${a.architecture} ${a.description ?? ''}`,
    )
  );
}

/** Short names for the one-line report of what ran and why. */
export function describePlacement(p: Placement, page = 'panel', host = 'the extension host'): string {
  switch (p) {
    case 'page-gpu':
      return `WebGPU in the ${page}`;
    case 'host-gpu':
      return `WebGPU in ${host}`;
    case 'page-cpu':
      return `CPU in the ${page}`;
    case 'host-cpu':
      return `CPU in ${host}`;
  }
}

/**
 * The placements to try, in order: the feature's table filtered by the choice (webgpu: GPU ones only;
 * cpu: CPU ones only) and by the surfaces present (`page`: a page that can compute is open; `host`:
 * false on a page computing alone, e.g. the CLI has only host placements). `work`: the problem's size
 * in the unit of CPU_FIRST_BELOW (auto puts the CPU first below it).
 */
export function planPlacements(
  feature: ComputeFeature,
  choice: BackendChoice,
  surfaces: { page: boolean; host?: boolean },
  work?: number,
): Placement[] {
  const plan = PLACEMENTS[feature].filter((p) => {
    if (choice === 'webgpu' && !isGpu(p)) return false;
    if (choice === 'cpu' && isGpu(p)) return false;
    if (p.startsWith('page-') && !surfaces.page) return false;
    if (p.startsWith('host-') && surfaces.host === false) return false;
    return true;
  });
  // Auto on a problem below the feature's CPU_FIRST_BELOW: the CPU placements first (stable order).
  const below = CPU_FIRST_BELOW[feature];
  if (choice !== 'auto' || work === undefined || below === undefined || work >= below) return plan;
  return [...plan.filter((p) => !isGpu(p)), ...plan.filter(isGpu)];
}

/** Thrown by an attempt whose placement cannot run at all (no adapter, no page): try the next one. */
export class PlacementUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlacementUnavailable';
  }
}

export interface Placed<T> {
  value: T;
  placement: Placement;
  /** One short line: what ran, and why the earlier placements did not ("WebGPU in the extension host (panel: no adapter)"). */
  reason: string;
}

/**
 * Runs `attempt` on each placement of `plan` in order until one succeeds. A BackendError (device lost,
 * out of memory, shader error, also mid-run) or PlacementUnavailable moves on to the next placement;
 * anything else (bad input, cancel, a bug) is thrown at once. `onFallback` hears each move, so a view can
 * say what happened. When every placement failed, throws a BackendError listing why each did.
 */
export async function runPlaced<T>(
  plan: readonly Placement[],
  attempt: (placement: Placement, why: string) => Promise<T>,
  options: {
    page?: string;
    /** How the host is named: 'the extension host' (default), 'this process' in the CLI. */
    host?: string;
    onFallback?: (from: Placement, error: Error, next: Placement | undefined) => void;
  } = {},
): Promise<Placed<T>> {
  const reasons: string[] = [];
  if (!plan.length) throw new BackendError('webgpu', 'no placement allowed for this choice here');
  for (let i = 0; i < plan.length; i++) {
    const p = plan[i];
    const what = describePlacement(p, options.page, options.host);
    const why = reasons.length ? `${what} (${reasons.join('; ')})` : what;
    try {
      return { value: await attempt(p, why), placement: p, reason: why };
    } catch (e) {
      if (e instanceof CancelledError || !(e instanceof BackendError || e instanceof PlacementUnavailable)) throw e;
      reasons.push(
        `${describePlacement(p, options.page, options.host)}: ${e.message.replace(/^webgpu backend: /, '')}`,
      );
      options.onFallback?.(p, e, plan[i + 1]);
    }
  }
  throw new BackendError('webgpu', `no placement could run: ${reasons.join('; ')}`);
}

/**
 * Wraps every method of a synchronous-in-effect backend (the CPU ones) so it first yields one task:
 * a cancel click, a message or a repaint gets in between heavy steps. `yieldNow` is setImmediate in
 * Node and a zero timeout on a page.
 */
export function yielding<B extends object>(inner: B, yieldNow: () => Promise<void>): B {
  return new Proxy(inner, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver) as unknown;
      if (typeof v !== 'function' || key === 'dispose') return v;
      return async (...args: unknown[]) => {
        await yieldNow();
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
