import { basename, join, resolve } from 'node:path';
import type { Backend } from '../../core/rfm/backend';
import { readDatasetFile } from '../../core/data/node';
import { parseBackendChoice } from '../../core/compute';
import { InputError } from '../../core/errors';
import { fitRfm } from '../../core/rfm/fit';
import { ANNOUNCE_FIT_SECONDS, CPU_FLOPS, MAX_LEAF_ROWS } from '../../core/limits';
import { parseRfmOptions, parseTask, parseValFraction } from '../../core/rfm/options';
import { parseSolverChoice } from '../../core/rfm/solvers';
import { fitResultToJson, modelToJson } from '../../core/rfm/serialize';
import { DEFAULT_RFM_OPTIONS, DEFAULT_VAL_FRACTION, EARLY_STOP_FRACTION, type FitResult } from '../../core/rfm/types';
import { isTargetLikeName, targetLooksLikeFeature } from '../../core/data/table';
import {
  DEFAULT_SPLIT_SAMPLES,
  defaultLeafSize,
  fitTree,
  partitionTree,
  type TreeModel,
  type TreeOptions,
} from '../../core/rfm/tree';
import { preparePlanDir, SCRIPT_FILE, writePlan } from '../treePlan';
import { fmt, numberFlag, parseCommand, table, type CommandSpec, onePositional } from '../io';
import { OUTPUT_RULES, planOutputs } from '../output';
import { runRfmOnHost } from '../placement';

const D = DEFAULT_RFM_OPTIONS;

