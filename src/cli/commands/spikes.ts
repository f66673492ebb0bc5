// feature-lens spikes LOG: find loss spikes in a training log (CSV, JSONL, TensorBoard events).
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../../core/errors';
import {
  checkLogSize,
  chooseLossColumn,
  logKindOf,
  mergeEventFiles,
  readLog,
  seriesOf,
  type LogContents,
} from '../../core/logs/index';
import { detectSpikes, DEFAULT_SPIKE_PARAMS, seriesProblems, type SpikeParams } from '../../core/logs/spikes';
import { numberFlag, parseCommand, requireInputFile, table, type CommandSpec, onePositional } from '../io';
import { jsonOutputOptions, OUTPUT_RULES, planOutputs } from '../output';
import { findRunLog, RUN_FOLDER_DEPTH, type FolderAccess } from '../../core/logs/runFolder';

export const SPEC = {
  name: 'spikes',
  summary:
    "Finds loss spikes in a training log: a table on standard output, --json for the machine-readable report. Positions are in the log's step units (its step column, else the row index).",
  args: [
    [
      'LOG',
      'metrics.csv (Lightning or any CSV with a header), *.jsonl, events.out.tfevents.*, or a run folder: its own log (all its event files read as one), else the most recently written run below it (lightning_logs/ -> version_N), as the extension follows it',
    ],
  ],
  options: {
    column: {
      type: 'string',
      arg: 'NAME',
      help: 'the loss column, key or tag',
      default: 'the single most loss-like one',
    },
    ...jsonOutputOptions(
      'write {column, n_points, spikes: [{start, peak, end, height_ratio, width, ...}]} there (- for standard output)',
    ),
    window: {
      type: 'string',
      arg: 'N',
      help: 'trailing window of the robust baseline (>= 3)',
      default: String(DEFAULT_SPIKE_PARAMS.window),
    },
    threshold: {
      type: 'string',
      arg: 'K',
      help: 'a spike starts K robust standard deviations above the baseline',
      default: String(DEFAULT_SPIKE_PARAMS.threshold),
    },
    'min-ratio': {
      type: 'string',
      arg: 'R',
      help: 'minimum peak / baseline ratio (>= 1)',
      default: String(DEFAULT_SPIKE_PARAMS.minHeightRatio),
    },
    'min-points': {
      type: 'string',
      arg: 'N',
      help: 'minimum points above the threshold',
      default: String(DEFAULT_SPIKE_PARAMS.minPoints),
    },
    'merge-gap': {
      type: 'string',
      arg: 'N',
      help: 'spikes closer than N points are merged',
      default: String(DEFAULT_SPIKE_PARAMS.mergeGap),
    },
  },
  notes: OUTPUT_RULES,
} as const satisfies CommandSpec;

/** JSON has no Infinity: a spike into NaN/Inf gets height_ratio null (non_finite_peak; diverged if it never came back). */
const finiteOrNull = (v: number) => (Number.isFinite(v) ? v : null);

