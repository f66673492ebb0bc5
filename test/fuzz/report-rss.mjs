// Preloaded into a child the fuzz tests run (node --import): reports the process's peak RSS on exit, so a
// test can assert a memory bound besides the heap limit (typed arrays live outside the V8 heap).
process.on('exit', () => process.stderr.write(`\n[peak-rss-kb ${process.resourceUsage().maxRSS}]\n`));
