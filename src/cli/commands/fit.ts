import { basename } from 'node:path';
import { readDatasetFile } from '../../core/data/node';
import { parseBackendChoice } from '../../core/compute';
import { InputError } from '../../core/errors';
import { fitRfm } from '../../core/rfm/fit';
import { ANNOUNCE_FIT_SECONDS, CPU_FLOPS } from '../../core/limits';
import { parseRfmOptions, parseTask, parseValFraction } from '../../core/rfm/options';
import { parseSolverChoice } from '../../core/rfm/solvers';
import { fitResultToJson, modelToJson } from '../../core/rfm/serialize';
import { DEFAULT_RFM_OPTIONS, type FitResult } from '../../core/rfm/types';
import { fmt, numberFlag, parseCli, table } from '../io';
import { OUTPUT_RULES, planOutputs } from '../output';
import { runRfmOnHost } from '../placement';

const USAGE = `usage: feature-lens fit TRAIN [--test TEST | --val-fraction F --seed S] --target COL
  [--task classification|regression] [--kernel laplace|gaussian] [--bandwidth L] [--reg R] [--iters T]
  [--diag] [--center-grads] [--agop-power 1|0.5] [--normalize max|none] [--no-standardize] [--early-stop]
  [--agop-samples N] [--impute] [--backend auto|cpu|webgpu] [--solver auto|direct|cg|eigenpro]
  [--json OUT] [--save-model OUT] [--force] [--top K] [--quiet]
  --solver  how (K + reg I) alpha = Y is solved (default auto): direct = float64 Cholesky; cg =
            Nystrom-preconditioned conjugate gradients over a stored K; eigenpro = EigenPro 2
            preconditioned SGD, O(n) memory, never forms K; auto = direct for n <= 1000, cg while K
            fits the backend's memory budget, eigenpro beyond
  --force  replace an existing output file
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
  const lines = [
    `Feature Lens RFM fit: ${r.task}, ${r.nTrain} train / ${r.nTest} test rows, d = ${r.d}, backend ${r.device}, solver ${r.solver}`,
    r.fallback ? `note: ${r.fallback}` : '',
    table(
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
    `final (iteration ${r.bestIter}): test ${metric} ${fmt(r.final.testMetric)}, test mse ${fmt(r.final.testMse, 5)}, train ${metric} ${fmt(r.final.trainMetric)}; ${r.seconds.toFixed(2)} s`,
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
      onIteration: f.quiet
        ? undefined
        : (it) => process.stderr.write(`  iteration ${it.iter} done in ${it.seconds.toFixed(2)} s\n`),
    }),
  );
  const result: FitResult = fallback ? { ...fitted, fallback } : fitted;
  if (!f.quiet) say.write(report(result, top));
  await outputs['--json']?.write(
    JSON.stringify({ train: basename(positionals[0]), ...fitResultToJson(result) }, null, 1) + '\n',
  );
  await outputs['--save-model']?.write(modelToJson(result.model, { schema }));
  return 0;
}
