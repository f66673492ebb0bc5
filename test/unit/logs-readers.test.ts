import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createLogReader,
  readLog,
  chooseLossColumn,
  rankLossColumns,
  seriesOf,
  logKindOf,
  mergeEventFiles,
} from '../../src/core/logs/index';
import type { LogKind, ScalarPoint } from '../../src/core/logs/index';
import { crc32c } from '../../src/core/logs/crc32c';
import { InputError } from '../../src/core/errors';
import { rng } from '../../src/core/random';

const dir = join(import.meta.dirname, '..', 'fixtures', 'logs');
const bytesOf = (name: string) => new Uint8Array(readFileSync(join(dir, name)));
const text = (s: string) => new TextEncoder().encode(s);

function key(p: ScalarPoint): string {
  return `${p.tag}@${p.step}=${Number.isNaN(p.value) ? 'NaN' : p.value}`;
}

test('crc32c matches the published check value', () => {
  // CRC-32C of ASCII "123456789" is 0xE3069283 (RFC 3720 / Castagnoli check value).
  assert.equal(crc32c(text('123456789')), 0xe3069283);
});

test('logKindOf recognises the three formats', () => {
  assert.equal(logKindOf('/runs/x/events.out.tfevents.1700000000.host'), 'tfevents');
  assert.equal(logKindOf('lightning_logs/version_0/metrics.csv'), 'csv');
  assert.equal(logKindOf('log.jsonl'), 'jsonl');
  assert.equal(logKindOf('model.pt'), undefined);
  assert.equal(logKindOf('make_tfevents.py'), undefined);
  assert.equal(logKindOf('tfevents-expected.json'), undefined);
  assert.throws(() => readLog(text('x'), 'model.pt'), InputError);
});

test('Lightning metrics.csv: sparse columns, step column, nan kept', () => {
  const log = readLog(bytesOf('metrics.csv'), 'metrics.csv');
  assert.equal(log.stepSource, 'step');
  assert.deepEqual(log.problems, []);
  assert.deepEqual([...log.tags], ['epoch', 'lr-SGD', 'train_loss_step', 'val_acc', 'val_loss', 'train_loss_epoch']);
  const s = seriesOf(log.points, 'train_loss_step');
  assert.deepEqual([...s.steps], [49, 99, 149, 199, 249, 299, 349, 399]);
  assert.deepEqual([...s.values].slice(0, 5), [2.302, 1.951, 1.704, 9.81, 1.402]);
  assert.ok(Number.isNaN(s.values[5]));
  assert.deepEqual([...seriesOf(log.points, 'val_loss').values], [1.38]);
  assert.deepEqual(chooseLossColumn(log.tags, undefined, 'metrics.csv'), { kind: 'chosen', column: 'train_loss_step' });
  assert.equal(rankLossColumns(log.tags).at(-1)?.column, 'val_loss');
});

test('CSV with ; delimiter, quoted fields, CRLF; row index when there is no step column; bad row reported', () => {
  const a = readLog(bytesOf('semicolon.csv'), 'semicolon.csv');
  assert.equal(a.stepSource, 'iteration');
  assert.deepEqual(a.problems, []);
  assert.deepEqual(a.points.map(key), ['loss@1=0.5', 'loss@2=0.25', 'loss@3=0.125']);
  const b = readLog(bytesOf('no-step-bad-row.csv'), 'no-step-bad-row.csv');
  assert.equal(b.stepSource, 'row index');
  assert.equal(b.problems.length, 1);
  assert.equal(b.problems[0].line, 4);
  assert.match(b.problems[0].message, /line 4: expected 2 fields/);
  assert.deepEqual([...seriesOf(b.points, 'loss').steps], [0, 1, 3]);
  assert.deepEqual([...seriesOf(b.points, 'loss').values], [0.9, 0.8, 0.6]);
});

