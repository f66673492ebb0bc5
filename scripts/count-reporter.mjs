// A node:test reporter that prints one line at the end: how many tests ran, passed, failed and were
// skipped (suites are not counted, only tests). `npm test` (scripts/test-all.mjs) adds up these lines.
export default async function* countReporter(source) {
  let passed = 0,
    failed = 0,
    skipped = 0;
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    if (event.data.details?.type === 'suite') continue;
    if (event.data.skip || event.data.todo) skipped++;
    else if (event.type === 'test:pass') passed++;
    else failed++;
  }
  yield `\n${passed + failed + skipped} tests ran: ${passed} passed, ${failed} failed, ${skipped} skipped\n`;
}
