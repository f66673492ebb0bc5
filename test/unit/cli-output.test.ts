// The CLI's output rules (src/cli/output.ts) on every command: outputs pointed at symlinks, devices,
// FIFOs, folders, missing folders, the inputs themselves and existing files. Each refusal is checked for
// its message and for the target left exactly as it was (bytes, kind, inode). Refusals run in-process
// (they throw before anything is written to stdout); runs that write to stdout go through a child.
// Nothing here points at a real /dev node: devices are made in a temporary folder.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { run as catapult } from '../../src/cli/commands/catapult';
import { run as fit } from '../../src/cli/commands/fit';
import { run as nfa } from '../../src/cli/commands/nfa';
import { run as predict } from '../../src/cli/commands/predict';
import { run as spikes } from '../../src/cli/commands/spikes';
import { isStdoutPath, planOutputs } from '../../src/cli/output';
import { InputError } from '../../src/core/errors';
import { cli } from '../helpers/cli';

const tmp = mkdtempSync(join(tmpdir(), 'fl-out-'));
const fixtures = join(import.meta.dirname, '..', 'fixtures');
const iris = join(tmp, 'iris.csv');
writeFileSync(iris, readFileSync(join(fixtures, 'iris.csv')));
const metrics = join(fixtures, 'logs', 'metrics.csv');
const FIT = [iris, '--target', 'species', '--iters', '1', '--backend', 'cpu', '--quiet'];

/** What a test needs to prove a path was not touched. */
function snapshot(path: string) {
  const s = lstatSync(path);
  return {
    kind: s.isSymbolicLink() ? 'link' : s.isFile() ? 'file' : s.isDirectory() ? 'dir' : s.isFIFO() ? 'fifo' : 'other',
    ino: s.ino,
    mode: s.mode,
    rdev: s.rdev,
    link: s.isSymbolicLink() ? readlinkSync(path) : undefined,
    bytes: s.isFile() ? readFileSync(path).toString('base64') : undefined,
    entries: s.isDirectory() ? readdirSync(path).sort() : undefined,
  };
}

async function refused(run: Promise<number>, pattern: RegExp): Promise<void> {
  await assert.rejects(run, (e: unknown) =>
    e instanceof InputError && pattern.test(e.message) ? true : assert.fail(`${String(e)} !~ ${pattern}`),
  );
}

/** Every output-writing command, one cheap run each, with OUT as its output flag's value. */
const commands: [string, (out: string, ...extra: string[]) => Promise<number>, string][] = [
  ['fit --json', (out, ...x) => fit([...FIT, '--json', out, ...x]), '--json'],
  ['fit --save-model', (out, ...x) => fit([...FIT, '--save-model', out, ...x]), '--save-model'],
  ['predict --out', (out, ...x) => predict([join(tmp, 'model.json'), iris, '--out', out, ...x]), '--out'],
  [
    'nfa --json',
    (out, ...x) =>
      nfa([
        join(fixtures, 'weights', 'mlp.safetensors'),
        join(fixtures, 'weights', 'nfa_data.csv'),
        '--target',
        'y',
        '--no-rfm',
        '--backend',
        'cpu',
        '--json',
        out,
        ...x,
      ]),
    '--json',
  ],
  ['spikes --json', (out, ...x) => spikes([metrics, '--json', out, ...x]), '--json'],
  [
    'catapult --json',
    (out, ...x) => catapult(['--model', 'linear', '--width', '10', '--steps', '5', '--json', out, ...x]),
    '--json',
  ],
];

test('setup: a saved model for predict', () => {
  const r = cli(['fit', ...FIT, '--save-model', join(tmp, 'model.json')]);
  assert.equal(r.status, 0, r.stderr);
});

