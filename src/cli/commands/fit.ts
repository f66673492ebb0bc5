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
import { DEFAULT_RFM_OPTIONS, type FitResult } from '../../core/rfm/types';
import {
  DEFAULT_SPLIT_SAMPLES,
  defaultLeafSize,
  fitTree,
  partitionTree,
  type TreeModel,
  type TreeOptions,
} from '../../core/rfm/tree';
import { preparePlanDir, SCRIPT_FILE, writePlan } from '../treePlan';
import { fmt, numberFlag, parseCli, table } from '../io';
import { OUTPUT_RULES, planOutputs } from '../output';
import { runRfmOnHost } from '../placement';

const USAGE = `usage: feature-lens fit TRAIN [--test TEST | --val-fraction F --seed S] --target COL
  [--task classification|regression] [--kernel laplace|gaussian] [--bandwidth L] [--reg R] [--iters T]
  [--diag] [--center-grads] [--agop-power 1|0.5] [--normalize max|none] [--no-standardize] [--early-stop]
  [--agop-samples N] [--impute] [--backend auto|cpu|webgpu] [--solver auto|direct|cg|eigenpro] [--json OUT] [--save-model OUT] [--force] [--top K] [--quiet]
  [--tree | --no-tree] [--leaf-size N] [--split-samples N] [--temperature T] [--plan DIR]
  --solver  how (K + reg I) alpha = Y is solved (default auto): direct = float64 Cholesky; cg =
            Nystrom-preconditioned conjugate gradients over a stored K; eigenpro = EigenPro 2
            preconditioned SGD, O(n) memory, never forms K; auto = direct for n <= 1000, cg while K
            fits the backend's memory budget, eigenpro beyond
  --force  replace an existing output file (with --plan: a previous plan in DIR)
  xRFM tree (SCIENCE.md §9): rows are split at the median along the top eigenvector of a one-shot RFM
  until a leaf has at most --leaf-size rows; each leaf is its own RFM with its own validation split.
  --tree             fit a tree even when one fit would hold the data (default: a tree only when the
                     training rows exceed the largest leaf the device holds, ${MAX_LEAF_ROWS} rows or fewer)
  --no-tree          always one fit (refused over the CPU limits, as before trees)
  --leaf-size N      largest leaf, in rows (default: that largest leaf); implies --tree
  --split-samples N  rows of each node's subsample for its split RFM (default ${DEFAULT_SPLIT_SAMPLES})
  --temperature T    soft routing at prediction: each split mixes its children with a sigmoid of
                     (projection - threshold) / (T x the node's projection spread); 0 = hard routing (default)
  --plan DIR         write the partition to a new folder DIR instead of fitting the leaves: plan.json, one
                     .npy shard per leaf and ${SCRIPT_FILE} (a Slurm array job); then feature-lens fit-leaf DIR
                     --leaf I per leaf (sbatch DIR/${SCRIPT_FILE}) and feature-lens merge DIR
${OUTPUT_RULES}`;

const FLAGS = {
  test: { type: 'string' },
  'val-fraction': { type: 'string' },
  seed: { type: 'string' },
  target: { type: 'string' },
  task: { type: 'string' },
  kernel: { type: 'string' },
  bandwidth: { type: 'string' },
  reg: { type: 'string' },
  iters: { type: 'string' },
  diag: { type: 'boolean' },
  'center-grads': { type: 'boolean' },
  'agop-power': { type: 'string' },
  normalize: { type: 'string' },
  'no-standardize': { type: 'boolean' },
  'early-stop': { type: 'boolean' },
  'agop-samples': { type: 'string' },
  impute: { type: 'boolean' },
  backend: { type: 'string' },
  solver: { type: 'string' },
  json: { type: 'string' },
  'save-model': { type: 'string' },
  force: { type: 'boolean' },
  top: { type: 'string' },
  quiet: { type: 'boolean' },
  tree: { type: 'boolean' },
  'no-tree': { type: 'boolean' },
  'leaf-size': { type: 'string' },
  'split-samples': { type: 'string' },
  temperature: { type: 'string' },
  plan: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

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

export function report(r: FitResult, top = 10): string {
  const cls = r.task === 'classification';
  const metric = cls ? 'acc' : 'r2';
  const t = r.tree && r.tree.leaves > 1 ? r.tree : undefined;
  const lines = [
    `Feature Lens RFM fit: ${r.task}, ${r.nTrain} train / ${r.nTest} test rows, d = ${r.d}, backend ${r.device}, solver ${r.solver}`,
    r.fallback ? `note: ${r.fallback}` : '',
    t
      ? `xRFM tree: ${t.leaves} leaves, depth ${t.depth}, ${t.temperature > 0 ? `soft routing (temperature ${t.temperature})` : 'hard routing'}\n` +
        table(
          ['leaf', 'rows', 'depth', 'best iter', `train ${metric}`, `val ${metric}`, 'val mse', 's', 'top features'],
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
          ['iter', `train ${metric}`, `test ${metric}`, 'test mse', 'kernel s', 'solve s', 'agop s', 'total s'],
          r.iterations.map((it) => [
            it.iter,
            fmt(it.trainMetric),
            fmt(it.testMetric),
            fmt(it.testMse, 5),
            it.phases.kernel.toFixed(3),
            it.phases.solve.toFixed(3),
            it.phases.agop.toFixed(3),
            it.seconds.toFixed(3),
          ]),
        ),
    '',
    `final${t ? ' (pooled over the leaves)' : ` (iteration ${r.bestIter})`}: test ${metric} ${fmt(r.final.testMetric)}, test mse ${fmt(r.final.testMse, 5)}, train ${metric} ${fmt(r.final.trainMetric)}; ${r.seconds.toFixed(2)} s`,
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
  return lines.filter((l, i) => l !== '' || i > 1).join('\n') + '\n';
}

export async function run(args: string[]): Promise<number> {
  const { values: f, positionals } = parseCli(args, FLAGS, USAGE);
  if (f.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (positionals.length !== 1) throw new InputError(`expected one TRAIN file, got ${positionals.length}\n${USAGE}`);
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
    f['val-fraction'] === undefined ? undefined : parseValFraction(f['val-fraction'], '--val-fraction', { text: true });
  const choice = parseBackendChoice(f.backend ?? 'auto', '--backend');
  const top = numberFlag('top', f.top, (v) => Number.isInteger(v) && v > 0, 'a positive integer') ?? 10;
  const target = f.target === undefined ? undefined : /^\d+$/.test(f.target) ? Number(f.target) : f.target;

  if (f.plan !== undefined && (f.json !== undefined || f['save-model'] !== undefined))
    throw new InputError('--plan writes a plan, not a fit: give --json and --save-model to feature-lens merge DIR');
  // Outputs are checked before the fit: a bad path must not cost the whole run.
  const outputs = await planOutputs(
    { '--json': f.json, '--save-model': f['save-model'] },
    { force: !!f.force, inputs: [positionals[0], f.test] },
  );
  // With an output on standard output, the human-readable report goes to stderr.
  const say = outputs['--json']?.stdout || outputs['--save-model']?.stdout ? process.stderr : process.stdout;

  const { dataset: train, schema } = await readDatasetFile(positionals[0], { target, task, impute: f.impute });
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
          onIteration: f.quiet
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
  if (!f.quiet) say.write(report(result, top));
  await outputs['--json']?.write(
    JSON.stringify({ train: basename(positionals[0]), ...fitResultToJson(result) }, null, 1) + '\n',
  );
  await outputs['--save-model']?.write(modelToJson(out.tree ?? result.model, { schema }));
  return 0;
}
