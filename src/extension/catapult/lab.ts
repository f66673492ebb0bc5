import * as vscode from 'vscode';
import { loadDataset } from '../../core/data/index';
import { toWireDataset } from '../../protocol/wire';
import type { LabHostToWebview, LabSettings, LabWebviewToHost } from '../../protocol/catapult';
import { displayPath, loaderName, readDatasetFile } from '../host/datasetFile';
import { settingsBackend } from '../host/options';
import { pickDatasetFile } from '../host/prompts';
import { webviewOptions } from '../host/webviewHost';
import { viewHtml } from '../host/viewHtml';

export const LAB_VIEW_TYPE = 'featureLens.catapultLab';

/** batch at or above the row count is full-batch GD (the page's optimizer choice sends Number.MAX_SAFE_INTEGER). */
export const DEFAULT_LAB_SETTINGS: LabSettings = {
  model: 'relu',
  width: 256,
  lrFactor: 3,
  steps: 300,
  batch: Number.MAX_SAFE_INTEGER,
  seed: 0,
};

export type LabResult = Extract<LabWebviewToHost, { type: 'labDone' | 'labSweepDone' }>;

/**
 * The catapult lab: a webview that trains the linear toy and the ReLU network with the pure-TS core
 * (src/core/catapult) in the page itself, so the extension host never blocks on training; the page
 * yields between steps, so it stays responsive and runs can be stopped.
 */
export class CatapultLab {
  private static current: CatapultLab | undefined;
  readonly panel: vscode.WebviewPanel;
  private readonly ready: Promise<void>;
  private readonly waiting = new Map<string, { resolve: (r: LabResult) => void; reject: (e: Error) => void }>();

  static open(extensionUri: vscode.Uri, log: vscode.LogOutputChannel): CatapultLab {
    if (CatapultLab.current) {
      CatapultLab.current.panel.reveal(undefined, true);
      return CatapultLab.current;
    }
    return (CatapultLab.current = new CatapultLab(extensionUri, log));
  }

  /** A lab tab restored after a reload: a fresh page (runs are quick to repeat, so none is kept). */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, log: vscode.LogOutputChannel): CatapultLab {
    CatapultLab.current?.panel.dispose();
    return (CatapultLab.current = new CatapultLab(extensionUri, log, panel));
  }

  private constructor(
    extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
    revived?: vscode.WebviewPanel,
  ) {
    this.panel =
      revived ??
      vscode.window.createWebviewPanel(
        LAB_VIEW_TYPE,
        'Catapult Lab',
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        {
          ...webviewOptions(extensionUri),
          retainContextWhenHidden: true,
        },
      );
    if (revived) this.panel.webview.options = webviewOptions(extensionUri);
    this.panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'icon.svg');
    let markReady!: () => void;
    this.ready = new Promise((r) => (markReady = r));
    const sub = this.panel.webview.onDidReceiveMessage((m: LabWebviewToHost) => {
      switch (m.type) {
        case 'ready':
          markReady();
          void this.post({ type: 'labInit', settings: DEFAULT_LAB_SETTINGS });
          break;
        case 'log':
          log[m.level](`[catapult lab] ${m.message}`);
          break;
        case 'labPickDataset':
          void pickDatasetFile()
            .then((uri) => (uri ? this.useDataset(uri) : undefined))
            .catch((e) => {
              log.warn(`catapult lab: ${e instanceof Error ? e.message : String(e)}`);
              void vscode.window.showErrorMessage(`Feature Lens: ${e instanceof Error ? e.message : String(e)}`);
            });
          break;
        case 'labStarted':
          this.showProgress(m.what);
          break;
        case 'labDone':
        case 'labSweepDone':
          log.info(
            `catapult lab: ${m.type === 'labDone' ? `${m.model} lr factor run -> ${m.phase}, ${m.catapults} catapult(s)` : `${m.sweep} sweep, ${m.rows.length} runs`} in ${m.seconds.toFixed(2)} s on ${m.backend} (${m.device})${m.backendNote ? `; ${m.backendNote}` : ''}`,
          );
          this.waiting.get(m.requestId)?.resolve(m);
          this.waiting.delete(m.requestId);
          this.endProgress?.();
          break;
        case 'labFailed':
          log.warn(`catapult lab: ${m.message}`);
          this.waiting.get(m.requestId)?.reject(new Error(m.message));
          this.waiting.delete(m.requestId);
          this.endProgress?.();
          break;
      }
    });
    this.panel.webview.html = viewHtml(this.panel.webview, extensionUri, 'catapult', 'Catapult Lab');
    this.panel.onDidDispose(() => {
      sub.dispose();
      this.endProgress?.();
      for (const w of this.waiting.values()) w.reject(new Error('the Catapult Lab was closed'));
      this.waiting.clear();
      CatapultLab.current = undefined;
    });
  }

  /** Ends the progress notification of the run in flight (the page runs one at a time). */
  private endProgress: (() => void) | undefined;

  /** Training runs in the page; VS Code shows it is busy and offers Cancel, which stops the page's run. */
  private showProgress(what: string): void {
    this.endProgress?.();
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Catapult Lab: ${what}`, cancellable: true },
      (_progress, token) =>
        new Promise<void>((resolve) => {
          const sub = token.onCancellationRequested(() => void this.post({ type: 'labCancel' }));
          this.endProgress = () => {
            sub.dispose();
            this.endProgress = undefined;
            resolve();
          };
        }),
    );
  }

  private async post(m: LabHostToWebview): Promise<void> {
    await this.ready;
    await this.panel.webview.postMessage(m);
  }

  /**
   * The user's table for the ReLU network (read with workspace.fs like a fit's dataset; the target is
   * `target` or the loader's choice: a column named target/label/y, else the last one).
   */
  async useDataset(uri: vscode.Uri, target?: string): Promise<string> {
    const bytes = await readDatasetFile(uri);
    const { dataset } = await loadDataset(bytes, loaderName(uri), target ? { target } : {});
    const name = `${displayPath(uri)} (${dataset.X.rows} x ${dataset.X.cols}, target ${dataset.targetName}${dataset.task === 'classification' ? `: +1 for '${dataset.classes?.[0] ?? 0}', -1 otherwise` : ', standardised'})`;
    this.log.info(`catapult lab: training data ${name}`);
    await this.post({ type: 'labDataset', name, dataset: toWireDataset(dataset) });
    return name;
  }

  /** Runs in the page with these settings; resolves with the run's summary (for scripting and tests). */
  async run(settings: Partial<LabSettings>, sweep: 'none' | 'lr' | 'batch' = 'none'): Promise<LabResult> {
    const requestId = Math.random().toString(36).slice(2);
    const done = new Promise<LabResult>((resolve, reject) => this.waiting.set(requestId, { resolve, reject }));
    await this.post({
      type: 'labRun',
      requestId,
      settings: { ...DEFAULT_LAB_SETTINGS, backend: settingsBackend(), ...settings },
      sweep,
    });
    return done;
  }
}
