// feature-lens grok: RFM groks modular arithmetic (docs/science.md §4): a per-iteration table of train/test
// accuracy, test MSE and the progress measures (circulant deviation, AGOP alignment), and the JSON report.
import { InputError } from '../../core/errors';
import { PlacementUnavailable, describePlacement, parseBackendChoice, runPlaced } from '../../core/compute';
import { hostGramSums, hostPlan } from '../../core/node';
import {
  DEFAULT_GROK_OPTIONS as D,
  MAX_GROK_ITERS,
  parseGrokOptions,
  runGrokking,
  type GrokIteration,
} from '../../core/rfm/grokking/run';
import { grokResultToJson } from '../../core/rfm/grokking/serialize';
import { MAX_GROK_P } from '../../core/rfm/grokking/tasks';
import { fmt, parseCommand, table, type CommandSpec } from '../io';
import { jsonOutputOptions, OUTPUT_RULES, planOutputs } from '../output';

export const SPEC = {
  name: 'grok',
  summary:
    "RFM on (a o b) mod p with x = [onehot(a), onehot(b)] (docs/science.md §4): ridge 0 (the smallest jitter that factorises, reported), M <- AGOP^power with centred gradients; per iteration train/test accuracy, test MSE, circulant deviation of M's bottom-left block (discrete-log order for mul/div), AGOP alignment with the final M and with the previous iteration, trace of M.",
  synopsis: '[options]',
  args: [],
  options: {
    op: { type: 'string', arg: 'OP', help: 'add, sub, mul or div (div over b != 0)', default: String(D.op) },
    p: { type: 'string', arg: 'P', help: `a prime 3..${MAX_GROK_P}`, default: String(D.p) },
    'train-frac': {
      type: 'string',
      arg: 'R',
      help: 'the seeded fraction of all pairs that trains, the rest tests',
      default: String(D.trainFrac),
    },
    kernel: {
      type: 'string',
      arg: 'K',
      help: 'gaussian exp(-|x-z|_M^2 / (2 L^2)), laplace exp(-|x-z|_M / L), or quadratic (x^T M z)^2',
      default: String(D.kernel),
    },
    bandwidth: {
      type: 'string',
      arg: 'L',
      help: 'L of the gaussian and laplace kernels',
      default: String(D.bandwidth),
    },
    iters: {
      type: 'string',
      arg: 'T',
      help: `AGOP updates; iterations 0..T are reported, 0 with M = I (at most ${MAX_GROK_ITERS})`,
      default: String(D.iters),
    },
    'agop-power': {
      type: 'string',
      arg: 'P',
      help: 'M = AGOP^power (0.5: the symmetric square root, or 1)',
      default: String(D.agopPower),
    },
    'no-center-grads': {
      type: 'boolean',
      help: 'use the raw per-sample gradients',
      default: 'off: centred over the samples',
    },
    seed: { type: 'string', arg: 'S', help: 'seed of the train/test split', default: String(D.seed) },
    backend: {
      type: 'string',
      arg: 'B',
      help: 'auto (WebGPU when there is an adapter, else the CPU), webgpu or cpu (float64)',
      default: 'auto',
    },
    ...jsonOutputOptions(
      'write {op, p, train_frac, kernel, n_train, n_test, backend, iterations: [...], M} (- for standard output, the table then on stderr)',
    ),
  },
  notes: OUTPUT_RULES,
} as const satisfies CommandSpec;

const HOST = 'this process';

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(args, SPEC);
  if (!parsed) return 0;
  const { values: f, positionals } = parsed;
  if (positionals.length) throw new InputError(`unexpected argument '${positionals[0]}'; see feature-lens grok --help`);
  const flag: Record<string, string> = {
    trainFrac: 'train-frac',
    agopPower: 'agop-power',
    centerGrads: 'no-center-grads',
  };
  const options = parseGrokOptions(
    {
      op: f.op,
      p: f.p,
      trainFrac: f['train-frac'],
      kernel: f.kernel,
      bandwidth: f.bandwidth,
      iters: f.iters,
      agopPower: f['agop-power'],
      centerGrads: f['no-center-grads'] ? false : undefined,
      seed: f.seed,
    },
    (k) => `--${flag[k] ?? k}`,
  );
  const choice = parseBackendChoice(f.backend ?? 'auto', '--backend');
  const out = (await planOutputs({ '--json': f.json }, { force: !!f.force, inputs: [] }))['--json'];
  const say = out?.stdout ? process.stderr : process.stdout;
  const header = [
    'iter',
    'train acc',
    'test acc',
    'test mse',
    'circ dev',
    'align final',
    'align prev',
    'trace M',
    'jitter',
    's',
  ];
  const row = (it: GrokIteration) => [
    it.iter,
    fmt(it.trainAcc),
    fmt(it.testAcc),
    it.testMse.toExponential(3),
    Number.isFinite(it.circulantDeviation) ? it.circulantDeviation.toExponential(3) : '-',
    Number.isFinite(it.agopAlignment) ? fmt(it.agopAlignment) : '-',
    fmt(it.alignmentPrev),
    it.traceM.toPrecision(5),
    it.jitter === 0 ? '0' : it.jitter.toExponential(1),
    it.seconds.toFixed(2),
  ];
  const placed = await runPlaced(
    hostPlan('grokking', choice),
    async (p, why) => {
      if (p !== 'host-gpu' && p !== 'host-cpu') throw new PlacementUnavailable('the CLI has no page');
      const gram = await hostGramSums(p);
      try {
        if (why !== describePlacement(p, undefined, HOST)) say.write(`note: ran on ${why}\n`);
        say.write(
          `grok: ${options.op} mod ${options.p}, train fraction ${options.trainFrac}, ${options.kernel} kernel, ${options.iters} iterations on ${gram.device}\n`,
        );
        // Live: one line per iteration as it finishes (align final is known at the end: the table below).
        say.write(table(header, []).split('\n')[0] + '\n');
        return await runGrokking(options, {
          gram,
          onIteration: (it) => say.write(table(header, [row(it)]).split('\n')[1] + '\n'),
        });
      } finally {
        gram.dispose();
      }
    },
    { host: HOST },
  );
  const r = placed.value;
  say.write('\n' + table(header, r.iterations.map(row)) + '\n');
  const last = r.iterations[r.iterations.length - 1];
  say.write(
    `final: train acc ${fmt(last.trainAcc)}, test acc ${fmt(last.testAcc)}; n_train ${r.nTrain}, n_test ${r.nTest}; ${r.backend} (${r.device}), ${r.seconds.toFixed(1)} s\n`,
  );
  if (out) {
    await out.write(JSON.stringify(grokResultToJson(r)) + '\n');
    if (!out.stdout) say.write(`wrote ${out.path}\n`);
  }
  return 0;
}
