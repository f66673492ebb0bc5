import { join } from 'node:path';
import { writeFile, rename } from 'node:fs/promises';
import { parseBackendChoice } from '../../core/compute';
import { InputError } from '../../core/errors';
import { readDatasetFile } from '../../core/data/node';
import type { DatasetSchema } from '../../core/data/index';
import { leafFitToJson } from '../../core/rfm/serialize';
import { fitLeaf } from '../../core/rfm/tree';
import { parseCommand, type CommandSpec, onePositional } from '../io';
import { runRfmOnHost } from '../placement';
import { leafFitFile, readLeaf, readPlan } from '../treePlan';

export const SPEC = {
  name: 'fit-leaf',
  summary:
    'Fits leaf I of the xRFM tree planned in DIR (feature-lens fit --tree --plan DIR) and writes DIR/leaves/leaf-I.fit.json; when every leaf is fitted, feature-lens merge DIR assembles the model.',
  args: [['DIR', 'the plan folder']],
  options: {
    leaf: {
      type: 'string',
      arg: 'I',
      help: 'the leaf, 0..leaves-1',
      default: '$SLURM_ARRAY_TASK_ID, as in DIR/submit.sbatch',
    },
    backend: {
      type: 'string',
      arg: 'B',
      help: 'where the leaf is fitted: auto, webgpu or cpu',
      default: "the plan's --backend",
    },
    quiet: { type: 'boolean', help: 'no progress on stderr', default: 'off' },
  },
} as const satisfies CommandSpec;

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(args, SPEC);
  if (!parsed) return 0;
  const { values: f, positionals } = parsed;
  const dir = onePositional(positionals, 'plan folder DIR', 'fit-leaf');
  const plan = await readPlan(dir);
  const L = plan.leaves.length;
  const raw = f.leaf ?? process.env.SLURM_ARRAY_TASK_ID;
  if (raw === undefined) throw new InputError(`give --leaf I (0..${L - 1}), or run under sbatch (SLURM_ARRAY_TASK_ID)`);
  const leaf = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || leaf >= L)
    throw new InputError(
      `${f.leaf !== undefined ? '--leaf' : 'SLURM_ARRAY_TASK_ID'}: expected a leaf 0..${L - 1} of ${dir}, got '${raw}'`,
    );
  const choice = parseBackendChoice(f.backend ?? plan.backend, '--backend');
  const data = await readLeaf(dir, plan, leaf);
  // A tree of one leaf is the single fit: the plan's test file is its test set (as fit does).
  const test =
    L === 1 && plan.test
      ? (await readDatasetFile(plan.test, { target: plan.target_name, task: plan.task }, plan.schema as DatasetSchema))
          .dataset
      : undefined;
  const note = f.quiet ? undefined : (line: string) => process.stderr.write(`note: ${line}\n`);
  const { value: fit } = await runRfmOnHost(choice, note, (backend) =>
    fitLeaf(data, plan.options, {
      backend,
      test,
      valFraction: plan.val_fraction ?? undefined,
      onIteration: f.quiet
        ? undefined
        : (it) => process.stderr.write(`  leaf ${leaf} iteration ${it.iter} done in ${it.seconds.toFixed(2)} s\n`),
    }),
  );
  // Our own file in our plan folder: written whole, then renamed into place (a rerun replaces it).
  const out = join(dir, leafFitFile(leaf));
  await writeFile(`${out}.tmp`, leafFitToJson(fit, leaf));
  await rename(`${out}.tmp`, out);
  if (!f.quiet)
    process.stderr.write(
      `leaf ${leaf}/${L}: ${data.X.rows} rows fitted in ${fit.seconds.toFixed(2)} s (best iteration ${fit.bestIter}) -> ${out}\n`,
    );
  return 0;
}
