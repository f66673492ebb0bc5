// `npm run lint`: ESLint, Prettier and the TypeScript project build run side by side (each uses one core),
// then each report is printed whole, so one run shows every kind of problem. Exit 1 if any check failed.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const color = Boolean(process.stdout.isTTY);
const checks = [
  ['eslint', ['.']],
  ['prettier', ['--check', '.', '--log-level', 'warn']],
  ['tsc', ['-b', ...(color ? ['--pretty'] : [])]],
];

function run(name, args) {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(join(root, 'node_modules', '.bin', name), args, {
      cwd: root,
      env: { ...process.env, FORCE_COLOR: color ? '1' : '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const done = (ok) => resolve({ name, ok, out, seconds: (performance.now() - started) / 1000 });
    child.on('error', (e) => {
      out += `${e.message}\n`;
      done(false);
    });
    child.on('close', (code) => done(code === 0));
  });
}

const results = await Promise.all(checks.map(([name, args]) => run(name, args)));
for (const r of results) {
  if (r.out.trim()) process.stdout.write(r.out.endsWith('\n') ? r.out : `${r.out}\n`);
}
for (const r of results) console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name} (${r.seconds.toFixed(1)} s)`);
process.exitCode = results.every((r) => r.ok) ? 0 : 1;
