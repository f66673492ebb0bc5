// xRFM trees (docs/science.md §9): a binary partition of the training rows by median splits along the top
// eigenvector of a one-shot RFM's feature matrix (fitted on a subsample of the node), down to a maximum
// leaf size; one RFM per leaf (the shared fitRfm, with its own validation split and early stopping);
// prediction routes each row to its leaf (hard) or mixes the leaves with routing probabilities (soft,
// with a temperature). The partition, the leaf fits and the assembly are separate steps, so that the
// leaves can be fitted elsewhere (the CLI's plan / fit-leaf / merge) and assembled into the same result.
import type { Backend } from './backend';
import type { Dataset } from '../data/dataset';
import { splitDataset } from '../data/split';
import { InputError, throwIfCancelled, type BackendName, type CancelToken } from '../errors';
import { MAX_LEAF_ROWS } from '../limits';
import { checkCpuTreeBudget, largestCpuRows, type RfmShape } from './budget';
import { eighSym } from '../linalg/eigh';
import { mat, takeRows, type Mat } from '../mat';
import { permutation } from '../random';
import { fitRfm, predictRfm, standardize, standardizer } from './fit';
import { evaluate } from './metrics';
import { parseRfmOptions } from './options';
import {
  DEFAULT_RFM_OPTIONS,
  type FitResult,
  type IterationRecord,
  type RfmModel,
  type RfmOptions,
  type TreeSummary,
} from './types';

/** How the tree is grown and how it routes. */
export interface TreeOptions {
  /** A node with more rows than this is split (median split: children have ⌊n/2⌋ and ⌈n/2⌉ rows). */
  leafSize: number;
  /** Rows of the node subsample the one-shot split RFM is fitted on. */
  splitSamples: number;
  /** Soft routing temperature (0 = hard routing), in units of the node's projection spread. */
  temperature: number;
}

export const DEFAULT_SPLIT_SAMPLES = 2000;

/**
 * A split: rows with direction·x <= threshold go left (x = the encoded, unstandardised row). `scale` is
 * the standard deviation of direction·x over the node's rows (soft routing divides by it). A child is a
 * node index (>= 0) or a leaf (-1 - leaf index).
 */
export interface TreeSplit {
  direction: Float64Array;
  threshold: number;
  scale: number;
  left: number;
  right: number;
  depth: number;
}

/** A partition of the training rows: the splits and the rows (sorted indices) of each leaf, leaves left to right. */
export interface TreePartition {
  d: number;
  /** Reference of the root: a node index, or -1 (a single leaf). */
  root: number;
  nodes: TreeSplit[];
  leafRows: Int32Array[];
  leafDepths: number[];
}

/** A fitted tree: everything `predictTree` needs (saved by treeModelToJson). */
export interface TreeModel {
  kind: 'tree';
  temperature: number;
  root: number;
  nodes: TreeSplit[];
  leaves: RfmModel[];
}

export interface TreeFitContext {
  backend: Backend;
  /** Held-out rows for the tree's test metrics (predicted by routing). */
  test?: Dataset;
  /** Without `test`: each leaf holds out this fraction of its rows (validation and early stopping). */
  valFraction?: number;
  onLeaf?: (leaf: number, leaves: number, result: FitResult) => void;
  onIteration?: (leaf: number, rec: IterationRecord) => void;
  /** Hears each split as it starts (depth, rows of the node). */
  onSplit?: (depth: number, rows: number) => void;
  cancel?: CancelToken;
}

const child = (ref: number): { node: number } | { leaf: number } => (ref >= 0 ? { node: ref } : { leaf: -1 - ref });

