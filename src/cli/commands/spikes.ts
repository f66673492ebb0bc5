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
import { numberFlag, parseCli, requireInputFile, table } from '../io';
import { OUTPUT_RULES, planOutputs, writeStdout } from '../output';

const USAGE = `usage: feature-lens spikes LOG [--column NAME] [--json OUT] [--force]
       [--window N] [--threshold K] [--min-ratio R] [--min-points N] [--merge-gap N]
  LOG            metrics.csv (Lightning or any CSV with a header), *.jsonl, events.out.tfevents.*,
                 or a run folder holding them (all its event files are read as one log)
  --column NAME  the loss column/key/tag (default: the single most loss-like one)
  --json OUT     write {column, n_points, spikes: [{start, peak, end, height_ratio, width}]} to OUT
                 (positions in the log's step units: its step column, else the row index);
                 without --json (or with --json -) the JSON goes to standard output
  --force        overwrite OUT if it exists
  detector (defaults): --window ${DEFAULT_SPIKE_PARAMS.window} --threshold ${DEFAULT_SPIKE_PARAMS.threshold} (robust sd) --min-ratio ${DEFAULT_SPIKE_PARAMS.minHeightRatio}
                       --min-points ${DEFAULT_SPIKE_PARAMS.minPoints} --merge-gap ${DEFAULT_SPIKE_PARAMS.mergeGap}
${OUTPUT_RULES}`;

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

/**
 * A log file, or a run folder: its TensorBoard event files in name order (a resumed run writes a new
 * file whose name carries a later timestamp) merged into one log, else its metrics.csv, else its one
 * .csv/.jsonl file.
 */
async function readLogPath(path: string): Promise<LogContents> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isDirectory()) return readLog(await readBytes(path), path);
  const names = (await readdir(path)).sort();
  const events = names.filter((n) => logKindOf(n) === 'tfevents');
  if (events.length > 0) {
    const sizes = await Promise.all(
      events.map(async (n) => (await stat(join(path, n)).catch(() => undefined))?.size ?? 0),
    );
    checkLogSize(
      sizes.reduce((a, b) => a + b, 0),
      `${path} (its ${events.length} event file${events.length === 1 ? '' : 's'} together)`,
    );
    const parts = await Promise.all(events.map(async (n) => readLog(await readBytes(join(path, n)), join(path, n))));
    const tags: string[] = [];
    for (const p of parts) for (const t of p.tags) if (!tags.includes(t)) tags.push(t);
    return {
      kind: 'tfevents',
      tags,
      stepSource: 'event step',
      points: mergeEventFiles(parts.map((p) => p.points)),
      problems: parts.flatMap((p, k) => p.problems.map((q) => ({ ...q, message: `${events[k]}: ${q.message}` }))),
    };
  }
  const single = names.includes('metrics.csv')
    ? ['metrics.csv']
    : names.filter((n) => logKindOf(n) === 'csv' || logKindOf(n) === 'jsonl');
  if (single.length !== 1) {
    throw new InputError(
      `${path}: expected TensorBoard event files, a metrics.csv, or exactly one .csv/.jsonl log in the folder; found ${single.length ? single.join(', ') : 'none'}`,
    );
  }
  return readLog(await readBytes(join(path, single[0])), join(path, single[0]));
}

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const { values: f, positionals } = parseCli(
    args,
    {
      column: { type: 'string' },
      json: { type: 'string' },
      force: { type: 'boolean' },
      window: { type: 'string' },
      threshold: { type: 'string' },
      'min-ratio': { type: 'string' },
      'min-points': { type: 'string' },
      'merge-gap': { type: 'string' },
    },
    USAGE,
  );
  if (positionals.length !== 1) throw new InputError(`expected one LOG file, got ${positionals.length}\n${USAGE}`);
  const file = positionals[0];
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

  const read = await readLogPath(file);
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
  const text = JSON.stringify(report, null, 1) + '\n';
  if (!out || out.stdout) {
    await writeStdout(text);
    return 0;
  }
  await out.write(text);
  process.stdout.write(
    `${file}: column '${choice.column}' (${series.values.length} points, steps from ${log.stepSource}): ${spikes.length} spike(s)\n`,
  );
  if (spikes.length) {
    process.stdout.write(
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
  process.stdout.write(`wrote ${out.path}\n`);
  return 0;
}
