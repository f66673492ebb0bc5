// extensionTestsPath module: VS Code calls run() inside the extension host. The host exits 0 even
// when tests fail, so the verdict goes to RESULT_FILE ("FAILURES=N"), which the driver reads.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as util from 'node:util';
import Mocha from 'mocha';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 120000, reporter: 'spec' });
  // FEATURE_LENS_E2E_GREP=Hostile runs only the matching tests (while working on one part).
  if (process.env.FEATURE_LENS_E2E_GREP) mocha.grep(process.env.FEATURE_LENS_E2E_GREP);
  for (const f of fs
    .readdirSync(path.join(__dirname, 'suite'))
    .filter((f) => f.endsWith('.test.js'))
    .sort())
    mocha.addFile(path.join(__dirname, 'suite', f));
  const out: string[] = [];
  const base = Mocha.reporters.Base as unknown as { consoleLog: (...a: unknown[]) => void };
  const origLog = base.consoleLog;
  base.consoleLog = (...a: unknown[]) => {
    out.push(util.format(...a));
    origLog(...a);
  };
  return new Promise((resolve, reject) => {
    mocha.run((failures) => {
      base.consoleLog = origLog;
      const file = process.env.FEATURE_LENS_RESULT_FILE;
      if (file) fs.writeFileSync(file, out.join('\n') + `\nFAILURES=${failures}\n`);
      if (failures) reject(new Error(`${failures} tests failed`));
      else resolve();
    });
  });
}
