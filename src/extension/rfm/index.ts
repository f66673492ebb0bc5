// The RFM feature of the extension: its commands (one table), the Datasets and Runs trees, the summary
// view and the panels (revived after a reload).
import * as vscode from 'vscode';
import { InputError } from '../../core/errors';
import type { Ctx } from '../ctx';
import { toUri } from '../host/datasetFile';
import { datasetExtensions, isDatasetUri, type FitArgs } from '../host/options';
import type { RunRecord } from '../host/runStore';
import { exportRun } from './export';
import { FitService } from './fit';
import { PANEL_VIEW_TYPE, PanelManager, type RfmPanel } from './panel';
import { SummaryView } from './summaryView';
import { DatasetsTree, RunItem, RunsTree } from './trees';
import { runViewOf } from './view';

export interface RfmApi {
  panels: PanelManager;
  runsTree: RunsTree;
  datasetsTree: DatasetsTree;
}

const panelTitle = (datasetName: string) => `RFM: ${datasetName.split('/').pop()}`;

export function register(ctx: Ctx): RfmApi {
  const { store, log } = ctx;
  const panels = new PanelManager(ctx.extensionUri, log);
  const fits = new FitService(ctx, panels);
  const datasets = new DatasetsTree(log);
  const runs = new RunsTree(store);
  const summary = new SummaryView(ctx.extensionUri, store);

  // Explorer menus match the built-in extensions statically; the setting's extras need this key.
  const publishExtensions = () =>
    void vscode.commands.executeCommand('setContext', 'featureLens.datasetExtensions', datasetExtensions());
  publishExtensions();

  // A panel revived without a run in its webview state (the state had not reached the workbench's
  // storage before the window closed) shows the newest saved run rather than an empty page.
  panels.onRevive = (p) => void (async () => showRunIn(p, p.runId ?? (await store.list())[0]?.runId ?? null))();

  async function showRunIn(p: RfmPanel, runId: string | null): Promise<void> {
    const run = runId ? await store.get(runId) : undefined;
    if (!run) {
      p.post({
        type: 'failed',
        message: runId
          ? `Run ${runId} is no longer stored (deleted?).`
          : "Nothing to show yet: fit an RFM from a dataset's context menu.",
      });
      return;
    }
    p.panel.title = panelTitle(run.meta.dataset.name);
    p.post({ type: 'show', view: runViewOf(run) });
  }

  async function resolveRun(arg: unknown, placeHolder: string): Promise<RunRecord | undefined> {
    let runId: string | undefined;
    if (typeof arg === 'string') runId = arg;
    else if (arg instanceof RunItem) runId = arg.meta.runId;
    else if (arg && typeof arg === 'object' && typeof (arg as { runId?: unknown }).runId === 'string')
      runId = (arg as { runId: string }).runId;
    if (!runId) {
      const metas = await store.list();
      if (!metas.length) {
        void vscode.window.showInformationMessage('Feature Lens: no saved runs yet.');
        return undefined;
      }
      const pick = await vscode.window.showQuickPick(
        metas.map((m) => {
          const item = new RunItem(m);
          return { label: String(item.label), description: String(item.description), runId: m.runId };
        }),
        { placeHolder },
      );
      runId = pick?.runId;
      if (!runId) return undefined;
    }
    const run = await store.get(runId);
    if (!run) throw new InputError(`run '${runId}' is not stored in this workspace`);
    return run;
  }

  const fit = async (uri?: vscode.Uri | string, args?: FitArgs) => {
    summary.setRunning(
      uri ? String(typeof uri === 'string' ? uri : vscode.workspace.asRelativePath(uri, false)) : 'choosing a dataset…',
    );
    try {
      const r = await fits.fit(uri === undefined ? undefined : toUri(uri), args ?? {});
      if (r) datasets.refresh();
      return r;
    } finally {
      summary.setRunning(undefined);
    }
  };

  ctx.subscribe(
    vscode.window.registerTreeDataProvider('featureLens.datasets', datasets),
    vscode.window.registerTreeDataProvider('featureLens.runs', runs),
    vscode.window.registerWebviewViewProvider('featureLens.summary', summary),
    vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, panels),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('featureLens.datasetExtensions')) {
        publishExtensions();
        datasets.refresh();
      }
    }),
  );

  ctx.commands({
    'featureLens.fitRfm': fit,
    // The explorer passes (clicked uri, all selected uris); the Datasets view passes its item.
    'featureLens.fitRfmHere': async (arg?: vscode.Uri | { uri: vscode.Uri }) => {
      const uri = arg instanceof vscode.Uri ? arg : (arg?.uri ?? vscode.window.activeTextEditor?.document.uri);
      return fit(uri);
    },
    'featureLens.open': async () => {
      await vscode.commands.executeCommand('workbench.view.extension.featureLens');
      const last = (await store.list())[0];
      const p = panels.open(last?.runId ?? null, last ? panelTitle(last.dataset.name) : 'Feature Lens');
      await showRunIn(p, last?.runId ?? null);
    },
    'featureLens.showRun': async (arg?: unknown) => {
      const run = await resolveRun(arg, 'Run to show');
      if (!run) return undefined;
      const p = panels.open(run.meta.runId, panelTitle(run.meta.dataset.name));
      await showRunIn(p, run.meta.runId);
      return run.meta.runId;
    },
    'featureLens.exportRun': async (arg?: unknown, folder?: vscode.Uri | string) => {
      const run = await resolveRun(arg ?? panels.active?.runId ?? undefined, 'Run to export');
      if (!run) return undefined;
      let dir = folder === undefined ? undefined : toUri(folder);
      if (!dir) {
        const picked = await vscode.window.showOpenDialog({
          canSelectFiles: false,
          canSelectFolders: true,
          canSelectMany: false,
          openLabel: 'Export Here',
          defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
        });
        dir = picked?.[0];
        if (!dir) return undefined;
      }
      let p = panels.forRun(run.meta.runId);
      if (!p) {
        p = panels.open(run.meta.runId, panelTitle(run.meta.dataset.name));
        await showRunIn(p, run.meta.runId);
      }
      const written = await exportRun(run, dir, p, log);
      void vscode.window.showInformationMessage(
        `Feature Lens: exported ${written.length} files to ${vscode.workspace.asRelativePath(dir, false)}.`,
      );
      return written.map((u) => u.toString());
    },
    'featureLens.deleteRun': async (arg?: unknown, opts?: { confirm?: boolean }) => {
      const run = await resolveRun(arg ?? panels.active?.runId ?? undefined, 'Run to delete');
      if (!run) return false;
      if (opts?.confirm !== false) {
        const ok = await vscode.window.showWarningMessage(
          `Delete the run of ${run.meta.dataset.name} from ${new Date(run.meta.createdAt).toLocaleString()}?`,
          { modal: true },
          'Delete',
        );
        if (ok !== 'Delete') return false;
      }
      await store.delete(run.meta.runId);
      panels.forRun(run.meta.runId)?.panel.dispose();
      log.info(`deleted run ${run.meta.runId}`);
      return true;
    },
    'featureLens.rerun': async (arg?: unknown) => {
      const run = await resolveRun(arg ?? panels.active?.runId ?? undefined, 'Run to repeat');
      if (!run) return undefined;
      // "The current file" is the dataset in the active editor when there is one, else the run's own.
      const active = vscode.window.activeTextEditor?.document.uri;
      const uri = active && isDatasetUri(active) ? active : vscode.Uri.parse(run.meta.dataset.uri);
      const { test, ...args } = run.args;
      return fit(uri, {
        ...args,
        ...run.options,
        valFraction: run.valFraction,
        target: run.meta.target,
        task: run.meta.task,
        ...(test ? { test: vscode.Uri.parse(test) } : {}),
      });
    },
    'featureLens.cancelFit': async () => {
      const n = fits.cancelAll();
      if (!n) void vscode.window.showInformationMessage('Feature Lens: no fit is running.');
      return n;
    },
    'featureLens.refreshDatasets': async () => datasets.refresh(),
    'featureLens.refreshRuns': async () => runs.refresh(),
  });

  return { panels, runsTree: runs, datasetsTree: datasets };
}
