import { z } from 'zod';
import { InputError } from '../errors';
import { describeIssue } from '../validate';
import { mat } from '../mat';
import type { BackendName } from '../errors';
import type { Task } from '../data/dataset';
import type { TreeModel } from './tree';
import type {
  FinalMetrics,
  FitResult,
  IterationRecord,
  PhaseSeconds,
  RfmModel,
  RfmOptions,
  TreeSummary,
} from './types';
import { SOLVER_CHOICES, type SolverName } from './solvers';

/**
 * One iteration in the JSON report. test_* are the held-out (validation) metrics: a seeded validation
 * split, or the test file when one is given. select_* are early stopping's inner split (when it has one).
 */
export interface IterationReport {
  iter: number;
  train_metric: number;
  /** Absent in reports written before it was added (read back as null). */
  train_mse?: number;
  test_metric: number | null;
  test_mse: number | null;
  select_metric?: number;
  select_mse?: number;
  seconds: number;
  phases: PhaseSeconds;
  reg_used: number;
  /** This round's solve: the solver, CG iterations or EigenPro epochs (0 direct), the relative residual reached. */
  solver?: SolverName;
  solver_iterations?: number;
  rel_residual?: number;
}

export interface FinalReport {
  train_metric: number;
  test_metric: number | null;
  test_mse: number | null;
  /** The same numbers as test_* under the name the panel and the CLI use (added; test_* kept for readers of old reports). */
  validation_metric?: number | null;
  validation_mse?: number | null;
}

/** Where the held-out metric comes from (snake_case of HeldOut). */
export type HeldOutReport =
  | { kind: 'split'; fraction: number; seed: number; rows: number }
  | { kind: 'file'; source: string; rows: number }
  | { kind: 'none' };

/** The documented JSON report of a fit (CLI `--json`, extension run files): everything but the model. */
export interface FitReport {
  task: Task;
  n_train: number;
  n_test: number;
  d: number;
  feature_names: string[];
  backend: BackendName;
  device: string;
  fallback?: string;
  /** The solver used (options.solver resolved: direct, cg or eigenpro); absent in reports written before solvers. */
  solver?: SolverName;
  options: RfmOptions;
  iterations: IterationReport[];
  best_iter: number;
  final: FinalReport;
  /** d rows of d numbers. */
  M: number[][];
  importance: number[];
  seconds: number;
  held_out?: HeldOutReport;
  /** With early stopping: the rows the iteration was chosen on. */
  early_stop?: { selected_on: 'inner split' | 'held-out' | 'train'; rows: number };
  /** An xRFM tree fit (core/rfm/tree.ts): its leaves, depth and leaf sizes, and each leaf's fit. */
  tree?: TreeReport;
}

export interface TreeReport {
  leaves: number;
  depth: number;
  leaf_sizes: number[];
  temperature: number;
  leaf_fits: {
    size: number;
    depth: number;
    best_iter: number;
    train_metric: number;
    test_metric: number | null;
    test_mse: number | null;
    seconds: number;
    top: number[];
  }[];
}

/** A number of a report read back: JSON writes NaN and infinities as null, which read back as NaN. */
const reported = z
  .number()
  .nullable()
  .transform((v) => v ?? NaN);
const reportedOrNull = z.number().nullable();

export const RfmOptionsSchema: z.ZodType<RfmOptions> = z.looseObject({
  kernel: z.enum(['laplace', 'gaussian']),
  bandwidth: z.number(),
  reg: z.number(),
  iters: z.number().int().min(0),
  diag: z.boolean(),
  centerGrads: z.boolean(),
  agopPower: z.union([z.literal(1), z.literal(0.5)]),
  normalize: z.enum(['max', 'none']),
  standardize: z.boolean(),
  earlyStop: z.boolean(),
  agopSamples: z.number(),
  seed: z.number(),
  // Reports written before solvers have none: they solved directly, but 'auto' is the option's default.
  solver: z.enum(SOLVER_CHOICES).default('auto'),
});

export const FinalReportSchema: z.ZodType<FinalReport, unknown> = z.looseObject({
  train_metric: reported,
  test_metric: reportedOrNull,
  test_mse: reportedOrNull,
  validation_metric: reportedOrNull.optional(),
  validation_mse: reportedOrNull.optional(),
});

/**
 * The JSON report read back (the extension's saved runs): its shape, and M d x d, names and importance
 * of length d, checked before a view draws it.
 */
