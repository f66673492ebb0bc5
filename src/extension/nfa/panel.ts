import * as vscode from 'vscode';
import type { NfaHostToWebview, NfaView, NfaWebviewToHost } from '../../protocol/nfa';
import { bundleHtml, loadPage, localRoots } from '../host/webviewHtml';

export const NFA_VIEW_TYPE = 'featureLens.nfa';

/** One NFA view: heatmaps, correlation table and eigenvector comparison of one computation. */
export class NfaPanel {
  private readonly ready: Promise<void>;
  private isReady = false;
  private disposed = false;
  /** What the page was last given to draw, or why it could not (tests and the revival path read these). */
  shown: NfaView | null = null;
  failure: string | null = null;
  /** Resolves once the page has been given a result or a failure to show. */
  readonly settled: Promise<void>;
  private settle!: () => void;

  constructor(
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    log: vscode.LogOutputChannel,
  ) {
    let markReady!: () => void;
    this.ready = new Promise((r) => (markReady = r));
    this.settled = new Promise((r) => (this.settle = r));
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'icon.svg');
    panel.webview.onDidReceiveMessage(async (m: NfaWebviewToHost) => {
      if (m.type === 'ready') {
        this.isReady = true;
        markReady();
      } else if (m.type === 'copy') {
        await vscode.env.clipboard.writeText(m.text);
        void vscode.window.showInformationMessage(`Feature Lens: ${m.what} copied.`);
        log.info(`nfa view: copied ${m.what} (${m.text.length} characters)`);
      }
    });
    panel.onDidDispose(() => (this.disposed = true));
    loadPage(
      panel,
      () => bundleHtml(panel.webview, extensionUri, 'nfa', panel.title),
      () => this.isReady,
      log,
      'nfa view',
    );
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  async post(m: NfaHostToWebview): Promise<void> {
    if (m.type === 'show') {
      this.shown = m.view;
      this.failure = null;
      this.settle();
    } else if (m.type === 'failed') {
      this.failure = m.message;
      this.settle();
    }
    await this.ready;
    if (!this.disposed) await this.panel.webview.postMessage(m);
  }
}

export class NfaPanels {
  private last: NfaPanel | undefined;
  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  open(title: string): NfaPanel {
    // Later views join the column of the last one instead of opening yet another column.
    const column =
      this.last && !this.last.isDisposed
        ? (this.last.panel.viewColumn ?? vscode.ViewColumn.Beside)
        : vscode.ViewColumn.Beside;
    const panel = vscode.window.createWebviewPanel(
      NFA_VIEW_TYPE,
      title,
      { viewColumn: column, preserveFocus: true },
      {
        enableScripts: true,
        localResourceRoots: localRoots(this.extensionUri),
        retainContextWhenHidden: true,
        enableFindWidget: true,
      },
    );
    this.last = new NfaPanel(panel, this.extensionUri, this.log);
    return this.last;
  }

  /** A panel VS Code restored after a reload (WebviewPanelSerializer): same page, options set again. */
  adopt(panel: vscode.WebviewPanel): NfaPanel {
    panel.webview.options = { enableScripts: true, localResourceRoots: localRoots(this.extensionUri) };
    this.last = new NfaPanel(panel, this.extensionUri, this.log);
    return this.last;
  }

  get latest(): NfaPanel | undefined {
    return this.last;
  }
}
