// The catapult lab's placement with the real host device (Dawn): a panel without WebGPU hands the ReLU
// network to the extension host's WebGPU, which trains it as the CPU reference does (f32), reuses one
// device across runs, and says in one line what ran and why.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CpuCatapultBackend, runLab } from '../../src/core/catapult/index';
import { PlacementUnavailable } from '../../src/core/compute';
import { hostGpuLease } from '../../src/core/node';
import { toWireLabOutcome, type LabSettings } from '../../src/protocol/catapult';
import { hostGpuSurface, runLabPlaced, type LabSurfaces } from '../../src/extension/catapult/placeRun';

const settings: LabSettings = { model: 'relu', width: 64, lrFactor: 3, steps: 40, batch: 1e9, seed: 0 };

/** A panel whose page has no WebGPU adapter (the e2e host suite's Chromium runs with --disable-gpu). */
const pageWithoutGpu: LabSurfaces['page'] = async (placement) => {
  if (placement === 'page-gpu') throw new PlacementUnavailable('navigator.gpu is not available in this webview');
  throw new Error('the host GPU should have taken the run before the page CPU');
};

describe('catapult lab on the host GPU', () => {
  it('a panel without WebGPU: the ReLU network trains on the host WebGPU, losses as the CPU within 1e-4', async () => {
    const lease = hostGpuLease();
    const created = lease.created;
    const r = await runLabPlaced(settings, 'none', 'auto', { page: pageWithoutGpu, hostGpu: hostGpuSurface });
    assert.equal(r.info.placement, 'host-gpu');
    assert.equal(r.info.backend, 'webgpu');
    assert.match(r.info.device, /^webgpu /);
    assert.equal(
      r.info.reason,
      'WebGPU in the extension host (WebGPU in the panel: navigator.gpu is not available in this webview)',
    );
    const ref = toWireLabOutcome(await runLab(settings, 'none', new CpuCatapultBackend()));
    assert.ok(r.outcome.kind === 'run' && ref.kind === 'run');
    assert.equal(r.outcome.run.phase, ref.run.phase);
    const [g, c] = [new Float64Array(r.outcome.run.losses), new Float64Array(ref.run.losses)];
    assert.equal(g.length, c.length);
    const err = Math.max(...g.map((L, i) => Math.abs(L - c[i]) / c[i]));
    assert.ok(err < 1e-4, `losses differ by ${err}`);

    // The next run borrows the same device: pipelines compiled once per session.
    const again = await runLabPlaced({ ...settings, steps: 5 }, 'none', 'webgpu', { hostGpu: hostGpuSurface });
    assert.equal(again.info.placement, 'host-gpu');
    assert.equal(again.info.backendNote, null);
    assert.ok(lease.created - created <= 1, `devices created: ${lease.created - created}`);
  });
});
