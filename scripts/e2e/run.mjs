// Runs the e2e tests in a real VS Code (code-server 4.100.3, installed by scripts/e2e/install.sh):
//   host  - the mocha suite in test/e2e inside the extension host (extensionDevelopmentPath)
//   ui    - Playwright drives the workbench in Chromium with the packaged .vsix installed, once with
//           the WebGPU flags and once without, then axe-core on every view in Dark, Light and High
//           Contrast (FEATURE_LENS_UI_MODES=webgpu,no-webgpu,a11y; FEATURE_LENS_A11Y_THEMES)
// usage: node scripts/e2e/run.mjs [host|ui|all] (default all). Screenshots go to test-results/.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const E2E = process.env.FEATURE_LENS_E2E_DIR ?? path.join(ROOT, '.e2e');
const CODE_SERVER = path.join(E2E, 'node_modules/.bin/code-server');
const RESULTS = path.join(ROOT, 'test-results');
const what = process.argv[2] ?? 'all';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function ensureInstalled() {
  if (fs.existsSync(CODE_SERVER) && fs.existsSync('/usr/bin/chromium')) return;
  const r = spawnSync('bash', [path.join(ROOT, 'scripts/e2e/install.sh'), E2E], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('scripts/e2e/install.sh failed');
}

export async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** A fresh workspace: the fixtures plus files the tests need (a malformed CSV, a non-dataset). */
export function makeWorkspace(dir) {
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['iris.csv', 'wine.csv']) fs.copyFileSync(path.join(ROOT, 'test/fixtures', f), path.join(dir, f));
  fs.writeFileSync(path.join(dir, 'bad.csv'), 'a,b,y\n1,2,0\n3,oops,1\n4,5\n');
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a dataset\n');
  // A network and the data it was trained on (weights editor, NFA view and lab).
  fs.mkdirSync(path.join(dir, 'weights'), { recursive: true });
  // conv_images.npz: 40 labelled 2 x 8 x 8 images (the ConvRFM view).
  for (const f of ['mlp.safetensors', 'nfa_data.csv', 'conv_images.npz'])
    fs.copyFileSync(path.join(ROOT, 'test/fixtures/weights', f), path.join(dir, 'weights', f));
  // An extension the user declared as a dataset type (featureLens.datasetExtensions), read as CSV.
  fs.copyFileSync(path.join(ROOT, 'test/fixtures/iris.csv'), path.join(dir, 'flowers.data'));
  fs.mkdirSync(path.join(dir, '.vscode'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, '.vscode/settings.json'),
    JSON.stringify({ 'featureLens.datasetExtensions': ['.data'] }),
  );
  return dir;
}

/**
 * Temporary folders of this run (code-server and Chromium profiles, workspaces: ~75 MB a run), removed
 * when the run passes; kept when it fails, since the messages point into them (server.log).
 */
const temporaries = [];
function temporary(dir) {
  temporaries.push(dir);
  return dir;
}

export function removeTemporaries() {
  for (const dir of temporaries.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** Starts code-server with a private profile; resolves once /healthz answers. */
export async function startServer({ port, folder, vsix, env = {}, settings = {} }) {
  const profile = temporary(fs.mkdtempSync(path.join(os.tmpdir(), 'fl-e2e-')));
  const xdg = {
    XDG_CONFIG_HOME: `${profile}/xdg`,
    XDG_DATA_HOME: `${profile}/xdg`,
    XDG_CACHE_HOME: `${profile}/xdg`,
    TMPDIR: profile,
  };
  const fullEnv = { ...process.env, ...xdg, ...env };
  const common = ['--user-data-dir', `${profile}/ud`, '--extensions-dir', `${profile}/exts`];
  fs.mkdirSync(`${profile}/ud/User`, { recursive: true });
  fs.writeFileSync(
    `${profile}/ud/User/settings.json`,
    JSON.stringify({
      'workbench.startupEditor': 'none',
      'security.workspace.trust.enabled': false,
      'workbench.tips.enabled': false,
      ...settings,
    }),
  );
  if (vsix) {
    const r = spawnSync(CODE_SERVER, [...common, '--install-extension', vsix], { env: fullEnv, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`installing ${vsix} failed: ${r.stderr}`);
  }
  const log = fs.openSync(`${profile}/server.log`, 'w');
  const child = spawn(
    CODE_SERVER,
    [
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--auth',
      'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      ...common,
      folder,
    ],
    { env: fullEnv, detached: true, stdio: ['ignore', log, log] },
  );
  for (let i = 0; i < 120; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok)
        return { child, profile, stop: () => stopServer(child) };
    } catch {
      // not listening yet
    }
    await sleep(500);
  }
  stopServer(child);
  throw new Error(`code-server did not come up; log: ${profile}/server.log`);
}

function stopServer(child) {
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    // already gone
  }
}

