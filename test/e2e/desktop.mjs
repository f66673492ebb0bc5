// Runs the extension-host suite (test/e2e/suite) in a desktop VS Code through @vscode/test-electron.
// For machines that can download VS Code (this project's CI cannot: it uses code-server, see
// scripts/e2e/run.mjs). usage: npm run test:desktop   [VSCODE_VERSION=1.100.3 to pin]
import { runTests } from '@vscode/test-electron';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'fl-ws-desktop-'));
for (const f of ['iris.csv', 'wine.csv']) fs.copyFileSync(path.join(ROOT, 'test/fixtures', f), path.join(folder, f));
fs.writeFileSync(path.join(folder, 'bad.csv'), 'a,b,y\n1,2,0\n3,oops,1\n4,5\n');
fs.writeFileSync(path.join(folder, 'notes.txt'), 'not a dataset\n');
const resultFile = path.join(folder, 'result.txt');

try {
  await runTests({
    version: process.env.VSCODE_VERSION ?? '1.100.3',
    extensionDevelopmentPath: ROOT,
    extensionTestsPath: path.join(ROOT, 'out/e2e/index.js'),
    launchArgs: [folder, '--disable-extensions', '--disable-workspace-trust'],
    extensionTestsEnv: { FEATURE_LENS_RESULT_FILE: resultFile },
  });
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
}
const out = fs.existsSync(resultFile) ? fs.readFileSync(resultFile, 'utf8') : 'NO RESULT';
console.log(out);
process.exit(/FAILURES=0\b/.test(out) ? 0 : 1);