/** xRFM's one-shot split RFM: one AGOP round on a seeded subsample of the node. */
async function splitDirection(
  data: Dataset,
  rows: Int32Array,
  opts: RfmOptions,
  samples: number,
  seed: number,
  backend: Backend,
): Promise<Float64Array> {
  const d = data.X.cols;
  const take = rows.length > samples ? permutation(rows.length, seed).subarray(0, samples) : null;
  const idx = take ? Int32Array.from(take, (i) => rows[i]).sort() : rows;
  const sub: Dataset = { ...data, X: takeRows(data.X, idx), y: Float64Array.from(idx, (i) => data.y[i]) };
  const scaler = opts.standardize ? standardizer(sub.X) : null;
  let M: Float64Array;
  try {
    M = (await fitRfm(sub, { ...opts, iters: 1, earlyStop: false }, { backend, allowOneClass: true })).M;
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    // A degenerate node (e.g. a zero AGOP on one class): split along the top principal direction instead.
    const Z = standardize(sub.X, scaler);
    M = new Float64Array(d * d);
    for (let r = 0; r < Z.rows; r++)
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) M[i * d + j] += Z.data[r * d + i] * Z.data[r * d + j];
  }
  // Top eigenvector of M (diagonal M: the largest diagonal entry's axis), in the standardised space of
  // the subsample (fitRfm standardises with the same statistics); folded back onto raw rows:
  // v·((x - mean) / std) = (v / std)·x - const.
  const { vectors } = eighSym(M, d);
  const v = Float64Array.from({ length: d }, (_, i) => vectors[i * d]);
  let big = 0;
  for (let i = 1; i < d; i++) if (Math.abs(v[i]) > Math.abs(v[big])) big = i;
  const sign = v[big] < 0 ? -1 : 1;
  const std = scaler?.std;
  return Float64Array.from(v, (x, i) => (sign * x) / (std ? std[i] : 1));
}

function project(X: Mat, row: number, w: Float64Array): number {
  let s = 0;
  const o = row * X.cols;
  for (let j = 0; j < X.cols; j++) s += X.data[o + j] * w[j];
  return s;
}

/**
 * Grows the partition: a node over `leafSize` rows is split at the median of its projections on the top
 * eigenvector of a one-shot RFM fitted on (a subsample of) its rows. Deterministic for a seed.
 */
export async function partitionTree(
  train: Dataset,
  options: Partial<RfmOptions>,
  tree: TreeOptions,
  ctx: { backend: Backend; cancel?: CancelToken; onSplit?: (depth: number, rows: number) => void },
): Promise<TreePartition> {
  const opts = parseRfmOptions(options, 'option', DEFAULT_RFM_OPTIONS);
  if (!(Number.isInteger(tree.leafSize) && tree.leafSize >= 2))
    throw new InputError(`leaf size: expected an integer >= 2, got ${tree.leafSize}`);
  const n = train.X.rows,
    d = train.X.cols;
  const nodes: TreeSplit[] = [];
  const leafRows: Int32Array[] = [];
  const leafDepths: number[] = [];
  let nodeId = 0;
  const grow = async (rows: Int32Array, depth: number): Promise<number> => {
    throwIfCancelled(ctx.cancel);
    if (rows.length <= tree.leafSize) {
      leafRows.push(rows);
      leafDepths.push(depth);
      return -leafRows.length;
    }
    ctx.onSplit?.(depth, rows.length);
    const id = nodeId++;
    const w = await splitDirection(train, rows, opts, tree.splitSamples, opts.seed + 7919 * (id + 1), ctx.backend);
    const proj = Float64Array.from(rows, (r) => project(train.X, r, w));
    // Sorted by projection (ties by row): the lower half goes left, so children are balanced whatever the ties.
    const order = Array.from(rows.keys()).sort((a, b) => proj[a] - proj[b] || rows[a] - rows[b]);
    const h = Math.floor(rows.length / 2);
    const threshold = (proj[order[h - 1]] + proj[order[h]]) / 2;
    let mean = 0;
    for (const p of proj) mean += p;
    mean /= proj.length;
    let ss = 0;
    for (const p of proj) ss += (p - mean) ** 2;
    const split: TreeSplit = {
      direction: w,
      threshold,
      scale: Math.sqrt(ss / proj.length) || 1,
      left: 0,
      right: 0,
      depth,
    };
    nodes[id] = split;
    const left = Int32Array.from(order.slice(0, h), (k) => rows[k]).sort();
    const right = Int32Array.from(order.slice(h), (k) => rows[k]).sort();
    split.left = await grow(left, depth + 1);
    split.right = await grow(right, depth + 1);
    return id;
  };
  const root = await grow(
    Int32Array.from({ length: n }, (_, i) => i),
    0,
  );
  return { d, root: root >= 0 ? root : -1, nodes, leafRows, leafDepths };
}

