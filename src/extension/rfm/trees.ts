import * as vscode from 'vscode';
import { inspectDataset } from '../host/datasets';
import { datasetFilter } from '../host/prompts';
import { loaderName } from '../host/datasetFile';
import type { RunMeta, RunStore } from '../host/runStore';

/** Files under this size are read in the background to show rows x columns. */
const INSPECT_MAX_BYTES = 5 * 1024 * 1024;

export class DatasetItem extends vscode.TreeItem {
  constructor(
    readonly uri: vscode.Uri,
    shape: string | undefined,
  ) {
    super(uri, vscode.TreeItemCollapsibleState.None);
    this.label = vscode.workspace.asRelativePath(uri, false);
    this.description = shape;
    this.contextValue = 'dataset';
    this.command = { command: 'vscode.open', title: 'Open', arguments: [uri] };
    this.tooltip = shape ? `${this.label}\n${shape}` : String(this.label);
  }
}

/** Dataset files in the workspace, with rows x columns once read. */
export class DatasetsTree implements vscode.TreeDataProvider<DatasetItem> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly shapes = new Map<string, string>();
  private readonly pending = new Set<string>();
  private readonly errors = new Map<string, string>();

  constructor(private readonly log: vscode.LogOutputChannel) {}

  refresh(): void {
    this.shapes.clear();
    this.errors.clear();
    this.changed.fire();
  }

  /** Records a shape learnt elsewhere (after a fit) without reading the file again. */
  setShape(uri: vscode.Uri, rows: number, cols: number): void {
    this.shapes.set(uri.toString(), `${rows} × ${cols}`);
    this.changed.fire();
  }

  getTreeItem(e: DatasetItem): vscode.TreeItem {
    return e;
  }

  async getChildren(): Promise<DatasetItem[]> {
    if (!vscode.workspace.workspaceFolders?.length) return [];
    const files = await vscode.workspace.findFiles(
      `**/*.{${datasetFilter().join(',')}}`,
      '**/{node_modules,.git}/**',
      1000,
    );
    files.sort((a, b) => a.path.localeCompare(b.path));
    for (const f of files) this.inspectLater(f);
    return files.map((f) => {
      const item = new DatasetItem(f, this.shapes.get(f.toString()));
      const error = this.errors.get(f.toString());
      if (error) item.tooltip = error;
      return item;
    });
  }

  private inspectLater(uri: vscode.Uri): void {
    const key = uri.toString();
    if (this.shapes.has(key) || this.pending.has(key) || !vscode.workspace.isTrusted) return;
    this.pending.add(key);
    void (async () => {
      try {
        const stat = await vscode.workspace.fs.stat(uri);
        if (stat.size > INSPECT_MAX_BYTES) return;
        const info = await inspectDataset(await vscode.workspace.fs.readFile(uri), loaderName(uri));
        this.shapes.set(key, `${info.rows} × ${info.columns.length}`);
        this.changed.fire();
      } catch (e) {
        this.shapes.set(key, 'unreadable');
        this.errors.set(key, e instanceof Error ? e.message : String(e));
        this.log.debug(`datasets view: ${uri.fsPath}: ${e instanceof Error ? e.message : e}`);
        this.changed.fire();
      } finally {
        this.pending.delete(key);
      }
    })();
  }
}

export function metricLabel(meta: RunMeta): string {
  const name = meta.task === 'classification' ? 'acc' : 'R²';
  const v = meta.final.test_metric ?? meta.final.train_metric;
  return `${name} ${v.toFixed(3)}${meta.final.test_metric === null ? ' (train)' : ''}`;
}

export class RunItem extends vscode.TreeItem {
  constructor(readonly meta: RunMeta) {
    super(`${meta.dataset.name} → ${meta.target}`, vscode.TreeItemCollapsibleState.None);
    const when = new Date(meta.createdAt);
    this.description = `${metricLabel(meta)} · ${meta.backend} · ${when.toLocaleString()}`;
    this.tooltip = new vscode.MarkdownString(
      `**${meta.dataset.name}** → \`${meta.target}\` (${meta.task})\n\n` +
        `${meta.dataset.rows} rows × ${meta.dataset.cols} features\n\n` +
        `${metricLabel(meta)} · ${meta.seconds.toFixed(2)} s\n\n` +
        `${meta.backend} (${meta.device}), ${meta.where === 'panel' ? 'in the panel' : 'in the extension host'}\n\n` +
        `${when.toLocaleString()} · run \`${meta.runId}\``,
    );
    this.contextValue = 'run';
    this.iconPath = new vscode.ThemeIcon(meta.backend === 'webgpu' ? 'zap' : 'chip');
    this.command = { command: 'featureLens.showRun', title: 'Show Run', arguments: [meta.runId] };
    this.id = meta.runId;
  }
}

export class RunsTree implements vscode.TreeDataProvider<RunItem> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly store: RunStore) {
    store.onDidChange(() => this.changed.fire());
  }

  refresh(): void {
    this.changed.fire();
  }

  getTreeItem(e: RunItem): vscode.TreeItem {
    return e;
  }

  async getChildren(): Promise<RunItem[]> {
    return (await this.store.list()).map((m) => new RunItem(m));
  }
}