test('JSONL: nested keys, Python NaN/Infinity, corrupt and non-object lines reported with line numbers', () => {
  const log = readLog(bytesOf('train.jsonl'), 'train.jsonl');
  assert.equal(log.stepSource, 'step');
  assert.deepEqual(
    log.problems.map((p) => p.line),
    [5, 6],
  );
  assert.match(log.problems[0].message, /line 5: not valid JSON/);
  assert.match(log.problems[1].message, /line 6: expected a JSON object, got an array/);
  const loss = seriesOf(log.points, 'loss');
  assert.deepEqual([...loss.steps], [0, 1, 2, 4, 5]);
  assert.ok(Number.isNaN(loss.values[2]));
  assert.equal(loss.values[3], Infinity);
  assert.deepEqual(log.points.filter((p) => p.tag === 'metrics/grad_norm').map(key), ['metrics/grad_norm@1=3']);
  // the epoch-end line without a step belongs to the latest step seen
  assert.deepEqual(log.points.filter((p) => p.tag === 'val_loss').map(key), ['val_loss@2=2.1']);
});

test('JSONL without a step key uses the line index; a final line without newline is read only at finish', () => {
  const r = createLogReader('jsonl');
  const pushed = r.push(bytesOf('no-step.jsonl'));
  assert.deepEqual(pushed.points.map(key), ['loss@0=1', 'loss@1=0.5']);
  const fin = r.finish();
  assert.deepEqual(fin.points, []);
  assert.deepEqual(
    fin.problems.map((p) => p.line),
    [3],
  ); // the writer was cut mid-object
  assert.equal(r.stepSource, 'row index');
  const whole = readLog(text('{"loss": 1}\n{"loss": 0.5}'), 'x.jsonl');
  assert.deepEqual(whole.points.map(key), ['loss@0=1', 'loss@1=0.5']);
});

interface Expected {
  points: { tag: string; step: number; value: number; wallTime: number }[];
  problem_offsets?: number[];
}
const expected = JSON.parse(readFileSync(join(dir, 'tfevents-expected.json'), 'utf8')) as Record<string, Expected>;

function assertPoints(got: ScalarPoint[], want: Expected['points']) {
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) {
    assert.equal(got[i].tag, want[i].tag);
    assert.equal(got[i].step, want[i].step);
    assert.equal(got[i].value, want[i].value, `${want[i].tag}@${want[i].step}`);
    assert.equal(got[i].wallTime, want[i].wallTime);
  }
}

test('TensorBoard events written by google.protobuf: simple_value, float_val, tensor_content, double_val, zero', () => {
  const log = readLog(bytesOf('events.out.tfevents.1700000000.fixture'), 'events.out.tfevents.1700000000.fixture');
  assert.deepEqual(log.problems, []);
  assertPoints(log.points, expected.fixture.points);
  assert.deepEqual([...log.tags], ['train/loss', 'lr', 'val/acc', 'grad_norm', 'zero']);
  assert.equal(chooseLossColumn(log.tags, undefined, 'x').kind, 'chosen');
});

test('TensorBoard: data CRC and length CRC corruption reported at the record offset and skipped', () => {
  const log = readLog(bytesOf('events.out.tfevents.1700000001.corrupt'), 'events.out.tfevents.1700000001.corrupt');
  assert.deepEqual(
    log.problems.map((p) => p.byteOffset),
    expected.corrupt.problem_offsets,
  );
  assert.match(log.problems[0].message, /data CRC mismatch/);
  assert.match(log.problems[1].message, /length CRC mismatch/);
  assertPoints(log.points, expected.corrupt.points);
});

test('TensorBoard: a truncated last record is held while growing and reported at finish', () => {
  const r = createLogReader('tfevents');
  const pushed = r.push(bytesOf('events.out.tfevents.1700000002.truncated'));
  assert.deepEqual(pushed.problems, []);
  assertPoints(pushed.points, expected.truncated.points);
  const fin = r.finish();
  assert.deepEqual(
    fin.problems.map((p) => p.byteOffset),
    expected.truncated.problem_offsets,
  );
});

