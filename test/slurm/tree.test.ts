// The xRFM tree's plan / fit-leaf / merge on a real single-node Slurm (munged + slurmctld + slurmd on
// 127.0.0.1, all state in a temporary folder; scripts/slurm/*.sh). Needs dist/cli.js (`npm test` builds
// it first) and root to install and run Slurm. Where Slurm cannot be installed this test FAILS, naming
// the command that installs it; it never skips.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { untimed, xrfmCsv } from '../unit/tree-helpers';

const root = resolve('.');
const scripts = join(root, 'scripts', 'slurm');
const INSTALL = `sudo ${join(scripts, 'install.sh')}   (Debian/Ubuntu, as root: apt installs slurmctld slurmd slurm-client munge)`;
const state = mkdtempSync('/tmp/slurm-'); // short: unix sockets live under it
const env: Record<string, string> = {
  ...(process.env as Record<string, string>),
  SLURM_CONF: join(state, 'slurm.conf'),
};
const run = (cmd: string, args: string[], cwd = root) =>
  spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 300_000 });
const has = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' }).status === 0;
let started = false;

/** A free TCP port on 127.0.0.1 (the private cluster must not meet another one on 6817/6818). */
function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

before(async () => {
  if (!has('slurmd', ['-V']) && process.getuid?.() === 0 && has('apt-get', ['--version']))
    execFileSync(join(scripts, 'install.sh'), { stdio: 'inherit', timeout: 900_000 });
  if (!has('slurmd', ['-V']) || !has('munged', ['--version']))
    throw new Error(`Slurm (slurmd, slurmctld, sbatch) and munge are not installed; run: ${INSTALL}`);
  if (process.getuid?.() !== 0)
    throw new Error(`the private Slurm cluster runs its daemons as root; run this test as root (after ${INSTALL})`);
  env.SLURMCTLD_PORT = String(await freePort());
  env.SLURMD_PORT = String(await freePort());
  env.SLURM_CPUS = '4';
  execFileSync(join(scripts, 'start.sh'), [state], { stdio: 'inherit', timeout: 90_000, env });
  started = true;
});

after(() => {
  if (started) execFileSync(join(scripts, 'stop.sh'), [state], { stdio: 'inherit', timeout: 60_000, env });
});

/** Polls squeue until the job has left the queue (faster than sbatch --wait's 2/8/32 s schedule). */
async function waitForJob(jobId: string, timeoutMs = 240_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (run('squeue', ['-h', '-j', jobId, '-o', '%i']).stdout.trim() !== '') {
    if (Date.now() > end) throw new Error(`job ${jobId} still queued after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('sbatch runs the planned array job, one task per leaf; merge equals the one-machine fit', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fl-slurm-'));
  const train = join(dir, 'train.csv');
  xrfmCsv(train, 1200, 5, 21);
  const args = ['--target', 'y', '--task', 'regression', '--val-fraction', '0.2', '--seed', '5'];
  const tree = ['--leaf-size', '300', '--split-samples', '300', '--early-stop', '--backend', 'cpu', '--quiet'];
  const cli = (a: string[]) => run(process.execPath, ['dist/cli.js', ...a]);
  const one = cli([
    'fit',
    train,
    ...args,
    ...tree,
    '--json',
    join(dir, 'one.json'),
    '--save-model',
    join(dir, 'one.model.json'),
  ]);
  assert.equal(one.status, 0, one.stderr);
  const plan = join(dir, 'plan');
  const p = cli(['fit', train, ...args, ...tree, '--plan', plan]);
  assert.equal(p.status, 0, p.stderr);

  // Submitted from elsewhere: the script carries its working directory and absolute paths.
  const sub = run('sbatch', ['--parsable', join(plan, 'submit.sbatch')], tmpdir());
  assert.equal(sub.status, 0, sub.stderr);
  const jobId = sub.stdout.trim().split(';')[0];
  assert.match(jobId, /^\d+$/);
  await waitForJob(jobId);
  for (let i = 0; i < 4; i++) {
    const log = readFileSync(join(plan, 'logs', `leaf-${i}.out`), 'utf8');
    assert.equal(readFileSync(join(plan, 'logs', `leaf-${i}.exit`), 'utf8').trim(), '0', `leaf ${i}: ${log}`);
  }
  // Slurm's own record: every array task COMPLETED with exit code 0.
  const tasks = run('scontrol', ['-o', 'show', 'job', jobId]).stdout.trim().split('\n');
  assert.equal(tasks.length, 4);
  for (const line of tasks) assert.match(line, / JobState=COMPLETED .* ExitCode=0:0/);

  const m = cli(['merge', plan, '--quiet']);
  assert.equal(m.status, 0, m.stderr);
  assert.deepEqual(
    untimed(readFileSync(join(plan, 'report.json'), 'utf8')),
    untimed(readFileSync(join(dir, 'one.json'), 'utf8')),
  );
  assert.equal(readFileSync(join(plan, 'model.json'), 'utf8'), readFileSync(join(dir, 'one.model.json'), 'utf8'));
});
