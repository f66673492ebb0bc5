import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, mkdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/commands/spikes';
import { InputError } from '../../src/core/errors';
import { cli } from '../helpers/cli';
import { syntheticLoss } from '../../src/core/logs/syntheticSpikes';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'logs');
const tmp = mkdtempSync(join(tmpdir(), 'fl-spikes-'));

// Successful runs go through a child process (their stdout would interleave with the test reporter's);
// failing runs throw before writing anything, so they run in-process.

interface Report {
  column: string;
  n_points: number;
  step_source: string;
  spikes: { start: number; peak: number; end: number; height_ratio: number | null; width: number }[];
}

test('spikes on the TensorBoard fixture: the injected spike at steps 30-32 (x6, x4, x2) in step units', async () => {
  const out = join(tmp, 'tb.json');
  assert.equal(cli(['spikes', join(fixtures, 'events.out.tfevents.1700000000.fixture'), '--json', out]).status, 0);
  const r = JSON.parse(readFileSync(out, 'utf8')) as Report;
  assert.equal(r.column, 'train/loss');
  assert.equal(r.n_points, 60);
  assert.equal(r.spikes.length, 1);
  assert.equal(r.spikes[0].start, 30);
  assert.equal(r.spikes[0].peak, 30);
  assert.ok(r.spikes[0].end >= 32 && r.spikes[0].end <= 34);
  assert.equal(r.spikes[0].width, r.spikes[0].end - r.spikes[0].start);
});

test('spikes on a TensorBoard run folder: event files merged in name order, problems on stderr', () => {
  const dir = join(tmp, 'run');
  mkdirSync(dir);
  for (const n of ['events.out.tfevents.1700000000.fixture', 'events.out.tfevents.1700000002.truncated'])
    copyFileSync(join(fixtures, n), join(dir, n));
  writeFileSync(join(dir, 'notes.txt'), 'not a log');
  const out = join(tmp, 'run.json');
  const r = cli(['spikes', dir, '--json', out]);
  assert.equal(r.status, 0);
  assert.match(r.stderr, /events\.out\.tfevents\.1700000002\.truncated: truncated record at byte 6277/);
  const rep = JSON.parse(readFileSync(out, 'utf8')) as Report;
  // the second file restarts at step 0 (a resumed run) and supersedes the first: steps 0..58
  assert.equal(rep.n_points, 59);
  assert.deepEqual(
    rep.spikes.map((s) => [s.start, s.peak]),
    [[30, 30]],
  );
});

test('spikes on a Lightning-style metrics.csv: positions in the step column, not row indices', async () => {
  const { values, spikes } = syntheticLoss({
    points: 800,
    spikes: 3,
    noise: 0.03,
    minHeight: 4,
    maxHeight: 10,
    seed: 9,
  });
  const lines = ['epoch,step,train_loss_epoch,train_loss_step,val_loss'];
  for (let i = 0; i < values.length; i++) {
    lines.push(`0,${i * 50 + 49},,${values[i]},`);
    if (i % 100 === 99) lines.push(`0,${i * 50 + 49},,,${values[i] * 1.1}`, `0,${i * 50 + 49},${values[i]},,`);
  }
  const csv = join(tmp, 'metrics.csv');
  writeFileSync(csv, lines.join('\n') + '\n');
  const out = join(tmp, 'csv.json');
  assert.equal(cli(['spikes', csv, '--json', out]).status, 0);
  const r = JSON.parse(readFileSync(out, 'utf8')) as Report;
  assert.equal(r.column, 'train_loss_step');
  assert.equal(r.step_source, 'step');
  assert.equal(r.n_points, 800);
  assert.deepEqual(
    r.spikes.map((s) => s.peak),
    spikes.map((s) => s.peak * 50 + 49),
  );
});

test('spikes CLI errors: unknown column, ambiguous columns, existing output, unreadable file', async () => {
  const csv = join(fixtures, 'metrics.csv');
  await assert.rejects(
    run([csv, '--column', 'nope']),
    (e) => e instanceof InputError && /no numeric column 'nope'/.test(e.message),
  );
  const amb = join(tmp, 'amb.csv');
  writeFileSync(amb, 'step,loss_a,loss_b\n1,1,1\n');
  await assert.rejects(run([amb]), /pass --column with one of: loss_a, loss_b/);
  const existing = join(tmp, 'exists.json');
  writeFileSync(existing, 'keep me');
  await assert.rejects(run([csv, '--json', existing]), /file exists; pass --force/);
  assert.equal(readFileSync(existing, 'utf8'), 'keep me');
  await assert.rejects(run([join(tmp, 'missing.csv')]), /cannot read \(ENOENT\)/);
  const viaMain = cli(['spikes', csv, '--column', 'nope']);
  assert.equal(viaMain.status, 1);
  assert.match(viaMain.stderr, /^feature-lens spikes: .*no numeric column 'nope'/);
  await assert.rejects(run([csv, '--threshold=-1']), /--threshold: expected a positive number/);
  assert.ok(!existsSync(join(tmp, 'nothing.json')));
});
