import { basename } from 'node:path';
import { readDatasetFile } from '../../core/data/node';
import { InputError } from '../../core/errors';
import { fitRfm } from '../../core/rfm/fit';
import { fitResultToJson, modelToJson } from '../../core/rfm/serialize';
import type { FitResult, RfmOptions } from '../../core/rfm/types';
import type { Task } from '../../core/data/dataset';
import { createBackend } from '../../core/node';
import type { BackendChoice } from '../../core/compute';
import { fmt, numberFlag, parseCli, table, writeFileAtomic } from '../io';

const USAGE = `usage: feature-lens fit TRAIN [--test TEST | --val-fraction F --seed S] --target COL
  [--task classification|regression] [--kernel laplace|gaussian] [--bandwidth L] [--reg R] [--iters T]
  [--diag] [--center-grads] [--agop-power 1|0.5] [--normalize max|none] [--no-standardize] [--early-stop]
  [--agop-samples N] [--impute] [--backend auto|cpu|webgpu] [--json OUT] [--save-model OUT] [--top K] [--quiet]`;

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
  json: { type: 'string' },
  'save-model': { type: 'string' },
  top: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function oneOf<T extends string>(flag: string, v: string | undefined, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v))
    throw new InputError(`--${flag}: expected one of ${allowed.join(', ')}, got '${v}'`);
  return v as T;
}

export function report(r: FitResult, top = 10): string {
  const cls = r.task === 'classification';
  const metric = cls ? 'acc' : 'r2';
  const lines = [
    `Feature Lens RFM fit: ${r.task}, ${r.n_train} train / ${r.n_test} test rows, d = ${r.d}, backend ${r.device}`,
    r.fallback ? `note: ${r.fallback}` : '',
    table(
      ['iter', `train ${metric}`, `test ${metric}`, 'test mse', 'kernel s', 'solve s', 'agop s', 'total s'],
      r.iterations.map((it) => [
        it.iter,
        fmt(it.train_metric),
        fmt(it.test_metric),
        fmt(it.test_mse, 5),
        it.phases.kernel.toFixed(3),
        it.phases.solve.toFixed(3),
        it.phases.agop.toFixed(3),
        it.seconds.toFixed(3),
      ]),
    ),
    '',
    `final (iteration ${r.best_iter}): test ${metric} ${fmt(r.final.test_metric)}, test mse ${fmt(r.final.test_mse, 5)}, train ${metric} ${fmt(r.final.train_metric)}; ${r.seconds.toFixed(2)} s`,
    '',
    `top features by diag(M):`,
    table(
      ['rank', 'feature', 'diag(M)'],
      r.importance
        .map((v, j) => [v, j] as const)
        .sort((a, b) => b[0] - a[0])
        .slice(0, top)
        .map(([v, j], k) => [k + 1, r.feature_names[j], v.toPrecision(4)]),
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
  const task = oneOf<Task>('task', f.task, ['classification', 'regression']);
  const options: Partial<RfmOptions> = {
    kernel: oneOf('kernel', f.kernel, ['laplace', 'gaussian'] as const),
    bandwidth: numberFlag('bandwidth', f.bandwidth, (v) => v > 0, 'a positive number'),
    reg: numberFlag('reg', f.reg, (v) => v >= 0, 'a number >= 0'),
    iters: numberFlag('iters', f.iters, (v) => Number.isInteger(v) && v >= 0 && v <= 100, 'an integer 0..100'),
    agopPower: numberFlag('agop-power', f['agop-power'], (v) => v === 1 || v === 0.5, '1 or 0.5') as
      1 | 0.5 | undefined,
    normalize: oneOf('normalize', f.normalize, ['max', 'none'] as const),
    agopSamples: numberFlag(
      'agop-samples',
      f['agop-samples'],
      (v) => Number.isInteger(v) && v > 0,
      'a positive integer',
    ),
    seed: numberFlag('seed', f.seed, Number.isInteger, 'an integer'),
    diag: f.diag,
    centerGrads: f['center-grads'],
    earlyStop: f['early-stop'],
    standardize: f['no-standardize'] ? false : undefined,
  };
  for (const k of Object.keys(options) as (keyof RfmOptions)[]) if (options[k] === undefined) delete options[k];
  const valFraction = numberFlag('val-fraction', f['val-fraction'], (v) => v > 0 && v < 1, 'a number between 0 and 1');
  const choice = oneOf<BackendChoice>('backend', f.backend, ['auto', 'cpu', 'webgpu']) ?? 'auto';
  const top = numberFlag('top', f.top, (v) => Number.isInteger(v) && v > 0, 'a positive integer') ?? 10;
  const target = f.target === undefined ? undefined : /^\d+$/.test(f.target) ? Number(f.target) : f.target;

  const { dataset: train, schema } = await readDatasetFile(positionals[0], { target, task, impute: f.impute });
  const test = f.test ? (await readDatasetFile(f.test, { target, task, impute: f.impute }, schema)).dataset : undefined;
  const { backend, note } = await createBackend(choice);
  if (note && !f.quiet) process.stderr.write(`note: ${note}\n`);
  try {
    const result = await fitRfm(train, options, {
      backend,
      test,
      valFraction: test ? undefined : valFraction,
      onIteration: f.quiet
        ? undefined
        : (it) => process.stderr.write(`  iteration ${it.iter} done in ${it.seconds.toFixed(2)} s\n`),
      fallback: async (e) => {
        process.stderr.write(`note: ${e.message}; continuing on the CPU\n`);
        return (await createBackend('cpu')).backend;
      },
    });
    if (!f.quiet) process.stdout.write(report(result, top));
    if (f.json)
      await writeFileAtomic(
        f.json,
        JSON.stringify({ train: basename(positionals[0]), ...fitResultToJson(result) }, null, 1) + '\n',
      );
    if (f['save-model']) await writeFileAtomic(f['save-model'], modelToJson(result.model, { schema }));
    return 0;
  } finally {
    backend.dispose();
  }
}
