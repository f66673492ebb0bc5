import { readFile } from 'node:fs/promises';
import { readDatasetFile } from '../../core/data/node';
import type { DatasetSchema } from '../../core/data/index';
import { parseBackendChoice } from '../../core/compute';
import { InputError } from '../../core/errors';
import { argmaxRows, evaluate } from '../../core/rfm/metrics';
import { modelFromJson } from '../../core/rfm/serialize';
import { modelHead, predictModel } from '../../core/rfm/tree';
import { fmt, parseCli, requireInputFile } from '../io';
import { OUTPUT_RULES, planOutputs, writeStdout } from '../output';
import { runRfmOnHost } from '../placement';

const USAGE =
  'usage: feature-lens predict MODEL DATA [--out PREDICTIONS.csv] [--force] [--backend auto|cpu|webgpu]   (MODEL from `feature-lens fit --save-model`)\n' +
  '  --out   write the predictions CSV there (default: standard output); --force replaces an existing file\n' +
  OUTPUT_RULES;

function csvCell(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The model JSON's text; an unreadable path or a folder is an InputError naming it. */
async function readModelText(path: string): Promise<string> {
  await requireInputFile(path, 'a model JSON (from feature-lens fit --save-model)');
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(
      code === 'EISDIR'
        ? `${path}: is a folder, expected a model JSON (from feature-lens fit --save-model)`
        : `${path}: cannot read the model (${code ?? (e as Error).message})`,
    );
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new InputError(`${path}: not UTF-8 text, expected a model JSON (from feature-lens fit --save-model)`);
  }
}

export async function run(args: string[]): Promise<number> {
  const { values: f, positionals } = parseCli(
    args,
    {
      out: { type: 'string' },
      force: { type: 'boolean' },
      backend: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    USAGE,
  );
  if (f.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (positionals.length !== 2)
    throw new InputError(`expected MODEL and DATA, got ${positionals.length} arguments\n${USAGE}`);
  const [modelPath, dataPath] = positionals;
  const choice = parseBackendChoice(f.backend ?? 'auto', '--backend');
  const outputs = await planOutputs({ '--out': f.out }, { force: !!f.force, inputs: [modelPath, dataPath] });
  const { model: saved, extra } = modelFromJson(await readModelText(modelPath), modelPath);
  const model = modelHead(saved);
  const schema = extra.schema as DatasetSchema | undefined;
  if (!schema)
    throw new InputError(`${modelPath}: the model has no dataset schema (save it with feature-lens fit --save-model)`);
  // The target column is optional here: with it, metrics are printed too.
  const { dataset } = await readDatasetFile(dataPath, { target: model.targetName, targetOptional: true }, schema);
  const note = (line: string) => process.stderr.write(`note: ${line}\n`);
  const { value: pred } = await runRfmOnHost(choice, note, (backend) => predictModel(saved, dataset.X, backend));
  const header =
    model.task === 'classification'
      ? ['row', 'prediction', ...(model.classes ?? []).map((c) => `score_${c}`)]
      : ['row', 'prediction'];
  const labels = model.task === 'classification' ? argmaxRows(pred) : null;
  const lines = [header.map(csvCell).join(',')];
  for (let i = 0; i < pred.rows; i++) {
    const scores = Array.from(pred.data.subarray(i * pred.cols, (i + 1) * pred.cols));
    const p = labels ? (model.classes?.[labels[i]] ?? String(labels[i])) : String(scores[0]);
    lines.push([String(i + 1), csvCell(p), ...(labels ? scores.map(String) : [])].join(','));
  }
  const csv = lines.join('\n') + '\n';
  await (outputs['--out']?.write ?? writeStdout)(csv);
  if (dataset.y.length === pred.rows && dataset.hasTarget !== false) {
    const e = evaluate(pred, dataset.y, model.task);
    process.stderr.write(
      `${model.task === 'classification' ? 'accuracy' : 'R^2'} ${fmt(e.metric)}, mse ${fmt(e.mse, 5)} on ${pred.rows} rows\n`,
    );
  }
  return 0;
}
