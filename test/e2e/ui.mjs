// Playwright scenario on the real workbench (code-server in Chromium, the packaged .vsix installed):
// right-click iris.csv in the explorer -> "Fit RFM" -> pick the target -> the panel shows the
// heatmap and the metric curve and names the backend. Run by scripts/e2e/run.mjs.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { frameWith, sleep } from './webviewFrames.mjs';

async function contextMenuLabels(page, rowText) {
  const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: rowText }).first();
  await row.click({ button: 'right' });
  await page.waitForSelector('.context-view .monaco-menu .action-label', { timeout: 10000 });
  await sleep(300);
  return page.locator('.context-view .monaco-menu .action-label').allTextContents();
}

/** Opens the workbench at `url` and waits for the explorer to list the workspace. */
export async function openWorkbench(page, url) {
  await page.goto(url);
  await page.waitForSelector('.monaco-workbench', { timeout: 60000 });
  await page.waitForSelector('.explorer-folders-view .monaco-list-row', { timeout: 60000 });
}

/**
 * What a new user does: right-click `file` in the explorer, choose "Fit RFM", and accept the proposed
 * target (typed, then Enter). `beforeAccept` may look at the prompt (screenshots, assertions).
 */
export async function fitFromExplorer(page, file, { beforeAccept } = {}) {
  // In a fresh window the installed extensions' menu entries appear once the extension host has
  // scanned them; a user who right-clicks too early sees the menu without them and tries again.
  let labels = [];
  for (const until = Date.now() + 60000; Date.now() < until;) {
    labels = await contextMenuLabels(page, file);
    if (labels.includes('Fit RFM')) break;
    await page.keyboard.press('Escape');
    await sleep(1000);
  }
  assert.ok(labels.includes('Fit RFM'), `${file} menu: ${labels.join(' | ')}`);
  await beforeAccept?.('menu');
  await page
    .locator('.context-view .monaco-menu .action-label', { hasText: /^Fit RFM$/ })
    .first()
    .click();
  await page.waitForSelector('.quick-input-widget .quick-input-list .monaco-list-row', {
    state: 'visible',
    timeout: 30000,
  });
  // The prompt lists the proposed column first and names it in its placeholder.
  const first = await page.locator('.quick-input-widget .quick-input-list .monaco-list-row').first().textContent();
  const placeholder = await page.locator('.quick-input-widget input').first().getAttribute('placeholder');
  const target = /proposed: ([^,]+),/.exec(placeholder ?? '')?.[1];
  assert.ok(
    target && first?.startsWith(target) && /proposed/.test(first),
    `proposed target: ${placeholder} | ${first}`,
  );
  await page.keyboard.type(target);
  await sleep(300);
  await beforeAccept?.('target', target);
  await page.keyboard.press('Enter');
  return target;
}

export async function uiScenario({ ctx, url, webgpu, results, log }) {
  const mode = webgpu ? 'webgpu' : 'no-webgpu';
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  page.on('console', (m) => {
    if (m.type() === 'error' && /feature|lens|webview/i.test(m.text()))
      log(`[console.error] ${m.text().slice(0, 300)}`);
  });
  await openWorkbench(page, url);
  await sleep(1500);

  // The menu entry is filtered by extension: absent on a text file, present on a CSV.
  const txtLabels = await contextMenuLabels(page, 'notes.txt');
  assert.ok(!txtLabels.includes('Fit RFM'), `notes.txt menu should not offer Fit RFM: ${txtLabels.join(' | ')}`);
  await page.keyboard.press('Escape');
  await sleep(300);
  // The target prompt proposes "species"; typing it and Enter is what a user does.
  const target = await fitFromExplorer(page, 'iris.csv', {
    beforeAccept: (step) =>
      page.screenshot({ path: path.join(results, `ui-${mode}-${step === 'menu' ? 'context-menu' : 'target'}.png`) }),
  });
  assert.equal(target, 'species');

  const frame = await frameWith(page, 'body[data-entry="panel"]', 60000);
  await frame.locator('#heatmap[data-ready="1"]').waitFor({ timeout: 180000 });
  await frame.locator('#metric[data-ready="1"]').waitFor({ timeout: 10000 });
  // The final metrics appear once the run is saved.
  await frame.locator('#final', { hasText: 'accuracy' }).waitFor({ timeout: 60000 });
  await sleep(800);
  const backend = (await frame.locator('#backend').textContent()) ?? '';
  const final = (await frame.locator('#final').textContent()) ?? '';
  log(`ui ${mode}: ${backend} | ${final}`);
  await page.screenshot({ path: path.join(results, `ui-${mode}-panel.png`) });
  // One short phrase; the device and the why (a long adapter explanation) are on hover.
  const backendTitle = (await frame.locator('#backend').getAttribute('title')) ?? '';
  if (webgpu) {
    assert.match(backend, /^Backend: WebGPU in the panel$/);
  } else {
    // No adapter in the page: the line names where the fit went and that it fell back; the hover says why.
    assert.match(backend, /^Backend: (WebGPU|CPU) in .* \(fallback; hover for why\)$/);
    assert.match(backendTitle, /no navigator\.gpu|no (WebGPU )?adapter|requestAdapter/);
  }
  assert.match(final, /validation accuracy (0|1)\.\d{4}/);
  // The heatmap canvas really has pixels drawn (not an empty element).
  const painted = await frame.locator('#heatmap').evaluate((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n;
  });
  assert.ok(painted > 1000, `heatmap pixels drawn: ${painted}`);
  for (const id of ['importance', 'spectrum', 'loadings', 'timings'])
    await frame.locator(`#${id}[data-ready="1"]`).waitFor({ timeout: 10000 });
  await frame.locator('#card-timings').scrollIntoViewIfNeeded();
  await sleep(300);
  await page.screenshot({ path: path.join(results, `ui-${mode}-panel-lower.png`) });
  await frame.locator('#title').scrollIntoViewIfNeeded();

  // Once the extension is active, extensions from featureLens.datasetExtensions get the entry too.
  await page.keyboard.press('Control+Shift+E');
  await sleep(500);
  const extraLabels = await contextMenuLabels(page, 'flowers.data');
  assert.ok(extraLabels.includes('Fit RFM'), `flowers.data menu: ${extraLabels.join(' | ')}`);
  await page.keyboard.press('Escape');

  // The Runs view lists the fit.
  await page
    .locator('.activitybar [aria-label="Feature Lens"], .activitybar a[aria-label^="Feature Lens"]')
    .first()
    .click();
  await page.waitForSelector('.pane-body .monaco-list-row >> text=/iris\\.csv → species/', { timeout: 20000 });
  const summary = await frameWith(page, 'body[data-entry="summary"] h3', 30000);
  assert.match((await summary.locator('h3').textContent()) ?? '', /iris\.csv → species/);
  await sleep(500);
  await page.screenshot({ path: path.join(results, `ui-${mode}-views.png`) });

  // After a reload the panel comes back (WebviewPanelSerializer) and draws the saved run again, even
  // when nothing else (like the Feature Lens side bar) would activate the extension.
  await page.keyboard.press('Control+Shift+E');
  await sleep(1000);
  await page.reload();
  await page.waitForSelector('.monaco-workbench', { timeout: 60000 });
  const revived = await frameWith(page, '#heatmap[data-ready="1"]', 45000);
  assert.match((await revived.locator('#title').textContent()) ?? '', /iris\.csv → species/);
  assert.match((await revived.locator('#final').textContent()) ?? '', /validation accuracy/);
  await page.screenshot({ path: path.join(results, `ui-${mode}-after-reload.png`) });
}
