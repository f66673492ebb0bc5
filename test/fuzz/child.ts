// Runs fuzz work in a child process so a hang or an out-of-memory is a failed case, not a stuck suite.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');

export interface ChildResult {
  /** null when killed (timeout or signal). */
  status: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  ms: number;
  /** Peak resident set in MB, when the child lived to report it. */
  peakRssMb: number | null;
}

/** `node --max-old-space-size=HEAP --import tsx … SCRIPT ARGS`, killed after `timeoutMs`. */
export function runChild(script: string, args: string[], timeoutMs: number, heapMb = 256): Promise<ChildResult> {
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [
      `--max-old-space-size=${heapMb}`,
      '--import',
      'tsx',
      '--import',
      join(ROOT, 'test', 'register-wgsl.mjs'),
      '--import',
      join(ROOT, 'test', 'fuzz', 'report-rss.mjs'),
      script,
      ...args,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '',
    stderr = '',
    timedOut = false;
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  return new Promise((resolve) =>
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      const rss = /\[peak-rss-kb (\d+)\]/.exec(stderr);
      resolve({
        status,
        signal,
        timedOut,
        stdout,
        stderr: stderr.replace(/\n?\[peak-rss-kb \d+\]\n/, ''),
        ms: performance.now() - t0,
        peakRssMb: rss ? Number(rss[1]) / 1024 : null,
      });
    }),
  );
}

/** Runs `jobs` at most `parallel` at a time (the CI machine has two cores). */
export async function pool<T>(jobs: (() => Promise<T>)[], parallel = 2): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, jobs.length) }, async () => {
      while (next < jobs.length) {
        const k = next++;
        out[k] = await jobs[k]();
      }
    }),
  );
  return out;
}
