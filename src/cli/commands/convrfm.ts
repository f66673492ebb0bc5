// feature-lens convrfm: a ConvRFM (docs/science.md §6) on an image dataset; per-iteration metrics and the
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
import { DEFAULT_VAL_FRACTION } from '../../core/rfm/types';
import { fmt, parseCommand, table, type CommandSpec, onePositional } from '../io';
import { OUTPUT_RULES, planOutputs } from '../output';
import { runOnHost } from '../placement';

const D = DEFAULT_CONVRFM_OPTIONS;
export const SPEC = {
  name: 'convrfm',
  summary:
    'Fits a ConvRFM (docs/science.md §6: an aligned-patch kernel, M from the patch-AGOP) on an image dataset and reports a held-out (validation) metric per iteration and the patch feature matrix M.',
  synopsis: 'DATA --target y [options]',
  args: [
    [
      'DATA',
      'images: an .npz with X of shape (N, C, H, W), (N, H, W) or (N, H, W, C) and labels (the array named by --target), or a table (CSV, .npy, Parquet) of pixels and a label column read with --image-shape',
    ],
  ],
  options: {
    target: {
      type: 'string',
      arg: 'COL',
      help: 'the label array (.npz) or column',
      default: 'y, label, target..., else the last',
    },
    'image-shape': {
      type: 'string',
      arg: 'C,H,W',
      help: "the image shape of a table's pixel columns (also H,W for one channel)",
      default: 'from the file',
    },
    'channels-last': {
      type: 'boolean',
      help: 'pixels are stored (H, W, C)',
      default: '(C, H, W), except a 4-D array whose last axis is 1, 3 or 4 and axis 1 is not, read channels-last',
    },
    task: { type: 'string', arg: 'T', help: 'classification or regression', default: 'inferred from the labels' },
    patch: { type: 'string', arg: 'Q', help: 'patch side: patches are C x Q x Q', default: String(D.patch) },
    stride: { type: 'string', arg: 'S', help: 'step between patch positions (no padding)', default: String(D.stride) },
    kernel: { type: 'string', arg: 'K', help: 'laplace or gaussian, on |x_p - z_p|_M', default: String(D.kernel) },
    bandwidth: {
      type: 'string',
      arg: 'L',
      help: 'kernel bandwidth; pixels are scaled by one mean and std',
      default: String(D.bandwidth),
    },
    reg: {
      type: 'string',
      arg: 'R',
      help: 'ridge; a failed Cholesky retries with more (xRFM)',
      default: String(D.reg),
    },
    iters: { type: 'string', arg: 'T', help: 'patch-AGOP updates of M (T + 1 fits)', default: String(D.iters) },
    'agop-power': {
      type: 'string',
      arg: 'P',
      help: 'M = patch-AGOP^P (1 or 0.5), divided by its largest entry',
      default: String(D.agopPower),
    },
    'agop-samples': {
      type: 'string',
      arg: 'N',
      help: 'patch-AGOP over at most N training images',
      default: String(D.agopSamples),
    },
    'val-fraction': {
      type: 'string',
      arg: 'F',
      help: 'held-out fraction when there is no --test',
      default: String(DEFAULT_VAL_FRACTION),
    },
    test: { type: 'string', arg: 'FILE', help: 'held-out images, read like DATA', default: 'none: a validation split' },
    seed: { type: 'string', arg: 'S', help: 'split and subsample seed', default: String(D.seed) },
    backend: {
      type: 'string',
      arg: 'B',
      help: 'auto (WebGPU when an adapter exists, else the CPU), webgpu (f32) or cpu (float64)',
      default: 'auto',
    },
    json: {
      type: 'string',
      arg: 'OUT',
      help: 'write the report {task, n_train, n_test, patch, iterations, final, M, ...} (- for standard output)',
      default: 'not written',
    },
    force: { type: 'boolean', help: 'replace an existing output file', default: 'off' },
    quiet: { type: 'boolean', help: 'no table, no notes', default: 'off' },
  },
  notes: OUTPUT_RULES,
} as const satisfies CommandSpec;

const FLAG_OF: Record<string, string> = { agopPower: 'agop-power', agopSamples: 'agop-samples' };

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(args, SPEC);
  if (!parsed) return 0;
  const { values: f, positionals } = parsed;
  onePositional(positionals, 'DATA file', 'convrfm');
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
    : parseValFraction(f['val-fraction'] ?? String(DEFAULT_VAL_FRACTION), '--val-fraction', { text: true });
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
