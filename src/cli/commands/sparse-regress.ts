// feature-lens sparse-regress: lin-RFM sparse linear regression (docs/science.md §8, diagonal M = diag(β²)^alpha):
// the support and coefficients on stdout, the JSON report with --json.
import { readDatasetFile } from '../../core/data/node';
import { splitDataset } from '../../core/data/split';
import { InputError } from '../../core/errors';
import { SPARSE_DEFAULTS as D, sparseRegression } from '../../core/linrfm/sparse';
import { sparseToJson } from '../../core/linrfm/serialize';
import { DEFAULT_VAL_FRACTION } from '../../core/rfm/types';
import { fmt, numberFlag, parseCommand, requireInputFile, table, type CommandSpec, onePositional } from '../io';
import { jsonOutputOptions, OUTPUT_RULES, planOutputs } from '../output';

export const SPEC = {
  name: 'sparse-regress',
  summary:
    'lin-RFM sparse linear regression (docs/science.md §8): iteratively reweighted ridge with the diagonal feature matrix M = diag(coef²)^alpha (l_p IRLS, p = 2 - 4 alpha) on standardised columns, with an intercept. Fitted on a seeded split; test_r2 on the held-out rows.',
  args: [['DATA', 'a dataset (CSV/TSV, .npy/.npz, Parquet) with a numeric target column']],
  options: {
    target: {
      type: 'string',
      arg: 'COL',
      help: 'the target column: a name or a 0-based index',
      default: 'a column named like a target, else the last',
    },
    alpha: { type: 'string', arg: 'A', help: 'M = diag(coef²)^A: 0.5 ~ l0 (log), 0.25 ~ l1', default: String(D.alpha) },
    reg: {
      type: 'string',
      arg: 'L',
      help: 'ridge lambda of each weighted solve (standardised columns)',
      default: String(D.reg),
    },
    'max-iters': { type: 'string', arg: 'N', help: 'most reweighting iterations', default: String(D.maxIters) },
    threshold: {
      type: 'string',
      arg: 'T',
      help: 'support candidates: |coef_j| x sd_j above T x the largest; how many of them (largest first) are kept is chosen by the extended BIC, then refitted by least squares',
      default: String(D.supportThreshold),
    },
    'val-fraction': {
      type: 'string',
      arg: 'F',
      help: 'share of the rows held out for test_r2',
      default: String(DEFAULT_VAL_FRACTION),
    },
    seed: { type: 'string', arg: 'S', help: 'seed of the split', default: '0' },
    ...jsonOutputOptions(
      'write {coef, support, iterations, train_r2, test_r2, intercept, ...} (- for standard output, the table then on stderr)',
    ),
  },
  notes: OUTPUT_RULES,
} as const satisfies CommandSpec;

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(args, SPEC);
  if (!parsed) return 0;
  const { values: f, positionals } = parsed;
  const path = onePositional(positionals, 'DATA file', 'sparse-regress');
  const positive = (v: number) => v > 0;
  const options = {
    alpha: numberFlag('alpha', f.alpha, positive, 'a positive number such as 0.5 or 0.25'),
    reg: numberFlag('reg', f.reg, positive, 'a positive number'),
    maxIters: numberFlag('max-iters', f['max-iters'], (v) => Number.isInteger(v) && v >= 1, 'an integer >= 1'),
    supportThreshold: numberFlag('threshold', f.threshold, (v) => v >= 0 && v < 1, 'a number in [0, 1)'),
  };
  const fraction =
    numberFlag('val-fraction', f['val-fraction'], (v) => v > 0 && v < 1, 'a number between 0 and 1') ??
    DEFAULT_VAL_FRACTION;
  const seed = numberFlag('seed', f.seed, (v) => Number.isInteger(v), 'an integer') ?? 0;
  const target = f.target === undefined ? undefined : /^\d+$/.test(f.target) ? Number(f.target) : f.target;
  if (target === undefined && /\.npy$/i.test(path))
    throw new InputError(
      `${path}: a .npy array has no column names; pass --target INDEX (0-based column of the array)`,
    );
  await requireInputFile(path, 'a dataset file');
  const json = (await planOutputs({ '--json': f.json }, { force: !!f.force, inputs: [path] }))['--json'];
  const say = json?.stdout ? process.stderr : process.stdout;
  const { dataset } = await readDatasetFile(path, { target, task: 'regression' });
  const { train, held } = splitDataset(dataset, fraction, seed);
  const r = sparseRegression(train, held, options);
  say.write(
    `sparse-regress: ${path}, target '${dataset.targetName}', ${dataset.X.cols} features, ${train.X.rows} train / ${held.X.rows} test rows, alpha ${r.alpha}\n`,
  );
  say.write(
    table(
      ['feature', 'index', 'coef'],
      r.support.map((j) => [dataset.featureNames[j], j, r.coef[j].toPrecision(6)]),
    ) + '\n',
  );
  say.write(
    `support ${r.support.length} of ${dataset.X.cols}; intercept ${r.intercept.toPrecision(6)}; train R² ${fmt(r.trainR2)}, test R² ${fmt(r.testR2)}; ${r.iterations} iterations\n`,
  );
  if (json) {
    await json.write(
      JSON.stringify(
        sparseToJson(r, {
          target: dataset.targetName,
          featureNames: dataset.featureNames,
          nTrain: train.X.rows,
          nTest: held.X.rows,
          file: path,
        }),
      ) + '\n',
    );
    if (!json.stdout) say.write(`wrote ${json.path}\n`);
  }
  return 0;
}
