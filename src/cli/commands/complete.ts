// feature-lens complete: lin-RFM matrix completion (docs/science.md §8) of a matrix file with missing entries;
// a summary on stdout, the completed matrix (--out) and the JSON report (--json).
import { parseBackendChoice } from '../../core/compute';
import { matrixToCsv } from '../../core/data/matrix';
import { readMatrixFile } from '../../core/data/node';
import { encodeNpy } from '../../core/data/npy';
import { InputError } from '../../core/errors';
import { COMPLETE_DEFAULTS as D, completeMatrix } from '../../core/linrfm/complete';
import { completionToJson } from '../../core/linrfm/serialize';
import { hostLinRfmBackend } from '../../core/node';
import { fmt, numberFlag, parseCommand, requireInputFile, table, type CommandSpec, onePositional } from '../io';
import { OUTPUT_RULES, planOutputs } from '../output';
import { runOnHost } from '../placement';

export const SPEC = {
  name: 'complete',
  summary:
    'lin-RFM matrix completion (docs/science.md §8): each row is a ridge regression over its observed columns with P = MᵀM, observed entries are put back, M <- (WᵀW/m)^alpha (no SVD for alpha 0.5 or 1). Convergence is decided on a seeded 5% of the observed entries held back for validation; the returned matrix is the best-validation iterate with every observed entry put back.',
  args: [
    [
      'MATRIX',
      'a .npy (NaN = missing), a .csv without a target (empty cells, NA or NaN = missing; header row optional), or a long-format .csv with header row,col,value (0-based indices)',
    ],
  ],
  options: {
    alpha: {
      type: 'string',
      arg: 'A',
      help: 'M = (WᵀW/m)^A; 0.5 and 1 need no eigendecomposition, other A > 0 use one per iteration',
      default: String(D.alpha),
    },
    reg: {
      type: 'string',
      arg: 'L',
      help: `ridge lambda of the row solves, lowered to min(L, ${D.regFinal}) once the validation error is below ${D.regSwitch}`,
      default: String(D.reg),
    },
    'max-iters': { type: 'string', arg: 'N', help: 'most iterations', default: String(D.maxIters) },
    tol: {
      type: 'string',
      arg: 'E',
      help: 'converged when the relative validation error sum (W - y)² / sum y² is below E',
      default: String(D.tol),
    },
    patience: {
      type: 'string',
      arg: 'K',
      help: 'stop after K consecutive iterations that did not lower the validation error',
      default: String(D.patience),
    },
    seed: { type: 'string', arg: 'S', help: 'seed of the validation split', default: String(D.seed) },
    long: {
      type: 'boolean',
      help: 'read a CSV as long format row,col,value (its first three columns) whatever its header',
      default: 'off: detected by a header row,col,value',
    },
    backend: {
      type: 'string',
      arg: 'B',
      help: 'auto (WebGPU when there is an adapter, else the CPU), webgpu or cpu (float64)',
      default: 'auto',
    },
    out: {
      type: 'string',
      arg: 'FILE',
      help: 'write the completed matrix: .npy (float64) or .csv (the input header kept)',
      default: 'not written',
    },
    json: {
      type: 'string',
      arg: 'OUT',
      help: 'write {rows, cols, observed, alpha, iterations, converged, observed_mse, rank_estimate, singular_values, seconds, validation_error, ...} (- for standard output, the summary then on stderr)',
      default: 'not written',
    },
    force: { type: 'boolean', help: 'replace existing output files', default: 'off' },
  },
  notes: `${OUTPUT_RULES}\n\nrank_estimate: the number of singular values above sqrt(min(10 x validation_error, 0.25)) x the Frobenius norm of the completed matrix (the error level the validation error implies, with room for its underestimate). converged is false whenever the validation error did not reach --tol (too few observed entries, below the r(m + d - r) degrees of freedom, never complete).`,
} as const satisfies CommandSpec;

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(args, SPEC);
  if (!parsed) return 0;
  const { values: f, positionals } = parsed;
  const path = onePositional(positionals, 'MATRIX file', 'complete');
  const positive = (v: number) => v > 0;
  const int = (v: number) => Number.isInteger(v) && v >= 1;
  const options = {
    alpha: numberFlag('alpha', f.alpha, positive, 'a positive number such as 0.5 or 1'),
    reg: numberFlag('reg', f.reg, positive, 'a positive number'),
    maxIters: numberFlag('max-iters', f['max-iters'], int, 'an integer >= 1'),
    tol: numberFlag('tol', f.tol, positive, 'a positive number'),
    patience: numberFlag('patience', f.patience, int, 'an integer >= 1'),
    seed: numberFlag('seed', f.seed, (v) => Number.isInteger(v), 'an integer'),
  };
  const choice = parseBackendChoice(f.backend ?? 'auto', '--backend');
  if (f.out !== undefined && !/\.(npy|csv)$/i.test(f.out) && f.out !== '-')
    throw new InputError(`--out ${f.out}: expected a file ending in .npy or .csv`);
  await requireInputFile(path, 'a matrix file (.npy, .csv)');
  const outs = await planOutputs({ '--json': f.json, '--out': f.out }, { force: !!f.force, inputs: [path] });
  const say = outs['--json']?.stdout || outs['--out']?.stdout ? process.stderr : process.stdout;
  const matrix = await readMatrixFile(path, { long: !!f.long });
  let observed = 0;
  for (const v of matrix.data) if (!Number.isNaN(v)) observed++;
  say.write(
    `complete: ${path} (${matrix.format}), ${matrix.rows} x ${matrix.cols}, ${observed} observed (${((100 * observed) / matrix.data.length).toFixed(1)}%)\n`,
  );
  let backendName = '';
  const { value: r } = await runOnHost(
    'linrfm',
    choice,
    (line) => process.stderr.write(`note: ran on ${line}\n`),
    hostLinRfmBackend,
    (backend) => {
      backendName = backend.name;
      return completeMatrix(matrix, options, {
        backend,
        onProgress: (p) => {
          if (p.iteration % 100 === 0)
            process.stderr.write(
              `  iteration ${p.iteration}: observed mse ${p.observedMse.toExponential(3)}, ${p.refit ? 'refit on every observed entry' : `validation error ${p.validationError.toExponential(3)}`}\n`,
            );
        },
      });
    },
    matrix.rows * matrix.cols * matrix.cols,
  );
  const top = Array.from(r.singularValues.subarray(0, 8), (s) => s.toPrecision(4)).join(', ');
  say.write(
    table(
      ['alpha', 'iterations', 'best', 'converged', 'stop', 'validation error', 'observed mse', 'rank', 's'],
      [
        [
          r.alpha,
          r.iterations,
          r.bestIteration,
          r.converged ? 'yes' : 'NO',
          r.stopReason,
          r.validationError.toExponential(3),
          r.observedMse.toExponential(3),
          r.rankEstimate,
          fmt(r.seconds, 2),
        ],
      ],
    ) + '\n',
  );
  say.write(`singular values: ${top}${r.singularValues.length > 8 ? ', ...' : ''}\n`);
  if (!r.converged)
    say.write(
      `not converged: the validation error ${r.validationError.toExponential(2)} did not reach ${options.tol ?? D.tol} (${r.stopReason}); too few observed entries for this rank, or raise --max-iters\n`,
    );
  say.write(`on ${r.device}\n`);
  const out = outs['--out'];
  if (out) {
    await out.write(
      /\.npy$/i.test(out.path)
        ? encodeNpy(r.completed, [r.rows, r.cols])
        : matrixToCsv(r.completed, r.rows, r.cols, matrix.columnNames),
    );
    if (!out.stdout) say.write(`wrote ${out.path}\n`);
  }
  const json = outs['--json'];
  if (json) {
    const reg = options.reg ?? D.reg;
    await json.write(
      JSON.stringify(
        completionToJson(r, {
          reg,
          seed: options.seed ?? D.seed,
          backend: backendName,
          file: path,
        }),
      ) + '\n',
    );
    if (!json.stdout) say.write(`wrote ${json.path}\n`);
  }
  return 0;
}
