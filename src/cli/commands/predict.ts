import { readFile } from 'node:fs/promises';
import { readDatasetFile } from '../../core/data/node';
import type { DatasetSchema } from '../../core/data/index';
import { parseBackendChoice } from '../../core/compute';
import { InputError } from '../../core/errors';
import { argmaxRows, evaluate } from '../../core/rfm/metrics';
import { modelFromJson } from '../../core/rfm/serialize';
import { modelHead, predictModel } from '../../core/rfm/tree';
import { fmt, numberFlag, parseCommand, requireInputFile, table, twoPositionals, type CommandSpec } from '../io';
import { OUTPUT_RULES, planOutputs } from '../output';
import { runRfmOnHost } from '../placement';

export const SPEC = {
  name: 'predict',
  summary:
    'Applies a saved RFM model to new rows: a table of predictions on standard output (class scores to 4 decimals); --out for a CSV and --json for JSON, both at full precision. With the target column present, prints the accuracy or R2 too.',
  args: [
    [
      'MODEL',
      'a model JSON from feature-lens fit --save-model or merge: one RFM, or an xRFM tree whose rows are routed to their leaves',
    ],
    ['DATA', 'the rows to predict, with the training columns (the target column is optional)'],
  ],
  options: {
    out: {
      type: 'string',
      arg: 'FILE',
      help: 'write the predictions as CSV there (- for standard output)',
      default: 'not written',
    },
    json: {
      type: 'string',
      arg: 'OUT',
      help: 'write the predictions and metrics as JSON there (- for standard output)',
      default: 'not written',
    },
    force: { type: 'boolean', help: 'replace an existing output file', default: 'off' },
    backend: {
      type: 'string',
      arg: 'B',
      help: 'auto (WebGPU when an adapter exists, else the CPU), webgpu (f32) or cpu (float64)',
      default: 'auto',
    },
    rows: {
      type: 'string',
      arg: 'N',
      help: 'rows shown in the table (all rows go to --out and --json)',
      default: '20',
    },
  },
  notes: OUTPUT_RULES,
} as const satisfies CommandSpec;

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
  const parsed = parseCommand(args, SPEC);
  if (!parsed) return 0;
  const { values: f, positionals } = parsed;
  const [modelPath, dataPath] = twoPositionals(positionals, 'MODEL and DATA', 'predict');
  const choice = parseBackendChoice(f.backend ?? 'auto', '--backend');
  const shown = numberFlag('rows', f.rows, (v) => Number.isInteger(v) && v >= 0, 'an integer >= 0') ?? 20;
  const outputs = await planOutputs(
    { '--out': f.out, '--json': f.json },
    { force: !!f.force, inputs: [modelPath, dataPath] },
  );
  // With an output on standard output, the table and metrics go to stderr.
  const say = outputs['--out']?.stdout || outputs['--json']?.stdout ? process.stderr : process.stdout;
  const { model: saved, extra } = modelFromJson(await readModelText(modelPath), modelPath);
  const model = modelHead(saved);
  const schema = extra.schema as DatasetSchema | undefined;
  if (!schema)
    throw new InputError(`${modelPath}: the model has no dataset schema (save it with feature-lens fit --save-model)`);
  // The target column is optional here: with it, metrics are printed too.
  const { dataset } = await readDatasetFile(dataPath, { target: model.targetName, targetOptional: true }, schema);
  const note = (line: string) => process.stderr.write(`note: ${line}\n`);
  const { value: pred } = await runRfmOnHost(choice, note, (backend) => predictModel(saved, dataset.X, backend));
  const cls = model.task === 'classification';
  const classes = model.classes ?? [];
  const labels = cls ? argmaxRows(pred) : null;
  const rows = Array.from({ length: pred.rows }, (_, i) => {
    const scores = Array.from(pred.data.subarray(i * pred.cols, (i + 1) * pred.cols));
    const label = labels ? (classes[labels[i]] ?? String(labels[i])) : undefined;
    return { row: i + 1, scores, prediction: label ?? scores[0] };
  });
  const evaluation =
    dataset.y.length === pred.rows && dataset.hasTarget !== false ? evaluate(pred, dataset.y, model.task) : undefined;

  if (outputs['--out']) {
    const header = cls ? ['row', 'prediction', ...classes.map((c) => `score_${c}`)] : ['row', 'prediction'];
    const lines = [header.map(csvCell).join(',')];
    for (const r of rows)
      lines.push([String(r.row), csvCell(String(r.prediction)), ...(cls ? r.scores.map(String) : [])].join(','));
    await outputs['--out'].write(lines.join('\n') + '\n');
  }
  await outputs['--json']?.write(
    JSON.stringify({
      model: modelPath,
      data: dataPath,
      task: model.task,
      ...(cls ? { classes } : {}),
      predictions: rows.map((r) => ({ row: r.row, prediction: r.prediction, ...(cls ? { scores: r.scores } : {}) })),
      ...(evaluation ? { metric: evaluation.metric, mse: evaluation.mse } : {}),
    }) + '\n',
  );
  const head = cls ? ['row', 'prediction', ...classes.map((c) => `score ${c}`)] : ['row', 'prediction'];
  const body = rows
    .slice(0, shown)
    .map((r) => [
      r.row,
      cls ? String(r.prediction) : fmt(r.prediction as number),
      ...(cls ? r.scores.map((v) => fmt(v)) : []),
    ]);
  if (shown > 0) say.write(table(head, body) + '\n');
  if (rows.length > shown) say.write(`... ${rows.length - shown} more rows (--rows N, or --out/--json for all)\n`);
  if (evaluation)
    say.write(
      `${cls ? 'accuracy' : 'R^2'} ${fmt(evaluation.metric)}, mse ${fmt(evaluation.mse, 5)} on ${pred.rows} rows\n`,
    );
  return 0;
}