test('an existing regular file needs --force on every command; with --force it is replaced (mode kept)', async () => {
  for (const [name, run, flag] of commands) {
    const out = join(tmp, `existing-${name.replace(/\W+/g, '_')}.txt`);
    writeFileSync(out, 'keep me');
    chmodSync(out, 0o640);
    const before = snapshot(out);
    await refused(run(out), new RegExp(`^${flag} .*existing.*: file exists; pass --force to overwrite it$`));
    assert.deepEqual(snapshot(out), before, name);
    // --force replaces it; run in a child because some commands print their report to stdout.
    const args = name.startsWith('fit')
      ? ['fit', ...FIT]
      : name.startsWith('predict')
        ? ['predict', join(tmp, 'model.json'), iris]
        : null;
    if (!args) continue;
    const r = cli([...args, flag, out, '--force']);
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    assert.notEqual(readFileSync(out, 'utf8'), 'keep me');
    assert.equal(lstatSync(out).mode & 0o777, 0o640, `${name}: the replaced file keeps its mode`);
  }
  // spikes, nfa and catapult with --force (their reports are small; spikes prints to stdout only a summary).
  const out = join(tmp, 'existing-force.json');
  writeFileSync(out, 'old');
  const r = cli(['spikes', metrics, '--json', out, '--force']);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(JSON.parse(readFileSync(out, 'utf8')).spikes);
  assert.deepEqual(
    readdirSync(tmp).filter((n) => n.endsWith('.tmp')),
    [],
    'no temporary files left behind',
  );
});

test('a symbolic link is never replaced or written through, with or without --force', async () => {
  const target = join(tmp, 'link-target.json');
  writeFileSync(target, 'precious');
  const link = join(tmp, 'out-link.json');
  symlinkSync(target, link);
  const dangling = join(tmp, 'dangling.json');
  symlinkSync(join(tmp, 'nowhere.json'), dangling);
  const [l0, t0, d0] = [snapshot(link), snapshot(target), snapshot(dangling)];
  for (const [name, run, flag] of commands) {
    for (const force of [[], ['--force']]) {
      await refused(run(link, ...force), new RegExp(`^${flag} .*out-link\\.json: is a symbolic link;.*not replaced`));
      await refused(run(dangling, ...force), /dangling\.json: is a symbolic link/);
    }
    assert.deepEqual([snapshot(link), snapshot(target), snapshot(dangling)], [l0, t0, d0], name);
  }
  assert.ok(!existsSync(join(tmp, 'nowhere.json')));
  // Through the CLI: exit code 1, one line, no stack trace.
  const r = cli(['fit', ...FIT, '--json', link, '--force']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^feature-lens fit: --json .*out-link\.json: is a symbolic link;/m);
  assert.doesNotMatch(r.stderr, /internal error|\s{4}at /);
  assert.deepEqual([snapshot(link), snapshot(target)], [l0, t0]);
});

