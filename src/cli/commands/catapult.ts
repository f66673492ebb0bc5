// feature-lens catapult: train the catapult toy model or a two-layer ReLU network at eta = f / lambda_0
// and report the loss, the top NTK eigenvalue and the phase (docs/science.md §3).
import { InputError } from '../../core/errors';
import {
  CpuCatapultBackend,
  type CatapultBackend,
  type LinearToyConfig,
  type ReluLabConfig,
  DEFAULT_LINEAR_TOY,
  DEFAULT_RELU_LAB,
  batchSweep,
  labTaskFromDataset,
  lrSweep,
  trainLinearToy,
  trainReluLab,
} from '../../core/catapult/index';
import { hostCatapultBackend, hostPlan } from '../../core/node';
import { PlacementUnavailable, parseBackendChoice, runPlaced, type Placement } from '../../core/compute';
import { readDatasetFile } from '../../core/data/node';
import { numberFlag, parseCommand, table, type CommandSpec } from '../io';
import { jsonOutputOptions, OUTPUT_RULES, planOutputs, type Output } from '../output';
import { MAX_CATAPULT_STEPS, MAX_CATAPULT_WIDTH, MAX_CATAPULT_WORK } from '../../core/limits';

const relu = (what: string) => `${what} (--model relu only)`;

export const SPEC = {
  name: 'catapult',
  summary:
    'Trains the catapult toy model or a two-layer ReLU network at eta = f / lambda_0 (lambda_0: the top NTK eigenvalue at initialisation; docs/science.md §3) and reports the loss, lambda and the phase (lazy | catapult | divergent, read from the losses).',
  synopsis: '--model linear|relu [options]',
  args: [],
  options: {
    model: {
      type: 'string',
      arg: 'M',
      help: 'linear: the toy model (y = 0, one input |x| = 1, an exact recursion); relu: a two-layer ReLU network on x ~ N(0, I/d), y = d x0 x1',
      default: 'required',
    },
    width: {
      type: 'string',
      arg: 'm',
      help: 'hidden width',
      default: `${DEFAULT_LINEAR_TOY.width} (linear), ${DEFAULT_RELU_LAB.width} (relu)`,
    },
    'lr-factor': {
      type: 'string',
      arg: 'f',
      help: 'eta = f / lambda_0 (2 is the edge of stability)',
      default: `${DEFAULT_LINEAR_TOY.lrFactor} (linear), ${DEFAULT_RELU_LAB.lrFactor} (relu)`,
    },
    steps: {
      type: 'string',
      arg: 'T',
      help: 'training steps',
      default: `${DEFAULT_LINEAR_TOY.steps} (linear), ${DEFAULT_RELU_LAB.steps} (relu)`,
    },
    seed: { type: 'string', arg: 'S', help: 'seed of the initialisation and data', default: '0' },
    batch: { type: 'string', arg: 'B', help: relu('minibatch size'), default: String(DEFAULT_RELU_LAB.batch) },
    n: {
      type: 'string',
      arg: 'N',
      help: relu('training rows of the synthetic task'),
      default: String(DEFAULT_RELU_LAB.n),
    },
    d: {
      type: 'string',
      arg: 'D',
      help: relu('input dimension of the synthetic task'),
      default: String(DEFAULT_RELU_LAB.d),
    },
    every: {
      type: 'string',
      arg: 'K',
      help: relu('measure lambda and the AGOP alignment every K steps'),
      default: String(DEFAULT_RELU_LAB.every),
    },
    data: {
      type: 'string',
      arg: 'FILE',
      help: relu(
        'train on your table instead: rows scaled to mean norm 1, target standardised, classification as +1 for class --positive-class vs -1; no known AGOP, so no alignment',
      ),
      default: 'the synthetic task',
    },
    target: { type: 'string', arg: 'COL', help: 'the target column of --data', default: "--data's inferred target" },
    'positive-class': {
      type: 'string',
      arg: 'I',
      help: 'with a classification --data: the class index taken as +1',
      default: '0',
    },
    'sweep-lr': {
      type: 'string',
      arg: 'x1,x2,...',
      help: 'sweep eta in units of 2/lambda_0 (the phase picture)',
      default: 'no sweep',
    },
    'sweep-batch': {
      type: 'string',
      arg: 'b1,b2,...',
      help: relu('sweep the batch size, counting catapults per run'),
      default: 'no sweep',
    },
    seeds: { type: 'string', arg: 'K', help: 'runs per point of a sweep (seeds S, S+1, ...)', default: '3' },
    backend: {
      type: 'string',
      arg: 'B',
      help: relu('auto (WebGPU when an adapter exists, else the CPU), webgpu (f32) or cpu (the float64 reference)'),
      default: 'auto',
    },
    ...jsonOutputOptions('write the report as JSON {lambda0, lr, losses, lambdas, phase, ...} (- for standard output)'),
  },
  notes: OUTPUT_RULES,
} as const satisfies CommandSpec;