export const FitReportSchema: z.ZodType<FitReport, unknown> = z
  .looseObject({
    task: z.enum(['classification', 'regression']),
    n_train: z.number().int().min(0),
    n_test: z.number().int().min(0),
    d: z.number().int().min(1),
    feature_names: z.array(z.string()),
    backend: z.enum(['webgpu', 'cpu']),
    device: z.string(),
    fallback: z.string().optional(),
    solver: z.enum(['direct', 'cg', 'eigenpro']).optional(),
    options: RfmOptionsSchema,
    iterations: z.array(
      z.looseObject({
        iter: z.number().int().min(0),
        train_metric: reported,
        train_mse: reported.optional(),
        test_metric: reportedOrNull,
        test_mse: reportedOrNull,
        select_metric: reported.optional(),
        select_mse: reported.optional(),
        seconds: z.number(),
        phases: z.looseObject({ kernel: z.number(), solve: z.number(), predict: z.number(), agop: z.number() }),
        reg_used: reported,
        solver: z.enum(['direct', 'cg', 'eigenpro']).optional(),
        solver_iterations: z.number().optional(),
        rel_residual: reported.optional(),
      }),
    ),
    best_iter: z.number().int().min(0),
    final: FinalReportSchema,
    M: z.array(z.array(reported)),
    importance: z.array(reported),
    seconds: z.number(),
    held_out: z
      .union([
        z.looseObject({ kind: z.literal('split'), fraction: z.number(), seed: z.number(), rows: z.number() }),
        z.looseObject({ kind: z.literal('file'), source: z.string(), rows: z.number() }),
        z.looseObject({ kind: z.literal('none') }),
      ])
      .optional(),
    early_stop: z
      .looseObject({ selected_on: z.enum(['inner split', 'held-out', 'train']), rows: z.number() })
      .optional(),
    tree: z
      .looseObject({
        leaves: z.number().int().min(1),
        depth: z.number().int().min(0),
        leaf_sizes: z.array(z.number().int().min(0)),
        temperature: z.number().min(0),
        leaf_fits: z.array(
          z.looseObject({
            size: z.number().int().min(0),
            depth: z.number().int().min(0),
            best_iter: z.number().int().min(0),
            train_metric: reported,
            test_metric: reportedOrNull,
            test_mse: reportedOrNull,
            seconds: z.number(),
            top: z.array(z.number().int().min(0)),
          }),
        ),
      })
      .optional(),
  })
  .superRefine((r, ctx) => {
    const need = (path: string, ok: boolean, message: string) => {
      if (!ok) ctx.addIssue({ code: 'custom', path: [path], message });
    };
    need('feature_names', r.feature_names.length === r.d, `must be ${r.d} names`);
    need('M', r.M.length === r.d && r.M.every((row) => row.length === r.d), `must be ${r.d} rows of ${r.d} numbers`);
    need('importance', r.importance.length === r.d, `must be ${r.d} numbers`);
  });

export function finalReport(f: FinalMetrics): FinalReport {
  return {
    train_metric: f.trainMetric,
    test_metric: f.testMetric,
    test_mse: f.testMse,
    validation_metric: f.testMetric,
    validation_mse: f.testMse,
  };
}

/** The report's keys in the order they have always been written (files are compared byte for byte). */
export function fitResultToJson(r: FitResult): FitReport {
  const d = r.d;
  return {
    task: r.task,
    n_train: r.nTrain,
    n_test: r.nTest,
    d,
    feature_names: r.featureNames,
    backend: r.backend,
    device: r.device,
    ...(r.fallback ? { fallback: r.fallback } : {}),
    solver: r.solver,
    options: r.options,
    iterations: r.iterations.map((it) => ({
      iter: it.iter,
      train_metric: it.trainMetric,
      train_mse: it.trainMse,
      test_metric: it.testMetric,
      test_mse: it.testMse,
      ...(it.selectMse !== undefined ? { select_metric: it.selectMetric, select_mse: it.selectMse } : {}),
      seconds: it.seconds,
      phases: it.phases,
      reg_used: it.regUsed,
      ...(it.solve
        ? { solver: it.solve.solver, solver_iterations: it.solve.iterations, rel_residual: it.solve.relResidual }
        : {}),
    })),
    best_iter: r.bestIter,
    final: finalReport(r.final),
    M: Array.from({ length: d }, (_, i) => Array.from(r.M.subarray(i * d, (i + 1) * d))),
    importance: Array.from(r.importance),
    seconds: r.seconds,
    ...(r.heldOut ? { held_out: r.heldOut } : {}),
    ...(r.selection ? { early_stop: { selected_on: r.selection.on, rows: r.selection.rows } } : {}),
    ...(r.tree ? { tree: treeReport(r.tree) } : {}),
  };
}

