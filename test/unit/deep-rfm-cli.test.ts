// `feature-lens deep-rfm` end to end: the table, the JSON report's keys (the contract), the
// control switch, and the refusal of a numeric target (exit code 1).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { collapseMetrics } from '../../src/core/collapse/metrics';
import { cli } from '../helpers/cli';
import { gaussianMixture, mixtureCsv } from '../helpers/mixture';

const tmp = mkdtempSync(join(tmpdir(), 'fl-deeprfm-'));
const data = gaussianMixture(3, 4, 10, 5);
const csv = join(tmp, 'mix.csv');
writeFileSync(csv, mixtureCsv(data));

interface DeepRfmJson {
  layers: { layer: number; nc1: number; nc1_classic: number; nc2: number; ridge: number | null }[];
  agop: boolean;
  depth: number;
  width: number;
  seed: number;
}

test('deep-rfm: a table on stdout, and {layers: [{layer, nc1, nc1_classic, nc2}], agop} with layer 0 the data', () => {
  const out = join(tmp, 'on.json');
  const r = cli(['deep-rfm', csv, '--target', 'y', '--depth', '2', '--width', '16', '--backend', 'cpu', '--json', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /layer\s+NC1\s+NC1 classic\s+NC2/);
  const j = JSON.parse(readFileSync(out, 'utf8')) as DeepRfmJson;
  assert.equal(j.agop, true);
  assert.equal(j.depth, 2);
  assert.equal(j.width, 16);
  assert.equal(j.seed, 0);
  assert.deepEqual(
    j.layers.map((l) => l.layer),
    [0, 1, 2],
  );
  for (const l of j.layers) for (const k of ['layer', 'nc1', 'nc1_classic', 'nc2']) assert.ok(k in l, k);
  // Layer 0 is the data as read (the CSV's 17 significant digits round-trip float64).
  const m = collapseMetrics(data.X.data, data.X.rows, data.X.cols, Int32Array.from(data.y), 3);
  assert.ok(Math.abs(j.layers[0].nc1 - m.nc1) < 1e-12 * m.nc1);
  assert.ok(Math.abs(j.layers[0].nc2 - m.nc2) < 1e-12 * Math.max(m.nc2, 1e-300));
  assert.deepEqual(
    j.layers.map((l) => l.ridge),
    [0, 0, null],
  );
});

test('deep-rfm --no-agop: agop false, no ridge (no RFM step is fitted)', () => {
  const r = cli(['deep-rfm', csv, '--depth', '2', '--width', '16', '--no-agop', '--backend', 'cpu', '--json', '-']);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as DeepRfmJson;
  assert.equal(j.agop, false);
  assert.deepEqual(
    j.layers.map((l) => l.ridge),
    [null, null, null],
  );
});

test('deep-rfm refuses a numeric target and bad flags with exit code 1', () => {
  const reg = join(tmp, 'reg.csv');
  writeFileSync(
    reg,
    'a,b,t\n' + Array.from({ length: 12 }, (_, i) => `${i},${i % 3},${i * 0.37 + 0.01}`).join('\n') + '\n',
  );
  const r = cli(['deep-rfm', reg, '--target', 't', '--backend', 'cpu']);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /classification/);
  assert.match(r.stderr, /--target/);
  const w = cli(['deep-rfm', csv, '--width', '0', '--backend', 'cpu']);
  assert.equal(w.status, 1);
  assert.match(w.stderr, /--width/);
});
