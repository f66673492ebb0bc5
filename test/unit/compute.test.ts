// The placement policy: which placements each feature tries for each choice, and how runPlaced moves on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CPU_FIRST_BELOW,
  parseBackendChoice,
  planPlacements,
  PlacementUnavailable,
  runPlaced,
  yielding,
  type Placement,
} from '../../src/core/compute';
import { BackendError, CancelledError, InputError } from '../../src/core/errors';

test('plans: auto keeps the table order, webgpu only GPU placements, cpu only CPU ones; pages only when present', () => {
  assert.deepEqual(planPlacements('rfm', 'auto', { page: true }), ['page-gpu', 'host-gpu', 'page-cpu', 'host-cpu']);
  assert.deepEqual(planPlacements('rfm', 'auto', { page: false }), ['host-gpu', 'host-cpu']);
  assert.deepEqual(planPlacements('rfm', 'webgpu', { page: true }), ['page-gpu', 'host-gpu']);
  assert.deepEqual(planPlacements('rfm', 'cpu', { page: true }), ['page-cpu', 'host-cpu']);
  assert.deepEqual(planPlacements('catapult', 'auto', { page: true, host: false }), ['page-gpu', 'page-cpu']);
  assert.deepEqual(planPlacements('nfa', 'auto', { page: true }), ['host-gpu', 'host-cpu']);
});

test("auto tries the CPU first on work below the feature's CPU_FIRST_BELOW; an explicit choice is kept", () => {
  const below = CPU_FIRST_BELOW.linrfm!;
  assert.deepEqual(planPlacements('linrfm', 'auto', { page: false }, 100 * 100 * 100), ['host-cpu', 'host-gpu']);
  assert.deepEqual(planPlacements('linrfm', 'auto', { page: false }, below), ['host-gpu', 'host-cpu']);
  assert.deepEqual(planPlacements('linrfm', 'auto', { page: false }), ['host-gpu', 'host-cpu']);
  assert.deepEqual(planPlacements('linrfm', 'webgpu', { page: false }, 1), ['host-gpu']);
  // Features without a threshold keep their table order whatever the work.
  assert.deepEqual(planPlacements('rfm', 'auto', { page: true }, 1), ['page-gpu', 'host-gpu', 'page-cpu', 'host-cpu']);
});

test('parseBackendChoice names the field and what was expected', () => {
  assert.equal(parseBackendChoice('webgpu', '--backend'), 'webgpu');
  assert.throws(
    () => parseBackendChoice('gpu', '--backend'),
    (e: unknown) => e instanceof InputError && e.message === "--backend: expected auto, cpu or webgpu, got 'gpu'",
  );
});

test('runPlaced moves on after a device failure (also mid-run) and says why in one line', async () => {
  const tried: Placement[] = [];
  const fallbacks: string[] = [];
  const r = await runPlaced(
    ['page-gpu', 'host-gpu', 'host-cpu'],
    async (p) => {
      tried.push(p);
      if (p === 'page-gpu') throw new PlacementUnavailable('no adapter');
      if (p === 'host-gpu') throw new BackendError('webgpu', 'device lost (destroyed)');
      return 42;
    },
    { onFallback: (from, _e, next) => fallbacks.push(`${from}->${next}`) },
  );
  assert.equal(r.value, 42);
  assert.equal(r.placement, 'host-cpu');
  assert.deepEqual(tried, ['page-gpu', 'host-gpu', 'host-cpu']);
  assert.deepEqual(fallbacks, ['page-gpu->host-gpu', 'host-gpu->host-cpu']);
  assert.equal(
    r.reason,
    'CPU in the extension host (WebGPU in the panel: no adapter; WebGPU in the extension host: device lost (destroyed))',
  );
});

test('runPlaced stops at once on bad input or cancel, and fails with every reason when nothing could run', async () => {
  let calls = 0;
  await assert.rejects(
    runPlaced(['host-gpu', 'host-cpu'], async () => {
      calls++;
      throw new InputError('bad column');
    }),
    InputError,
  );
  await assert.rejects(
    runPlaced(['host-gpu', 'host-cpu'], async () => {
      calls++;
      throw new CancelledError();
    }),
    CancelledError,
  );
  assert.equal(calls, 2);
  await assert.rejects(
    runPlaced(['page-gpu', 'host-gpu'], async (p) => {
      throw new BackendError('webgpu', `${p} failed`);
    }),
    (e: unknown) =>
      e instanceof BackendError &&
      /WebGPU in the panel: page-gpu failed; WebGPU in the extension host: host-gpu failed/.test(e.message),
  );
});

test('yielding lets queued tasks run before each call and keeps fields and dispose as they are', async () => {
  const order: string[] = [];
  let disposed = false;
  const inner = {
    name: 'cpu',
    work(x: number) {
      order.push(`work ${x}`);
      return x * 2;
    },
    dispose() {
      disposed = true;
    },
  };
  const y = yielding(inner, () => new Promise<void>((r) => setImmediate(r)));
  setImmediate(() => order.push('other task'));
  const p = y.work(3);
  assert.equal(await p, 6);
  assert.deepEqual(order, ['other task', 'work 3']);
  assert.equal(y.name, 'cpu');
  y.dispose();
  assert.equal(disposed, true);
});
