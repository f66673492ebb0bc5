// In a real VS Code: featureLens.fitConvRfm on a bundled image .npz (40 images of 2 x 8 x 8, labels y)
// draws in its view the numbers the CLI's `convrfm --json` reports for the same options and seed, and
// the view comes back after a window reload (its registered serializer, called as VS Code does) by
// fitting the same file again; a revived view whose file is gone, or that has no state, says why.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ConvRfmReport } from '../../../src/core/rfm/conv-report';
import type { ConvRfmView } from '../../../src/protocol/convrfm';
import { cliJson, ext, workspaceFile } from './extensionApi';

const FIXTURE = 'conv_images.npz';
/** The options of both runs: the CPU placement, so the panel and the CLI compute in float64 alike. */
const OPTIONS = { target: 'y', patch: 3, iters: 2, seed: 3, backend: 'cpu' } as const;

const ws = (name: string): vscode.Uri => workspaceFile('convrfm-fixtures', name);

const cliConvRfm = (data: vscode.Uri): ConvRfmReport =>
  cliJson<ConvRfmReport>([
    'convrfm',
    data.fsPath,
    '--target',
    OPTIONS.target,
    '--patch',
    String(OPTIONS.patch),
    '--iters',
    String(OPTIONS.iters),
    '--seed',
    String(OPTIONS.seed),
    '--backend',
    OPTIONS.backend,
    '--quiet',
  ]);

const close = (a: number | null, b: number | null, what: string, tol = 1e-9) => {
  if (a === null || b === null) return assert.equal(a, b, what);
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
};

/** The numbers the page received against the CLI's report. */
function assertSameFit(view: ConvRfmView, cli: ConvRfmReport, what: string): void {
  assert.equal(view.task, cli.task, `${what}: task`);
  assert.equal(view.nTrain, cli.n_train, `${what}: n_train`);
  assert.equal(view.nTest, cli.n_test, `${what}: n_test`);
  assert.equal(view.patch, cli.patch, `${what}: patch`);
  assert.deepEqual(view.imageShape, [2, 8, 8], `${what}: image shape`);
  assert.equal(view.iterations.length, cli.iterations.length, `${what}: iterations`);
  view.iterations.forEach((it, i) => {
    const c = cli.iterations[i];
    assert.equal(it.iter, c.iter);
    close(it.trainMetric, c.train_metric, `${what}: iteration ${i} train metric`);
    close(it.testMetric, c.test_metric, `${what}: iteration ${i} test metric`);
    close(it.testMse, c.test_mse, `${what}: iteration ${i} test MSE`);
  });
  const M = new Float64Array(view.M);
  const D = cli.M.length;
  assert.equal(view.patchDim, D, `${what}: patch dimension`);
  assert.equal(D, 2 * 3 * 3);
  for (let i = 0; i < D; i++)
    for (let j = 0; j < D; j++) close(M[i * D + j], cli.M[i][j], `${what}: M[${i}][${j}]`, 1e-8);
}

suite('ConvRFM view', () => {
  const api = () => ext().exports.convrfm;
  let cli: ConvRfmReport;

  suiteSetup(async () => {
    await ext().activate();
    await vscode.workspace.fs.createDirectory(ws(''));
    await vscode.workspace.fs.copy(
      vscode.Uri.file(path.join(ext().extensionPath, 'test/fixtures/weights', FIXTURE)),
      ws(FIXTURE),
      { overwrite: true },
    );
    cli = cliConvRfm(ws(FIXTURE));
  });

  test('ConvRFM: the view shows the CLI report of the same seed (metrics per iteration, M)', async () => {
    const report = await vscode.commands.executeCommand<ConvRfmReport>('featureLens.fitConvRfm', ws(FIXTURE), {
      ...OPTIONS,
    });
    assert.ok(report, 'the command resolves to the report');
    const view = api().latest;
    assert.ok(view, 'a view was opened');
    await view.settled;
    assert.equal(view.failure, null);
    assert.ok(view.shown, 'the page was given the fit');
    assertSameFit(view.shown, cli, 'view vs CLI');
    // The report the command resolves to and the one the view copies are the CLI's too.
    assert.deepEqual(
      report.iterations.map((it) => it.test_metric),
      cli.iterations.map((it) => it.test_metric),
    );
    assert.deepEqual(JSON.parse(view.shown.report).final, report.final);
    view.panel.dispose();
  });

  suite('ConvRFM: the view comes back after a window reload', () => {
    const restored = (title: string) =>
      vscode.window.createWebviewPanel(
        'featureLens.convrfm',
        title,
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        {},
      );
    const state = (data: vscode.Uri) => ({
      title: `ConvRFM: ${path.basename(data.fsPath)}`,
      data: data.toString(),
      args: { ...OPTIONS },
    });

    test('ConvRFM: a revived view fits its saved file and options again, and shows the same numbers', async () => {
      const panel = restored('restored');
      await api().serializer.deserializeWebviewPanel(panel, state(ws(FIXTURE)));
      const view = api().latest;
      assert.ok(view && view.panel === panel, 'the revived panel is the one drawn into');
      // VS Code mounts the page only after the serializer returns: it must not wait for the fit.
      assert.equal(view.shown, null, 'the serializer returned before fitting');
      await view.settled;
      assert.equal(view.failure, null);
      assert.ok(view.shown);
      assert.equal(panel.title, `ConvRFM: ${FIXTURE}`);
      assertSameFit(view.shown, cli, 'revived view vs CLI');
      panel.dispose();
      // A page whose state had not reached the workbench's storage: found again by its tab title.
      const untitled = restored(`ConvRFM: ${FIXTURE}`);
      await api().serializer.deserializeWebviewPanel(untitled, undefined);
      await api().latest?.settled;
      assert.equal(api().latest?.panel, untitled);
      assert.ok(api().latest?.shown, api().latest?.failure ?? 'no view');
      assertSameFit(api().latest!.shown!, cli, 'view revived by title vs CLI');
      untitled.dispose();
    });

    test('ConvRFM: a revived view whose file is gone, or that kept no state, says so instead of staying blank', async () => {
      const gone = restored('gone');
      await api().serializer.deserializeWebviewPanel(gone, state(ws('moved-away.npz')));
      await api().latest?.settled;
      assert.equal(api().latest?.shown, null);
      assert.match(api().latest?.failure ?? '', /moved-away\.npz is no longer there/);
      gone.dispose();
      const bare = restored('never saved');
      await api().serializer.deserializeWebviewPanel(bare, undefined);
      await api().latest?.settled;
      assert.match(api().latest?.failure ?? '', /inputs were not saved.*Fit ConvRFM/);
      bare.dispose();
    });
  });
});
