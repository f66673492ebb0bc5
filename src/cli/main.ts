// feature-lens: command-line entry over src/core. Each sub-command lives in src/cli/commands/<name>.ts
// and exports `run(args): Promise<number>` (the exit code).
import { InputError } from '../core/errors';
import { BackendError } from '../core/errors';
import * as fit from './commands/fit';
import * as nfa from './commands/nfa';
import * as predict from './commands/predict';
import * as spikes from './commands/spikes';
import * as catapult from './commands/catapult';

type Command = { summary: string; run: (args: string[]) => Promise<number> };

const commands: Record<string, Command> = {
  fit: { summary: 'fit a Recursive Feature Machine on a dataset (CSV/TSV, .npy/.npz, Parquet)', run: fit.run },
  predict: { summary: 'apply a saved RFM model (fit --save-model) to new rows', run: predict.run },
  nfa: { summary: 'Neural Feature Ansatz: layer NFMs vs the network AGOP (and an RFM M) on a dataset', run: nfa.run },
  spikes: { summary: 'find loss spikes in a training log (CSV, JSONL, TensorBoard) or run folder', run: spikes.run },
  catapult: {
    summary: 'train the catapult toy model or a ReLU net at eta = f / lambda_0: phase, NTK, AGOP',
    run: catapult.run,
  },
};

function usage(): string {
  const rows = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: feature-lens <command> [options]\n\ncommands:\n${rows.join('\n')}\n\nfeature-lens <command> --help for a command's options.`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  const cmd = commands[name];
  if (!cmd) {
    process.stderr.write(`feature-lens: unknown command '${name}'\n${usage()}\n`);
    return 2;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof InputError || e instanceof BackendError) {
      process.stderr.write(`feature-lens ${name}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`feature-lens: internal error: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exitCode = 70;
  },
);
