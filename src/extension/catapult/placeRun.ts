// Where a catapult-lab run computes, decided once on the host: planPlacements('catapult', ...) over
// the panel's page (when it loaded) and the host, tried in order by runPlaced. No vscode here, so the
// plan and its fallbacks are tested in Node (test/unit/catapult-placement.test.ts).
import { labModel, runLab, yieldingCatapult } from '../../core/catapult/index';
import type { CatapultBackend, LabProgress, LabSweep, LabTask } from '../../core/catapult/index';
import {
  PlacementUnavailable,
  planPlacements,
  runPlaced,
  type BackendChoice,
  type Placement,
} from '../../core/compute';
import type { CancelToken } from '../../core/errors';
import { hostCatapultBackend, yieldToEventLoop } from '../../core/node';
import {
  toWireLabOutcome,
  type LabRunInfo,
  type LabSettings,
  type LabWebviewToHost,
  type WireLabOutcome,
} from '../../protocol/catapult';

export type PageRun = Extract<LabWebviewToHost, { type: 'labOutcome' }>;
export type PagePlacement = 'page-gpu' | 'page-cpu';

export interface LabSurfaces {
  /** The panel's page, when it is loaded: computes the run on its GPU or thread and replies. */
  page?: (placement: PagePlacement, settings: LabSettings, sweep: LabSweep) => Promise<PageRun>;
  /** Lends the host's WebGPU backend for one run; throws BackendError / PlacementUnavailable without one. */
  hostGpu: <T>(work: (backend: CatapultBackend) => Promise<T>) => Promise<T>;
}

export interface LabRunHooks {
  task?: LabTask;
  cancel?: CancelToken;
  /** Steps of a run computing on the host (a page draws its own). */
  onHostProgress?: (p: LabProgress) => void;
  onFallback?: (from: Placement, error: Error, next: Placement | undefined) => void;
}

export interface PlacedLabRun {
  outcome: WireLabOutcome;
  /** The page computed (and drew) it itself. */
  onPage: boolean;
  info: LabRunInfo;
  seconds: number;
}

/** The host's WebGPU surface: the process's leased Dawn device (core/node.ts), given back after each run. */
export const hostGpuSurface: LabSurfaces['hostGpu'] = async (work) => {
  const backend = await hostCatapultBackend('host-gpu');
  try {
    return await work(backend);
  } finally {
    backend.dispose();
  }
};

export const LINEAR_TOY_NOTE = 'the linear toy runs the exact recursion on the CPU';

/** The placements a run tries, in order. The linear toy has no device code: CPU placements only. */
export function labPlan(settings: LabSettings, sweep: LabSweep, choice: BackendChoice, page: boolean): Placement[] {
  return planPlacements('catapult', labModel(settings, sweep) === 'linear' ? 'cpu' : choice, { page });
}

/** Runs the lab request on the first placement of its plan that can; see LabSurfaces. */
export async function runLabPlaced(
  settings: LabSettings,
  sweep: LabSweep,
  choice: BackendChoice,
  surfaces: LabSurfaces,
  hooks: LabRunHooks = {},
): Promise<PlacedLabRun> {
  const plan = labPlan(settings, sweep, choice, !!surfaces.page);
  const onHost = async (backend: CatapultBackend) => {
    const t0 = performance.now();
    const outcome = await runLab(settings, sweep, backend, {
      task: hooks.task,
      cancel: hooks.cancel,
      onProgress: hooks.onHostProgress,
    });
    const seconds = (performance.now() - t0) / 1000;
    return {
      outcome: toWireLabOutcome(outcome),
      onPage: false,
      backend: backend.name,
      device: backend.device,
      seconds,
    };
  };
  const placed = await runPlaced(
    plan,
    async (placement) => {
      switch (placement) {
        case 'page-gpu':
        case 'page-cpu': {
          if (!surfaces.page) throw new PlacementUnavailable('the panel is not loaded');
          const r = await surfaces.page(placement, settings, sweep);
          return { outcome: r.outcome, onPage: true, backend: r.backend, device: r.device, seconds: r.seconds };
        }
        case 'host-gpu':
          return surfaces.hostGpu(onHost);
        case 'host-cpu':
          // The extension host's thread runs the CPU session: it yields between calls so the host stays live.
          return onHost(yieldingCatapult(await hostCatapultBackend('host-cpu'), yieldToEventLoop));
      }
    },
    { page: 'panel', onFallback: hooks.onFallback },
  );
  const { outcome, onPage, backend, device, seconds } = placed.value;
  const linear = labModel(settings, sweep) === 'linear';
  return {
    outcome,
    onPage,
    seconds,
    info: {
      backend,
      device,
      placement: placed.placement,
      reason: placed.reason,
      backendNote: linear ? LINEAR_TOY_NOTE : placed.placement === plan[0] ? null : placed.reason,
    },
  };
}