/** JSON has no Infinity/NaN: a diverged loss is written as null. */
const clean = (xs: number[]) => xs.map((v) => (Number.isFinite(v) ? v : null));

function list(
  name: string,
  raw: string | undefined,
  check: (v: number) => boolean,
  want: string,
): number[] | undefined {
  if (raw === undefined) return undefined;
  const xs = raw.split(',').map((s) => s.trim());
  return xs.map((s) => numberFlag(name, s, check, want)!);
}

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(args, SPEC);
  if (!parsed) return 0;
  const { values: f, positionals } = parsed;
  if (positionals.length)
    throw new InputError(`unexpected argument '${positionals[0]}'; see feature-lens catapult --help`);
  const model = f.model;
  if (model !== 'linear' && model !== 'relu')
    throw new InputError(`--model: expected linear or relu, got '${model ?? ''}'; see feature-lens catapult --help`);
  const int = (v: number) => Number.isInteger(v);
  const width = numberFlag(
    'width',
    f.width,
    (v) => int(v) && v >= 1 && v <= MAX_CATAPULT_WIDTH,
    `a positive integer at most ${MAX_CATAPULT_WIDTH} (the limit on the hidden width)`,
  );
  const lrFactor = numberFlag('lr-factor', f['lr-factor'], (v) => v > 0, 'a positive number');
  const steps = numberFlag(
    'steps',
    f.steps,
    (v) => int(v) && v >= 1 && v <= MAX_CATAPULT_STEPS,
    `a positive integer at most ${MAX_CATAPULT_STEPS} (the limit on training steps)`,
  );
  const batch = numberFlag('batch', f.batch, (v) => int(v) && v >= 1, 'a positive integer');
  const seed = numberFlag('seed', f.seed, (v) => int(v) && v >= 0, 'an integer >= 0');
  const n = numberFlag('n', f.n, (v) => int(v) && v >= 2, 'an integer >= 2');
  const d = numberFlag('d', f.d, (v) => int(v) && v >= 2, 'an integer >= 2');
  const every = numberFlag('every', f.every, (v) => int(v) && v >= 1, 'a positive integer');
  const seeds = numberFlag('seeds', f.seeds, (v) => int(v) && v >= 1, 'a positive integer') ?? 3;
  const sweepLr = list('sweep-lr', f['sweep-lr'], (v) => v > 0, 'positive numbers separated by commas');
  const sweepBatch = list(
    'sweep-batch',
    f['sweep-batch'],
    (v) => int(v) && v >= 1,
    'positive integers separated by commas',
  );
  if (
    model === 'linear' &&
    (batch !== undefined ||
      n !== undefined ||
      d !== undefined ||
      every !== undefined ||
      sweepBatch ||
      f.data !== undefined ||
      f.backend !== undefined)
  ) {
    throw new InputError(
      '--batch, --n, --d, --every, --data, --sweep-batch and --backend apply to --model relu only (the toy model is an exact host recursion with one input)',
    );
  }
  const choice = parseBackendChoice(f.backend ?? 'auto', '--backend');
  if (f.data === undefined && (f.target !== undefined || f['positive-class'] !== undefined))
    throw new InputError('--target and --positive-class need --data FILE');
  if (f.data !== undefined && (n !== undefined || d !== undefined))
    throw new InputError('--n and --d size the synthetic task; with --data the file decides');
  const positive =
    numberFlag('positive-class', f['positive-class'], (v) => int(v) && v >= 0, 'a class index >= 0') ?? 0;
  const out = (await planOutputs({ '--json': f.json }, { force: !!f.force, inputs: [f.data] }))['--json'];
  const task =
    f.data === undefined
      ? undefined
      : labTaskFromDataset(await readLabData(f.data, f.target, f['positive-class'], positive), positive);
  checkCatapultWork(model, {
    steps,
    width,
    batch,
    n: task ? task.X.rows : n,
    d: task ? task.X.cols : d,
    seeds,
    sweeps: (sweepLr?.length ?? 1) * (sweepBatch?.length ?? 1),
  });
  const base = { width, lrFactor, steps, batch, seed, n, d, every, task };
  for (const k of Object.keys(base) as (keyof typeof base)[]) if (base[k] === undefined) delete base[k];
  if (model === 'linear')
    return report(model, out, base, sweepLr, sweepBatch, seed, seeds, width, new CpuCatapultBackend());
  // The ReLU network runs where the placement table says (the CLI has only host placements); a device
  // that fails mid-run hands the whole run to the next placement, and nothing is printed before.
  const plan = hostPlan('catapult', choice);
  const placed = await runPlaced(plan, (placement) =>
    withBackend(placement, (backend) => report(model, out, base, sweepLr, sweepBatch, seed, seeds, width, backend)),
  );
  if (placed.placement !== plan[0]) process.stderr.write(`note: ran on ${placed.reason}\n`);
  return placed.value;
}