export const SPEC = {
  name: 'fit',
  summary:
    'Fits a Recursive Feature Machine (docs/science.md §1) and reports a held-out (validation) metric: a seeded split of TRAIN, or --test.',
  args: [['TRAIN', 'the training data: .csv, .tsv, .npy, .npz or .parquet']],
  options: {
    target: {
      type: 'string',
      arg: 'COL',
      help: 'the target column: a name or a 0-based index. Required for a plain .npy array (it has no column names)',
      default: 'a column named target/label/y/class/species/diagnosis, else the last column',
    },
    task: {
      type: 'string',
      arg: 'T',
      help: 'classification or regression',
      default: 'classification for text labels or a few distinct integers, else regression',
    },
    test: {
      type: 'string',
      arg: 'FILE',
      help: 'held-out rows in a file of their own (same columns as TRAIN); reported as the validation metric',
      default: 'none: a validation split of TRAIN',
    },
    'val-fraction': {
      type: 'string',
      arg: 'F',
      help: 'fraction of TRAIN held out (seeded by --seed) for the validation metric when there is no --test; 0 holds out nothing and reports training metrics only',
      default: String(DEFAULT_VAL_FRACTION),
    },
    seed: {
      type: 'string',
      arg: 'S',
      help: 'seed of the validation split, the early-stopping split and the AGOP subsample',
      default: String(D.seed),
    },
    kernel: { type: 'string', arg: 'K', help: 'laplace or gaussian', default: D.kernel },
    bandwidth: { type: 'string', arg: 'L', help: 'kernel bandwidth (> 0)', default: String(D.bandwidth) },
    reg: { type: 'string', arg: 'R', help: 'ridge added to the kernel matrix (>= 0)', default: String(D.reg) },
    iters: { type: 'string', arg: 'T', help: 'feature-learning rounds (0..100)', default: String(D.iters) },
    diag: { type: 'boolean', help: 'learn only the diagonal of M', default: 'off: the full M' },
    'center-grads': { type: 'boolean', help: 'centre the gradients before the AGOP', default: 'off' },
    'agop-power': { type: 'string', arg: 'P', help: 'M = AGOP^P with P 1 or 0.5', default: String(D.agopPower) },
    normalize: { type: 'string', arg: 'N', help: 'max (divide M by its largest entry) or none', default: D.normalize },
    'no-standardize': { type: 'boolean', help: 'use the columns as stored', default: 'off: columns standardised' },
    'early-stop': {
      type: 'boolean',
      help: `stop when the criterion worsens by more than 10% and keep the best round; the round is chosen on ${EARLY_STOP_FRACTION * 100}% of the training rows set aside, never on the validation rows`,
      default: 'off',
    },
    'agop-samples': {
      type: 'string',
      arg: 'N',
      help: 'AGOP over at most N training rows (seeded subsample)',
      default: String(D.agopSamples),
    },
    impute: {
      type: 'boolean',
      help: 'fill missing feature values (column mean) instead of refusing the file',
      default: 'off',
    },
    backend: {
      type: 'string',
      arg: 'B',
      help: 'auto (WebGPU when an adapter exists, else the CPU), webgpu (f32) or cpu (float64)',
      default: 'auto',
    },
    solver: {
      type: 'string',
      arg: 'S',
      help: "how (K + reg I) alpha = Y is solved: direct = float64 Cholesky; cg = Nystrom-preconditioned conjugate gradients over a stored K; eigenpro = EigenPro 2 preconditioned SGD, O(n) memory, never forms K; auto = direct for n <= 1000, cg while K fits the backend's memory budget, eigenpro beyond (docs/science.md §9)",
      default: 'auto',
    },
    json: {
      type: 'string',
      arg: 'OUT',
      help: 'write the JSON report there (- for standard output)',
      default: 'not written',
    },
    'save-model': {
      type: 'string',
      arg: 'OUT',
      help: 'write the model for feature-lens predict',
      default: 'not written',
    },
    force: { type: 'boolean', help: 'replace an existing output file', default: 'off' },
    top: { type: 'string', arg: 'K', help: 'features listed by diag(M)', default: '10' },
    quiet: { type: 'boolean', help: 'print nothing but errors and warnings', default: 'off' },
    verbose: { type: 'boolean', help: 'also print the device details and each phase', default: 'off' },
    tree: {
      type: 'boolean',
      help: 'fit an xRFM tree (docs/science.md §9: rows split at the median along the top eigenvector of a one-shot RFM until a leaf has at most --leaf-size rows; each leaf its own RFM with its own validation split) even when one fit would hold the data',
      default: `a tree only when the training rows exceed the largest leaf the device holds (${MAX_LEAF_ROWS} rows or fewer)`,
    },
    'no-tree': { type: 'boolean', help: 'always one fit (refused over the CPU limits)', default: 'off' },
    'leaf-size': {
      type: 'string',
      arg: 'N',
      help: 'largest leaf, in rows; implies --tree',
      default: 'the largest leaf the device holds',
    },
    'split-samples': {
      type: 'string',
      arg: 'N',
      help: "rows of each node's subsample for its split RFM",
      default: String(DEFAULT_SPLIT_SAMPLES),
    },
    temperature: {
      type: 'string',
      arg: 'T',
      help: "soft routing at prediction: each split mixes its children with a sigmoid of (projection - threshold) / (T x the node's projection spread); 0 = hard routing",
      default: '0',
    },
    plan: {
      type: 'string',
      arg: 'DIR',
      help: `write the partition to a new folder DIR instead of fitting the leaves: plan.json, one .npy shard per leaf and ${SCRIPT_FILE} (a Slurm array job); then feature-lens fit-leaf DIR --leaf I per leaf (sbatch DIR/${SCRIPT_FILE}) and feature-lens merge DIR. With --force, a previous plan in DIR is replaced`,
      default: 'none: the leaves are fitted here',
    },
  },
  notes: OUTPUT_RULES,
} as const satisfies CommandSpec;

/** The flag that sets each RFM option (messages name the flag the user typed). */
const OPTION_FLAGS: Record<string, string> = {
  kernel: 'kernel',
  bandwidth: 'bandwidth',
  reg: 'reg',
  iters: 'iters',
  diag: 'diag',
  centerGrads: 'center-grads',
  agopPower: 'agop-power',
  normalize: 'normalize',
  standardize: 'no-standardize',
  earlyStop: 'early-stop',
  agopSamples: 'agop-samples',
  seed: 'seed',
};
export const flagOf = (key: string) => `--${OPTION_FLAGS[key] ?? key}`;

/** The backend as one short phrase; the device's full name goes with --verbose. */
export function backendPhrase(r: Pick<FitResult, 'backend' | 'device'>): string {
  return r.backend === 'cpu' ? 'CPU (float64)' : 'WebGPU (f32)';
}

function heldOutPhrase(r: FitResult): string {
  const h = r.heldOut;
  if (!h && r.tree && r.final.testMetric !== null)
    return 'validation: each leaf holds out its own rows (or the --test rows are routed to the leaves); pooled below';
  if (!h || h.kind === 'none') return 'no rows held out: the metrics below are training metrics';
  return h.kind === 'split'
    ? `validation: ${h.rows} rows held out of TRAIN (${h.fraction * 100}%, seed ${h.seed})`
    : `validation: the ${h.rows} rows of ${basename(h.source)}`;
}