/** The rows of a leaf as a dataset of their own. */
export function leafDataset(train: Dataset, rows: Int32Array, leaf: number): Dataset {
  return {
    ...train,
    source: `${train.source} (leaf ${leaf})`,
    X: takeRows(train.X, rows),
    y: Float64Array.from(rows, (i) => train.y[i]),
  };
}

/** A leaf's data prepared for its fit: its training rows and its validation rows (or the tree's test set). */
function leafParts(data: Dataset, valFraction: number | undefined, seed: number): { train: Dataset; held?: Dataset } {
  if (valFraction === undefined || valFraction <= 0) return { train: data };
  const s = splitDataset(data, valFraction, seed);
  return { train: s.train, held: s.held };
}

/**
 * Fits one leaf: fitRfm on its rows with its own validation split (seeded by options.seed, as a single
 * fit splits) and early stopping if asked. A leaf of one class fits (it predicts that class).
 */
export async function fitLeaf(
  data: Dataset,
  options: Partial<RfmOptions>,
  ctx: {
    backend: Backend;
    valFraction?: number;
    test?: Dataset;
    cancel?: CancelToken;
    onIteration?: (rec: IterationRecord) => void;
  },
): Promise<FitResult> {
  return fitRfm(data, options, {
    backend: ctx.backend,
    test: ctx.test,
    valFraction: ctx.test ? undefined : ctx.valFraction,
    cancel: ctx.cancel,
    onIteration: ctx.onIteration,
    allowOneClass: true,
  });
}

/** Routing weights of every row for every leaf: hard (one 1 per row) or soft (products of sigmoids). */
export function routeRows(model: Pick<TreeModel, 'root' | 'nodes' | 'temperature'>, X: Mat, leaves: number): Mat {
  const w = mat(X.rows, leaves);
  const T = model.temperature;
  for (let i = 0; i < X.rows; i++) {
    const walk = (ref: number, p: number) => {
      const c = child(ref);
      if ('leaf' in c) {
        w.data[i * leaves + c.leaf] += p;
        return;
      }
      const s = model.nodes[c.node];
      const z = project(X, i, s.direction) - s.threshold;
      if (T <= 0) return walk(z <= 0 ? s.left : s.right, p);
      const right = 1 / (1 + Math.exp(-z / (T * s.scale)));
      if (p * (1 - right) > 1e-12) walk(s.left, p * (1 - right));
      if (p * right > 1e-12) walk(s.right, p * right);
    };
    walk(model.root, 1);
  }
  return w;
}

/** Predictions of a tree for raw (encoded) rows: each leaf predicts the rows routed to it, mixed by the routing weights. */
export async function predictTree(model: TreeModel, Z: Mat, backend: Backend, cancel?: CancelToken): Promise<Mat> {
  const L = model.leaves.length;
  const d = model.leaves[0].M.d;
  if (Z.cols !== d) throw new InputError(`expected ${d} feature columns, got ${Z.cols}`);
  const W = routeRows(model, Z, L);
  let out: Mat | null = null;
  for (let l = 0; l < L; l++) {
    throwIfCancelled(cancel);
    const rows: number[] = [];
    for (let i = 0; i < Z.rows; i++) if (W.data[i * L + l] > 0) rows.push(i);
    if (!rows.length) continue;
    const p = await predictRfm(model.leaves[l], takeRows(Z, rows), backend);
    out ??= mat(Z.rows, p.cols);
    rows.forEach((r, k) => {
      for (let c = 0; c < p.cols; c++) out!.data[r * p.cols + c] += W.data[r * L + l] * p.data[k * p.cols + c];
    });
  }
  return out ?? mat(Z.rows, model.leaves[0].alpha.cols);
}

/** The leaf that carries a model's task, names and classes (every leaf has the same). */
export function modelHead(model: RfmModel | TreeModel): RfmModel {
  return 'kind' in model ? model.leaves[0] : model;
}

/** Predictions of a saved model, single RFM or tree. */
export function predictModel(
  model: RfmModel | TreeModel,
  Z: Mat,
  backend: Backend,
  cancel?: CancelToken,
): Promise<Mat> {
  return 'kind' in model ? predictTree(model, Z, backend, cancel) : predictRfm(model, Z, backend);
}

