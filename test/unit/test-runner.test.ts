// `npm test` (scripts/test-all.mjs) ends with how many tests ran: it adds up the count reporter's lines
// (node:test suites), mocha's "N passing / N failing" (the e2e host suite) and the UI scenarios' verdicts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
// @ts-expect-error a plain .mjs script without declarations
import { countTests } from '../../scripts/test-counts.mjs';

test('the counts of every suite are added up, each test once', () => {
  const e2e = '  41 passing (3m)\n  2 failing\nui webgpu: PASS in 80.1 s\nui no-webgpu: FAIL x\nui nfa: PASS in 40 s\n';
  assert.equal(countTests('....\n\n523 tests ran: 520 passed, 1 failed, 2 skipped\n'), 523);
  assert.equal(countTests(e2e), 41 + 2 + 3);
  assert.equal(countTests('no counts here\n'), 0);
});

test('the count reporter counts tests, not suites or files', () => {
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      '--test-reporter=./scripts/count-reporter.mjs',
      'test/unit/data-csv.test.ts',
      'test/unit/rfm-options.test.ts',
    ],
    // Not as a child of this test runner (NODE_TEST_CONTEXT would make it report to this one).
    { encoding: 'utf8', env: { ...process.env, NODE_TEST_CONTEXT: undefined } },
  );
  assert.equal(r.status, 0, r.stderr);
  // data-csv: 32 tests in 5 suites; rfm-options: 6 tests.
  assert.equal(r.stdout.trim(), '38 tests ran: 38 passed, 0 failed, 0 skipped');
});
