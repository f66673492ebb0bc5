// Quiet success: Dawn writes a few informational lines to fd 2 from native code when it opens an adapter
// (core/node.ts isDawnNoise); Node cannot filter a native write in its own process. A command that may
// open a WebGPU device therefore runs in a child process (this same script) whose standard error passes
// through here line by line, known lines dropped, everything else (errors, notes, warnings) kept in order.
// Standard input and output are the child's own (inherited): nothing is buffered or re-encoded.
import { spawn } from 'node:child_process';
import { isDawnNoise } from '../core/node';

/** Set in the child: it writes its standard error directly. */
export const FILTERED_ENV = 'FEATURE_LENS_STDERR_FILTERED';

export const isFilteredChild = (): boolean => process.env[FILTERED_ENV] === '1';

/** A line splitter that drops Dawn's known lines; `end()` flushes a last line without a newline. */
export function noiseFilter(write: (text: string) => void): { push(chunk: string): void; end(): void } {
  let rest = '';
  return {
    push(chunk) {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      const kept = lines.filter((l) => !isDawnNoise(l));
      if (kept.length) write(kept.map((l) => l + '\n').join(''));
    },
    end() {
      if (rest && !isDawnNoise(rest)) write(rest);
      rest = '';
    },
  };
}

/** Runs this CLI again with `argv` in a child whose stderr is filtered; resolves to its exit code. */
export function runWithFilteredStderr(argv: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1], ...argv], {
      stdio: ['inherit', 'inherit', 'pipe'],
      env: { ...process.env, [FILTERED_ENV]: '1' },
    });
    const filter = noiseFilter((t) => process.stderr.write(t));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => filter.push(c));
    // A signal sent to this process (not to the terminal's group) reaches the work too.
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    for (const s of signals) process.on(s, forward);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      filter.end();
      for (const s of signals) process.off(s, forward);
      if (signal) {
        process.kill(process.pid, signal);
        resolve(128 + 2);
      } else resolve(code ?? 70);
    });
  });
}
