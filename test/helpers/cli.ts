import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

/** Runs `feature-lens ARGS` from the sources in a child process (its stdout cannot disturb the test reporter). */
export function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      join(root, 'test', 'register-wgsl.mjs'),
      join(root, 'src', 'cli', 'main.ts'),
      ...args,
    ],
    // The work runs in this process itself, not in a child with filtered stderr (src/cli/stderrFilter.ts,
    // tested in cli-conventions.test.ts): one tsx start per run instead of two.
    { cwd: root, encoding: 'utf8', env: { ...process.env, FEATURE_LENS_STDERR_FILTERED: '1' } },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A layer of the `feature-lens nfa --json` report, as far as tests read it (the JSON field names are a contract). */
export interface NfaLayerJson {
  name: string;
  shape: number[];
  correlation: Record<'cosine' | 'pearson', { agop: number; sqrt_agop: number }>;
}
