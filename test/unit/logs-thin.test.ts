import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { thinMinMax } from '../../webview/logs/thin';

const finite = (y: number) => Number.isFinite(y);

test('thinning keeps a one-point spike at full height among 100,000 points', () => {
  const n = 100_000;
  const xs = Float64Array.from({ length: n }, (_, i) => i);
  const ys = Float64Array.from({ length: n }, (_, i) => 1 + 0.01 * Math.sin(i));
  ys[61_234] = 50;
  const out = thinMinMax(xs, ys, 0, n, 1000, finite);
  assert.ok(out.length <= 2000 + 1000);
  const top = out.reduce((m, p) => (p.y > m.y ? p : m));
  assert.deepEqual(top, { x: 61_234, y: 50 });
  // every drawn point is a real point of the series, in step order
  for (let k = 1; k < out.length; k++) assert.ok(out[k].x > out[k - 1].x);
  for (const p of out) assert.equal(p.y, ys[p.x]);
});

test('a short range is drawn point for point; rejected values are gaps', () => {
  const xs = Float64Array.from([10, 20, 30, 40]);
  const ys = Float64Array.from([1, NaN, -2, 4]);
  const logAxis = (y: number) => Number.isFinite(y) && y > 0;
  const out = thinMinMax(xs, ys, 1, 4, 10, logAxis);
  assert.equal(out.length, 3);
  assert.deepEqual(
    out.map((p) => p.x),
    [20, 30, 40],
  );
  assert.ok(Number.isNaN(out[0].y) && Number.isNaN(out[1].y));
  assert.equal(out[2].y, 4);
});

test('a bucket holding a divergence (Infinity) leaves a gap after its finite points', () => {
  const n = 1000;
  const xs = Float64Array.from({ length: n }, (_, i) => i);
  const ys = Float64Array.from({ length: n }, () => 1);
  ys[505] = Infinity;
  const out = thinMinMax(xs, ys, 0, n, 100, finite);
  const bucket = out.filter((p) => p.x >= 500 && p.x < 510);
  assert.ok(
    bucket.some((p) => Number.isNaN(p.y)),
    JSON.stringify(bucket),
  );
  assert.ok(!out.some((p) => p.y === Infinity));
});