export function report(r: FitResult, top = 10, o: { verbose?: boolean } = {}): string {
  const cls = r.task === 'classification';
  const metric = cls ? 'acc' : 'R2';
  const verbose = !!o.verbose;
  const val = (r.heldOut ? r.heldOut.kind !== 'none' : !!r.tree) && r.final.testMetric !== null;
  const sel = r.selection;
  const t = r.tree && r.tree.leaves > 1 ? r.tree : undefined;
  const lines = [
    `RFM fit, ${r.task}: ${r.nTrain} training rows, d = ${r.d}, on ${backendPhrase(r)}${r.solver && r.solver !== 'direct' ? `, solver ${r.solver}` : ''}`,
    verbose ? `device: ${r.device}` : '',
    heldOutPhrase(r),
    sel
      ? sel.on === 'inner split'
        ? `early stopping: the round is chosen on ${sel.rows} rows set aside from the training rows (not the validation rows)`
        : `early stopping: too few rows to set some aside; the round is chosen on the ${sel.on === 'held-out' ? 'validation' : 'training'} rows, so that metric is optimistic`
      : '',
    r.fallback ? `note: ${r.fallback}` : '',
    t
      ? `xRFM tree: ${t.leaves} leaves, depth ${t.depth}, ${t.temperature > 0 ? `soft routing (temperature ${t.temperature})` : 'hard routing'}\n` +
        table(
          [
            'leaf',
            'rows',
            'depth',
            'best iter',
            `train ${metric}`,
            `validation ${metric}`,
            'validation mse',
            's',
            'top features',
          ],
          t.leafFits.map((f, l) => [
            l,
            f.size,
            f.depth,
            f.bestIter,
            fmt(f.trainMetric),
            fmt(f.testMetric),
            fmt(f.testMse, 5),
            f.seconds.toFixed(2),
            f.top
              .slice(0, 3)
              .map((j) => r.featureNames[j])
              .join(' '),
          ]),
        )
      : table(
          [
            'iter',
            `train ${metric}`,
            ...(val ? [`validation ${metric}`, 'validation mse'] : []),
            ...(sel?.on === 'inner split' ? [`early-stop ${metric}`] : []),
            ...(verbose ? ['kernel s', 'solve s', 'agop s'] : []),
            'seconds',
          ],
          r.iterations.map((it) => [
            it.iter,
            fmt(it.trainMetric),
            ...(val ? [fmt(it.testMetric), fmt(it.testMse, 5)] : []),
            ...(sel?.on === 'inner split' ? [fmt(it.selectMetric ?? null)] : []),
            ...(verbose ? [it.phases.kernel.toFixed(3), it.phases.solve.toFixed(3), it.phases.agop.toFixed(3)] : []),
            it.seconds.toFixed(3),
          ]),
        ),
    '',
    val
      ? `final${t ? ' (pooled over the leaves)' : ` (iteration ${r.bestIter})`}: validation ${metric} ${fmt(r.final.testMetric)}, validation mse ${fmt(r.final.testMse, 5)}, train ${metric} ${fmt(r.final.trainMetric)}; ${r.seconds.toFixed(2)} s`
      : `final (iteration ${r.bestIter}): train ${metric} ${fmt(r.final.trainMetric)} (no held-out rows; pass --val-fraction or --test); ${r.seconds.toFixed(2)} s`,
    '',
    `top features by diag(M):`,
    table(
      ['rank', 'feature', 'diag(M)'],
      Array.from(r.importance, (v, j) => [v, j] as const)
        .sort((a, b) => b[0] - a[0])
        .slice(0, top)
        .map(([v, j], k) => [k + 1, r.featureNames[j], v.toPrecision(4)]),
    ),
  ];
  return (
    lines
      .filter((l) => l !== '')
      .join('\n')
      .replace('\n\nfinal', '\nfinal') + '\n'
  );
}

/** Warnings about a finished fit that a reader of the numbers must see (written to stderr). */
export function fitWarnings(r: FitResult): string[] {
  const out: string[] = [];
  const v = r.final.testMetric;
  if (r.task === 'regression' && v !== null && v < 0)
    out.push(
      `validation R2 is ${fmt(v)} (< 0): the model predicts the held-out rows worse than their mean does; check the target, --bandwidth and --reg`,
    );
  return out;
}

