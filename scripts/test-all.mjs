// `npm test`: lint, build, then the unit, Slurm, fuzz, GPU and e2e suites in order (stopping at the first that
// fails, as `a && b` would), and at the end how many tests ran in each and in all. Each step's output
// passes through unchanged; the counts are read from the lines the suites print anyway (the node:test
// count reporter, scripts/count-reporter.mjs; mocha's "N passing" and the UI scenarios' PASS lines).
import { spawn } from 'node:child_process';
import { countTests } from './test-counts.mjs';

const STEPS = [
  { script: 'lint' },
  { script: 'build' },
  { script: 'test:unit', suite: 'unit' },
  { script: 'test:slurm', suite: 'slurm' },
  { script: 'test:fuzz', suite: 'fuzz' },
  { script: 'test:gpu', suite: 'gpu' },
  { script: 'test:e2e', suite: 'e2e' },
];

function run(script) {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '-s', script], { stdio: ['inherit', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      text += chunk;
      process.stdout.write(chunk);
    });
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), text }));
  });
}

const t0 = Date.now();
const counts = {};
let failed;
for (const step of STEPS) {
  process.stdout.write(`\n> ${step.script}\n`);
  const { code, text } = await run(step.script);
  if (step.suite) counts[step.suite] = countTests(text);
  if (code !== 0) {
    failed = step.script;
    break;
  }
}
const total = Object.values(counts).reduce((a, b) => a + b, 0);
const parts = Object.entries(counts).map(([k, v]) => `${k} ${v}`);
const minutes = ((Date.now() - t0) / 60000).toFixed(1);
process.stdout.write(
  `\nnpm test: ${total} tests ran (${parts.join(', ') || 'none'}) in ${minutes} min; ${failed ? `FAILED at ${failed}` : 'all passed'}\n`,
);
process.exitCode = failed ? 1 : 0;
