// Screenshots of the loss-spike view, the Catapult Lab and the CodeLens in a real workbench (code-server + Chromium, the extension loaded
// from this checkout): right-click a CSV log -> Watch Loss Spikes, the log grows, a spike is zoomed;
// the Catapult Lab trains and sweeps; CodeLens in a Python script. A visual check, not part of CI.
// usage: node esbuild.mjs && node scripts/e2e/shots-logs.mjs [outdir]   (FEATURE_LENS_E2E_DIR as run.mjs)
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { frameWith, sleep } from '../../test/e2e/webviewFrames.mjs';
import { freePort, launchBrowser, startServer } from './run.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const OUT = path.resolve(process.argv[2] ?? path.join(ROOT, 'test-results'));
fs.mkdirSync(OUT, { recursive: true });

const loss = (s) =>
  (2 * Math.exp(-s / 800) + 0.25) *
  (1 + 0.04 * Math.sin(s * 1.7) * Math.cos(s * 0.37)) *
  ((s >= 1200 && s < 1206) || (s >= 2500 && s < 2503) || (s >= 4100 && s < 4110) ? 5 : 1);
const rows = (a, b) =>
  Array.from({ length: b - a }, (_, i) => `${a + i},${Math.floor((a + i) / 500)},${loss(a + i).toFixed(6)}\n`).join('');

const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'fl-shots-ws-'));
fs.writeFileSync(path.join(ws, 'metrics.csv'), 'step,epoch,train_loss\n' + rows(0, 3000));
fs.copyFileSync(path.join(ROOT, 'test/fixtures/codelens/train_spikes.py'), path.join(ws, 'train.py'));
fs.copyFileSync(path.join(ROOT, 'test/fixtures/iris.csv'), path.join(ws, 'iris.csv'));
fs.mkdirSync(path.join(ws, 'lightning_logs/version_0'), { recursive: true });
fs.writeFileSync(
  path.join(ws, 'lightning_logs/version_0/metrics.csv'),
  'step,train_loss\n' + rows(0, 100).replace(/^(\d+),\d+,/gm, '$1,'),
);
fs.writeFileSync(path.join(ws, 'notes.txt'), 'not a log\n');

const port = await freePort();
const server = await startServer({ port, folder: ws });

async function palette(page, title) {
  await page.keyboard.press('F1');
  await page.waitForSelector('.quick-input-widget input', { state: 'visible' });
  await page.keyboard.type(title);
  await sleep(600);
  await page.keyboard.press('Enter');
}

const ctx = await launchBrowser(false);
try {
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  const payload = [['extensionDevelopmentPath', `vscode-remote://127.0.0.1:${port}${ROOT}`]];
  await page.goto(
    `http://127.0.0.1:${port}/?folder=${encodeURIComponent(ws)}&payload=${encodeURIComponent(JSON.stringify(payload))}`,
  );
  await page.waitForSelector('.explorer-folders-view .monaco-list-row', { timeout: 60000 });
  await sleep(3000);

  const menuOf = async (name) => {
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: name }).first().click({ button: 'right' });
    await page.waitForSelector('.context-view .monaco-menu .action-label', { timeout: 10000 });
    await sleep(300);
    const l = await page.locator('.context-view .monaco-menu .action-label').allTextContents();
    await page.keyboard.press('Escape');
    return l.filter((x) => /Watch|Fit RFM/.test(x));
  };
  console.log('lightning_logs/ folder menu:', await menuOf('lightning_logs'));
  console.log('iris.csv menu:', await menuOf('iris.csv'));
  console.log('notes.txt menu:', await menuOf('notes.txt'));

  // Explorer: right-click the log -> Watch Loss Spikes.
  await page
    .locator('.explorer-folders-view .monaco-list-row', { hasText: 'metrics.csv' })
    .first()
    .click({ button: 'right' });
  await page.waitForSelector('.context-view .monaco-menu .action-label', { timeout: 10000 });
  await sleep(300);
  const labels = await page.locator('.context-view .monaco-menu .action-label').allTextContents();
  console.log(
    'metrics.csv context menu:',
    labels.filter((l) => /Feature Lens|Watch|Fit/.test(l)),
  );
  await page.locator('.context-view .monaco-menu .action-label', { hasText: 'Watch Loss Spikes' }).first().click();
  let view = await frameWith(page, 'body[data-entry="logs"] canvas#loss[data-points="3000"]', 30000);
  await sleep(800);
  console.log('status:', await view.locator('#status').textContent());
  await page.screenshot({ path: path.join(OUT, 'spikes-view.png') });

  // Training appends 2000 more points, with one more spike.
  fs.appendFileSync(path.join(ws, 'metrics.csv'), rows(3000, 5000));
  view = await frameWith(page, 'body[data-entry="logs"] canvas#loss[data-points="5000"]', 30000);
  await sleep(800);
  console.log('status after append:', await view.locator('#status').textContent());
  await view.locator('tr.spike').first().click();
  await sleep(500);
  await page.screenshot({ path: path.join(OUT, 'spikes-view-zoomed.png') });

  // Catapult Lab: one ReLU run and the linear lr sweep.
  await palette(page, 'Feature Lens: Open Catapult Lab');
  const lab = await frameWith(page, 'body[data-entry="catapult"] #run', 30000);
  await lab.locator('#steps').fill('200');
  await lab.locator('#run').click();
  await lab.locator('#status.phase-catapult, #status.phase-lazy, #status.phase-divergent').waitFor({ timeout: 120000 });
  console.log('lab run:', await lab.locator('#status').textContent());
  await lab.locator('#model').selectOption('linear');
  await lab.locator('#width').fill('1000');
  await lab.locator('#steps').fill('100');
  await lab.locator('#sweep-lr').click();
  await lab.locator('#status', { hasText: 'exact recursion' }).waitFor({ timeout: 60000 });
  console.log('lab sweep:', await lab.locator('#status').textContent());
  await page.screenshot({ path: path.join(OUT, 'catapult-lab.png') });
  await lab.locator('#model').selectOption('relu');
  await lab.locator('#width').fill('256');
  await lab.locator('#steps').fill('200');
  const tb = Date.now();
  await lab.locator('#sweep-batch').click();
  await lab.locator('#status', { hasText: 'batch sweep:' }).waitFor({ timeout: 600000 });
  console.log(
    `lab batch sweep (${((Date.now() - tb) / 1000).toFixed(1)} s):`,
    await lab.locator('#status').textContent(),
  );
  await lab.locator('#card-batchsweep').scrollIntoViewIfNeeded();
  await sleep(300);
  await page.screenshot({ path: path.join(OUT, 'catapult-lab-sweeps.png') });

  // CodeLens in a Python script.
  await page.keyboard.press('Control+P');
  await page.waitForSelector('.quick-input-widget input', { state: 'visible' });
  await page.keyboard.type('train.py');
  await sleep(600);
  await page.keyboard.press('Enter');
  await page.waitForSelector('.codelens-decoration a', { timeout: 30000 }).catch(() => {});
  await sleep(1000);
  console.log('code lenses:', await page.locator('.codelens-decoration a').allTextContents());
  await page.screenshot({ path: path.join(OUT, 'codelens.png') });
} finally {
  await ctx.close();
  server.stop();
}
