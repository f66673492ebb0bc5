// feature-lens: command-line entry over src/core. Each sub-command lives in src/cli/commands/<name>.ts
// and exports `run(args): Promise<number>` (the exit code).
import { BackendError, cliOption, InputError } from '../core/errors';
import * as fit from './commands/fit';
import * as nfa from './commands/nfa';
import * as predict from './commands/predict';
import * as spikes from './commands/spikes';
import * as catapult from './commands/catapult';
import * as fitLeaf from './commands/fit-leaf';
import * as merge from './commands/merge';
import * as convrfm from './commands/convrfm';
import * as grok from './commands/grok';
import * as complete from './commands/complete';
import * as sparseRegress from './commands/sparse-regress';
import * as collapse from './commands/collapse';
import * as deepRfm from './commands/deep-rfm';
import { isFilteredChild, runWithFilteredStderr } from './stderrFilter';

/** package.json's version, baked in by esbuild.mjs (`define`); absent when run from the sources. */
declare const __FEATURE_LENS_VERSION__: string | undefined;
const VERSION = typeof __FEATURE_LENS_VERSION__ === 'string' ? __FEATURE_LENS_VERSION__ : 'unknown (not built)';

/** `gpu`: may open a WebGPU device, so its standard error is filtered of Dawn's noise (stderrFilter.ts). */
type Command = { summary: string; run: (args: string[]) => Promise<number>; gpu?: boolean };

const commands: Record<string, Command> = {
  fit: {
    summary: 'fit a Recursive Feature Machine on a dataset (CSV/TSV, .npy/.npz, Parquet)',
    run: fit.run,
    gpu: true,
  },
  'fit-leaf': {
    summary: 'fit one leaf of an xRFM tree planned with fit --tree --plan DIR (a Slurm array task)',
    run: fitLeaf.run,
    gpu: true,
  },
  merge: { summary: 'assemble the model and report of a planned xRFM tree from its fitted leaves', run: merge.run },
  predict: { summary: 'apply a saved RFM model (fit --save-model) to new rows', run: predict.run, gpu: true },
  nfa: {
    summary: 'Neural Feature Ansatz: layer NFMs vs the network AGOP (and an RFM M) on a dataset',
    run: nfa.run,
    gpu: true,
  },
  spikes: { summary: 'find loss spikes in a training log (CSV, JSONL, TensorBoard) or run folder', run: spikes.run },
  catapult: {
    summary: 'train the catapult toy model or a ReLU net at eta = f / lambda_0: phase, NTK, AGOP',
    run: catapult.run,
    gpu: true,
  },
  convrfm: {
    summary: 'fit a ConvRFM (aligned-patch kernel, patch-AGOP) on images (.npz, or pixels + --image-shape)',
    run: convrfm.run,
    gpu: true,
  },
  grok: {
    summary: 'RFM groks modular arithmetic: accuracy, circulant deviation, AGOP alignment per iteration',
    run: grok.run,
    gpu: true,
  },
  complete: {
    summary: 'lin-RFM matrix completion of a matrix with missing entries (.npy NaN, CSV gaps, long row,col,value)',
    run: complete.run,
    gpu: true,
  },
  'sparse-regress': {
    summary: 'lin-RFM sparse linear regression (diagonal M = diag(coef²)^alpha): support, coefficients, R²',
    run: sparseRegress.run,
  },
  collapse: {
    summary: 'neural collapse per layer of a trained network: NC1, NC2 on the data and on --test',
    run: collapse.run,
    gpu: true,
  },
  'deep-rfm': {
    summary: 'Deep RFM: neural collapse (NC1, NC2) per layer of AGOP-projected random features, or the control',
    run: deepRfm.run,
    gpu: true,
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  const rows = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: feature-lens <command> [options]\n\ncommands:\n${rows.join('\n')}\n\nfeature-lens <command> --help for a command's options; feature-lens --version for the version.`;
}

/** Runs that never open a WebGPU device (so Dawn never writes): --backend cpu, the catapult toy model. */
function cpuOnly(args: string[]): boolean {
  const at = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : args.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
  };
  return at('--backend') === 'cpu' || at('--model') === 'linear';
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`feature-lens ${VERSION}\n`);
    return 0;
  }
  const cmd = commands[name];
  if (!cmd) {
    process.stderr.write(`feature-lens: unknown command '${name}'\n${usage()}\n`);
    return 2;
  }
  if (cmd.gpu && !isFilteredChild() && !cpuOnly(rest) && !rest.some((a) => /^(-h|--help|--verbose)$/.test(a)))
    return runWithFilteredStderr(argv);
  try {
    return await cmd.run(rest);
  } catch (e) {
    const message = userMessage(e);
    if (message === undefined) throw e;
    process.stderr.write(`feature-lens ${name}: ${message}\n`);
    return 1;
  }
}

/**
 * Errors of the user's files and environment, not of this program: errno codes a file operation on a
 * path the user gave can meet. They become exit code 1 with the path named (a reader that does not
 * catch its own I/O errors still gives a clear message); anything else is a bug (exit 70).
 */
const FILE_ERRNO = new Set([
  'ENOENT',
  'EACCES',
  'EPERM',
  'EISDIR',
  'ENOTDIR',
  'ELOOP',
  'ENAMETOOLONG',
  'EROFS',
  'ENOSPC',
  'EDQUOT',
  'EFBIG',
  'EMFILE',
  'ENFILE',
  'EIO',
  'ENXIO',
  'ETXTBSY',
  'EPIPE',
  'ERR_FS_FILE_TOO_LARGE',
]);

function userMessage(e: unknown): string | undefined {
  if (e instanceof InputError) return e.phrased(cliOption);
  if (e instanceof BackendError) return e.message;
  const err = e as NodeJS.ErrnoException | undefined;
  if (!(err instanceof Error) || !err.code || !FILE_ERRNO.has(err.code)) return undefined;
  const what = err.path ? `${err.path}: ` : '';
  return `${what}cannot ${err.syscall ?? 'read or write'} (${err.message.replace(/^[A-Z_]+: /, '').replace(/, \w+ '.*'$/, '')}; ${err.code})`;
}

// Standard output closed early (`| head`) or on a full disk: one line, exit code 1, no stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  process.stderr.write(`feature-lens: standard output: could not write (${e.code ?? e.message})\n`);
  process.exit(1);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`feature-lens: internal error: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exitCode = 70;
  },
);
