// How many tests a suite's output reports (used by scripts/test-all.mjs, tested in test/unit/test-runner.test.ts).

/** Tests counted in a suite's output. */
export function countTests(text) {
  let n = 0;
  for (const m of text.matchAll(/^(\d+) tests ran: /gm)) n += Number(m[1]);
  for (const m of text.matchAll(/^\s*(\d+) passing\b/gm)) n += Number(m[1]);
  for (const m of text.matchAll(/^\s*(\d+) failing\b/gm)) n += Number(m[1]);
  n += (text.match(/^ui [\w-]+: (PASS|FAIL)\b/gm) ?? []).length;
  return n;
}
