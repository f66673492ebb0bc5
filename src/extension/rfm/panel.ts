import * as vscode from 'vscode';
import { webviewPage } from '../host/webviewPage';
import type { HostToWebview, PanelState, WebviewToHost } from '../../protocol/rfm';

export const PANEL_VIEW_TYPE = 'featureLens.panel';

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

export function panelHtml(
  webview: vscode.Webview,
  extensionUri: vscode.Uri,
  entry: 'panel' | 'summary',
  body = '',
): string {
  // The summary view is static HTML; only the panel runs the webview bundle.
  return webviewPage(webview, extensionUri, { entry, bundle: entry === 'panel' ? 'webview' : undefined, body });
}

/** One Feature Lens panel: a webview that draws a run and can run fits on its GPU. */
export class LensPanel {
  private readonly listeners = new Set<(m: WebviewToHost) => void>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly readyPromise: Promise<void>;
  private disposed = false;
  runId: string | null;

  constructor(
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    state: PanelState,
    private readonly log: vscode.LogOutputChannel,
    onDispose: (p: LensPanel) => void,
  ) {
    this.runId = state.runId;
    panel.webview.options = webviewOptions(extensionUri);
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'icon.svg');
    let markReady!: () => void;
    this.readyPromise = new Promise((r) => (markReady = r));
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: WebviewToHost) => {
        if (m.type === 'ready') markReady();
        else if (m.type === 'log') log[m.level](`[panel] ${m.message}`);
        for (const l of [...this.listeners]) l(m);
      }),
      panel.onDidDispose(() => {
        this.disposed = true;
        for (const d of this.disposables) d.dispose();
        for (const l of [...this.listeners])
          l({ type: 'fitFailed', fitId: '*', gpuUnavailable: true, cancelled: false, message: 'the panel was closed' });
        onDispose(this);
      }),
    );
    panel.webview.html = panelHtml(panel.webview, extensionUri, 'panel');
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  async post(msg: HostToWebview): Promise<void> {
    await this.readyPromise;
    if (this.disposed) return;
    const ok = await this.panel.webview.postMessage(msg);
    if (!ok) this.log.warn(`panel did not accept a '${msg.type}' message`);
  }

  onMessage(fn: (m: WebviewToHost) => void): vscode.Disposable {
    this.listeners.add(fn);
    return new vscode.Disposable(() => this.listeners.delete(fn));
  }

  /** PNGs of every chart currently drawn, for Export Run. */
  async charts(timeoutMs = 15000): Promise<{ name: string; png: ArrayBuffer }[]> {
    const requestId = Math.random().toString(36).slice(2);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        sub.dispose();
        reject(new Error('the panel did not send its charts'));
      }, timeoutMs);
      const sub = this.onMessage((m) => {
        if (m.type === 'charts' && m.requestId === requestId) {
          clearTimeout(timer);
          sub.dispose();
          resolve(m.charts);
        }
      });
      void this.post({ type: 'exportCharts', requestId });
    });
  }
}

/** Panels by run; revives them after a reload. */
export class PanelManager implements vscode.WebviewPanelSerializer<PanelState> {
  private readonly panels = new Set<LensPanel>();
  private lastActive: LensPanel | undefined;
  /** Called when a revived panel needs its run drawn again. */
  onRevive: (p: LensPanel) => void = () => {};

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  open(runId: string | null, title: string, reveal = true): LensPanel {
    const existing = runId ? [...this.panels].find((p) => p.runId === runId) : undefined;
    if (existing) {
      if (reveal) existing.panel.reveal(undefined, true);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(
      PANEL_VIEW_TYPE,
      title,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      {
        ...webviewOptions(this.extensionUri),
        // A fit runs inside the webview: hiding the tab must not kill it.
        retainContextWhenHidden: true,
        enableFindWidget: true,
      },
    );
    return this.track(new LensPanel(panel, this.extensionUri, { runId }, this.log, (p) => this.forget(p)));
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: PanelState | undefined): Promise<void> {
    const p = this.track(
      new LensPanel(panel, this.extensionUri, { runId: state?.runId ?? null }, this.log, (x) => this.forget(x)),
    );
    this.onRevive(p);
  }

  /** The panel the user looked at last (for Export Run without arguments). */
  get active(): LensPanel | undefined {
    return this.lastActive && !this.lastActive.isDisposed ? this.lastActive : undefined;
  }

  forRun(runId: string): LensPanel | undefined {
    return [...this.panels].find((p) => p.runId === runId);
  }

  all(): LensPanel[] {
    return [...this.panels];
  }

  private track(p: LensPanel): LensPanel {
    this.panels.add(p);
    this.lastActive = p;
    p.panel.onDidChangeViewState((e) => {
      if (e.webviewPanel.active) this.lastActive = p;
    });
    return p;
  }

  private forget(p: LensPanel): void {
    this.panels.delete(p);
    if (this.lastActive === p) this.lastActive = undefined;
  }
}
