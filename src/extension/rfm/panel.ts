import * as vscode from 'vscode';
import { createPanel, WebviewHost } from '../host/webviewHost';
import { webviewPage } from '../host/webviewPage';
import type { FitReply, FitRequest, HostToWebview, PanelState, WebviewToHost } from '../../protocol/rfm';
import { parseState, RfmPanelStateSchema } from '../../protocol/viewState';
import type { IterationRecord } from '../../core/rfm/types';

export const PANEL_VIEW_TYPE = 'featureLens.panel';

/** The summary side view's static page (no script) in the panel's style. */
export function summaryHtml(webview: vscode.Webview, extensionUri: vscode.Uri, body: string): string {
  return webviewPage(webview, extensionUri, { entry: 'summary', body });
}

/** One RFM panel: draws a run (live while it fits) and can run fits on its page. */
export class RfmPanel {
  readonly host: WebviewHost<HostToWebview, WebviewToHost>;
  /** Progress listeners of the page fits under way, by fit id. */
  private readonly fits = new Map<string, (rec: IterationRecord) => void>();
  runId: string | null;

  constructor(
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    state: PanelState,
    log: vscode.LogOutputChannel,
  ) {
    this.runId = state.runId;
    this.host = new WebviewHost(panel, {
      extensionUri,
      log,
      label: 'rfm panel',
      page: { entry: 'panel', bundle: 'webview' },
      onMessage: (m) => {
        if (m.type === 'iteration') this.fits.get(m.fitId)?.(m.record);
      },
    });
  }

  get isDisposed(): boolean {
    return this.host.isDisposed;
  }

  post(m: HostToWebview): void {
    this.host.post(m);
  }

  /** Runs a fit on the page; `onIteration` hears its progress. Rejects (ChannelError) if the panel closes. */
  async fit(request: FitRequest, onIteration: (rec: IterationRecord) => void): Promise<FitReply> {
    this.fits.set(request.fitId, onIteration);
    try {
      const reply = await this.host.request(request);
      if (reply.type !== 'fitDone' && reply.type !== 'fitFailed') throw new Error(`unexpected reply '${reply.type}'`);
      return reply;
    } finally {
      this.fits.delete(request.fitId);
    }
  }

  /** PNGs of every chart currently drawn, for Export Run. */
  async charts(timeoutMs = 15000): Promise<{ name: string; png: ArrayBuffer }[]> {
    const reply = await this.host.request({ type: 'exportCharts' }, timeoutMs);
    if (reply.type !== 'charts') throw new Error(`unexpected reply '${reply.type}'`);
    return reply.charts;
  }
}

/** Panels by run; revives them after a reload. */
export class PanelManager implements vscode.WebviewPanelSerializer<PanelState> {
  private readonly panels = new Set<RfmPanel>();
  private lastActive: RfmPanel | undefined;
  /** Called when a revived panel needs its run drawn again. */
  onRevive: (p: RfmPanel) => void = () => {};

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  open(runId: string | null, title: string, reveal = true): RfmPanel {
    const existing = runId ? this.forRun(runId) : undefined;
    if (existing) {
      if (reveal) existing.panel.reveal(undefined, true);
      return existing;
    }
    // A fit runs inside the page: retainContextWhenHidden (createPanel) keeps it alive in a hidden tab.
    const panel = createPanel(this.extensionUri, PANEL_VIEW_TYPE, title, { findWidget: true });
    return this.track(new RfmPanel(panel, this.extensionUri, { runId }, this.log));
  }

  /** Returns at once: VS Code mounts a revived page only after this resolves, so waiting for it would hang. */
  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: PanelState | undefined): Promise<void> {
    // A state that does not parse (an older version's, a damaged one) revives an empty panel.
    const runId = parseState(RfmPanelStateSchema, state)?.runId ?? null;
    this.onRevive(this.track(new RfmPanel(panel, this.extensionUri, { runId }, this.log)));
  }

  /** The panel the user looked at last (for Export Run without arguments). */
  get active(): RfmPanel | undefined {
    return this.lastActive && !this.lastActive.isDisposed ? this.lastActive : undefined;
  }

  forRun(runId: string): RfmPanel | undefined {
    return [...this.panels].find((p) => p.runId === runId);
  }

  private track(p: RfmPanel): RfmPanel {
    this.panels.add(p);
    this.lastActive = p;
    p.panel.onDidChangeViewState((e) => {
      if (e.webviewPanel.active) this.lastActive = p;
    });
    p.host.onDidDispose(() => {
      this.panels.delete(p);
      if (this.lastActive === p) this.lastActive = undefined;
    });
    return p;
  }
}
