// Where a catapult-lab run computes (src/extension/catapult/placeRun.ts): the plan per choice and
// surfaces, the move past a page without WebGPU to the host, a device failing mid-run, cancel, and the
// one-line reason. The page and the host GPU are stand-ins computing with the CPU reference.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CpuCatapultBackend, runLab, type CatapultBackend, type ReluSession } from '../../src/core/catapult/index';
import { PlacementUnavailable } from '../../src/core/compute';
import { BackendError, CancelledError } from '../../src/core/errors';
import { toWireLabOutcome, type LabSettings } from '../../src/protocol/catapult';
import { errorOfFailure } from '../../src/protocol/failure';
import {
  LINEAR_TOY_NOTE,
  labPlan,
  runLabPlaced,
  type LabSurfaces,
  type PagePlacement,
} from '../../src/extension/catapult/placeRun';

const RELU: LabSettings = { model: 'relu', width: 16, lrFactor: 3, steps: 20, batch: 1e9, seed: 0 };
const LINEAR: LabSettings = { model: 'linear', width: 100, lrFactor: 3, steps: 30, batch: 1e9, seed: 0 };

/** A page: no WebGPU (page-gpu unavailable) unless `gpu`; computes page-cpu with the CPU reference. */
function page(gpu = false, calls: PagePlacement[] = []): NonNullable<LabSurfaces['page']> {
  return async (placement, settings, sweep) => {
    calls.push(placement);
    if (placement === 'page-gpu' && !gpu) throw new PlacementUnavailable('navigator.gpu is not available');
    const outcome = toWireLabOutcome(await runLab(settings, sweep, new CpuCatapultBackend()));
    return { type: 'labOutcome', outcome, backend: gpu ? 'webgpu' : 'cpu', device: 'page device', seconds: 0 };
  };
}

/** A host "GPU" backend named webgpu (the CPU sessions underneath); `failAfter` steps, then a device loss. */
function hostGpu(failAfter = Infinity, used: string[] = []): LabSurfaces['hostGpu'] {
  return async (work) => {
    used.push('host-gpu');
    const cpu = new CpuCatapultBackend();
    let steps = 0;
    const backend: CatapultBackend = {
      name: 'webgpu',
      device: 'webgpu stand-in',
      async createSession(p) {
        const s = await cpu.createSession(p);
        const failing: ReluSession = {
          residuals: () => s.residuals(),
          ntkMatVec: (v) => s.ntkMatVec(v),
          agop: () => s.agop(),
          weights: () => s.weights(),
          dispose: () => s.dispose(),
          step: async (lr, rows) => {
            if (++steps > failAfter) throw new BackendError('webgpu', 'device lost');
            return s.step(lr, rows);
          },
        };
        return failing;
      },
    };
    return work(backend);
  };
}
const noHostGpu: LabSurfaces['hostGpu'] = async () => {
  throw new BackendError('webgpu', 'no adapter');
};

describe('catapult lab placement plan', () => {
  it('auto with a page: page GPU, host GPU, page CPU, host CPU; without one only the host', () => {
    assert.deepEqual(labPlan(RELU, 'none', 'auto', true), ['page-gpu', 'host-gpu', 'page-cpu', 'host-cpu']);
    assert.deepEqual(labPlan(RELU, 'none', 'auto', false), ['host-gpu', 'host-cpu']);
    assert.deepEqual(labPlan(RELU, 'lr', 'webgpu', true), ['page-gpu', 'host-gpu']);
    assert.deepEqual(labPlan(RELU, 'none', 'cpu', true), ['page-cpu', 'host-cpu']);
  });
  it('the linear toy has CPU placements only, whatever the choice; the batch sweep is the ReLU network', () => {
    assert.deepEqual(labPlan(LINEAR, 'none', 'webgpu', true), ['page-cpu', 'host-cpu']);
    assert.deepEqual(labPlan(LINEAR, 'lr', 'auto', false), ['host-cpu']);
    assert.deepEqual(labPlan(LINEAR, 'batch', 'auto', true), ['page-gpu', 'host-gpu', 'page-cpu', 'host-cpu']);
  });
});

