import * as vscode from 'vscode';
import { type SpikeParams } from '../../core/logs/index';
import type { LogsPanelState } from '../../protocol/logs';
import { LogsPanelStateSchema, parseState } from '../../protocol/viewState';
import type { Ctx } from '../ctx';
import { followKindOf, resolveLogTarget } from './logTarget';
import { SPIKES_VIEW_TYPE, SpikeWatch, type SpikeWatchState, type WatchSettings } from './spikeWatch';

export interface WatchArgs {
  /** The loss column, when the user (or a test) already knows it. */
  column?: string;
}

function watchSettings(): WatchSettings {
  const c = vscode.workspace.getConfiguration('featureLens.spikes');
  const spikes: Partial<SpikeParams> = {};
  const threshold = c.get<number>('threshold');
  const ratio = c.get<number>('minHeightRatio');
  if (typeof threshold === 'number' && threshold > 0) spikes.threshold = threshold;
  if (typeof ratio === 'number' && ratio >= 1) spikes.minHeightRatio = ratio;
  return {
    notify: c.get<boolean>('notify', true),
    spikes,
    logScale: c.get<boolean>('logScale', true),
    smoothing: Math.min(0.99, Math.max(0, c.get<number>('smoothing', 0.6))),
  };
}

/**
 * Folders the explorer offers Watch Loss Spikes on: those holding TensorBoard event files or a
 * metrics.csv (a `when` clause cannot look inside a folder, so the paths go into a context key).
 */
function publishLogFolders(log: vscode.LogOutputChannel): () => void {
  let timer: NodeJS.Timeout | undefined;
  const run = async () => {
    try {
      const files = await vscode.workspace.findFiles(
        '**/{events.out.tfevents.*,metrics.csv}',
        '**/node_modules/**',
        2000,
      );
      const dirs = new Set<string>();
      for (const f of files) {
        // The run folder and its parents up to the workspace folder (runs/, lightning_logs/ stand for their newest run).
        const root = vscode.workspace.getWorkspaceFolder(f)?.uri.path ?? '/';
        let dir = f.path.slice(0, f.path.lastIndexOf('/'));
        for (let k = 0; k < 4 && dir.length > root.length; k++) {
          // resourcePath in a `when` clause is the file-system path; the URI path too, for other schemes.
          dirs.add(dir);
          dirs.add(f.with({ path: dir }).fsPath);
          dir = dir.slice(0, dir.lastIndexOf('/'));
        }
      }
      await vscode.commands.executeCommand('setContext', 'featureLens.logFolders', [...dirs]);
    } catch (e) {
      log.warn(`spikes: could not list log folders: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  void run();
  return () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void run(), 2000);
  };
}

/** The live loss-spike views: their commands, the explorer's log folders, revival after a reload. */
export function register(ctx: Ctx): void {
  const log = ctx.log;
  const watches = new Set<SpikeWatch>();
  const refreshFolders = publishLogFolders(log);
  const folderWatcher = vscode.workspace.createFileSystemWatcher(
    '**/{events.out.tfevents.*,metrics.csv}',
    false,
    true,
    false,
  );

  async function askForLog(): Promise<vscode.Uri | undefined> {
    const active = vscode.window.activeTextEditor?.document.uri;
    if (active && followKindOf(active.path)) return active;
    const picked = await vscode.window.showOpenDialog({
      canSelectFiles: true,
      canSelectFolders: true,
      canSelectMany: false,
      openLabel: 'Watch',
      title: 'Training log or run folder to watch',
      defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
      filters: {
        'Training logs': ['csv', 'tsv', 'jsonl', 'ndjson', 'json'],
        'All files (TensorBoard event files)': ['*'],
      },
    });
    return picked?.[0];
  }

  const watch = async (arg?: vscode.Uri | string, args: WatchArgs = {}): Promise<string | undefined> => {
    const uri =
      typeof arg === 'string'
        ? /^[a-z][a-z0-9+.-]+:/i.test(arg) && !/^[A-Za-z]:[\\/]/.test(arg)
          ? vscode.Uri.parse(arg)
          : vscode.Uri.file(arg)
        : arg instanceof vscode.Uri
          ? arg
          : await askForLog();
    if (!uri) return undefined;
    const target = await resolveLogTarget(uri);
    const existing = [...watches].find((w) => w.target.file.toString() === target.file.toString());
    if (existing) {
      existing.panel.reveal(undefined, true);
      if (args.column) existing.pickColumn(args.column);
      return target.file.toString();
    }
    log.info(`spikes: watching ${target.file.toString()} as ${target.kind}${target.note ? ` (${target.note})` : ''}`);
    watches.add(new SpikeWatch(target, ctx, watchSettings(), (w) => watches.delete(w), args.column));
    return target.file.toString();
  };

  ctx.commands({
    'featureLens.watchLossSpikes': watch,
    // Test and scripting hook: what each live view holds (host) and shows (webview).
    'featureLens.spikes.state': async (): Promise<SpikeWatchState[]> => [...watches].map((w) => w.state()),
  });
  ctx.subscribe(
    folderWatcher,
    folderWatcher.onDidCreate(refreshFolders),
    folderWatcher.onDidDelete(refreshFolders),
    new vscode.Disposable(() => {
      for (const w of [...watches]) w.panel.dispose();
    }),
    // After a reload the views come back following the same file or folder.
    vscode.window.registerWebviewPanelSerializer(SPIKES_VIEW_TYPE, {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel, saved: LogsPanelState | undefined) {
        const state = parseState(LogsPanelStateSchema, saved);
        const requested = state ? vscode.Uri.parse(state.requested) : undefined;
        const target =
          requested &&
          (await resolveLogTarget(requested).catch((e) => {
            log.warn(`spikes: cannot revive a view: ${e instanceof Error ? e.message : String(e)}`);
            return undefined;
          }));
        if (!target) {
          panel.dispose();
          return;
        }
        watches.add(
          new SpikeWatch(target, ctx, watchSettings(), (w) => watches.delete(w), state?.column ?? undefined, panel),
        );
      },
    }),
  );
}