test('a FIFO, a device or a folder is refused (never opened, never replaced)', async () => {
  const fifo = join(tmp, 'fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const targets: [string, RegExp][] = [[fifo, /is a FIFO \(named pipe\); .*use - for standard output/]];
  // A copy of the null device in the temporary folder (never the real /dev/null): root only.
  const dev = join(tmp, 'nulldev');
  if (spawnSync('mknod', [dev, 'c', '1', '3']).status === 0) targets.push([dev, /is a character device/]);
  else console.log('# not root: the character-device case is skipped');
  const dir = join(tmp, 'a-folder');
  mkdirSync(dir);
  writeFileSync(join(dir, 'inside.txt'), 'x');
  targets.push([dir, /is a folder; .*give a file path, e\.g\. .*a-folder\/out\.json/]);
  for (const [path, pattern] of targets) {
    const before = snapshot(path);
    for (const [name, run] of commands) {
      const t0 = performance.now();
      await refused(run(path, '--force'), pattern);
      assert.ok(performance.now() - t0 < 2000, `${name}: a FIFO must not be opened (that would block)`);
      assert.deepEqual(snapshot(path), before, `${name} -> ${path}`);
    }
  }
});

test('a missing or unwritable folder is refused before the work starts (fast, nothing created)', async () => {
  // A fit that takes seconds: 3000 rows x 20 columns, 5 iterations on the CPU.
  const big = join(tmp, 'big.csv');
  const rows = ['y,' + Array.from({ length: 20 }, (_, j) => `x${j}`).join(',')];
  for (let i = 0; i < 3000; i++)
    rows.push([i % 2, ...Array.from({ length: 20 }, (_, j) => ((i * 7 + j * 13) % 97) / 97)].join(','));
  writeFileSync(big, rows.join('\n'));
  const args = [big, '--target', 'y', '--iters', '5', '--backend', 'cpu', '--quiet'];
  const missing = join(tmp, 'no-such-dir', 'x.json');
  for (const flag of ['--json', '--save-model']) {
    const t0 = performance.now();
    await refused(
      fit([...args, flag, missing]),
      /no-such-dir\/x\.json: the folder .*no-such-dir does not exist; create it first/,
    );
    const ms = performance.now() - t0;
    assert.ok(ms < 500, `refused after ${ms.toFixed(0)} ms: the fit must not have run`);
  }
  assert.ok(!existsSync(join(tmp, 'no-such-dir')));
  // A file where a folder should be.
  await refused(
    fit([...args, '--json', join(iris, 'x.json')]),
    /a part of the path is a file, not a folder|is not a folder/,
  );
  // Every command checks before its work.
  for (const [name, run] of commands)
    await refused(run(missing), /the folder .*no-such-dir does not exist/).catch((e) => assert.fail(`${name}: ${e}`));
  // Read-only folder (root ignores permissions, so only when not root).
  if (process.getuid?.() !== 0) {
    const ro = join(tmp, 'read-only');
    mkdirSync(ro);
    chmodSync(ro, 0o500);
    await refused(fit([...args, '--json', join(ro, 'x.json')]), /the folder .*read-only is not writable \(EACCES\)/);
  }
  // Through the CLI: exit code 1, one line.
  const r = cli(['fit', ...args, '--json', missing]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^feature-lens fit: --json .*: the folder .* does not exist; create it first$/m);
  assert.doesNotMatch(r.stderr, /internal error|\s{4}at /);
});

test('an output that is one of the inputs is refused, even with --force (same path, hard link or symlinked input)', async () => {
  const data = join(tmp, 'train.csv');
  writeFileSync(data, readFileSync(iris));
  const hard = join(tmp, 'train-hardlink.csv');
  linkSync(data, hard);
  const viaLink = join(tmp, 'train-symlink.csv');
  symlinkSync(data, viaLink);
  const before = snapshot(data);
  for (const out of [data, hard, join(tmp, '.', 'train.csv')]) {
    await refused(
      fit([viaLink, '--target', 'species', '--backend', 'cpu', '--json', out, '--force']),
      /^--json: .*train(-hardlink)?\.csv is an input file \(.*train-symlink\.csv\); choose another output path$/,
    );
    await refused(
      fit([iris, '--test', data, '--target', 'species', '--save-model', out, '--force']),
      /--save-model: .* is an input file/,
    );
  }
  assert.deepEqual(snapshot(data), before);
  // predict: the model and the data; spikes: the log, and existing files in a run folder it reads.
  const model = join(tmp, 'model.json');
  const m0 = snapshot(model);
  await refused(predict([model, iris, '--out', model, '--force']), /--out: .*model\.json is an input file/);
  await refused(predict([model, iris, '--out', iris, '--force']), /--out: .*iris\.csv is an input file/);
  assert.deepEqual(snapshot(model), m0);
  const runDir = join(tmp, 'run');
  mkdirSync(runDir);
  writeFileSync(join(runDir, 'metrics.csv'), readFileSync(metrics));
  const log0 = snapshot(join(runDir, 'metrics.csv'));
  await refused(
    spikes([runDir, '--json', join(runDir, 'metrics.csv'), '--force']),
    /is in the folder .*run, which is read as input/,
  );
  await refused(spikes([metrics, '--json', metrics, '--force']), /--json: .*metrics\.csv is an input file/);
  assert.deepEqual(snapshot(join(runDir, 'metrics.csv')), log0);
  // Through the CLI (the case: fit x.csv --json x.csv silently overwrote the training data).
  const r = cli(['fit', data, '--target', 'species', '--json', data]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^feature-lens fit: --json: .*train\.csv is an input file/m);
  assert.deepEqual(snapshot(data), before);
});

test('two outputs on one file, or two on standard output, are refused', async () => {
  const out = join(tmp, 'both.json');
  await refused(
    fit([...FIT, '--json', out, '--save-model', out]),
    /--save-model .*both\.json: --json writes to the same file/,
  );
  await refused(
    fit([...FIT, '--json', '-', '--save-model', '/dev/stdout']),
    /--json already writes to standard output/,
  );
  assert.ok(!existsSync(out));
  await refused(fit([...FIT, '--json', '']), /--json: expected a file path or - for standard output/);
});

test('- means standard output: the JSON alone on stdout, the human-readable report on stderr', () => {
  const r = cli(['fit', iris, '--target', 'species', '--iters', '1', '--backend', 'cpu', '--json', '-']);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.task, 'classification');
  assert.match(r.stderr, /top features by diag\(M\)/);
  assert.ok(!existsSync(join(import.meta.dirname, '..', '..', '-')), 'no file named -');
  const s = cli(['spikes', metrics, '--json', '-']);
  assert.equal(s.status, 0, s.stderr);
  assert.ok(Array.isArray(JSON.parse(s.stdout).spikes));
  const c = cli(['catapult', '--model', 'linear', '--width', '10', '--steps', '5', '--json', '-']);
  assert.equal(c.status, 0, c.stderr);
  assert.equal(JSON.parse(c.stdout).model, 'linear');
  assert.match(c.stderr, /linear toy m=10/);
  const p = cli(['predict', join(tmp, 'model.json'), iris, '--out', '-']);
  assert.equal(p.status, 0, p.stderr);
  assert.match(p.stdout, /^row,prediction,/);
  // /dev/stdout is the same as - by name: it is never looked up, opened or renamed over.
  assert.ok(isStdoutPath('/dev/stdout') && isStdoutPath('-') && !isStdoutPath('/dev/stdout2'));
});