/** The --data file; a --positive-class must name one of its classes (99 on a 2-class file is refused). */
async function readLabData(file: string, target: string | undefined, given: string | undefined, positive: number) {
  const { dataset } = await readDatasetFile(file, { target });
  if (given !== undefined && dataset.task !== 'classification')
    throw new InputError(
      `--positive-class ${given}: ${file} has a regression target ('${dataset.targetName}'); --positive-class applies to class labels only`,
    );
  const classes = dataset.classes ?? [];
  if (dataset.task === 'classification' && positive >= classes.length)
    throw new InputError(
      `--positive-class ${positive}: ${file} has ${classes.length} classes in '${dataset.targetName}' (${classes
        .slice(0, 10)
        .map((c, k) => `${k} = '${c}'`)
        .join(', ')}${classes.length > 10 ? ', ...' : ''}); expected a class index 0..${classes.length - 1}`,
    );
  return dataset;
}

/**
 * The work of a run, bounded before it starts: steps x width x rows (x runs of a sweep). The defaults of
 * the unset flags are small; the limit is MAX_CATAPULT_WORK (core/limits.ts).
 */
function checkCatapultWork(
  model: 'linear' | 'relu',
  r: { steps?: number; width?: number; batch?: number; n?: number; d?: number; seeds: number; sweeps: number },
): void {
  const def = model === 'linear' ? DEFAULT_LINEAR_TOY : DEFAULT_RELU_LAB;
  const steps = r.steps ?? def.steps;
  const width = r.width ?? def.width;
  // ReLU: a step is the batch's forward and backward pass plus the full-batch loss, each rows x width x d.
  const rows =
    model === 'linear'
      ? 1
      : ((r.batch ?? DEFAULT_RELU_LAB.batch) + (r.n ?? DEFAULT_RELU_LAB.n)) * (r.d ?? DEFAULT_RELU_LAB.d);
  const runs = r.sweeps > 1 ? r.sweeps * r.seeds : 1;
  const work = steps * width * rows * runs;
  if (work > MAX_CATAPULT_WORK)
    throw new InputError(
      `${steps} steps x width ${width}${model === 'relu' ? ` x ${rows} (batch + n) x d` : ''}${runs > 1 ? ` x ${runs} runs` : ''} = ${work.toExponential(2)} units of work, over the limit of ${MAX_CATAPULT_WORK.toExponential(0)}; lower --steps, --width${model === 'relu' ? ', --batch/--n' : ''} or the sweep`,
    );
}

/** The placement's backend (the process's leased Dawn device, or the float64 CPU), given back after `work`. */
async function withBackend<T>(placement: Placement, work: (backend: CatapultBackend) => Promise<T>): Promise<T> {
  if (placement !== 'host-gpu' && placement !== 'host-cpu') throw new PlacementUnavailable('the CLI has no page');
  const backend = await hostCatapultBackend(placement);
  try {
    return await work(backend);
  } finally {
    backend.dispose();
  }
}

