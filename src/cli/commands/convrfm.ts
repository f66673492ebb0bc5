// feature-lens convrfm: a ConvRFM (SCIENCE.md §6) on an image dataset; per-iteration metrics and the
// patch feature matrix M, as a table or as JSON.
import { basename } from 'node:path';
import { parseBackendChoice } from '../../core/compute';
import { DEFAULT_CONVRFM_OPTIONS, fitConvRfm, parseConvRfmOptions } from '../../core/rfm/conv-fit';
import { convRfmResultToJson } from '../../core/rfm/conv-report';
import { parseImageShape } from '../../core/data/images';
import { readDatasetFile } from '../../core/data/node';
import { InputError } from '../../core/errors';
import { ANNOUNCE_FIT_SECONDS } from '../../core/limits';
import { eighSym } from '../../core/linalg/eigh';
import { hostConvRfmBackend } from '../../core/node';
import { parseTask, parseValFraction } from '../../core/rfm/options';
import { fmt, parseCli, table } from '../io';
import { OUTPUT_RULES, planOutputs } from '../output';
import { runOnHost } from '../placement';

const D = DEFAULT_CONVRFM_OPTIONS;
const USAGE = `usage: feature-lens convrfm DATA --target y [options]
  DATA                 images: an .npz with X of shape (N, C, H, W), (N, H, W) or (N, H, W, C) and labels
                       (the array named by --target), or a table (CSV, .npy, Parquet) of pixels and a
                       label column read with --image-shape
  --target COL         the label array (.npz) or column (default: y, label, target..., else the last)
  --image-shape C,H,W  declare the image shape of a table's pixel columns (also H,W for one channel)
  --channels-last      pixels are stored (H, W, C); default: (C, H, W), except a 4-D array whose last
                       axis is 1, 3 or 4 and axis 1 is not, which is read channels-last
  --task classification|regression   override the inferred task
  --patch Q            patch side: patches are C x Q x Q (default ${D.patch})
  --stride S           step between patch positions (default ${D.stride}); no padding
  --kernel laplace|gaussian   patch kernel on |x_p - z_p|_M (default ${D.kernel})
  --bandwidth L        kernel bandwidth (default ${D.bandwidth}); pixels are scaled by one mean and std
  --reg R              ridge (default ${D.reg}); a failed Cholesky retries with more (xRFM)
  --iters T            patch-AGOP updates of M (default ${D.iters}; T + 1 fits)
  --agop-power 1|0.5   M = patch-AGOP^power, divided by its largest entry (default ${D.agopPower})
  --agop-samples N     patch-AGOP over at most N training images (default ${D.agopSamples})
  --val-fraction F     held-out fraction when no --test (default 0.2)
  --test FILE          held-out images, read like DATA
  --seed S             split and subsample seed (default ${D.seed})
  --backend auto|cpu|webgpu   where to compute (default auto: WebGPU, else the CPU)
  --json OUT           write the report {task, n_train, n_test, patch, iterations, final, M, ...} (- = stdout)
  --force              replace an existing output file
  --quiet              no table, no notes
${OUTPUT_RULES}`;