export async function launchBrowser(webgpu) {
  const { chromium } = await import(path.join(E2E, 'node_modules/playwright-core/index.mjs'));
  const udd = temporary(fs.mkdtempSync(path.join(os.tmpdir(), 'fl-chrome-')));
  const args = [
    '--headless=new',
    '--no-sandbox',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ];
  if (webgpu)
    args.push(
      '--enable-unsafe-webgpu',
      '--enable-features=Vulkan',
      '--use-angle=swiftshader',
      '--use-webgpu-adapter=swiftshader',
    );
  else args.push('--disable-gpu');
  return chromium.launchPersistentContext(udd, {
    executablePath: '/usr/bin/chromium',
    headless: false,
    args,
    viewport: { width: 1500, height: 950 },
  });
}

async function runHost() {
  const t0 = Date.now();
  const port = await freePort();
  const folder = makeWorkspace(temporary(fs.mkdtempSync(path.join(os.tmpdir(), 'fl-ws-host-'))));
  const resultFile = temporary(path.join(folder, '..', `fl-host-result-${port}.txt`));
  fs.rmSync(resultFile, { force: true });
  // The extension host inherits the server's environment, not this script's.
  const server = await startServer({ port, folder, env: { FEATURE_LENS_RESULT_FILE: resultFile } });
  const ctx = await launchBrowser(false);
  try {
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    const auth = `127.0.0.1:${port}`;
    const payload = [
      ['extensionDevelopmentPath', `vscode-remote://${auth}${ROOT}`],
      ['extensionTestsPath', `vscode-remote://${auth}${ROOT}/out/e2e/index.js`],
    ];
    await page.goto(
      `http://${auth}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`,
    );
    for (let i = 0; i < 600 && !fs.existsSync(resultFile); i++) await sleep(500);
    const out = fs.existsSync(resultFile)
      ? fs.readFileSync(resultFile, 'utf8')
      : `NO RESULT (server log: ${server.profile}/server.log)`;
    console.log(out);
    const m = /FAILURES=(\d+)/.exec(out);
    console.log(`host suite: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return m && m[1] === '0';
  } finally {
    await ctx.close();
    server.stop();
  }
}

export function packageVsix() {
  const vsix = path.join(ROOT, 'feature-lens-linux-x64.vsix');
  if (process.env.FEATURE_LENS_VSIX) return process.env.FEATURE_LENS_VSIX;
  // Its output goes to stderr: fresh-windows.mjs prints its JSON report on stdout.
  const r = spawnSync('npm', ['run', '-s', 'package'], { cwd: ROOT, stdio: ['inherit', 2, 2] });
  if (r.status !== 0 || !fs.existsSync(vsix)) throw new Error('npm run package failed');
  return vsix;
}

async function runUi() {
  const t0 = Date.now();
  const vsix = packageVsix();
  const { uiScenario } = await import('../../test/e2e/ui.mjs');
  fs.mkdirSync(RESULTS, { recursive: true });
  let ok = true;
  const modes = (process.env.FEATURE_LENS_UI_MODES ?? 'webgpu,no-webgpu,a11y').split(',');
  for (const webgpu of [true, false].filter((g) => modes.includes(g ? 'webgpu' : 'no-webgpu'))) {
    const port = await freePort();
    const folder = makeWorkspace(
      temporary(fs.mkdtempSync(path.join(os.tmpdir(), `fl-ws-ui-${webgpu ? 'gpu' : 'nogpu'}-`))),
    );
    // The run without WebGPU also uses a dark theme, so the screenshots show the panel in both.
    const server = await startServer({
      port,
      folder,
      vsix,
      settings: webgpu ? {} : { 'workbench.colorTheme': 'Default Dark Modern' },
    });
    const ctx = await launchBrowser(webgpu);
    const t1 = Date.now();
    try {
      await uiScenario({
        ctx,
        url: `http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}`,
        webgpu,
        results: RESULTS,
        log: console.log,
      });
      console.log(`ui ${webgpu ? 'webgpu' : 'no-webgpu'}: PASS in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
      if (!webgpu) {
        const t2 = Date.now();
        const { nfaScenario, labScenario } = await import('../../test/e2e/ui-nfa.mjs');
        await nfaScenario({ ctx, results: RESULTS, log: console.log });
        await labScenario({ ctx, results: RESULTS, log: console.log });
        console.log(`ui nfa: PASS in ${((Date.now() - t2) / 1000).toFixed(1)} s`);
      }
    } catch (e) {
      ok = false;
      await ctx
        .pages()[0]
        ?.screenshot({ path: path.join(RESULTS, `ui-${webgpu ? 'webgpu' : 'no-webgpu'}-FAILED.png`) })
        .catch(() => {});
      console.log(
        `ui ${webgpu ? 'webgpu' : 'no-webgpu'}: FAIL ${e instanceof Error ? e.stack : e} (server log ${server.profile}/server.log)`,
      );
    } finally {
      await ctx.close();
      server.stop();
    }
  }
  if (modes.includes('a11y')) ok = (await runA11y(vsix)) && ok;
  console.log(`ui suite: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return ok;
}

/** axe-core on every view, once per theme (test/e2e/a11y.mjs): no violation of WCAG 2 A/AA in any. */
async function runA11y(vsix) {
  const { a11yScenario, themeSettings, THEMES } = await import('../../test/e2e/a11y.mjs');
  const kinds = { Dark: 'vscode-dark', Light: 'vscode-light', High: 'vscode-high-contrast' };
  let ok = true;
  for (const theme of (process.env.FEATURE_LENS_A11Y_THEMES?.split(',') ?? THEMES).map((t) => t.trim())) {
    const t1 = Date.now();
    const port = await freePort();
    const folder = makeWorkspace(fs.mkdtempSync(path.join(os.tmpdir(), 'fl-ws-a11y-')));
    // Image-shaped data for the panel's images, and a training log for the spike view.
    fs.copyFileSync(path.join(ROOT, 'test/fixtures/digits.csv'), path.join(folder, 'digits.csv'));
    fs.copyFileSync(path.join(ROOT, 'test/fixtures/logs/metrics.csv'), path.join(folder, 'metrics.csv'));
    fs.copyFileSync(path.join(ROOT, 'examples/lowrank.npy'), path.join(folder, 'lowrank.npy'));
    // A classifier and its train/held-out rows for the Neural Collapse tab and Deep RFM.
    fs.mkdirSync(path.join(folder, 'collapse'));
    for (const f of ['collapse_net.pt', 'collapse_train.csv', 'collapse_test.csv'])
      fs.copyFileSync(path.join(ROOT, 'test/fixtures/weights', f), path.join(folder, 'collapse', f));
    const server = await startServer({ port, folder, vsix, settings: themeSettings(theme) });
    const ctx = await launchBrowser(false);
    try {
      const reports = await a11yScenario({
        ctx,
        url: `http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}`,
        theme,
        results: RESULTS,
        log: console.log,
      });
      const problems = [];
      const kind = Object.entries(kinds).find(([k]) => theme.includes(k))?.[1];
      for (const r of reports) {
        if (kind && r.themeKind !== kind) problems.push(`${r.view}: theme kind ${r.themeKind}, expected ${kind}`);
        for (const v of r.violations)
          problems.push(`${r.view}: ${v.id} x${v.nodes} ${v.targets[0] ?? ''} ${v.why[0] ?? ''}`);
      }
      if (problems.length) throw new Error(`${problems.length} accessibility problem(s):\n  ${problems.join('\n  ')}`);
      console.log(`a11y ${theme}: PASS (${reports.length} views) in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
    } catch (e) {
      ok = false;
      await ctx
        .pages()[0]
        ?.screenshot({ path: path.join(RESULTS, `a11y-${theme.replace(/\s+/g, '-')}-FAILED.png`) })
        .catch(() => {});
      console.log(`a11y ${theme}: FAIL ${e instanceof Error ? e.stack : e} (server log ${server.profile}/server.log)`);
    } finally {
      await ctx.close();
      server.stop();
    }
  }
  return ok;
}

// Imported by other e2e scripts (scripts/e2e/fresh-windows.mjs) for its helpers: run only when executed.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  ensureInstalled();
  let ok = true;
  if (what === 'host' || what === 'all') ok = (await runHost()) && ok;
  if (what === 'ui' || what === 'all') ok = (await runUi()) && ok;
  console.log(ok ? 'e2e: PASS' : 'e2e: FAIL');
  if (!ok) console.log(`e2e: profiles kept for inspection: ${temporaries.join(' ')}`);
  else if (process.env.FEATURE_LENS_KEEP_PROFILES !== '1') removeTemporaries();
  process.exit(ok ? 0 : 1);
}
