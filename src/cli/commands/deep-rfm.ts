// feature-lens deep-rfm: Deep RFM (docs/science.md §7) on a classification dataset; NC1/NC2 per layer,
// as a table or as JSON (core/rfm/deep.ts deepRfmToJson).
import { basename } from 'node:path';
import { parseBackendChoice } from '../../core/compute';
import { readDatasetFile } from '../../core/data/node';
import { ANNOUNCE_FIT_SECONDS } from '../../core/limits';
import { hostRfmBackend } from '../../core/node';
import { DEFAULT_DEEP_RFM_OPTIONS, deepRfm, deepRfmToJson, type DeepRfmResult } from '../../core/rfm/deep';
import { parseTask } from '../../core/rfm/options';
import { numberFlag, parseCommand, table, type CommandSpec, onePositional } from '../io';
import { OUTPUT_RULES, planOutputs, reportOptions } from '../output';
import { runOnHost } from '../placement';

const D = DEFAULT_DEEP_RFM_OPTIONS;
export const SPEC = {
  name: 'deep-rfm',
  summary:
    'Deep RFM (docs/science.md §7): per layer, rows normalised to unit norm, one Laplace RFM step (ridge 0), its AGOP M_l, and X_{l+1} = ReLU(W_l M_l^{1/2} x) with seeded random W_l. Reports neural collapse (NC1, NC1 classic, NC2) of every layer, layer 0 being the data; --no-agop is the control (random features alone).',
  synopsis: 'DATA --target y [options]',
  args: [['DATA', 'a classification dataset (CSV/TSV, .npy/.npz, Parquet)']],
  options: {
    target: {
      type: 'string',
      arg: 'COL',
      help: 'the class label column',
      default: 'y, label, target..., else the last',
    },
    task: {
      type: 'string',
      arg: 'T',
      help: 'classification (regression is refused: collapse needs classes)',
      default: 'inferred from the labels',
    },
    depth: { type: 'string', arg: 'N', help: 'RFM layers (the report has N + 1 rows)', default: String(D.depth) },
    width: { type: 'string', arg: 'W', help: 'rows of each random W_l (features per layer)', default: String(D.width) },
    bandwidth: {
      type: 'string',
      arg: 'L',
      help: 'Laplace kernel bandwidth of each layer',
      default: String(D.bandwidth),
    },
    seed: { type: 'string', arg: 'S', help: 'seed of the random W_l', default: String(D.seed) },
    'no-agop': {
      type: 'boolean',
      help: 'the control: X_{l+1} = ReLU(W_l x), no RFM step and no M_l^{1/2}',
      default: 'off (the AGOP step on)',
    },
    ...reportOptions('{layers: [{layer, nc1, nc1_classic, nc2, ridge, ...}], agop, ...}'),
  },
  notes: OUTPUT_RULES,
} as const satisfies CommandSpec;

const integer = (v: number) => Number.isInteger(v) && v >= 0;
/** Four significant digits: NC1 spans orders of magnitude over the layers. */
const sig = (v: number) => (Number.isFinite(v) ? v.toPrecision(4) : '-');

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(args, SPEC);
  if (!parsed) return 0;
  const { values: f, positionals } = parsed;
  onePositional(positionals, 'DATA file', 'deep-rfm');
  const options = {
    depth: numberFlag('depth', f.depth, (v) => integer(v) && v >= 1, 'an integer >= 1'),
    width: numberFlag('width', f.width, (v) => integer(v) && v >= 1, 'an integer >= 1'),
    bandwidth: numberFlag('bandwidth', f.bandwidth, (v) => v > 0, 'a number > 0'),
    seed: numberFlag('seed', f.seed, integer, 'an integer >= 0'),
    agop: !f['no-agop'],
  };
  const task = f.task === undefined ? undefined : parseTask(f.task, '--task', { text: true });
  const choice = parseBackendChoice(f.backend ?? 'auto', '--backend');
  const target = f.target === undefined ? undefined : /^\d+$/.test(f.target) ? Number(f.target) : f.target;

  const outputs = await planOutputs({ '--json': f.json }, { force: !!f.force, inputs: [positionals[0]] });
  const say = outputs['--json']?.stdout ? process.stderr : process.stdout;
  const { dataset } = await readDatasetFile(positionals[0], { target, task });
  const note = f.quiet ? undefined : (line: string) => process.stderr.write(`note: ${line}\n`);
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const { value: result, fallback } = await runOnHost('deepRfm', choice, note, hostRfmBackend, (backend) =>
    deepRfm(dataset, defined, {
      backend,
      onEstimate: (line, seconds) => {
        if (seconds !== null && seconds > ANNOUNCE_FIT_SECONDS) note?.(line);
      },
      onLayer: f.quiet
        ? undefined
        : (l) => process.stderr.write(`  layer ${l.layer} done in ${l.seconds.toFixed(2)} s\n`),
    }),
  );
  if (fallback) result.fallback = fallback;
  if (!f.quiet) say.write(report(result));
  await outputs['--json']?.write(
    JSON.stringify({ data: basename(positionals[0]), ...deepRfmToJson(result) }, null, 1) + '\n',
  );
  return 0;
}

function report(r: DeepRfmResult): string {
  const o = r.options;
  return (
    [
      `Feature Lens Deep RFM${o.agop ? '' : ' (control: no AGOP step)'}: ${r.n} rows, d = ${r.d}, ${r.classes.length} classes, depth ${o.depth}, width ${o.width}, Laplace L = ${o.bandwidth}, seed ${o.seed}, backend ${r.device}`,
      ...(r.fallback ? [`note: ${r.fallback}`] : []),
      table(
        ['layer', 'NC1', 'NC1 classic', 'NC2', 'ridge'],
        r.layers.map((l) => [
          l.layer,
          sig(l.nc1),
          sig(l.nc1Classic),
          sig(l.nc2),
          l.ridge === null ? '-' : String(l.ridge),
        ]),
      ),
      '',
      `NC1 layer ${o.depth} / layer 0: ${sig(r.layers[o.depth].nc1 / r.layers[0].nc1)}; ${r.seconds.toFixed(2)} s`,
    ].join('\n') + '\n'
  );
}