const FLAGS = {
  target: { type: 'string' },
  'image-shape': { type: 'string' },
  'channels-last': { type: 'boolean' },
  task: { type: 'string' },
  patch: { type: 'string' },
  stride: { type: 'string' },
  kernel: { type: 'string' },
  bandwidth: { type: 'string' },
  reg: { type: 'string' },
  iters: { type: 'string' },
  'agop-power': { type: 'string' },
  'agop-samples': { type: 'string' },
  'val-fraction': { type: 'string' },
  test: { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'string' },
  force: { type: 'boolean' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const FLAG_OF: Record<string, string> = { agopPower: 'agop-power', agopSamples: 'agop-samples' };

export async function run(args: string[]): Promise<number> {
  const { values: f, positionals } = parseCli(args, FLAGS, USAGE);
  if (f.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (positionals.length !== 1) throw new InputError(`expected one DATA file, got ${positionals.length}\n${USAGE}`);
  if (f.test && f['val-fraction']) throw new InputError('give either --test or --val-fraction, not both');
  const options = parseConvRfmOptions(
    {
      patch: f.patch,
      stride: f.stride,
      kernel: f.kernel,
      bandwidth: f.bandwidth,
      reg: f.reg,
      iters: f.iters,
      agopPower: f['agop-power'],
      agopSamples: f['agop-samples'],
      seed: f.seed,
    },
    (key) => `--${FLAG_OF[key] ?? key}`,
    { text: true },
  );
  const valFraction = f.test
    ? undefined
    : parseValFraction(f['val-fraction'] ?? '0.2', '--val-fraction', { text: true });
  if (valFraction === 0) throw new InputError('--val-fraction: expected a number > 0 and < 1 (or give --test), got 0');
  const task = f.task === undefined ? undefined : parseTask(f.task, '--task', { text: true });
  const imageShape = f['image-shape'] === undefined ? undefined : parseImageShape(f['image-shape'], '--image-shape');
  const choice = parseBackendChoice(f.backend ?? 'auto', '--backend');
  const target = f.target === undefined ? undefined : /^\d+$/.test(f.target) ? Number(f.target) : f.target;

  const outputs = await planOutputs({ '--json': f.json }, { force: !!f.force, inputs: [positionals[0], f.test] });
  const say = outputs['--json']?.stdout ? process.stderr : process.stdout;
  const load = { target, task, imageShape, ...(f['channels-last'] ? { channelsLast: true } : {}) };
  const { dataset, schema } = await readDatasetFile(positionals[0], load);
  const test = f.test ? (await readDatasetFile(f.test, load, schema)).dataset : undefined;
  const note = f.quiet ? undefined : (line: string) => process.stderr.write(`note: ${line}\n`);
  const { value: result, fallback } = await runOnHost('convrfm', choice, note, hostConvRfmBackend, (backend) =>
    fitConvRfm(dataset, options, {
      backend,
      test,
      valFraction,
      onEstimate: (line, seconds) => {
        if (seconds > ANNOUNCE_FIT_SECONDS) note?.(line);
      },
      onIteration: f.quiet
        ? undefined
        : (it) => process.stderr.write(`  iteration ${it.iter} done in ${it.seconds.toFixed(2)} s\n`),
    }),
  );
  if (!f.quiet) say.write(report(result, fallback));
  await outputs['--json']?.write(
    JSON.stringify({ data: basename(positionals[0]), ...convRfmResultToJson(result, fallback) }, null, 1) + '\n',
  );
  return 0;
}

function report(r: Awaited<ReturnType<typeof fitConvRfm>>, fallback?: string): string {
  const metric = r.task === 'classification' ? 'acc' : 'r2';
  const [c, h, w] = r.imageShape;
  const q = r.options.patch;
  const { values } = eighSym(r.M, r.patchDim);
  const top = Array.from(values.subarray(0, Math.min(5, values.length)));
  return (
    [
      `Feature Lens ConvRFM: ${r.task}, ${r.nTrain} train / ${r.nTest} test images of ${c} x ${h} x ${w}, patches ${c} x ${q} x ${q} (stride ${r.options.stride}, ${r.positions} positions), ${r.options.kernel} L = ${r.options.bandwidth}, backend ${r.device}`,
      ...(fallback ? [`note: ${fallback}`] : []),
      table(
        ['iter', `train ${metric}`, `test ${metric}`, 'test mse', 'seconds'],
        r.iterations.map((it) => [
          it.iter,
          fmt(it.trainMetric),
          fmt(it.testMetric),
          fmt(it.testMse, 5),
          it.seconds.toFixed(2),
        ]),
      ),
      '',
      `final: test ${metric} ${fmt(r.final.testMetric)}, test mse ${fmt(r.final.testMse, 5)}; ${r.seconds.toFixed(2)} s`,
      `M (${r.patchDim} x ${r.patchDim}) top eigenvalues: ${top.map((v) => v.toPrecision(4)).join(', ')}`,
    ].join('\n') + '\n'
  );
}
