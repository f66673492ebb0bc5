import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { detectSpikes } from '../../src/core/logs/index';
import { toWireSpike } from '../../src/protocol/logs';

test('a spike into a non-finite loss crosses as heightRatio/peakValue null, positions kept', () => {
  // 30 calm points at 1.0 +- 1%, then the loss diverges to Infinity for 3 points and comes back.
  const steps = Array.from({ length: 45 }, (_, i) => 10 * i);
  const values = steps.map((_, i) => (i >= 30 && i < 33 ? Infinity : 1 + 0.01 * Math.sin(i)));
  const [s] = detectSpikes(steps, values);
  assert.ok(s, 'a spike is found');
  const w = toWireSpike(s);
  assert.equal(w.start, 300);
  assert.equal(w.heightRatio, null);
  assert.equal(w.peakValue, null);
  assert.equal(w.recovered, true);
  // structured clone (the webview channel) and JSON (tests' state hook) both keep it intact
  assert.deepEqual(structuredClone(w), w);
  assert.deepEqual(JSON.parse(JSON.stringify(w)), w);
});

test('a finite spike keeps its numbers', () => {
  const w = toWireSpike({
    start: 5,
    peak: 7,
    end: 9,
    heightRatio: 3.5,
    width: 4,
    recovered: false,
    peakValue: 7,
    baseline: 2,
  });
  assert.deepEqual(w, {
    start: 5,
    peak: 7,
    end: 9,
    heightRatio: 3.5,
    width: 4,
    recovered: false,
    peakValue: 7,
    baseline: 2,
  });
});
