// Runs inside a real VS Code extension host (code-server or desktop), against the built extension.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { loadDataset } from '../../../src/core/data/index';
import { fitRfm } from '../../../src/core/rfm/fit';
import { CpuBackend } from '../../../src/core/rfm/cpu';
import type { FeatureLensApi } from '../../../src/extension/extension';
import type { FitCommandResult } from '../../../src/extension/rfm/fit';

const EXT_ID = 'feature-lens.feature-lens';

function workspaceFile(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the e2e driver opens a workspace folder');
  return vscode.Uri.joinPath(folder.uri, name);
}

async function api(): Promise<FeatureLensApi> {
  const ext = vscode.extensions.getExtension<FeatureLensApi>(EXT_ID);
  assert.ok(ext, `${EXT_ID} is installed`);
  return ext.activate();
}

/** Captures error notifications instead of showing them (the test's vscode object is the extension's). */
async function withErrorMessages<T>(fn: () => Thenable<T>): Promise<{ value: T; errors: string[] }> {
  const errors: string[] = [];
  const original = vscode.window.showErrorMessage;
  (vscode.window as { showErrorMessage: unknown }).showErrorMessage = (msg: string) => {
    errors.push(msg);
    return Promise.resolve(undefined);
  };
  try {
    return { value: await fn(), errors };
  } finally {
    (vscode.window as { showErrorMessage: unknown }).showErrorMessage = original;
  }
}