/** What the fit took as its target and task, and how it knew (printed before the fit). */
export function targetLine(
  ds: { source: string; targetName: string; task: string; classes?: string[]; featureNames: string[] },
  given: { target: boolean; task: boolean },
): { line: string; warning?: string } {
  const how = given.target
    ? 'given'
    : isTargetLikeName(ds.targetName)
      ? 'inferred from its name; --target to choose another'
      : 'inferred: the last column; --target to choose another';
  const task = `${ds.task} (${ds.classes ? `${ds.classes.length} classes; ` : ''}${given.task ? 'given' : 'inferred; --task to choose'})`;
  const warning = targetLooksLikeFeature(ds.targetName, ds.featureNames)
    ? `the target '${ds.targetName}' is named like the features (${ds.featureNames.slice(0, 3).join(', ')}, ...): is it a feature? Pass --target with the target column`
    : undefined;
  return { line: `target '${ds.targetName}' (${how}), task ${task}`, ...(warning ? { warning } : {}) };
}

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(args, SPEC);
  if (!parsed) return 0;
  const { values: f, positionals } = parsed;
  onePositional(positionals, 'TRAIN file', 'fit');
  if (f.test && f['val-fraction']) throw new InputError('give either --test or --val-fraction, not both');
  const task = f.task === undefined ? undefined : parseTask(f.task, '--task', { text: true });
  const options = parseRfmOptions(
    {
      kernel: f.kernel,
      bandwidth: f.bandwidth,
      reg: f.reg,
      iters: f.iters,
      agopPower: f['agop-power'],
      normalize: f.normalize,
      agopSamples: f['agop-samples'],
      seed: f.seed,
      diag: f.diag,
      centerGrads: f['center-grads'],
      earlyStop: f['early-stop'],
      standardize: f['no-standardize'] ? false : undefined,
      solver: f.solver === undefined ? undefined : parseSolverChoice(f.solver, '--solver'),
    },
    flagOf,
    DEFAULT_RFM_OPTIONS,
    { text: true },
  );
  const valFraction =
    f['val-fraction'] === undefined
      ? DEFAULT_VAL_FRACTION
      : parseValFraction(f['val-fraction'], '--val-fraction', { text: true });
  const choice = parseBackendChoice(f.backend ?? 'auto', '--backend');
  const top = numberFlag('top', f.top, (v) => Number.isInteger(v) && v > 0, 'a positive integer') ?? 10;
  const target = f.target === undefined ? undefined : /^\d+$/.test(f.target) ? Number(f.target) : f.target;
  const trainPath = positionals[0];
  // A plain .npy is a matrix without column names: nothing says which column is the target, and taking
  // the last one would silently regress a feature on the others.
  if (target === undefined && /\.npy$/i.test(trainPath))
    throw new InputError(
      `${trainPath}: a .npy array has no column names, so no column is known to be the target; pass --target INDEX (0-based column of the array), or save the features and the target together as an .npz with arrays X and y`,
    );

  if (f.plan !== undefined && (f.json !== undefined || f['save-model'] !== undefined))
    throw new InputError('--plan writes a plan, not a fit: give --json and --save-model to feature-lens merge DIR');
  // Outputs are checked before the fit: a bad path must not cost the whole run.
  const outputs = await planOutputs(
    { '--json': f.json, '--save-model': f['save-model'] },
    { force: !!f.force, inputs: [trainPath, f.test] },
  );
  // With an output on standard output, the human-readable report goes to stderr.
  const say = outputs['--json']?.stdout || outputs['--save-model']?.stdout ? process.stderr : process.stdout;
  const warn = (line: string) => process.stderr.write(`warning: ${line}\n`);

  const { dataset: train, schema } = await readDatasetFile(trainPath, { target, task, impute: f.impute });
  const chosen = targetLine(train, { target: target !== undefined, task: task !== undefined });
  if (!f.quiet) say.write(chosen.line + '\n');
  if (chosen.warning) warn(chosen.warning);
  const test = f.test ? (await readDatasetFile(f.test, { target, task, impute: f.impute }, schema)).dataset : undefined;
  const note = f.quiet ? undefined : (line: string) => process.stderr.write(`note: ${line}\n`);
  const leafFlag = numberFlag('leaf-size', f['leaf-size'], (v) => Number.isInteger(v) && v >= 2, 'an integer >= 2');
  const splitSamples =
    numberFlag('split-samples', f['split-samples'], (v) => Number.isInteger(v) && v >= 2, 'an integer >= 2') ??
    DEFAULT_SPLIT_SAMPLES;
  const temperature = numberFlag('temperature', f.temperature, (v) => v >= 0, 'a number >= 0') ?? 0;
  const forceTree = !!f.tree || leafFlag !== undefined || f.plan !== undefined;
  if (forceTree && f['no-tree'])
    throw new InputError('--no-tree asks for one fit: leave out --tree, --leaf-size and --plan, or --no-tree');
  // A plan folder is checked (and a previous plan of ours cleared) before the work, like every output.
  const planDir = f.plan === undefined ? undefined : await preparePlanDir(f.plan, !!f.force);
  const nClasses = train.task === 'classification' ? (train.classes?.length ?? 2) : 1;
  const fitOne = async (backend: Backend): Promise<{ fit?: FitResult; tree?: TreeModel; planned?: number }> => {
    const leafSize =
      leafFlag ??
      defaultLeafSize(
        {
          d: train.X.cols,
          classes: nClasses,
          iters: options.iters,
          agopSamples: options.agopSamples,
          diag: options.diag,
          valFraction: test ? 0 : valFraction,
        },
        backend.name,
      );
    if (f['no-tree'] || (!forceTree && train.X.rows <= leafSize))
      return {
        fit: await fitRfm(train, options, {
          backend,
          test,
          valFraction: test ? undefined : valFraction,
          // A long fit says what it will cost before it starts (then each iteration reports).
          onEstimate: (e, line) => {
            if (
              note &&
              (e.seconds === null ? e.flops > ANNOUNCE_FIT_SECONDS * CPU_FLOPS * 10 : e.seconds > ANNOUNCE_FIT_SECONDS)
            )
              note(line);
          },
          onIteration:
            f.quiet || !f.verbose
              ? undefined
              : (it) => process.stderr.write(`  iteration ${it.iter} done in ${it.seconds.toFixed(2)} s\n`),
        }),
      };
    const tree: TreeOptions = { leafSize, splitSamples, temperature };
    note?.(
      forceTree
        ? `xRFM tree: leaves of at most ${leafSize} rows`
        : `${train.X.rows} rows exceed the largest leaf one fit holds here (${leafSize}): fitting an xRFM tree`,
    );
    const onSplit = f.quiet
      ? undefined
      : (depth: number, rows: number) => process.stderr.write(`  splitting a node of ${rows} rows at depth ${depth}\n`);
    if (planDir) {
      const partition = await partitionTree(train, options, tree, { backend, onSplit });
      const self = process.argv[1] ? resolve(process.argv[1]) : '';
      const command = /(cli\.js|main\.ts)$/.test(self)
        ? [process.execPath, ...process.execArgv, self]
        : ['feature-lens'];
      await writePlan(planDir, {
        train,
        trainPath: positionals[0],
        testPath: f.test,
        valFraction: test ? undefined : valFraction,
        backend: choice,
        options,
        tree,
        schema,
        partition,
        command,
      });
      return { planned: partition.leafRows.length };
    }
    const { result, model } = await fitTree(train, options, tree, {
      backend,
      test,
      valFraction: test ? undefined : valFraction,
      onSplit,
      onLeaf: f.quiet
        ? undefined
        : (l, L, r) =>
            process.stderr.write(
              `  leaf ${l + 1}/${L}: ${r.nTrain + (test ? 0 : r.nTest)} rows, ${r.iterations.length} iterations in ${r.seconds.toFixed(2)} s\n`,
            ),
    });
    return { fit: result, tree: model };
  };
  const { value: out, fallback } = await runRfmOnHost(choice, note, fitOne);
  if (out.planned !== undefined) {
    process.stdout.write(
      `planned an xRFM tree of ${out.planned} leaves in ${planDir}\n` +
        `  fit the leaves: sbatch ${join(planDir!, SCRIPT_FILE)}   (or: feature-lens fit-leaf ${planDir} --leaf I, for I = 0..${out.planned - 1})\n` +
        `  then: feature-lens merge ${planDir}\n`,
    );
    return 0;
  }
  const fitted = out.fit!;
  const result: FitResult = fallback ? { ...fitted, fallback } : fitted;
  if (!f.quiet) say.write(report(result, top, { verbose: f.verbose }));
  for (const w of fitWarnings(result)) warn(w);
  await outputs['--json']?.write(
    JSON.stringify({ train: basename(trainPath), ...fitResultToJson(result) }, null, 1) + '\n',
  );
  await outputs['--save-model']?.write(modelToJson(out.tree ?? result.model, { schema }));
  return 0;
}
