import { basename } from 'node:path';
import { readDatasetFile } from '../../core/data/node';
import { parseBackendChoice } from '../../core/compute';
import { InputError } from '../../core/errors';
import { fitRfm } from '../../core/rfm/fit';
import { ANNOUNCE_FIT_SECONDS, CPU_FLOPS } from '../../core/limits';
import { parseRfmOptions, parseTask, parseValFraction } from '../../core/rfm/options';
import { fitResultToJson, modelToJson } from '../../core/rfm/serialize';
import { DEFAULT_RFM_OPTIONS, DEFAULT_VAL_FRACTION, EARLY_STOP_FRACTION, type FitResult } from '../../core/rfm/types';
import { isTargetLikeName, targetLooksLikeFeature } from '../../core/data/table';
import { fmt, numberFlag, parseCommand, table, type CommandSpec } from '../io';
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
  if (!h || h.kind === 'none') return 'no rows held out: the metrics below are training metrics';
  return h.kind === 'split'
    ? `validation: ${h.rows} rows held out of TRAIN (${h.fraction * 100}%, seed ${h.seed})`
    : `validation: the ${h.rows} rows of ${basename(h.source)}`;
}

export function report(r: FitResult, top = 10, o: { verbose?: boolean } = {}): string {
  const cls = r.task === 'classification';
  const metric = cls ? 'acc' : 'R2';
  const verbose = !!o.verbose;
  const val = r.heldOut?.kind !== 'none' && r.final.testMetric !== null;
  const sel = r.selection;
  const lines = [
    `RFM fit, ${r.task}: ${r.nTrain} training rows, d = ${r.d}, on ${backendPhrase(r)}`,
    verbose ? `device: ${r.device}` : '',
    heldOutPhrase(r),
    sel
      ? sel.on === 'inner split'
        ? `early stopping: the round is chosen on ${sel.rows} rows set aside from the training rows (not the validation rows)`
        : `early stopping: too few rows to set some aside; the round is chosen on the ${sel.on === 'held-out' ? 'validation' : 'training'} rows, so that metric is optimistic`
      : '',
    r.fallback ? `note: ${r.fallback}` : '',
    table(
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
      ? `final (iteration ${r.bestIter}): validation ${metric} ${fmt(r.final.testMetric)}, validation mse ${fmt(r.final.testMse, 5)}, train ${metric} ${fmt(r.final.trainMetric)}; ${r.seconds.toFixed(2)} s`
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
  if (positionals.length !== 1)
    throw new InputError(`expected one TRAIN file, got ${positionals.length}; see feature-lens fit --help`);
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
  const { value: fitted, fallback } = await runRfmOnHost(choice, note, (backend) =>
    fitRfm(train, options, {
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
  );
  const result: FitResult = fallback ? { ...fitted, fallback } : fitted;
  if (!f.quiet) say.write(report(result, top, { verbose: f.verbose }));
  for (const w of fitWarnings(result)) warn(w);
  await outputs['--json']?.write(
    JSON.stringify({ train: basename(trainPath), ...fitResultToJson(result) }, null, 1) + '\n',
  );
  await outputs['--save-model']?.write(modelToJson(result.model, { schema }));
  return 0;
}