const cases: [LogKind, string][] = [
  ['csv', 'metrics.csv'],
  ['csv', 'semicolon.csv'],
  ['csv', 'no-step-bad-row.csv'],
  ['jsonl', 'train.jsonl'],
  ['jsonl', 'no-step.jsonl'],
  ['tfevents', 'events.out.tfevents.1700000000.fixture'],
  ['tfevents', 'events.out.tfevents.1700000001.corrupt'],
  ['tfevents', 'events.out.tfevents.1700000002.truncated'],
];
for (const [kind, name] of cases) {
  test(`incremental ${kind} reader on ${name} in random chunks equals one-shot`, () => {
    const bytes = bytesOf(name);
    const once = readLog(bytes, name);
    const rnd = rng(name.length * 7919);
    for (let trial = 0; trial < 20; trial++) {
      const r = createLogReader(kind);
      const points: ScalarPoint[] = [];
      const problems: unknown[] = [];
      let pos = 0;
      while (pos < bytes.length) {
        const n = 1 + Math.floor(rnd() * (trial < 10 ? 7 : 300));
        const res = r.push(bytes.subarray(pos, Math.min(bytes.length, pos + n)));
        points.push(...res.points);
        problems.push(...res.problems);
        pos += n;
      }
      const fin = r.finish();
      points.push(...fin.points);
      problems.push(...fin.problems);
      assert.deepEqual(points.map(key), once.points.map(key));
      assert.deepEqual(problems, once.problems);
      assert.equal(r.bytesRead, bytes.length);
    }
  });
}

test('a multi-byte UTF-8 header split across chunks survives', () => {
  const bytes = text('stép,loss\n1,2\n');
  const r = createLogReader('csv');
  const pts = [...r.push(bytes.subarray(0, 3)).points, ...r.push(bytes.subarray(3)).points];
  assert.deepEqual(pts.map(key), ['stép@0=1', 'loss@0=2']);
});

test('column choice: explicit, unknown (InputError naming the columns), ambiguous', () => {
  assert.deepEqual(chooseLossColumn(['a', 'b'], 'b', 'f.csv'), { kind: 'chosen', column: 'b' });
  assert.throws(() => chooseLossColumn(['a', 'b'], 'c', 'f.csv'), /f\.csv: no numeric column 'c'; columns: a, b/);
  assert.deepEqual(chooseLossColumn(['loss_a', 'loss_b', 'acc'], undefined, 'f'), {
    kind: 'ambiguous',
    candidates: ['loss_a', 'loss_b'],
  });
  assert.deepEqual(chooseLossColumn(['acc', 'lr'], undefined, 'f'), { kind: 'ambiguous', candidates: ['acc', 'lr'] });
});

test('event files of a resumed run merge: a later file restarting a tag at step s drops the earlier points from s on', () => {
  const p = (tag: string, step: number, value: number) => ({ tag, step, value });
  const merged = mergeEventFiles([
    [p('loss', 0, 5), p('loss', 1, 4), p('loss', 2, 3), p('loss', 3, 9), p('acc', 0, 0.1)],
    [p('loss', 2, 3.5), p('loss', 3, 2)],
    [p('acc', 5, 0.9)],
  ]);
  assert.deepEqual(merged.map(key), ['loss@0=5', 'loss@1=4', 'acc@0=0.1', 'loss@2=3.5', 'loss@3=2', 'acc@5=0.9']);
});

test('TSV (tab-detected), Keras CSVLogger epochs, W&B-style _step in JSONL', () => {
  const tsv = readLog(text('step\tloss\n10\t0.5\n20\t0.4\n'), 'log.tsv');
  assert.deepEqual(tsv.points.map(key), ['loss@10=0.5', 'loss@20=0.4']);
  const keras = readLog(
    text('epoch,accuracy,loss,val_accuracy,val_loss\n0,0.5,1.2,0.55,1.1\n1,0.7,0.8,0.6,0.9\n'),
    'training.log.csv',
  );
  assert.equal(keras.stepSource, 'epoch');
  assert.deepEqual(chooseLossColumn(keras.tags, undefined, 'k'), { kind: 'chosen', column: 'loss' });
  const pandas = readLog(text(',step,loss\n0,100,0.5\n1,200,0.4\n'), 'df.csv');
  assert.deepEqual(pandas.points.map(key), ['loss@100=0.5', 'loss@200=0.4']);
  const wandb = readLog(text('{"_step": 7, "train/loss": 0.3, "_runtime": 12.5}\n'), 'history.jsonl');
  assert.equal(wandb.stepSource, '_step');
  assert.deepEqual(wandb.points.map(key), ['train/loss@7=0.3', '_runtime@7=12.5']);
});