export function treeReport(t: TreeSummary): TreeReport {
  return {
    leaves: t.leaves,
    depth: t.depth,
    leaf_sizes: t.leafSizes,
    temperature: t.temperature,
    leaf_fits: t.leafFits.map((f) => ({
      size: f.size,
      depth: f.depth,
      best_iter: f.bestIter,
      train_metric: f.trainMetric,
      test_metric: f.testMetric,
      test_mse: f.testMse,
      seconds: f.seconds,
      top: f.top,
    })),
  };
}

/** A report's tree read back (the extension's saved runs). */
export function treeFromReport(t: TreeReport): TreeSummary {
  return {
    leaves: t.leaves,
    depth: t.depth,
    leafSizes: t.leaf_sizes,
    temperature: t.temperature,
    leafFits: t.leaf_fits.map((f) => ({
      size: f.size,
      depth: f.depth,
      bestIter: f.best_iter,
      trainMetric: f.train_metric,
      testMetric: f.test_metric,
      testMse: f.test_mse,
      seconds: f.seconds,
      top: f.top,
    })),
  };
}

const MODEL_FORMAT = 'feature-lens.rfm-model';
const TREE_FORMAT = 'feature-lens.rfm-tree';

/**
 * A saved model: plain JSON (numbers as arrays) so it can be read by any tool; `extra` carries e.g. the
 * dataset schema. A tree (core/rfm/tree.ts) is saved with its splits and one such model object per leaf.
 */
export function modelToJson(m: RfmModel | TreeModel, extra: Record<string, unknown> = {}): string {
  if ('kind' in m)
    return JSON.stringify({
      format: TREE_FORMAT,
      version: 1,
      temperature: m.temperature,
      root: m.root,
      nodes: m.nodes.map((s) => ({ ...s, direction: Array.from(s.direction) })),
      leaves: m.leaves.map((l) => modelObject(l)),
      ...extra,
    });
  return JSON.stringify({ ...modelObject(m), ...extra });
}

function modelObject(m: RfmModel): Record<string, unknown> {
  return {
    format: MODEL_FORMAT,
    version: 1,
    task: m.task,
    kernel: m.kernel,
    bandwidth: m.bandwidth,
    feature_names: m.featureNames,
    target_name: m.targetName,
    classes: m.classes ?? null,
    standardize: m.standardize ? { mean: Array.from(m.standardize.mean), std: Array.from(m.standardize.std) } : null,
    M: { diag: m.M.diag, d: m.M.d, data: Array.from(m.M.data) },
    centers: { rows: m.centers.rows, cols: m.centers.cols, data: Array.from(m.centers.data) },
    alpha: { rows: m.alpha.rows, cols: m.alpha.cols, data: Array.from(m.alpha.data) },
  };
}

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const count = z.number().int().min(1);
const names = z.array(z.string());
const numbers = z.array(finite);

/**
 * The model file as written by modelToJson: the schema that `predict` checks a file against before any
 * number of it is used (a bandwidth of 0 or "abc", a std of 0 or a ragged matrix would print NaN scores).
 * Sizes that depend on each other (M.d, the rows of centers and alpha) are checked in superRefine.
 */
export const ModelFileSchema = z
  .looseObject({
    format: z.literal(MODEL_FORMAT),
    version: z.literal(1).optional(),
    task: z.enum(['classification', 'regression']),
    kernel: z.enum(['laplace', 'gaussian']),
    bandwidth: finite.positive(),
    feature_names: names,
    target_name: z.string(),
    classes: names.nullable().optional(),
    standardize: z
      .object({ mean: numbers, std: z.array(finite.positive()) })
      .nullable()
      .optional(),
    M: z.object({ diag: z.boolean(), d: count, data: numbers }),
    centers: z.object({ rows: count, cols: count, data: numbers }),
    alpha: z.object({ rows: count, cols: count, data: numbers }),
  })
  .superRefine((j, ctx) => {
    const d = j.M.d;
    const need = (path: (string | number)[], ok: boolean, message: string) => {
      if (!ok) ctx.addIssue({ code: 'custom', path, message });
    };
    need(['M', 'data'], j.M.data.length === (j.M.diag ? d : d * d), `must be ${j.M.diag ? d : d * d} finite numbers`);
    need(['feature_names'], j.feature_names.length === d, `must be ${d} names`);
    need(['centers', 'cols'], j.centers.cols === d, `must be ${d} (M.d)`);
    need(
      ['centers', 'data'],
      j.centers.data.length === j.centers.rows * d,
      `must be ${j.centers.rows * d} finite numbers`,
    );
    need(['alpha', 'rows'], j.alpha.rows === j.centers.rows, `must be ${j.centers.rows} (centers.rows)`);
    need(
      ['alpha', 'data'],
      j.alpha.data.length === j.alpha.rows * j.alpha.cols,
      `must be ${j.alpha.rows * j.alpha.cols} finite numbers`,
    );
    if (j.standardize) {
      need(['standardize', 'mean'], j.standardize.mean.length === d, `must be ${d} finite numbers`);
      need(['standardize', 'std'], j.standardize.std.length === d, `must be ${d} positive numbers`);
    }
    if (j.task === 'classification' && j.classes)
      need(['classes'], j.classes.length === j.alpha.cols, `must be ${j.alpha.cols} names (one per column of alpha)`);
  });

