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
import { fmt, parseCli, table } from '../io';
import { OUTPUT_RULES, planOutputs } from '../output';

const USAGE = `usage: feature-lens grok [--op add|sub|mul|div] [--p P] [--train-frac R] [--kernel gaussian|laplace|quadratic]
                        [--bandwidth L] [--iters T] [--agop-power 0.5|1] [--no-center-grads] [--seed S]
                        [--backend auto|webgpu|cpu] [--json OUT] [--force]
  RFM on (a o b) mod p with x = [onehot(a), onehot(b)]: ridge 0 (the smallest jitter that factorises,
  reported), M <- AGOP^power with centred gradients; per iteration train/test accuracy, test MSE,
  circulant deviation of M's bottom-left block (discrete-log order for mul/div), AGOP alignment with
  the final M and with the previous iteration, trace of M.
  --op          the operation (default ${D.op}; div over b != 0)
  --p           a prime 3..${MAX_GROK_P} (default ${D.p})
  --train-frac  the seeded fraction of all pairs that trains, the rest tests (default ${D.trainFrac})
  --kernel      gaussian exp(-|x-z|_M^2 / (2 L^2)), laplace exp(-|x-z|_M / L), or quadratic (x^T M z)^2 (default ${D.kernel})
  --bandwidth   L of the gaussian and laplace kernels (default ${D.bandwidth})
  --iters       AGOP updates; iterations 0..T are reported, 0 with M = I (default ${D.iters}, at most ${MAX_GROK_ITERS})
  --agop-power  M = AGOP^power (default ${D.agopPower}: the symmetric square root)
  --no-center-grads  use the raw per-sample gradients (default: centred over the samples)
  --seed        seed of the train/test split (default ${D.seed})
  --backend     auto (default: WebGPU when there is an adapter, else the CPU), webgpu or cpu (float64)
  --json OUT    write {op, p, train_frac, kernel, n_train, n_test, backend, iterations: [...], M}
                (--json -: the JSON on standard output, the table on stderr)
  --force       replace an existing OUT
${OUTPUT_RULES}`;

const HOST = 'this process';

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const { values: f, positionals } = parseCli(
    args,
    {
      op: { type: 'string' },
      p: { type: 'string' },
      'train-frac': { type: 'string' },
      kernel: { type: 'string' },
      bandwidth: { type: 'string' },
      iters: { type: 'string' },
      'agop-power': { type: 'string' },
      'no-center-grads': { type: 'boolean' },
      seed: { type: 'string' },
      backend: { type: 'string' },
      json: { type: 'string' },
      force: { type: 'boolean' },
    },
    USAGE,
  );
  if (positionals.length) throw new InputError(`unexpected argument '${positionals[0]}'\n${USAGE}`);
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