/**
 * The largest leaf (rows, validation rows included) a fit on `backend` holds: MAX_LEAF_ROWS, and on the
 * CPU also the CPU fit limits (rfm/budget.ts) for this shape, so a leaf always fits.
 */
export function defaultLeafSize(
  s: Omit<RfmShape, 'n' | 'nTest'> & { valFraction?: number },
  backend: BackendName,
): number {
  const keep = 1 - (s.valFraction ?? 0);
  if (backend !== 'cpu') return MAX_LEAF_ROWS;
  const rows = largestCpuRows({
    ...s,
    n: Math.ceil(MAX_LEAF_ROWS * keep),
    nTest: Math.ceil(MAX_LEAF_ROWS * (1 - keep)),
  });
  return Math.max(2, Math.min(MAX_LEAF_ROWS, Math.floor(rows / keep)));
}

/** Feature indices by diag(M), largest first. */
function topFeatures(importance: Float64Array, k = 10): number[] {
  return Array.from(importance.keys())
    .sort((a, b) => importance[b] - importance[a] || a - b)
    .slice(0, k);
}

/** Pools per-leaf metrics: MSE and accuracy by rows; R² from the pooled MSE over the pooled targets' variance. */
function pooled(
  parts: { mse: number; metric: number; y: Float64Array }[],
  classification: boolean,
): { mse: number; metric: number } {
  const n = parts.reduce((a, p) => a + p.y.length, 0);
  const mse = parts.reduce((a, p) => a + p.mse * p.y.length, 0) / n;
  if (classification) return { mse, metric: parts.reduce((a, p) => a + p.metric * p.y.length, 0) / n };
  let mean = 0;
  for (const p of parts) for (const v of p.y) mean += v;
  mean /= n;
  let ss = 0;
  for (const p of parts) for (const v of p.y) ss += (v - mean) ** 2;
  const se = mse * n;
  return { mse, metric: ss > 0 ? 1 - se / ss : se === 0 ? 1 : 0 };
}

/**
 * The tree's result from its partition and its leaf fits (in leaf order): M is the size-weighted average
 * of the leaf M's and importance its diagonal; final metrics are pooled over the leaves' validation rows
 * (or measured on `test` by routing). A single leaf is that leaf's fit unchanged.
 */
export async function assembleTree(
  train: Pick<Dataset, 'task' | 'featureNames'>,
  partition: TreePartition,
  /** The targets of each leaf's rows (in the order of partition.leafRows). */
  leafY: Float64Array[],
  leaves: FitResult[],
  tree: TreeOptions,
  /** backend: where `test` is predicted (needed only with a test set and more than one leaf). */
  ctx: { backend?: Backend; test?: Dataset; valFraction?: number; seconds?: number },
): Promise<{ result: FitResult & { tree: TreeSummary }; model: TreeModel }> {
  const L = partition.leafRows.length;
  if (leaves.length !== L) throw new Error(`assembleTree: ${L} leaves, ${leaves.length} fits`);
  const sizes = partition.leafRows.map((r) => r.length);
  const model: TreeModel = {
    kind: 'tree',
    temperature: tree.temperature,
    root: partition.root,
    nodes: partition.nodes,
    leaves: leaves.map((f) => f.model),
  };
  const summary: TreeSummary = {
    leaves: L,
    depth: Math.max(...partition.leafDepths),
    leafSizes: sizes,
    temperature: tree.temperature,
    leafFits: leaves.map((f, l) => ({
      size: sizes[l],
      depth: partition.leafDepths[l],
      bestIter: f.bestIter,
      trainMetric: f.final.trainMetric,
      testMetric: f.final.testMetric,
      testMse: f.final.testMse,
      seconds: f.seconds,
      top: topFeatures(f.importance),
    })),
  };
  const first = leaves[0];
  if (L === 1) return { result: { ...first, tree: summary }, model };
  const d = partition.d;
  const total = sizes.reduce((a, b) => a + b, 0);
  const M = new Float64Array(d * d);
  leaves.forEach((f, l) => f.M.forEach((v, k) => (M[k] += (v * sizes[l]) / total)));
  const classification = train.task === 'classification';
  // The leaves' own validation splits (the same seeded split fitRfm made), for the pooled metrics.
  const parts = leafY.map((y, l) =>
    leafParts(
      { source: `leaf ${l}`, X: mat(y.length, 0), y, featureNames: [], targetName: '', task: train.task },
      ctx.test ? 0 : ctx.valFraction,
      first.options.seed,
    ),
  );
  const trainPooled = pooled(
    leaves.map((f, l) => ({
      mse: f.iterations.find((it) => it.iter === f.bestIter)!.trainMse,
      metric: f.final.trainMetric,
      y: parts[l].train.y,
    })),
    classification,
  );
  let test: { mse: number; metric: number } | null = null;
  if (ctx.test) {
    if (!ctx.backend) throw new Error('assembleTree: a test set needs a backend');
    test = evaluate(await predictTree(model, ctx.test.X, ctx.backend), ctx.test.y, ctx.test.task);
  } else if (parts.every((p) => p.held))
    test = pooled(
      leaves.map((f, l) => ({ mse: f.final.testMse!, metric: f.final.testMetric!, y: parts[l].held!.y })),
      classification,
    );
  const nTest = ctx.test ? ctx.test.X.rows : leaves.reduce((a, f) => a + f.nTest, 0);
  return {
    result: {
      task: train.task,
      nTrain: leaves.reduce((a, f) => a + f.nTrain, 0),
      nTest,
      d,
      featureNames: train.featureNames,
      backend: first.backend,
      device: first.device,
      // Each leaf resolves --solver for its own size; the first leaf's stands for the tree.
      solver: first.solver,
      iterations: [],
      bestIter: 0,
      final: { trainMetric: trainPooled.metric, testMetric: test?.metric ?? null, testMse: test?.mse ?? null },
      M,
      importance: Float64Array.from({ length: d }, (_, i) => M[i * d + i]),
      options: first.options,
      seconds: ctx.seconds ?? leaves.reduce((a, f) => a + f.seconds, 0),
      model: first.model,
      tree: summary,
    },
    model,
  };
}