async function report(
  model: 'linear' | 'relu',
  out: Output | undefined,
  base: Partial<ReluLabConfig & LinearToyConfig>,
  sweepLr: number[] | undefined,
  sweepBatch: number[] | undefined,
  seed: number | undefined,
  seeds: number,
  width: number | undefined,
  backend: CatapultBackend,
): Promise<number> {
  // With --json -, the summary goes to stderr so standard output is the JSON alone.
  const say = out?.stdout ? process.stderr : process.stdout;
  const where = model === 'relu' ? { backend: backend.name, device: backend.device } : {};

  let report: Record<string, unknown>;
  if (sweepLr || sweepBatch) {
    const lr = sweepLr ? await lrSweep(model, sweepLr, base, backend) : undefined;
    const bs = sweepBatch
      ? await batchSweep(
          sweepBatch,
          Array.from({ length: seeds }, (_, i) => (seed ?? 0) + i),
          base,
          backend,
        )
      : undefined;
    if (lr) {
      say.write(
        table(
          [
            'eta/(2/lambda0)',
            'phase',
            ...(model === 'linear' ? ['exact recursion'] : []),
            'catapults',
            'max loss',
            'final loss',
            'final lambda',
            '2/eta',
          ],
          lr.map((p) => [
            p.etaOverEdge,
            p.phase,
            ...(model === 'linear' ? [p.recursionPhase ?? '-'] : []),
            p.catapults,
            p.maxLoss.toExponential(2),
            p.finalLoss.toExponential(2),
            p.finalLambda.toPrecision(4),
            p.edge.toPrecision(4),
          ]),
        ) + '\n',
      );
    }
    if (bs) {
      say.write(
        table(
          ['batch', 'seed', 'phase', 'catapults', 'alignment', 'test loss'],
          bs.map((p) => [
            p.batch,
            p.seed,
            p.phase,
            p.catapults,
            p.finalAlignment?.toFixed(4) ?? '-',
            p.testLoss?.toExponential(3) ?? '-',
          ]),
        ) + '\n',
      );
    }
    report = {
      model,
      ...where,
      lr_sweep: lr?.map((p) => ({
        ...p,
        maxLoss: Number.isFinite(p.maxLoss) ? p.maxLoss : null,
        finalLoss: Number.isFinite(p.finalLoss) ? p.finalLoss : null,
      })),
      batch_sweep: bs,
    };
  } else if (model === 'linear') {
    const r = trainLinearToy(base);
    report = {
      model,
      width: width ?? DEFAULT_LINEAR_TOY.width,
      lambda0: r.lambda0,
      lr: r.lr,
      losses: clean(r.losses),
      lambdas: clean(r.lambdas),
      phase: r.phase,
      final_lambda: r.finalLambda,
      edge: r.edge,
    };
    say.write(
      `linear toy m=${report.width}: lambda0=${r.lambda0.toPrecision(6)} eta=${r.lr.toPrecision(6)} -> ${r.phase} (loss ${r.losses[0].toExponential(3)} -> ${r.losses[r.losses.length - 1].toExponential(3)}, lambda ${r.finalLambda.toPrecision(4)} vs 2/eta ${r.edge.toPrecision(4)})\n`,
    );
  } else {
    const r = await trainReluLab(base, backend);
    report = {
      model,
      lambda0: r.lambda0,
      lr: r.lr,
      losses: clean(r.losses),
      lambdas: clean(r.lambdas),
      lambda_steps: r.lambdaSteps,
      alignments: r.alignments,
      phase: r.phase,
      catapults: r.catapults,
      edge: r.edge,
      test_loss: r.testLoss,
      ...where,
    };
    say.write(
      `relu: lambda0=${r.lambda0.toPrecision(6)} eta=${r.lr.toPrecision(6)} -> ${r.phase}, ${r.catapults.length} catapult(s), loss ${r.losses[0].toExponential(3)} -> ${r.losses[r.losses.length - 1].toExponential(3)}${r.alignments ? `, AGOP alignment ${r.alignments[0].toFixed(3)} -> ${r.alignments[r.alignments.length - 1].toFixed(3)}` : ''}\n`,
    );
  }
  if (out) {
    await out.write(JSON.stringify(report) + '\n');
    if (!out.stdout) say.write(`wrote ${out.path}\n`);
  }
  return 0;
}