async function readBytes(path: string): Promise<Uint8Array> {
  await requireInputFile(path, 'a training log (CSV, JSONL or TensorBoard events)');
  try {
    // The size from stat, before a byte is read (a 1.5 GiB log would otherwise be read whole first).
    checkLogSize((await stat(path)).size, path);
    return new Uint8Array(await readFile(path));
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** The CLI's view of the file system for the shared run-folder rule (core/logs/runFolder.ts). */
const nodeFolders: FolderAccess<string> = {
  list: async (dir) =>
    (await readdir(dir, { withFileTypes: true })).map((e) => ({
      name: e.name,
      file: e.isFile(),
      dir: e.isDirectory(),
    })),
  child: (dir, name) => join(dir, name),
  mtime: async (file) => (await stat(file).catch(() => undefined))?.mtimeMs ?? 0,
};

/**
 * A log file, or a run folder (core/logs/runFolder.ts: its own log, else the newest run below it). All
 * the event files of the chosen folder are merged in name order into one log (a resumed run writes a new
 * file whose name carries a later timestamp).
 */
async function readLogPath(path: string): Promise<{ log: LogContents; file: string; note?: string }> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isDirectory()) return { log: readLog(await readBytes(path), path), file: path };
  const found = await findRunLog(nodeFolders, path, logKindOf);
  if (!found.log)
    throw new InputError(
      found.several
        ? `${path}: several .csv/.jsonl files and no metrics.csv or TensorBoard event files; give the log file itself`
        : `${path}: no TensorBoard event files, metrics.csv or .csv/.jsonl log in this folder or the run folders below it (${RUN_FOLDER_DEPTH} levels)`,
    );
  const { dir, files } = found.log;
  const note = found.inSubfolder ? `the most recently written run: ${dir}` : undefined;
  if (found.log.kind !== 'tfevents')
    return { log: readLog(await readBytes(join(dir, files[0])), join(dir, files[0])), file: join(dir, files[0]), note };
  const sizes = await Promise.all(files.map(async (n) => (await stat(join(dir, n)).catch(() => undefined))?.size ?? 0));
  checkLogSize(
    sizes.reduce((a, b) => a + b, 0),
    `${dir} (its ${files.length} event file${files.length === 1 ? '' : 's'} together)`,
  );
  const parts = await Promise.all(files.map(async (n) => readLog(await readBytes(join(dir, n)), join(dir, n))));
  const tags: string[] = [];
  for (const p of parts) for (const t of p.tags) if (!tags.includes(t)) tags.push(t);
  return {
    file: dir,
    note,
    log: {
      kind: 'tfevents',
      tags,
      stepSource: 'event step',
      points: mergeEventFiles(parts.map((p) => p.points)),
      problems: parts.flatMap((p, k) => p.problems.map((q) => ({ ...q, message: `${files[k]}: ${q.message}` }))),
    },
  };
}

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(args, SPEC);
  if (!parsed) return 0;
  const { values: f, positionals } = parsed;
  const file = onePositional(positionals, 'LOG file or folder', 'spikes');
  const int = (v: number) => Number.isInteger(v);
  const params: Partial<SpikeParams> = {};
  const w = numberFlag('window', f.window, (v) => int(v) && v >= 3, 'an integer >= 3');
  if (w !== undefined) {
    params.window = w;
    params.minHistory = Math.min(DEFAULT_SPIKE_PARAMS.minHistory, w);
  }
  const t = numberFlag('threshold', f.threshold, (v) => v > 0, 'a positive number');
  if (t !== undefined) params.threshold = t;
  const r = numberFlag('min-ratio', f['min-ratio'], (v) => v >= 1, 'a number >= 1');
  if (r !== undefined) params.minHeightRatio = r;
  const mp = numberFlag('min-points', f['min-points'], (v) => int(v) && v >= 1, 'an integer >= 1');
  if (mp !== undefined) params.minPoints = mp;
  const mg = numberFlag('merge-gap', f['merge-gap'], (v) => int(v) && v >= 0, 'an integer >= 0');
  if (mg !== undefined) params.mergeGap = mg;

  const outputs = await planOutputs({ '--json': f.json }, { force: !!f.force, inputs: [file] });
  const out = outputs['--json'];
  // With --json -, the table goes to stderr so standard output is the JSON alone.
  const say = out?.stdout ? process.stderr : process.stdout;

  const { log: read, note } = await readLogPath(file);
  if (note) process.stderr.write(`note: ${file}: ${note}\n`);
  const choice = chooseLossColumn(read.tags, f.column, file);
  const series0 = choice.kind === 'ambiguous' ? undefined : seriesOf(read.points, choice.column);
  // NaN/Inf points and values <= 0 are reported with the reader's problems (and still detected).
  const log =
    series0 && choice.kind !== 'ambiguous'
      ? { ...read, problems: [...read.problems, ...seriesProblems(series0.steps, series0.values, choice.column)] }
      : read;
  for (const p of log.problems.slice(0, 20)) process.stderr.write(`${file}: ${p.message}\n`);
  if (log.problems.length > 20) process.stderr.write(`${file}: ... ${log.problems.length - 20} more problems\n`);
  if (choice.kind === 'ambiguous') {
    throw new InputError(
      log.tags.length === 0
        ? `${file}: no numeric columns found`
        : `${file}: which column is the loss? pass --column with one of: ${choice.candidates.join(', ')}`,
    );
  }
  const series = series0 ?? seriesOf(log.points, choice.column);
  const spikes = detectSpikes(series.steps, series.values, params);
  const report = {
    file,
    column: choice.column,
    step_source: log.stepSource,
    n_points: series.values.length,
    problems: log.problems.length,
    params: { ...DEFAULT_SPIKE_PARAMS, ...params },
    spikes: spikes.map((s) => ({
      start: s.start,
      peak: s.peak,
      end: s.end,
      height_ratio: finiteOrNull(s.heightRatio),
      width: s.width,
      recovered: s.recovered,
      non_finite_peak: !Number.isFinite(s.heightRatio),
      diverged: !Number.isFinite(s.heightRatio) && !s.recovered,
      peak_value: finiteOrNull(s.peakValue),
      baseline: s.baseline,
    })),
  };
  await out?.write(JSON.stringify(report, null, 1) + '\n');
  say.write(
    `${file}: column '${choice.column}' (${series.values.length} points, steps from ${log.stepSource}): ${spikes.length} spike(s)\n`,
  );
  if (spikes.length) {
    say.write(
      table(
        ['start', 'peak', 'end', 'height', 'width', 'recovered'],
        spikes.map((s) => [
          s.start,
          s.peak,
          s.end,
          Number.isFinite(s.heightRatio) ? s.heightRatio.toFixed(2) : 'non-finite',
          s.width,
          s.recovered ? 'yes' : 'no',
        ]),
      ) + '\n',
    );
  }
  if (out && !out.stdout) say.write(`wrote ${out.path}\n`);
  return 0;
}