const ref = z.number().int().min(-1e9);

/**
 * A saved tree (modelToJson of a TreeModel): the splits and one model object per leaf, each checked by
 * ModelFileSchema; every leaf has the same features and task, directions have d entries, and a split's
 * children are later nodes or existing leaves (so routing always ends in a leaf).
 */
export const TreeModelFileSchema = z
  .looseObject({
    format: z.literal(TREE_FORMAT),
    version: z.literal(1).optional(),
    temperature: finite.min(0),
    root: ref,
    nodes: z.array(
      z.object({
        direction: numbers,
        threshold: finite,
        scale: finite.positive(),
        left: ref,
        right: ref,
        depth: z.number().int().min(0),
      }),
    ),
    leaves: z.array(ModelFileSchema).min(1),
  })
  .superRefine((j, ctx) => {
    const need = (path: (string | number)[], ok: boolean, message: string) => {
      if (!ok) ctx.addIssue({ code: 'custom', path, message });
    };
    const first = j.leaves[0];
    const d = first.M.d;
    j.leaves.forEach((l, i) => {
      need(['leaves', i, 'M', 'd'], l.M.d === d, `must be ${d} like leaf 0`);
      need(['leaves', i, 'task'], l.task === first.task, `must be ${first.task} like leaf 0`);
      need(
        ['leaves', i, 'alpha', 'cols'],
        l.alpha.cols === first.alpha.cols,
        `must be ${first.alpha.cols} like leaf 0`,
      );
    });
    const okRef = (r: number, from: number) => (r >= 0 ? r > from && r < j.nodes.length : -1 - r < j.leaves.length);
    need(
      ['root'],
      j.nodes.length ? j.root === 0 : j.root === -1,
      j.nodes.length ? 'must be 0' : 'must be -1 (one leaf)',
    );
    j.nodes.forEach((n, i) => {
      need(['nodes', i, 'direction'], n.direction.length === d, `must be ${d} finite numbers`);
      need(['nodes', i, 'left'], okRef(n.left, i), 'must name a later node or a leaf');
      need(['nodes', i, 'right'], okRef(n.right, i), 'must name a later node or a leaf');
    });
  });

type ModelFile = z.infer<typeof ModelFileSchema>;

function modelOfFile(j: ModelFile): RfmModel {
  const d = j.M.d;
  return {
    task: j.task,
    kernel: j.kernel,
    bandwidth: j.bandwidth,
    featureNames: j.feature_names,
    targetName: j.target_name,
    classes: j.classes ?? undefined,
    standardize: j.standardize
      ? { mean: Float64Array.from(j.standardize.mean), std: Float64Array.from(j.standardize.std) }
      : null,
    M: { diag: j.M.diag, d, data: Float64Array.from(j.M.data) },
    centers: mat(j.centers.rows, d, Float64Array.from(j.centers.data)),
    alpha: mat(j.alpha.rows, j.alpha.cols, Float64Array.from(j.alpha.data)),
  };
}