describe('catapult lab placed runs', () => {
  it('a page without WebGPU: the ReLU network trains on the host GPU, and the line says why', async () => {
    const calls: PagePlacement[] = [];
    const progress: number[] = [];
    const r = await runLabPlaced(
      RELU,
      'none',
      'auto',
      { page: page(false, calls), hostGpu: hostGpu() },
      {
        onHostProgress: (p) => progress.push(p.step),
      },
    );
    assert.deepEqual(calls, ['page-gpu']);
    assert.equal(r.info.placement, 'host-gpu');
    assert.equal(r.info.backend, 'webgpu');
    assert.equal(r.onPage, false);
    assert.equal(r.info.reason, 'WebGPU in the extension host (WebGPU in the panel: navigator.gpu is not available)');
    assert.equal(r.info.backendNote, r.info.reason);
    assert.equal(progress.length, RELU.steps + 1, 'the host streams every step of a run it computes');
    const ref = toWireLabOutcome(await runLab(RELU, 'none', new CpuCatapultBackend()));
    assert.ok(r.outcome.kind === 'run' && ref.kind === 'run');
    assert.deepEqual(new Float64Array(r.outcome.run.losses), new Float64Array(ref.run.losses));
  });

  it('a page with WebGPU computes there; the first placement ran, so no note', async () => {
    const r = await runLabPlaced(RELU, 'none', 'auto', { page: page(true), hostGpu: hostGpu() });
    assert.equal(r.info.placement, 'page-gpu');
    assert.equal(r.onPage, true);
    assert.equal(r.info.backendNote, null);
    assert.equal(r.info.reason, 'WebGPU in the panel');
  });

  it('a host device lost mid-run: the whole run is repeated on the next placement (the page CPU)', async () => {
    const fallbacks: string[] = [];
    const r = await runLabPlaced(
      RELU,
      'none',
      'auto',
      { page: page(false), hostGpu: hostGpu(5) },
      { onFallback: (from, _e, next) => fallbacks.push(`${from}->${next}`) },
    );
    assert.equal(r.info.placement, 'page-cpu');
    assert.deepEqual(fallbacks, ['page-gpu->host-gpu', 'host-gpu->page-cpu']);
    assert.match(r.info.reason, /^CPU in the panel \(.*WebGPU in the extension host: device lost/);
    assert.ok(r.outcome.kind === 'run' && new Float64Array(r.outcome.run.losses).length === RELU.steps + 1);
  });

  it('no page and no host adapter: the host CPU; webgpu asked and none: an error naming each placement', async () => {
    const r = await runLabPlaced(RELU, 'lr', 'auto', { hostGpu: noHostGpu });
    assert.equal(r.info.placement, 'host-cpu');
    assert.equal(r.info.backend, 'cpu');
    assert.ok(r.outcome.kind === 'lrSweep' && r.outcome.rows.length === 12);
    await assert.rejects(
      runLabPlaced(RELU, 'none', 'webgpu', { page: page(false), hostGpu: noHostGpu }),
      (e: Error) =>
        e instanceof BackendError && /WebGPU in the panel: navigator.gpu.*WebGPU in the extension host/.test(e.message),
    );
  });

  it('the linear toy runs on the page CPU with its note, even when webgpu is asked', async () => {
    const r = await runLabPlaced(LINEAR, 'none', 'webgpu', { page: page(true), hostGpu: hostGpu() });
    assert.equal(r.info.placement, 'page-cpu');
    assert.equal(r.info.backendNote, LINEAR_TOY_NOTE);
  });

  it('cancel stops at once: no other placement is tried', async () => {
    const tried: string[] = [];
    const cancelled: LabSurfaces['page'] = async (placement) => {
      tried.push(placement);
      throw errorOfFailure({ kind: 'cancelled', message: 'stopped' });
    };
    await assert.rejects(
      runLabPlaced(RELU, 'none', 'auto', { page: cancelled, hostGpu: hostGpu(Infinity, tried) }),
      CancelledError,
    );
    assert.deepEqual(tried, ['page-gpu']);
    const token = { cancelled: true };
    await assert.rejects(runLabPlaced(RELU, 'none', 'cpu', { hostGpu: noHostGpu }, { cancel: token }), CancelledError);
  });

  it("a page's failures come back as the classes the policy acts on", () => {
    assert.ok(errorOfFailure({ kind: 'unavailable', message: 'x' }) instanceof PlacementUnavailable);
    const b = errorOfFailure({ kind: 'backend', message: 'webgpu backend: out of memory' });
    assert.ok(b instanceof BackendError);
    assert.equal(b.message, 'webgpu backend: out of memory');
    assert.ok(errorOfFailure({ kind: 'cancelled', message: 'stopped' }) instanceof CancelledError);
    const other = errorOfFailure({ kind: 'error', message: 'bad width' });
    assert.ok(!(other instanceof BackendError) && other.message === 'bad width');
  });
});