suite('Feature Lens in a real VS Code', () => {
  let fitted: FitCommandResult | undefined;

  test('every command is registered', async () => {
    await api();
    const all = new Set(await vscode.commands.getCommands(true));
    for (const id of [
      'featureLens.fitRfm',
      'featureLens.fitRfmHere',
      'featureLens.open',
      'featureLens.showRun',
      'featureLens.exportRun',
      'featureLens.deleteRun',
      'featureLens.rerun',
    ]) {
      assert.ok(all.has(id), `${id} registered`);
    }
  });

  test('fitRfm with arguments saves a run with the same accuracy as the core fit and the CLI', async () => {
    const uri = workspaceFile('iris.csv');
    const args = { target: 'species', backend: 'cpu' as const, iters: 2, valFraction: 0.2, seed: 0 };
    const { value, errors } = await withErrorMessages(() =>
      vscode.commands.executeCommand<FitCommandResult | undefined>('featureLens.fitRfm', uri, args),
    );
    assert.deepEqual(errors, []);
    assert.ok(value, 'the command resolved to a result');
    fitted = value;
    assert.equal(value.backend, 'cpu');
    assert.match(value.runId, /^\d{8}-\d{6}-\w+$/);

    // The same fit done here, outside the extension, from the same bytes.
    const bytes = await vscode.workspace.fs.readFile(uri);
    const { dataset } = await loadDataset(bytes, 'iris.csv', { target: 'species' });
    const { DEFAULT_RFM_OPTIONS } = await import('../../../src/core/rfm/types');
    const ref = await fitRfm(
      dataset,
      { ...DEFAULT_RFM_OPTIONS, iters: 2, seed: 0 },
      { backend: new CpuBackend(), valFraction: 0.2 },
    );
    const final = value.final as { train_metric: number; test_metric: number | null };
    assert.equal(final.test_metric, ref.final.testMetric);
    assert.equal(final.train_metric, ref.final.trainMetric);
    assert.ok((ref.final.testMetric ?? 0) > 0.85, `iris validation accuracy ${ref.final.testMetric}`);

    // And the CLI on the same file and options prints the same accuracy in its JSON report.
    const ext = vscode.extensions.getExtension(EXT_ID)!;
    const jsonOut = path.join(os.tmpdir(), `fl-cli-${Date.now()}.json`);
    const cli = spawnSync(
      process.execPath,
      [
        path.join(ext.extensionPath, 'dist', 'cli.js'),
        'fit',
        uri.fsPath,
        '--target',
        'species',
        '--val-fraction',
        '0.2',
        '--seed',
        '0',
        '--iters',
        '2',
        '--backend',
        'cpu',
        '--json',
        jsonOut,
        '--quiet',
      ],
      { encoding: 'utf8', env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } },
    );
    assert.equal(cli.status, 0, cli.stderr);
    const report = JSON.parse(fs.readFileSync(jsonOut, 'utf8'));
    assert.equal(report.final.test_metric, final.test_metric);
    assert.equal(report.final.train_metric, final.train_metric);
    // The panel's JavaScript engine (Chromium) and Node's may differ in the last bits of exp/sqrt.
    const imp = value.importance as number[];
    assert.equal(imp.length, 4);
    report.importance.forEach((v: number, i: number) =>
      assert.ok(Math.abs(v - imp[i]) <= 1e-9 * Math.max(1, Math.abs(v)), `importance ${i}: ${v} vs ${imp[i]}`),
    );

    const { store } = await api();
    const saved = await store.get(value.runId);
    assert.ok(saved, 'the run is stored');
    assert.equal(saved.meta.dataset.rows, 150);
    assert.equal(saved.meta.dataset.cols, 4);
    assert.match(saved.meta.dataset.sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(saved.meta.final, value.final);
    const onDisk = JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(store.fileOf(value.runId))));
    assert.equal(onDisk.meta.runId, value.runId);
  });

  test('the Runs tree lists the saved run', async () => {
    assert.ok(fitted, 'depends on the fit test');
    const { runsTree } = await api();
    const items = await runsTree.getChildren();
    const item = items.find((i) => i.meta.runId === fitted!.runId);
    assert.ok(item, 'run listed');
    assert.match(String(item.label), /iris\.csv → species/);
    assert.match(String(item.description), /acc [01]\.\d{3} · cpu/);
  });

  test('export writes the run JSON, importances CSV and chart PNGs', async () => {
    assert.ok(fitted);
    const dir = workspaceFile(`export-${Date.now()}`);
    const written = await vscode.commands.executeCommand<string[]>('featureLens.exportRun', fitted.runId, dir);
    assert.ok(written && written.length >= 3, `written: ${written}`);
    const names = written.map((u) => u.slice(u.lastIndexOf('/') + 1));
    assert.ok(names.some((n) => n.endsWith('-importances.csv')));
    assert.ok(
      names.some((n) => n.endsWith('-heatmap.png')),
      names.join(', '),
    );
    assert.ok(
      names.some((n) => n.endsWith('-metric.png')),
      names.join(', '),
    );
    const csv = new TextDecoder().decode(
      await vscode.workspace.fs.readFile(vscode.Uri.parse(written.find((u) => u.endsWith('.csv'))!)),
    );
    const lines = csv.trim().split('\n');
    assert.equal(lines[0], 'rank,feature,importance');
    assert.equal(lines.length, 5);
    const png = await vscode.workspace.fs.readFile(vscode.Uri.parse(written.find((u) => u.endsWith('-heatmap.png'))!));
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
    // A second export to the same folder keeps the first files.
    const again = await vscode.commands.executeCommand<string[]>('featureLens.exportRun', fitted.runId, dir);
    assert.ok(again.every((u) => !written.includes(u)));
  });

  test('showRun opens the saved run and rerun repeats it with the same options', async () => {
    assert.ok(fitted);
    const shown = await vscode.commands.executeCommand<string>('featureLens.showRun', fitted.runId);
    assert.equal(shown, fitted.runId);
    const { panels } = await api();
    assert.ok(panels.forRun(fitted.runId), 'a panel shows the run');
    const again = await vscode.commands.executeCommand<FitCommandResult | undefined>('featureLens.rerun', fitted.runId);
    assert.ok(again);
    assert.notEqual(again.runId, fitted.runId);
    assert.deepEqual(again.final, fitted.final);
    assert.deepEqual(again.options, fitted.options);
  });

  test('backend auto falls back from a panel without WebGPU and says why', async () => {
    const r = await vscode.commands.executeCommand<FitCommandResult | undefined>(
      'featureLens.fitRfm',
      workspaceFile('iris.csv'),
      { target: 'species', iters: 1 },
    );
    assert.ok(r);
    assert.ok(['webgpu', 'cpu'].includes(r.backend));
    assert.ok(r.backendReason.length > 0);
    if (r.where === 'host' || r.backend === 'cpu') assert.match(r.backendReason, /panel/);
  });

  test('a panel whose page never says ready does not hold the fit: it runs on a host placement, in bounded time', async () => {
    // The host's test hook ignores the RFM page's 'ready' (as when its script never runs in a fresh
    // window); a short patience makes the watchdog give up after three quick loads.
    const env = process.env;
    const before = { deaf: env.FEATURE_LENS_TEST_DEAF_PAGES, patience: env.FEATURE_LENS_PAGE_PATIENCE_MS };
    env.FEATURE_LENS_TEST_DEAF_PAGES = 'rfm panel';
    env.FEATURE_LENS_PAGE_PATIENCE_MS = '500';
    const t0 = Date.now();
    try {
      const bound = 30_000;
      const r = await Promise.race([
        vscode.commands.executeCommand<FitCommandResult | undefined>('featureLens.fitRfm', workspaceFile('iris.csv'), {
          target: 'species',
          iters: 1,
        }),
        new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), bound)),
      ]);
      if (r === 'timeout') assert.fail(`the fit did not finish within ${bound / 1000} s`);
      assert.ok(r, 'the command resolved to a result');
      assert.equal(r.where, 'host');
      assert.match(r.backendReason, /in the extension host/);
      assert.match(r.backendReason, /the panel did not load/);
      const { panels, store } = await api();
      assert.equal(panels.forRun(r.runId)?.host.state, 'unavailable');
      assert.ok(await store.get(r.runId), 'the run is stored');
    } finally {
      for (const [k, v] of [
        ['FEATURE_LENS_TEST_DEAF_PAGES', before.deaf],
        ['FEATURE_LENS_PAGE_PATIENCE_MS', before.patience],
      ] as const)
        if (v === undefined) delete env[k];
        else env[k] = v;
    }
    assert.ok(Date.now() - t0 < 30_000);
  });

  test('a file with a user-declared extension (featureLens.datasetExtensions) is read as CSV', async () => {
    const r = await vscode.commands.executeCommand<FitCommandResult | undefined>(
      'featureLens.fitRfm',
      workspaceFile('flowers.data'),
      { target: 'species', backend: 'cpu', iters: 1 },
    );
    assert.ok(r);
    const { store } = await api();
    const run = await store.get(r.runId);
    assert.equal(run?.meta.dataset.name, 'flowers.data');
    assert.equal(run?.meta.dataset.rows, 150);
  });

  test('Open Feature Lens shows the last run in a panel', async () => {
    await vscode.commands.executeCommand('featureLens.open');
    const { panels, store } = await api();
    const last = (await store.list())[0];
    assert.ok(last && panels.forRun(last.runId), 'panel for the newest run');
  });

  test('featureLens.cancelFit stops a running fit: nothing is saved, no error shown', async () => {
    // A table big enough that the CPU fit in the panel runs for seconds.
    const rows = ['a,b,c,d,e,f,y'];
    let s = 1;
    const rnd = () => (s = (s * 16807) % 2147483647) / 2147483647;
    for (let i = 0; i < 2500; i++) {
      const x = Array.from({ length: 6 }, rnd);
      rows.push([...x.map((v) => v.toFixed(5)), (x[0] * x[1] + Math.sin(3 * x[2])).toFixed(5)].join(','));
    }
    const big = workspaceFile('big.csv');
    await vscode.workspace.fs.writeFile(big, new TextEncoder().encode(rows.join('\n') + '\n'));
    const { store } = await api();
    const before = (await store.list()).length;
    const running = withErrorMessages(() =>
      vscode.commands.executeCommand('featureLens.fitRfm', big, { target: 'y', backend: 'cpu', iters: 8 }),
    );
    await new Promise((r) => setTimeout(r, 2500));
    const cancelled = await vscode.commands.executeCommand<number>('featureLens.cancelFit');
    assert.equal(cancelled, 1);
    const { value, errors } = await running;
    assert.equal(value, undefined);
    assert.deepEqual(errors, []);
    assert.equal((await store.list()).length, before);
  });

  test('a malformed file gives an error message naming it, not a crash', async () => {
    const { value, errors } = await withErrorMessages(() =>
      vscode.commands.executeCommand('featureLens.fitRfm', workspaceFile('bad.csv'), { target: 'y', backend: 'cpu' }),
    );
    assert.equal(value, undefined);
    assert.equal(errors.length, 1, `errors: ${errors}`);
    assert.match(errors[0], /bad\.csv/);
  });

  test('an unknown option value is rejected with a message', async () => {
    const { value, errors } = await withErrorMessages(() =>
      vscode.commands.executeCommand('featureLens.fitRfm', workspaceFile('iris.csv'), {
        target: 'species',
        kernel: 'cosine',
      }),
    );
    assert.equal(value, undefined);
    assert.match(errors[0] ?? '', /kernel.*laplace, gaussian/);
  });

  test('deleteRun removes the run from the store and the tree', async () => {
    assert.ok(fitted);
    const ok = await vscode.commands.executeCommand<boolean>('featureLens.deleteRun', fitted.runId, { confirm: false });
    assert.equal(ok, true);
    const { store, runsTree } = await api();
    assert.equal(await store.get(fitted.runId), undefined);
    assert.ok(!(await runsTree.getChildren()).some((i) => i.meta.runId === fitted!.runId));
  });
});
