import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogFollower, detectSpikes, type FileSource, type Spike } from '../../src/core/logs/index';
import { syntheticLoss } from '../../src/core/logs/syntheticSpikes';
import { rng } from '../../src/core/random';

/** An in-memory file a "trainer" appends to or rewrites. */
class MemFile implements FileSource {
  bytes = new Uint8Array(0);
  reads = 0;
  bytesServed = 0;
  append(s: string) {
    const b = new TextEncoder().encode(s);
    const n = new Uint8Array(this.bytes.length + b.length);
    n.set(this.bytes);
    n.set(b, this.bytes.length);
    this.bytes = n;
  }
  replace(s: string) {
    this.bytes = new TextEncoder().encode(s);
  }
  async size() {
    return this.bytes.length;
  }
  async read(start: number, end: number) {
    this.reads++;
    this.bytesServed += end - start;
    return this.bytes.slice(start, end);
  }
}

function csvOf(steps: Float64Array, values: Float64Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += `${steps[i]},${values[i]}\n`;
  return s;
}

test('following a growing CSV in ragged appends: same points and spikes as reading it whole, only new bytes read', async () => {
  const { steps, values } = syntheticLoss({ points: 3000, spikes: 6, noise: 0.05, seed: 11 });
  const file = new MemFile();
  const f = new LogFollower('csv');
  file.append('step,train_loss\n');
  const text = csvOf(steps, values, 0, steps.length);
  const got: number[] = [];
  const spikes: Spike[] = [];
  const r = rng(2);
  for (let pos = 0; pos < text.length;) {
    const n = 1 + Math.floor(r() * 4000);
    file.append(text.slice(pos, pos + n)); // may end mid-line, as a writer flushing does
    pos += n;
    const u = await f.sync(file);
    assert.equal(u.restarted, false);
    got.push(...u.values);
    spikes.push(...u.newSpikes);
  }
  spikes.push(...f.finish().newSpikes);
  assert.deepEqual(got, [...values]);
  assert.deepEqual(spikes, detectSpikes(steps, values));
  // appended bytes plus at most the 4 KiB prefix per sync
  assert.ok(file.bytesServed <= file.bytes.length + file.reads * 4096);
});

test('a rewritten metrics.csv (Lightning adds a column) or a truncated file is read again from the start', async () => {
  const file = new MemFile();
  const f = new LogFollower('csv');
  file.append('epoch,step,train_loss\n0,0,1.0\n0,1,0.9\n');
  let u = await f.sync(file);
  assert.deepEqual([...u.values], [1.0, 0.9]);
  file.replace('epoch,step,train_loss,val_loss\n0,0,1.0,\n0,1,0.9,\n0,1,,0.95\n0,2,0.8,\n');
  u = await f.sync(file);
  assert.equal(u.restarted, true);
  assert.deepEqual([...u.values], [1.0, 0.9, 0.8]);
  assert.deepEqual([...f.series('val_loss')!.values], [0.95]);
  file.replace('epoch,step,train_loss,val_loss\n0,0,1.0,\n');
  u = await f.sync(file);
  assert.equal(u.restarted, true);
  assert.deepEqual([...u.values], [1.0]);
});

test('ambiguous columns wait for the user; setColumn runs detection over what is stored', async () => {
  const file = new MemFile();
  const f = new LogFollower('jsonl');
  assert.equal((await f.sync(file)).column.kind, 'pending');
  let lines = '';
  for (let i = 0; i < 40; i++)
    lines += JSON.stringify({ step: i, loss_a: i === 30 || i === 31 ? 5 : 1 + (i % 2) * 0.001, loss_b: 2 }) + '\n';
  file.append(lines);
  let u = await f.sync(file);
  assert.deepEqual(u.column, { kind: 'ambiguous', candidates: ['loss_a', 'loss_b'] });
  assert.equal(u.values.length, 0);
  u = f.setColumn('loss_a');
  assert.deepEqual(u.column, { kind: 'chosen', column: 'loss_a' });
  assert.equal(u.values.length, 40);
  assert.ok(u.openSpike === undefined || u.newSpikes.length === 0);
  const all = [...u.newSpikes, ...f.finish().newSpikes];
  assert.deepEqual(
    all.map((s) => [s.start, s.peak]),
    [[30, 30]],
  );
});

test('bounded work per update: a large backlog is read in slices, `behind` until caught up', async () => {
  const file = new MemFile();
  file.append('step,loss\n');
  for (let i = 0; i < 5000; i++) file.append(`${i},${1 + (i % 7) * 0.01}\n`);
  const f = new LogFollower('csv', { maxBytesPerUpdate: 10_000 });
  let total = 0,
    syncs = 0;
  for (;;) {
    const u = await f.sync(file);
    syncs++;
    total += u.values.length;
    if (!u.behind) break;
  }
  assert.equal(total, 5000);
  assert.ok(syncs >= Math.ceil(file.bytes.length / 10_000));
});
