// xRFM trees through the bundled CLI (dist/cli.js, built by `npm test` first): fit --tree, the
// plan / fit-leaf / merge round trip on one machine (equal to the one-process fit with the same seed),
// predict with a saved tree, and the plan folder's rules. test/slurm runs the same plan on a real Slurm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDatasetFile } from '../../src/core/data/node';
import { CpuBackend } from '../../src/core/rfm/cpu';
import { fitTree, predictTree } from '../../src/core/rfm/tree';
import { untimed, xrfmCsv } from './tree-helpers';

const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['dist/cli.js', ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
const dir = mkdtempSync(join(tmpdir(), 'fl-tree-'));

const trainPath = join(dir, 'train.csv');
xrfmCsv(trainPath, 1200, 5, 11);
const FIT = ['--target', 'y', '--task', 'regression', '--val-fraction', '0.2', '--seed', '3'];
const TREE = ['--leaf-size', '300', '--split-samples', '300', '--early-stop', '--backend', 'cpu', '--quiet'];

test('fit --tree, then plan / fit-leaf / merge: the same report and a byte-identical model', () => {
  const one = cli([
    'fit',
    trainPath,
    ...FIT,
    ...TREE,
    '--json',
    join(dir, 'one.json'),
    '--save-model',
    join(dir, 'one-model.json'),
  ]);
  assert.equal(one.status, 0, one.stderr);
  const report = JSON.parse(readFileSync(join(dir, 'one.json'), 'utf8'));
  assert.equal(report.tree.leaves, 4);
  assert.deepEqual(report.tree.leaf_sizes, [300, 300, 300, 300]);
  assert.equal(report.tree.depth, 2);
  assert.equal(report.importance.length, 5);

  const plan = join(dir, 'plan');
  const p = cli(['fit', trainPath, ...FIT, ...TREE, '--plan', plan]);
  assert.equal(p.status, 0, p.stderr);
  assert.match(p.stdout, /planned an xRFM tree of 4 leaves/);
  const script = readFileSync(join(plan, 'submit.sbatch'), 'utf8');
  assert.match(script, /^#SBATCH --array=0-3$/m);
  assert.match(script, /fit-leaf .* --leaf "\$leaf"/);
  const manifest = JSON.parse(readFileSync(join(plan, 'plan.json'), 'utf8'));
  assert.equal(manifest.leaves.length, 4);
  assert.equal(manifest.nodes.length, 3);
  assert.deepEqual(
    readdirSync(join(plan, 'leaves'))
      .filter((f) => f.startsWith('leaf-0'))
      .sort(),
    ['leaf-0.rows.npy', 'leaf-0.x.npy', 'leaf-0.y.npy'],
  );

  // Merging before every leaf is fitted names the missing leaves and the way out.
  cli(['fit-leaf', plan, '--leaf', '0', '--quiet']);
  const early = cli(['merge', plan, '--quiet']);
  assert.equal(early.status, 1);
  assert.match(early.stderr, /3 of 4 leaves are not fitted yet \(1, 2, 3\); run feature-lens fit-leaf/);
  // The array task reads its leaf from SLURM_ARRAY_TASK_ID.
  for (const i of ['1', '2', '3']) {
    const r = cli(['fit-leaf', plan, '--quiet'], { SLURM_ARRAY_TASK_ID: i });
    assert.equal(r.status, 0, r.stderr);
  }
  const bad = cli(['fit-leaf', plan, '--leaf', '4']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--leaf: expected a leaf 0\.\.3 of .*, got '4'/);
  const m = cli(['merge', plan, '--quiet']);
  assert.equal(m.status, 0, m.stderr);
  assert.deepEqual(
    untimed(readFileSync(join(plan, 'report.json'), 'utf8')),
    untimed(readFileSync(join(dir, 'one.json'), 'utf8')),
  );
  assert.equal(readFileSync(join(plan, 'model.json'), 'utf8'), readFileSync(join(dir, 'one-model.json'), 'utf8'));
});

test('predict with a saved tree equals the in-process tree predictions, hard and soft', async () => {
  const probe = join(dir, 'probe.csv');
  xrfmCsv(probe, 200, 5, 12);
  const { dataset: train } = await readDatasetFile(trainPath, { target: 'y', task: 'regression' });
  const { dataset: rows } = await readDatasetFile(probe, { target: 'y', task: 'regression' });
  for (const temperature of ['0', '0.5']) {
    const model = join(dir, `model-t${temperature}.json`);
    const f = cli(['fit', trainPath, ...FIT, ...TREE, '--temperature', temperature, '--save-model', model]);
    assert.equal(f.status, 0, f.stderr);
    // --out -: the predictions CSV on stdout (the table and metrics then go to stderr).
    const p = cli(['predict', model, probe, '--backend', 'cpu', '--out', '-']);
    assert.equal(p.status, 0, p.stderr);
    const got = p.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => Number(l.split(',')[1]));
    const cpu = new CpuBackend();
    const fitted = await fitTree(
      train,
      { earlyStop: true, seed: 3 },
      { leafSize: 300, splitSamples: 300, temperature: Number(temperature) },
      { backend: cpu, valFraction: 0.2 },
    );
    const want = await predictTree(fitted.model, rows.X, cpu);
    assert.deepEqual(got, Array.from(want.data));
    assert.match(p.stderr, /R\^2 0\.[5-9]/);
  }
});

test('--plan writes only to a new folder or over a plan of ours (with --force)', () => {
  const foreign = join(dir, 'foreign');
  mkdirSync(foreign);
  writeFileSync(join(foreign, 'notes.txt'), 'mine');
  const a = cli(['fit', trainPath, ...FIT, ...TREE, '--plan', foreign]);
  assert.equal(a.status, 1);
  assert.match(a.stderr, /the folder is not empty and holds no plan of ours; give a new folder path/);
  assert.equal(readFileSync(join(foreign, 'notes.txt'), 'utf8'), 'mine');

  const plan = join(dir, 'plan2');
  assert.equal(cli(['fit', trainPath, ...FIT, ...TREE, '--plan', plan]).status, 0);
  const again = cli(['fit', trainPath, ...FIT, ...TREE, '--plan', plan]);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /holds a previous plan; pass --force to replace it/);
  const forced = cli(['fit', trainPath, ...FIT, ...TREE, '--leaf-size', '600', '--plan', plan, '--force']);
  assert.equal(forced.status, 0, forced.stderr);
  assert.equal(JSON.parse(readFileSync(join(plan, 'plan.json'), 'utf8')).leaves.length, 2);
  assert.ok(!readdirSync(join(plan, 'leaves')).some((f) => f.startsWith('leaf-2')), 'old shards removed');
  writeFileSync(join(plan, 'leaves', 'keep.txt'), 'x');
  const foreignInside = cli(['fit', trainPath, ...FIT, ...TREE, '--plan', plan, '--force']);
  assert.equal(foreignInside.status, 1);
  assert.match(foreignInside.stderr, /leaves\/keep\.txt is not a file of ours; the plan is not replaced/);
  const file = join(dir, 'plain-file');
  writeFileSync(file, 'x');
  assert.match(cli(['fit', trainPath, ...FIT, ...TREE, '--plan', file]).stderr, /exists and is not a folder/);
});
