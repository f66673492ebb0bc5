// Playwright scenario for the weights editor, the NFA view and the lab on the real workbench:
// right-click a .safetensors -> "Inspect Weights"
// -> the tensor table -> click a 2-D weight -> fill the NFA form -> the NFA view draws its
// heatmaps and correlation table. Run by scripts/e2e/run.mjs after the RFM scenario (no-WebGPU run).
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { frameWith, sleep } from './webviewFrames.mjs';

/** Waits for a quick pick whose title contains `title`, optionally types, then accepts. */
async function answer(page, title, typed) {
  await page
    .locator('.quick-input-widget .quick-input-title', { hasText: title })
    .waitFor({ state: 'visible', timeout: 30000 });
  await sleep(300);
  if (typed) {
    await page.keyboard.type(typed);
    await sleep(300);
  }
  await page.keyboard.press('Enter');
}

export async function nfaScenario({ ctx, results, log }) {
  const page = ctx.pages()[0];
  await page.keyboard.press('Control+Shift+E');
  await sleep(800);
  const folderRow = page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'weights' }).first();
  if ((await folderRow.getAttribute('aria-expanded')) !== 'true') await folderRow.click();
  await sleep(500);
  const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'mlp.safetensors' }).first();
  await row.click({ button: 'right' });
  await page.waitForSelector('.context-view .monaco-menu .action-label', { timeout: 10000 });
  await sleep(300);
  const labels = await page.locator('.context-view .monaco-menu .action-label').allTextContents();
  assert.ok(labels.includes('Inspect Weights'), `mlp.safetensors menu: ${labels.join(' | ')}`);
  assert.ok(!labels.includes('Fit RFM'), 'a weights file is not offered as a dataset');
  await page
    .locator('.context-view .monaco-menu .action-label', { hasText: /^Inspect Weights$/ })
    .first()
    .click();

  const editor = await frameWith(page, 'body[data-entry="weights"][data-listed]', 60000);
  assert.equal(await editor.locator('body').getAttribute('data-listed'), '6');
  await editor.locator('tr[data-stats="1"]').nth(5).waitFor({ timeout: 30000 });
  const firstRow = (await editor.locator('tr[data-name="0.weight"]').textContent()) ?? '';
  assert.match(firstRow, /0\.weight\s*F32\s*\[12, 5\]/);
  await editor.locator('#search').fill('bias');
  assert.equal(await editor.locator('tbody tr:not([hidden])').count(), 3);
  await page.screenshot({ path: path.join(results, 'ui-weights-editor.png') });
  await editor.locator('#search').fill('');

  await editor.locator('tr[data-name="2.weight"] a').click();
  // One form in the NFA view (issue 12): only data of the network's width is offered.
  const formFrame = await frameWith(page, 'body[data-entry="nfa"] #nfa-data option[value$="nfa_data.csv"]', 60000);
  const dataValue = await formFrame.locator('#nfa-data option[value$="nfa_data.csv"]').getAttribute('value');
  await formFrame.locator('#nfa-data').selectOption(dataValue);
  await formFrame
    .locator('#nfa-target:not([disabled]) option[value="y"]')
    .waitFor({ state: 'attached', timeout: 30000 });
  await formFrame.locator('#nfa-target').selectOption('y');
  await page.screenshot({ path: path.join(results, 'ui-nfa-form.png') });
  await formFrame.locator('#nfa-compute').click();

  const view = await frameWith(page, 'body[data-entry="nfa"][data-ready="1"]', 120000);
  // The view lays out without horizontal scrolling at 1000 px (charts get a moment to follow the width).
  await view.evaluate(() => (globalThis.document.documentElement.style.width = '1000px'));
  await sleep(800);
  // The content's extent, not documentElement.scrollWidth: that is never below the frame's own width,
  // which is the window's (wider than 1000 px here).
  const overflow = await view.evaluate(() => {
    const d = globalThis.document;
    const right = Math.max(...[...d.querySelectorAll('body *')].map((e) => e.getBoundingClientRect().right));
    return Math.max(Math.ceil(right) - 1000, d.body.scrollWidth - d.body.clientWidth);
  });
  // On failure, the narrowest elements that reach past 1000 px say what does not wrap.
  const wide = await view.evaluate(() =>
    [...globalThis.document.querySelectorAll('body, body *')]
      .map((e) => ({ e, r: e.getBoundingClientRect() }))
      .filter(({ r }) => r.right > 1001)
      .sort((a, b) => a.r.width - b.r.width)
      .slice(0, 6)
      .map(
        ({ e, r }) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}.${e.className} (${Math.round(r.width)} px)`,
      ),
  );
  assert.ok(overflow <= 0, `NFA view at 1000 px scrolls horizontally by ${overflow} px: ${wide.join(', ')}`);
  await view.evaluate(() => (globalThis.document.documentElement.style.width = ''));
  const selected = (await view.locator('#layers button[aria-selected="true"]').textContent()) ?? '';
  assert.match(selected, /^2\.weight/, 'the clicked layer is shown first');
  const cells = await view.locator('#correlations tbody tr').count();
  assert.equal(cells, 4, 'three layers and the RFM row');
  log(`ui nfa: ${(await view.locator('#correlations tbody tr').first().textContent())?.slice(0, 120)}`);
  await page.screenshot({ path: path.join(results, 'ui-nfa-view.png') });
  await view.locator('#layers button').first().click();
  await sleep(500);
  const painted = await view.locator('#heat-rfm').evaluate((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n;
  });
  assert.ok(painted > 1000, `RFM heatmap pixels drawn for the first layer: ${painted}`);
  await page.screenshot({ path: path.join(results, 'ui-nfa-view-first-layer.png') });
}

/** The training lab from the command palette: choose the data, train a few epochs, charts drawn, Inspect opens the NFA view. */
export async function labScenario({ ctx, results, log }) {
  const page = ctx.pages()[0];
  await page.keyboard.press('F1');
  await sleep(500);
  await page.keyboard.type('Feature Lens: Open NFA Training Lab');
  await sleep(500);
  await page.keyboard.press('Enter');
  await answer(page, 'Dataset for', 'nfa_data.csv');
  await answer(page, 'target column', 'y');
  const lab = await frameWith(page, 'body[data-entry="lab"]', 60000);
  await lab.locator('#dataset', { hasText: 'nfa_data.csv → y' }).waitFor({ timeout: 30000 });
  await lab.locator('#epochs').fill('40');
  await lab.locator('#width').fill('32');
  await lab.locator('#lr').fill('0.01');
  await lab.locator('#train').click();
  await lab.locator('body[data-trained="true"]').waitFor({ timeout: 120000 });
  const status = (await lab.locator('#status').textContent()) ?? '';
  log(`ui lab: ${status}`);
  assert.match(status, /Trained 40 epochs/);
  assert.match((await lab.locator('#backend').textContent()) ?? '', /^Training on (WebGPU|the CPU) \(/);
  assert.equal(await lab.locator('#inspect').isDisabled(), false);
  await page.screenshot({ path: path.join(results, 'ui-lab.png') });
  await lab.locator('#inspect').click();
  const view = await frameWith(page, 'body[data-entry="nfa"][data-ready="1"] #title:text("lab MLP")', 60000);
  assert.equal(await view.locator('#correlations tbody tr').count(), 3, 'two layers and the RFM row');
  const before = await view.locator('#correlations tbody tr').first().textContent();
  await page.screenshot({ path: path.join(results, 'ui-lab-inspect.png') });

  // Window reloads, one restored view at a time (with several restored pages at once, code-server
  // sometimes never runs the script of one of them; see README): first the lab alone comes back with
  // its curves and the trained network (Inspect from it gives the same numbers), then the NFA view
  // alone comes back computed again from that network.
  await keepOnly(page, 'NFA Training Lab');
  await reloadWindow(page);
  const labBack = await frameWith(page, 'body[data-entry="lab"][data-restored="1"]', 60000);
  assert.equal(await labBack.locator('body').getAttribute('data-trained'), 'true');
  assert.match((await labBack.locator('#dataset').textContent()) ?? '', /nfa_data\.csv → y/);
  assert.equal(await labBack.locator('#inspect').isDisabled(), false);
  log(`ui lab after reload: ${(await labBack.locator('#status').textContent())?.slice(0, 120)}`);
  await page.screenshot({ path: path.join(results, 'ui-lab-after-reload.png') });
  await labBack.locator('#inspect').click();
  const again = await frameWith(page, 'body[data-entry="nfa"][data-ready="1"] #title:text("lab MLP")', 60000);
  assert.equal(
    await again.locator('#correlations tbody tr').first().textContent(),
    before,
    'Inspect of the restored network gives the same numbers',
  );

  await keepOnly(page, 'NFA: lab MLP');
  await reloadWindow(page);
  const revived = await frameWith(page, 'body[data-entry="nfa"][data-ready="1"] #title:text("lab MLP")', 120000);
  assert.equal(
    await revived.locator('#correlations tbody tr').first().textContent(),
    before,
    'the same numbers after the reload',
  );
  await page.screenshot({ path: path.join(results, 'ui-nfa-after-reload.png') });
}

async function runCommand(page, title) {
  await page.keyboard.press('F1');
  await sleep(500);
  await page.keyboard.type(title);
  await sleep(600);
  await page.keyboard.press('Enter');
  await sleep(800);
}

/** Closes every editor but the tab showing `tabText`. */
async function keepOnly(page, tabText) {
  await page.locator('.tabs-container .tab', { hasText: tabText }).first().click();
  await sleep(300);
  await runCommand(page, 'View: Close Editors in Other Groups');
  await runCommand(page, 'View: Close Other Editors in Group');
}

async function reloadWindow(page) {
  await sleep(3000); // let the webview state reach the workbench's storage (the workspace state keeps a copy too)
  await page.reload();
  await page.waitForSelector('.monaco-workbench', { timeout: 60000 });
}