/**
 * Fits an xRFM tree on one machine: partition, then the leaves in sequence (each reports, each can be
 * cancelled), then the assembly. With leafSize >= n this is exactly fitRfm on the whole data.
 */
export async function fitTree(
  trainIn: Dataset,
  options: Partial<RfmOptions>,
  tree: TreeOptions,
  ctx: TreeFitContext,
): Promise<{ result: FitResult & { tree: TreeSummary }; model: TreeModel }> {
  let train = trainIn;
  const started = performance.now();
  // Every leaf predicts every class (a leaf may miss some): the class list is the whole data's.
  if (train.task === 'classification' && !train.classes) {
    const k = train.y.reduce((a, v) => Math.max(a, v), 0) + 1;
    train = { ...train, classes: Array.from({ length: k }, (_, i) => String(i)) };
  }
  if (ctx.backend.name === 'cpu') {
    const opts = { ...DEFAULT_RFM_OPTIONS, ...options };
    checkCpuTreeBudget(
      {
        rows: train.X.rows,
        heldOut: ctx.test ? 0 : (ctx.valFraction ?? 0),
        d: train.X.cols,
        classes: train.task === 'classification' ? (train.classes?.length ?? 2) : 1,
        iters: opts.iters,
        agopSamples: opts.agopSamples,
        diag: opts.diag,
      },
      tree.leafSize,
      train.source,
    );
  }
  const partition = await partitionTree(train, options, tree, ctx);
  const L = partition.leafRows.length;
  const fits: FitResult[] = [];
  for (let l = 0; l < L; l++) {
    throwIfCancelled(ctx.cancel);
    const data = L === 1 ? train : leafDataset(train, partition.leafRows[l], l);
    const f = await fitLeaf(data, options, {
      backend: ctx.backend,
      valFraction: ctx.valFraction,
      test: L === 1 ? ctx.test : undefined,
      cancel: ctx.cancel,
      onIteration: ctx.onIteration && ((rec) => ctx.onIteration!(l, rec)),
    });
    fits.push(f);
    ctx.onLeaf?.(l, L, f);
  }
  const leafY = partition.leafRows.map((rows) => Float64Array.from(rows, (i) => train.y[i]));
  return assembleTree(train, partition, leafY, fits, tree, {
    ...ctx,
    seconds: (performance.now() - started) / 1000,
  });
}
