// Throughput of the incremental log readers and the spike detector (the live view must keep up with
// 10,000 new points per second). Builds 200,000-step logs in memory, feeds them in 64 KiB chunks.
// Prints JSON. Run: node --import tsx bench/logs-read.mjs
import { createLogReader } from '../src/core/logs/index.ts';
import { eventTypes } from '../src/core/logs/eventSchema.ts';
import { maskedCrc32c } from '../src/core/logs/crc32c.ts';
import { SpikeDetector } from '../src/core/logs/spikes.ts';
import { syntheticLoss } from '../src/core/logs/syntheticSpikes.ts';

const N = 200_000;
const { steps, values } = syntheticLoss({ points: N, spikes: 200, noise: 0.05, seed: 1 });
const enc = new TextEncoder();

const csv = ['step,train_loss,lr'];
const jsonl = [];
for (let i = 0; i < N; i++) {
  csv.push(`${steps[i]},${values[i]},0.1`);
  jsonl.push(JSON.stringify({ step: steps[i], train_loss: values[i], lr: 0.1 }));
}
const { Event } = eventTypes();
const records = [];
for (let i = 0; i < N; i++) {
  const data = Event.encode(
    Event.create({
      wall_time: 1.7e9 + i,
      step: i,
      summary: {
        value: [
          { tag: 'train_loss', simple_value: values[i] },
          { tag: 'lr', simple_value: 0.1 },
        ],
      },
    }),
  ).finish();
  const rec = new Uint8Array(16 + data.length);
  const dv = new DataView(rec.buffer);
  dv.setBigUint64(0, BigInt(data.length), true);
  dv.setUint32(8, maskedCrc32c(rec, 0, 8), true);
  rec.set(data, 12);
  dv.setUint32(12 + data.length, maskedCrc32c(data), true);
  records.push(rec);
}
const tf = new Uint8Array(records.reduce((s, r) => s + r.length, 0));
let off = 0;
for (const r of records) {
  tf.set(r, off);
  off += r.length;
}

const inputs = { csv: enc.encode(csv.join('\n') + '\n'), jsonl: enc.encode(jsonl.join('\n') + '\n'), tfevents: tf };
const results = {};
for (const [kind, bytes] of Object.entries(inputs)) {
  const t0 = performance.now();
  const reader = createLogReader(kind);
  let points = 0;
  for (let p = 0; p < bytes.length; p += 65536) points += reader.push(bytes.subarray(p, p + 65536)).points.length;
  points += reader.finish().points.length;
  const s = (performance.now() - t0) / 1000;
  results[kind] = {
    megabytes: +(bytes.length / 1e6).toFixed(1),
    points,
    seconds: +s.toFixed(3),
    points_per_second: Math.round(points / s),
  };
}
const t0 = performance.now();
const det = new SpikeDetector();
let spikes = 0;
for (let p = 0; p < N; p += 1000) spikes += det.push(steps.subarray(p, p + 1000), values.subarray(p, p + 1000)).length;
spikes += det.finish().length;
const s = (performance.now() - t0) / 1000;
results.detector = { points: N, spikes, seconds: +s.toFixed(3), points_per_second: Math.round(N / s) };
console.log(JSON.stringify(results));