/** A saved model (single RFM or tree) read back and checked; `extra` is what the writer added (e.g. the schema). */
export function modelFromJson(
  text: string,
  fileName: string,
): { model: RfmModel | TreeModel; extra: Record<string, unknown> } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${fileName}: not a JSON file (${(e as Error).message})`);
  }
  const format = (raw as { format?: unknown } | null)?.format;
  if (format !== MODEL_FORMAT && format !== TREE_FORMAT)
    throw new InputError(
      `${fileName}: not a Feature Lens model (expected "format": "${MODEL_FORMAT}" or "${TREE_FORMAT}")`,
    );
  const bad = (error: z.ZodError) =>
    new InputError(
      `${fileName}: ${describeIssue(error, raw)}; save the model again with feature-lens fit --save-model`,
    );
  if (format === TREE_FORMAT) {
    const parsed = TreeModelFileSchema.safeParse(raw);
    if (!parsed.success) throw bad(parsed.error);
    const { format: _f, version: _v, temperature, root, nodes, leaves, ...extra } = parsed.data;
    const model: TreeModel = {
      kind: 'tree',
      temperature,
      root,
      nodes: nodes.map((n) => ({ ...n, direction: Float64Array.from(n.direction) })),
      leaves: leaves.map(modelOfFile),
    };
    return { model, extra };
  }
  const parsed = ModelFileSchema.safeParse(raw);
  if (!parsed.success) throw bad(parsed.error);
  const j = parsed.data;
  const {
    format: _f,
    version: _v,
    task: _t,
    kernel: _k,
    bandwidth: _b,
    feature_names: _n,
    target_name: _tn,
    classes: _c,
    standardize: _s,
    M: _m,
    centers: _ce,
    alpha: _a,
    ...extra
  } = j;
  return { model: modelOfFile(j), extra };
}

/** The in-memory metrics of a report's `final`. */
export function finalFromReport(f: FinalReport): FinalMetrics {
  return { trainMetric: f.train_metric, testMetric: f.test_metric, testMse: f.test_mse };
}

/** An iteration read back from a report: reports written before train_mse was added read back null. */
export type SavedIteration = Omit<IterationRecord, 'trainMse'> & { trainMse: number | null };

export function iterationFromReport(it: IterationReport): SavedIteration {
  return {
    iter: it.iter,
    trainMetric: it.train_metric,
    trainMse: it.train_mse ?? null,
    testMetric: it.test_metric,
    testMse: it.test_mse,
    ...(it.select_mse !== undefined ? { selectMetric: it.select_metric, selectMse: it.select_mse } : {}),
    seconds: it.seconds,
    phases: it.phases,
    regUsed: it.reg_used,
    ...(it.solver
      ? { solve: { solver: it.solver, iterations: it.solver_iterations ?? 0, relResidual: it.rel_residual ?? NaN } }
      : {}),
  };
}

/** M of a report, d x d row-major. */
export function matrixFromReport(r: Pick<FitReport, 'd' | 'M'>): Float64Array {
  const M = new Float64Array(r.d * r.d);
  r.M.forEach((row, i) => M.set(row, i * r.d));
  return M;
}

const LEAF_FORMAT = 'feature-lens.rfm-leaf-fit';

/**
 * One leaf's fit as `feature-lens fit-leaf` writes it for `merge`: its report, its model, and the train
 * MSE of its chosen iteration (the report leaves train MSEs out; the tree pools them). Numbers round-trip
 * exactly through JSON, so a merged tree equals the one fitted in one process.
 */
export function leafFitToJson(f: FitResult, leaf: number): string {
  return JSON.stringify({
    format: LEAF_FORMAT,
    version: 1,
    leaf,
    report: fitResultToJson(f),
    train_mse: f.iterations.map((it) => it.trainMse),
    model: modelObject(f.model),
  });
}

const LeafFitFileSchema = z.looseObject({
  format: z.literal(LEAF_FORMAT),
  version: z.literal(1),
  leaf: z.number().int().min(0),
  report: FitReportSchema,
  train_mse: z.array(reported),
  model: ModelFileSchema,
});

/** A leaf fit read back: the FitResult fitLeaf returned (everything assembleTree uses). */
export function leafFitFromJson(text: string, fileName: string): { leaf: number; fit: FitResult } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${fileName}: not a JSON file (${(e as Error).message})`);
  }
  const parsed = LeafFitFileSchema.safeParse(raw);
  if (!parsed.success)
    throw new InputError(
      `${fileName}: ${describeIssue(parsed.error, raw)}; fit the leaf again with feature-lens fit-leaf`,
    );
  const { report: r, train_mse, model, leaf } = parsed.data;
  if (train_mse.length !== r.iterations.length)
    throw new InputError(`${fileName}: field train_mse must be ${r.iterations.length} numbers (one per iteration)`);
  const fit: FitResult = {
    task: r.task,
    nTrain: r.n_train,
    nTest: r.n_test,
    d: r.d,
    featureNames: r.feature_names,
    backend: r.backend,
    device: r.device,
    solver: r.solver ?? 'direct',
    ...(r.fallback ? { fallback: r.fallback } : {}),
    iterations: r.iterations.map((it, k) => ({ ...iterationFromReport(it), trainMse: train_mse[k] })),
    bestIter: r.best_iter,
    final: finalFromReport(r.final),
    M: matrixFromReport(r),
    importance: Float64Array.from(r.importance),
    options: r.options,
    seconds: r.seconds,
    model: modelOfFile(model),
  };
  return { leaf, fit };
}
