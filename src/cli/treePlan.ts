// An xRFM tree planned for a cluster (`fit --tree --plan DIR`, `fit-leaf DIR --leaf I`, `merge DIR`):
// DIR holds plan.json (the manifest: options, splits, leaves), one .npy shard per leaf (its rows of X,
// its targets, its row numbers in the training file), submit.sbatch (a Slurm array job, one task per
// leaf), and, once fitted, leaves/leaf-I.fit.json and merge's report.json and model.json. DIR must be
// new or a plan of ours: nothing else is ever written over or removed.
import { lstat, mkdir, readdir, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { InputError } from '../core/errors';
import { mat } from '../core/mat';
import { encodeNpy, parseNpy } from '../core/data/npy';
import type { Dataset } from '../core/data/dataset';
import type { DatasetSchema } from '../core/data/index';
import { RfmOptionsSchema } from '../core/rfm/serialize';
import { describeIssue } from '../core/validate';
import type { TreeOptions, TreePartition } from '../core/rfm/tree';
import type { RfmOptions } from '../core/rfm/types';
import { OutputError } from './output';

const PLAN_FORMAT = 'feature-lens.tree-plan';
export const PLAN_FILE = 'plan.json';
export const SCRIPT_FILE = 'submit.sbatch';

export interface PlanManifest {
  format: typeof PLAN_FORMAT;
  version: 1;
  /** The training file (absolute) and the test file, if any. */
  train: string;
  test: string | null;
  val_fraction: number | null;
  backend: string;
  options: RfmOptions;
  tree: { leaf_size: number; split_samples: number; temperature: number };
  task: Dataset['task'];
  feature_names: string[];
  target_name: string;
  classes: string[] | null;
  schema: unknown;
  d: number;
  root: number;
  nodes: { direction: number[]; threshold: number; scale: number; left: number; right: number; depth: number }[];
  leaves: { rows: number; depth: number }[];
}

const int = z.number().int();
const ManifestSchema = z.looseObject({
  format: z.literal(PLAN_FORMAT),
  version: z.literal(1),
  train: z.string(),
  test: z.string().nullable(),
  val_fraction: z.number().nullable(),
  backend: z.string(),
  options: RfmOptionsSchema,
  tree: z.object({ leaf_size: int.min(2), split_samples: int.min(1), temperature: z.number().min(0) }),
  task: z.enum(['classification', 'regression']),
  feature_names: z.array(z.string()),
  target_name: z.string(),
  classes: z.array(z.string()).nullable(),
  schema: z.unknown(),
  d: int.min(1),
  root: int,
  nodes: z.array(
    z.object({
      direction: z.array(z.number()),
      threshold: z.number(),
      scale: z.number(),
      left: int,
      right: int,
      depth: int.min(0),
    }),
  ),
  leaves: z.array(z.object({ rows: int.min(1), depth: int.min(0) })).min(1),
});

const shard = (leaf: number, what: 'x' | 'y' | 'rows') => join('leaves', `leaf-${leaf}.${what}.npy`);
export const leafFitFile = (leaf: number) => join('leaves', `leaf-${leaf}.fit.json`);

/** Files of ours in a plan folder (what replacing a plan removes). */
const OURS = /^(plan\.json|submit\.sbatch|report\.json|model\.json)$/;
const OURS_IN = /^leaf-\d+\.(x\.npy|y\.npy|rows\.npy|fit\.json|out|exit)$/;

/**
 * Checks that DIR may hold a new plan: a new path (its parent must exist), or, with --force, a folder
 * holding a plan of ours and nothing else. Removes the old plan's files (ours only).
 */
export async function preparePlanDir(dir: string, force: boolean): Promise<string> {
  const abs = resolve(dir);
  const s = await lstat(abs).catch(() => undefined);
  if (!s) {
    await mkdir(abs).catch((e: NodeJS.ErrnoException) => {
      throw new OutputError(`--plan ${dir}: cannot create the folder (${e.code ?? e.message}); its parent must exist`);
    });
    return abs;
  }
  if (!s.isDirectory() || s.isSymbolicLink())
    throw new OutputError(`--plan ${dir}: exists and is not a folder; give a new folder path`);
  const top = await readdir(abs);
  if (top.length === 0) return abs;
  if (!top.includes(PLAN_FILE))
    throw new OutputError(`--plan ${dir}: the folder is not empty and holds no plan of ours; give a new folder path`);
  const sub = { leaves: [] as string[], logs: [] as string[] };
  for (const name of top) {
    if (name === 'leaves' || name === 'logs') {
      sub[name] = await readdir(join(abs, name));
      const foreign = sub[name].find((f) => !OURS_IN.test(f));
      if (foreign)
        throw new OutputError(`--plan ${dir}: ${name}/${foreign} is not a file of ours; the plan is not replaced`);
    } else if (!OURS.test(name))
      throw new OutputError(`--plan ${dir}: ${name} is not a file of ours; the plan is not replaced`);
  }
  if (!force) throw new OutputError(`--plan ${dir}: holds a previous plan; pass --force to replace it`);
  for (const name of top) if (OURS.test(name)) await rm(join(abs, name));
  for (const d of ['leaves', 'logs'] as const) for (const f of sub[d]) await rm(join(abs, d, f));
  return abs;
}

/** The sbatch script: one array task per leaf, each `fit-leaf DIR --leaf $SLURM_ARRAY_TASK_ID`. */
export function sbatchScript(dir: string, leaves: number, command: string[], backend: string, cwd: string): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return `#!/bin/bash
# Fits the ${leaves} leaves of the xRFM tree planned in ${dir}, one Slurm array task per leaf.
#   sbatch ${join(dir, SCRIPT_FILE)}        then, when every task is done:   feature-lens merge ${dir}
#SBATCH --job-name=feature-lens-tree
#SBATCH --array=0-${leaves - 1}
#SBATCH --output=${join(dir, 'logs', 'leaf-%a.out')}
#SBATCH --cpus-per-task=1
#SBATCH --chdir=${cwd}
set -uo pipefail
leaf=\${SLURM_ARRAY_TASK_ID:?run this script with sbatch (it is an array job)}
${command.map(q).join(' ')} fit-leaf ${q(dir)} --leaf "$leaf" --backend ${q(backend)}
status=$?
echo "$status" > ${q(join(dir, 'logs'))}/leaf-"$leaf".exit
exit "$status"
`;
}