test('standard output that fails (full disk, closed pipe) is one message and exit code 1', () => {
  if (existsSync('/dev/full')) {
    const full = openSync('/dev/full', 'w');
    try {
      const r = spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          '--import',
          './test/register-wgsl.mjs',
          'src/cli/main.ts',
          'spikes',
          metrics,
          '--json',
          '-',
        ],
        { cwd: join(import.meta.dirname, '..', '..'), stdio: ['ignore', full, 'pipe'], encoding: 'utf8' },
      );
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /standard output: could not write \(ENOSPC\)/);
      assert.doesNotMatch(r.stderr, /\s{4}at /);
    } finally {
      closeSync(full);
    }
  }
  // A reader that stops early: stdout is a pipe whose read end is already closed.
  const r = spawnSync(
    'bash',
    [
      '-c',
      `node --import tsx --import ./test/register-wgsl.mjs src/cli/main.ts spikes ${metrics} --window 3 | true; exit \${PIPESTATUS[0]}`,
    ],
    { cwd: join(import.meta.dirname, '..', '..'), encoding: 'utf8' },
  );
  assert.ok(r.status === 1 || r.status === 0, `exit ${r.status}: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /internal error|\s{4}at /);
  if (r.status === 1) assert.match(r.stderr, /standard output: could not write \(EPIPE\)/);
});

test('a path that turns into a symlink or file between the check and the write is not replaced', async () => {
  const out = join(tmp, 'race.json');
  const outputs = await planOutputs({ '--json': out }, { force: false, inputs: [] });
  const target = join(tmp, 'race-target.json');
  writeFileSync(target, 'precious');
  symlinkSync(target, out);
  await assert.rejects(outputs['--json']!.write('{}'), /race\.json: became a symbolic link while the command ran/);
  assert.equal(readlinkSync(out), target);
  assert.equal(readFileSync(target, 'utf8'), 'precious');
  const out2 = join(tmp, 'race2.json');
  const o2 = await planOutputs({ '--json': out2 }, { force: false, inputs: [] });
  writeFileSync(out2, 'appeared');
  await assert.rejects(o2['--json']!.write('{}'), /race2\.json: a file appeared there while the command ran/);
  assert.equal(readFileSync(out2, 'utf8'), 'appeared');
  assert.deepEqual(
    readdirSync(tmp).filter((n) => n.endsWith('.tmp')),
    [],
  );
});

test('unreadable inputs of the CLI itself are input errors naming the path (exit 1, not 70)', async () => {
  await refused(predict([join(tmp, 'no-model.json'), iris]), /no-model\.json: cannot read the model \(ENOENT\)/);
  await refused(predict([tmp, iris]), /is a folder, expected a model JSON/);
  const latin1 = join(tmp, 'latin1-model.json');
  writeFileSync(latin1, Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x3a, 0x31, 0x7d])); // {"é":1} in Latin-1
  await refused(predict([latin1, iris]), /latin1-model\.json: not UTF-8 text, expected a model JSON/);
  await refused(
    nfa([tmp, join(fixtures, 'weights', 'nfa_data.csv'), '--target', 'y']),
    /is a folder, expected a weights file/,
  );
  // A FIFO or device as an input the CLI reads itself would block or never end: refused at once.
  const fifo = join(tmp, 'input-fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const t0 = performance.now();
  await refused(predict([fifo, iris]), /input-fifo: is not a regular file \(a device or FIFO\), expected a model JSON/);
  await refused(spikes([fifo]), /input-fifo: is not a regular file .*expected a training log/);
  await refused(
    nfa([fifo, join(fixtures, 'weights', 'nfa_data.csv'), '--target', 'y']),
    /input-fifo: is not a regular file .*expected a weights file/,
  );
  assert.ok(performance.now() - t0 < 2000);
  const r = cli(['nfa', tmp, join(fixtures, 'weights', 'nfa_data.csv'), '--target', 'y']);
  assert.equal(r.status, 1);
  assert.doesNotMatch(r.stderr, /internal error/);
});

test('permission errors (run as nobody when root): exit 1 naming the path, before any work', (t) => {
  if (process.getuid?.() !== 0 || spawnSync('setpriv', ['--version']).status !== 0) {
    t.skip('needs root and setpriv to drop to an unprivileged user');
    return;
  }
  const root = join(import.meta.dirname, '..', '..');
  const dir = mkdtempSync(join(tmpdir(), 'fl-perm-'));
  chmodSync(dir, 0o755);
  const secret = join(dir, 'secret.csv');
  writeFileSync(secret, readFileSync(iris));
  chmodSync(secret, 0o600);
  const pub = join(dir, 'public.csv');
  writeFileSync(pub, readFileSync(iris));
  chmodSync(pub, 0o644);
  const asNobody = (...args: string[]) =>
    spawnSync(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        '--import',
        'tsx',
        '--import',
        './test/register-wgsl.mjs',
        'src/cli/main.ts',
        ...args,
      ],
      { cwd: root, encoding: 'utf8' },
    );
  for (const [args, pattern] of [
    [
      ['fit', pub, '--target', 'species', '--json', join(dir, 'x.json')],
      /--json .*x\.json: the folder .* is not writable \(EACCES\)/,
    ],
    [['fit', secret, '--target', 'species'], /secret\.csv: .*EACCES/],
    [['spikes', secret], /secret\.csv: cannot read \(EACCES\)/],
    [['predict', secret, pub], /secret\.csv: cannot read the model \(EACCES\)/],
  ] as const) {
    const r = asNobody(...args);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.doesNotMatch(r.stderr, /internal error/);
  }
  assert.ok(!existsSync(join(dir, 'x.json')));
});
