// Many fresh windows, each doing what a new user does first: right-click iris.csv in the explorer ->
// "Fit RFM" -> accept the proposed target. Each run gets its own code-server (fresh profile, the
// packaged .vsix installed), workspace and browser profile, with or without WebGPU in the browser.
// A run finishes when the extension has saved the fit (its run file appears in the workspace storage),
// whether or not the panel's page ever loaded; the panel's own result is reported beside it.
// usage: node scripts/e2e/fresh-windows.mjs [--webgpu N] [--no-webgpu N] [--timeout SECONDS] [--keep]
//   (default 6 and 6, 120 s per run). Prints one JSON object: {runs, finished, seconds[], ...}. The
//   server profile (logs included) of a run that did not finish is kept, of every run with --keep.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { fitFromExplorer, openWorkbench } from '../../test/e2e/ui.mjs';
import { frameWith, sleep } from '../../test/e2e/webviewFrames.mjs';
import { ensureInstalled, freePort, launchBrowser, makeWorkspace, packageVsix, startServer } from './run.mjs';

const { values: flags } = parseArgs({
  options: {
    webgpu: { type: 'string', default: '6' },
    'no-webgpu': { type: 'string', default: '6' },
    timeout: { type: 'string', default: '120' },
    keep: { type: 'boolean', default: false },
  },
});
const timeoutMs = Number(flags.timeout) * 1000;
const log = (...a) => console.error(...a);

/** The first `runs/*.meta.json` under `dir` (the extension's workspace storage lives in the profile). */
function findRunMeta(dir) {
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop();
    let entries;
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.name.endsWith('.meta.json') && path.basename(d) === 'runs') return p;
    }
  }
  return undefined;
}

async function oneWindow(vsix, webgpu, index) {
  const port = await freePort();
  const folder = makeWorkspace(fs.mkdtempSync(path.join(os.tmpdir(), `fl-ws-fresh-${index}-`)));
  const server = await startServer({ port, folder, vsix });
  const ctx = await launchBrowser(webgpu);
  const out = { mode: webgpu ? 'webgpu' : 'no-webgpu', finished: false, seconds: null, panel: false };
  try {
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    await openWorkbench(page, `http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}`);
    await fitFromExplorer(page, 'iris.csv');
    const t0 = Date.now();
    let meta;
    while (Date.now() - t0 < timeoutMs && !(meta = findRunMeta(path.join(server.profile, 'ud')))) await sleep(250);
    if (meta) {
      out.seconds = +((Date.now() - t0) / 1000).toFixed(2);
      out.finished = true;
      const m = JSON.parse(fs.readFileSync(meta, 'utf8'));
      Object.assign(out, { where: m.where, backend: m.backend, reason: m.backendReason });
      // The panel shows the result too when its page loaded (now or later).
      out.panel = await frameWith(page, '#final', 15000)
        .then((f) => f.locator('#final', { hasText: 'accuracy' }).waitFor({ timeout: 15000 }))
        .then(
          () => true,
          () => false,
        );
    } else {
      out.error = `no saved run within ${timeoutMs / 1000} s`;
      await page.screenshot({ path: path.join(folder, '..', `fresh-window-${index}-stuck.png`) }).catch(() => {});
    }
  } catch (e) {
    out.error = e instanceof Error ? e.message.split('\n')[0] : String(e);
  } finally {
    await ctx.close().catch(() => {});
    server.stop();
    await sleep(500);
    if (flags.keep || !out.finished) out.profile = server.profile;
    else {
      fs.rmSync(server.profile, { recursive: true, force: true });
      fs.rmSync(folder, { recursive: true, force: true });
    }
  }
  return out;
}

ensureInstalled();
const vsix = packageVsix();
const modes = [...Array(Number(flags.webgpu)).fill(true), ...Array(Number(flags['no-webgpu'])).fill(false)];
const details = [];
for (const [i, webgpu] of modes.entries()) {
  const r = await oneWindow(vsix, webgpu, i);
  log(
    `window ${i + 1}/${modes.length} (${r.mode}): ${r.finished ? `finished in ${r.seconds} s on ${r.where}` : r.error}`,
  );
  details.push(r);
}
const report = {
  runs: details.length,
  finished: details.filter((r) => r.finished).length,
  seconds: details.map((r) => r.seconds),
  panelShowedResult: details.filter((r) => r.panel).length,
  details,
};
console.log(JSON.stringify(report, null, 1));
process.exit(report.finished === report.runs ? 0 : 1);