/** Writes the plan: manifest, shards and the sbatch script. */
export async function writePlan(
  dir: string,
  o: {
    train: Dataset;
    trainPath: string;
    testPath?: string;
    valFraction?: number;
    backend: string;
    options: RfmOptions;
    tree: TreeOptions;
    schema: DatasetSchema;
    partition: TreePartition;
    command: string[];
  },
): Promise<PlanManifest> {
  const { train, partition: p } = o;
  await mkdir(join(dir, 'leaves'), { recursive: true });
  await mkdir(join(dir, 'logs'), { recursive: true });
  const d = train.X.cols;
  for (const [l, rows] of p.leafRows.entries()) {
    const X = new Float64Array(rows.length * d);
    rows.forEach((r, k) => X.set(train.X.data.subarray(r * d, (r + 1) * d), k * d));
    await writeFile(join(dir, shard(l, 'x')), encodeNpy(X, [rows.length, d]));
    await writeFile(
      join(dir, shard(l, 'y')),
      encodeNpy(
        Float64Array.from(rows, (r) => train.y[r]),
        [rows.length],
      ),
    );
    await writeFile(join(dir, shard(l, 'rows')), encodeNpy(rows, [rows.length]));
  }
  const manifest: PlanManifest = {
    format: PLAN_FORMAT,
    version: 1,
    train: resolve(o.trainPath),
    test: o.testPath ? resolve(o.testPath) : null,
    val_fraction: o.valFraction ?? null,
    backend: o.backend,
    options: o.options,
    tree: { leaf_size: o.tree.leafSize, split_samples: o.tree.splitSamples, temperature: o.tree.temperature },
    task: train.task,
    feature_names: train.featureNames,
    target_name: train.targetName,
    classes: train.classes ?? null,
    schema: o.schema,
    d,
    root: p.root,
    nodes: p.nodes.map((s) => ({ ...s, direction: Array.from(s.direction) })),
    leaves: p.leafRows.map((r, l) => ({ rows: r.length, depth: p.leafDepths[l] })),
  };
  await writeFile(join(dir, PLAN_FILE), JSON.stringify(manifest, null, 1) + '\n');
  await writeFile(join(dir, SCRIPT_FILE), sbatchScript(dir, p.leafRows.length, o.command, o.backend, process.cwd()));
  await chmod(join(dir, SCRIPT_FILE), 0o755);
  return manifest;
}

/** Reads and checks DIR/plan.json. */
export async function readPlan(dir: string): Promise<PlanManifest> {
  const file = join(dir, PLAN_FILE);
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new InputError(
      `${file}: ${e.code === 'ENOENT' ? 'no plan here' : `cannot read (${e.code})`}; make one with feature-lens fit --tree --plan ${dir}`,
    );
  });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${file}: not a JSON file (${(e as Error).message})`);
  }
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success) throw new InputError(`${file}: ${describeIssue(parsed.error, raw)}; plan again`);
  return parsed.data as PlanManifest;
}

/** The partition of a manifest (leaf rows from the row shards). */
export async function planPartition(dir: string, m: PlanManifest): Promise<TreePartition> {
  const leafRows: Int32Array[] = [];
  for (let l = 0; l < m.leaves.length; l++) leafRows.push(Int32Array.from((await readShard(dir, l, 'rows')).data));
  return {
    d: m.d,
    root: m.root,
    nodes: m.nodes.map((s) => ({ ...s, direction: Float64Array.from(s.direction) })),
    leafRows,
    leafDepths: m.leaves.map((l) => l.depth),
  };
}

async function readShard(dir: string, leaf: number, what: 'x' | 'y' | 'rows') {
  const file = join(dir, shard(leaf, what));
  const bytes = await readFile(file).catch((e: NodeJS.ErrnoException) => {
    throw new InputError(`${file}: cannot read the leaf's shard (${e.code}); plan again`);
  });
  return parseNpy(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file);
}

/** Leaf `leaf`'s rows as a dataset (from its shards). */
export async function readLeaf(dir: string, m: PlanManifest, leaf: number): Promise<Dataset> {
  const X = await readShard(dir, leaf, 'x');
  const y = await readShard(dir, leaf, 'y');
  const n = m.leaves[leaf].rows;
  if (X.shape.join() !== `${n},${m.d}` || y.shape.join() !== `${n}`)
    throw new InputError(`${join(dir, shard(leaf, 'x'))}: expected ${n} x ${m.d} rows and ${n} targets; plan again`);
  return {
    source: m.leaves.length === 1 ? m.train : `${basename(m.train)} (leaf ${leaf})`,
    X: mat(n, m.d, X.data),
    y: y.data,
    featureNames: m.feature_names,
    targetName: m.target_name,
    task: m.task,
    ...(m.classes ? { classes: m.classes } : {}),
  };
}

/** The targets of every leaf (from the y shards), in leaf order. */
export async function readLeafTargets(dir: string, m: PlanManifest): Promise<Float64Array[]> {
  const out: Float64Array[] = [];
  for (let l = 0; l < m.leaves.length; l++) out.push((await readShard(dir, l, 'y')).data);
  return out;
}
