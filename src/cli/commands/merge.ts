import { basename, join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { parseBackendChoice } from '../../core/compute';
import { InputError } from '../../core/errors';
import { readDatasetFile } from '../../core/data/node';
import type { DatasetSchema } from '../../core/data/index';
import { fitResultToJson, leafFitFromJson, modelToJson } from '../../core/rfm/serialize';
import { assembleTree } from '../../core/rfm/tree';
import type { FitResult } from '../../core/rfm/types';
import type { Backend } from '../../core/rfm/backend';
import { numberFlag, parseCommand, type CommandSpec, onePositional } from '../io';
import { OUTPUT_RULES, planOutputs } from '../output';
import { runRfmOnHost } from '../placement';
import { leafFitFile, planPartition, readLeafTargets, readPlan } from '../treePlan';
import { report } from './fit';

export const SPEC = {
  name: 'merge',
  summary:
    'Assembles the xRFM tree planned in DIR (feature-lens fit --tree --plan DIR) from its fitted leaves (feature-lens fit-leaf DIR --leaf I): the same report and model as feature-lens fit --tree with the same data, options and seed.',
  args: [['DIR', 'the plan folder']],
  options: {
    json: { type: 'string', arg: 'OUT', help: 'the JSON report (- for standard output)', default: 'DIR/report.json' },
    'save-model': {
      type: 'string',
      arg: 'OUT',
      help: 'the model for feature-lens predict',
      default: 'DIR/model.json',
    },
    force: {
      type: 'boolean',
      help: 'replace an existing OUT (DIR/report.json and DIR/model.json are ours and always replaced)',
      default: 'off',
    },
    backend: {
      type: 'string',
      arg: 'B',
      help: 'where the test file (if the plan has one) is predicted: auto, webgpu or cpu',
      default: 'auto',
    },
    top: { type: 'string', arg: 'K', help: 'features listed by diag(M)', default: '10' },
    quiet: { type: 'boolean', help: 'no report on standard output', default: 'off' },
  },
  notes: OUTPUT_RULES,
} as const satisfies CommandSpec;

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(args, SPEC);
  if (!parsed) return 0;
  const { values: f, positionals } = parsed;
  const dir = onePositional(positionals, 'plan folder DIR', 'merge');
  const top = numberFlag('top', f.top, (v) => Number.isInteger(v) && v > 0, 'a positive integer') ?? 10;
  const choice = parseBackendChoice(f.backend ?? 'auto', '--backend');
  const plan = await readPlan(dir);
  const L = plan.leaves.length;
  const texts: { file: string; text: string }[] = [];
  const missing: number[] = [];
  for (let l = 0; l < L; l++) {
    const file = join(dir, leafFitFile(l));
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) missing.push(l);
    else texts.push({ file, text });
  }
  if (missing.length)
    throw new InputError(
      `${dir}: ${missing.length} of ${L} leaves are not fitted yet (${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''}); run feature-lens fit-leaf ${dir} --leaf I for each (or sbatch ${join(dir, 'submit.sbatch')}), then merge again`,
    );
  const fits: FitResult[] = texts.map(({ file, text }, l) => {
    const got = leafFitFromJson(text, file);
    if (got.leaf !== l) throw new InputError(`${file}: holds leaf ${got.leaf}, expected leaf ${l}; fit it again`);
    return got.fit;
  });
  // Ours in our folder: replaced without --force. Paths the user names follow the output rules.
  const own = await planOutputs(
    {
      '--json': f.json === undefined ? join(dir, 'report.json') : undefined,
      '--save-model': f['save-model'] === undefined ? join(dir, 'model.json') : undefined,
    },
    { force: true, inputs: [] },
  );
  const given = await planOutputs(
    { '--json': f.json, '--save-model': f['save-model'] },
    { force: !!f.force, inputs: [] },
  );
  const outputs = { ...own, ...given };
  const schema = plan.schema as DatasetSchema;
  const test = plan.test
    ? (await readDatasetFile(plan.test, { target: plan.target_name, task: plan.task }, schema)).dataset
    : undefined;
  const partition = await planPartition(dir, plan);
  const leafY = await readLeafTargets(dir, plan);
  const meta = { task: plan.task, featureNames: plan.feature_names };
  const treeOpts = {
    leafSize: plan.tree.leaf_size,
    splitSamples: plan.tree.split_samples,
    temperature: plan.tree.temperature,
  };
  const assemble = (backend?: Backend) =>
    assembleTree(meta, partition, leafY, fits, treeOpts, {
      backend,
      test: L === 1 ? undefined : test,
      valFraction: plan.val_fraction ?? undefined,
    });
  // A device only to route the test rows through the tree.
  const value = test && L > 1 ? (await runRfmOnHost(choice, undefined, assemble)).value : await assemble();
  const { result, model } = value;
  const say = outputs['--json']?.stdout || outputs['--save-model']?.stdout ? process.stderr : process.stdout;
  if (!f.quiet) say.write(report(result, top));
  await outputs['--json']?.write(
    JSON.stringify({ train: basename(plan.train), ...fitResultToJson(result) }, null, 1) + '\n',
  );
  await outputs['--save-model']?.write(modelToJson(model, { schema }));
  return 0;
}
