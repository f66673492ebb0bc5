import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectSpikes, SpikeDetector } from '../../src/core/logs/spikes';
import { syntheticLoss, scoreDetections } from '../../src/core/logs/syntheticSpikes';
import { rng as makeRng } from '../../src/core/random';

function flatWith(tail: number[], lead = 30): number[] {
  const v: number[] = [];
  for (let i = 0; i < lead; i++) v.push(i % 2 ? 1.001 : 1.0);
  return [...v, ...tail];
}
const idx = (n: number) => Array.from({ length: n }, (_, i) => i);

test('a hand-built spike: start at the first raised point, peak, recovery, height over the median baseline', () => {
  const values = flatWith([1.2, 4, 8, 2, 1.05, 1.0, 1.001, 1.0, 1.001, 1.0, 1.0, 1.0]);
  const steps = idx(values.length).map((i) => 100 + 50 * i); // step units, not row indices
  const spikes = detectSpikes(steps, values);
  assert.equal(spikes.length, 1);
  const s = spikes[0];
  assert.equal(s.startIndex, 30);
  assert.equal(s.peakIndex, 32);
  assert.equal(s.endIndex, 34); // 1.05 is within max(2 * 0.01, log(1.5) / 4) of the baseline in log terms
  assert.equal(s.start, 100 + 50 * 30);
  assert.equal(s.peak, 100 + 50 * 32);
  assert.equal(s.end, 100 + 50 * 34);
  assert.equal(s.width, 200);
  assert.ok(s.recovered);
  // at onset the window holds 15 x 1.0, 15 x 1.001 and the sub-threshold 1.2: median 1.001
  assert.ok(Math.abs(s.heightRatio - 8 / 1.001) < 1e-12);
  assert.ok(Math.abs(s.baseline - 1.001) < 1e-12);
});

test('below the minimum prominence nothing is flagged; a lone outlier is dropped unless minPoints is 1', () => {
  assert.deepEqual(detectSpikes(idx(35), flatWith([1.4, 1.3, 1.0, 1.0, 1.0])), []);
  const lone = flatWith([5, 1.0, 1.001, 1.0, 1.0]);
  assert.deepEqual(detectSpikes(idx(lone.length), lone), []);
  const one = detectSpikes(idx(lone.length), lone, { minPoints: 1 });
  assert.equal(one.length, 1);
  assert.equal(one[0].peakIndex, 30);
});

test('spikes within the merge gap merge; farther apart they stay two', () => {
  const close = flatWith([4, 3, 1.0, 1.0, 1.0, 5, 3, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]);
  const merged = detectSpikes(idx(close.length), close);
  assert.equal(merged.length, 1);
  assert.equal(merged[0].startIndex, 30);
  assert.equal(merged[0].peakIndex, 35);
  assert.equal(merged[0].endIndex, 37);
  const far = flatWith([4, 3, ...Array(10).fill(1.0), 5, 3, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]);
  assert.deepEqual(
    detectSpikes(idx(far.length), far).map((s) => s.peakIndex),
    [30, 42],
  );
});

test('a loss that blows up to NaN is an unrecovered spike of infinite height', () => {
  const values = flatWith([3, 30, 1e4, NaN, NaN]);
  const [s] = detectSpikes(idx(values.length), values);
  assert.equal(s.recovered, false);
  assert.equal(s.heightRatio, Infinity);
  assert.equal(s.startIndex, 30);
  assert.equal(s.endIndex, 34);
});

test('recall and precision on injected spikes (seeds unseen by the bench)', () => {
  const cases = [
    { noise: 0.02, heavyTails: false, minHeight: 1.5, maxHeight: 3, recall: 0.9, precision: 0.97 },
    { noise: 0.05, heavyTails: false, minHeight: 3, maxHeight: 30, recall: 0.97, precision: 0.97 },
    { noise: 0.1, heavyTails: false, minHeight: 3, maxHeight: 30, recall: 0.97, precision: 0.97 },
    { noise: 0.2, heavyTails: false, minHeight: 3, maxHeight: 30, recall: 0.85, precision: 0.97 },
    { noise: 0.1, heavyTails: true, minHeight: 3, maxHeight: 30, recall: 0.95, precision: 0.9 },
  ];
  for (const c of cases) {
    let det = 0,
      hits = 0,
      truth = 0;
    for (let seed = 500; seed < 515; seed++) {
      const { steps, values, spikes } = syntheticLoss({ ...c, seed, points: 3000, spikes: 10 });
      const found = detectSpikes(steps, values);
      const s = scoreDetections(
        spikes,
        found.map((f) => f.peak),
      );
      det += found.length;
      hits += s.hits;
      truth += spikes.length;
    }
    const label = JSON.stringify(c);
    assert.ok(hits / truth >= c.recall, `${label}: recall ${hits / truth}`);
    assert.ok(hits / det >= c.precision, `${label}: precision ${hits / det}`);
  }
});

test('no spikes flagged on spike-free noisy curves', () => {
  for (let seed = 700; seed < 710; seed++) {
    const { steps, values } = syntheticLoss({ noise: 0.1, seed, points: 3000, spikes: 0 });
    assert.deepEqual(detectSpikes(steps, values), []);
  }
});

test('incremental use in random chunks finds the same spikes as one-shot; open() shows a spike in progress', () => {
  const { steps, values } = syntheticLoss({ noise: 0.05, seed: 42, points: 2000, spikes: 8 });
  const once = detectSpikes(steps, values);
  assert.ok(once.length >= 6);
  const rnd = makeRng(3);
  const d = new SpikeDetector();
  const got = [];
  let sawOpen = false;
  for (let pos = 0; pos < values.length;) {
    const n = 1 + Math.floor(rnd() * 40);
    got.push(...d.push(steps.subarray(pos, pos + n), values.subarray(pos, pos + n)));
    if (d.open()) sawOpen = true;
    pos += n;
  }
  got.push(...d.finish());
  assert.deepEqual(got, once);
  assert.ok(sawOpen);
});

test('bad parameters are refused', () => {
  assert.throws(() => new SpikeDetector({ window: 2 }), RangeError);
  assert.throws(() => detectSpikes([1, 2], [1]), RangeError);
});

test('a steeply falling early loss is not noise: a spike on it is found, the fall alone is not flagged', () => {
  const steps = idx(60);
  const clean = steps.map((t) => 2 * Math.exp(-t / 20) + 0.1);
  assert.deepEqual(detectSpikes(steps, clean), []);
  const spiked = clean.map((v, t) => (t === 30 ? v * 6 : t === 31 ? v * 4 : t === 32 ? v * 2 : v));
  const found = detectSpikes(steps, spiked);
  assert.deepEqual(
    found.map((s) => [s.start, s.peak]),
    [[30, 30]],
  );
});
