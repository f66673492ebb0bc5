import * as vscode from 'vscode';
import { webviewOptions } from '../host/webviewHost';
import { summaryHtml } from './panel';
import type { RunMeta, RunStore } from '../host/runStore';
import { metricLabel } from './trees';

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The small side view with the current or last run's summary. Static HTML: it needs no script. */
export class SummaryView implements vscode.WebviewViewProvider {
  private view: vscode.WebviewView | undefined;
  private running: string | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly store: RunStore,
  ) {
    store.onDidChange(() => void this.render());
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = {
      ...webviewOptions(this.extensionUri),
      enableScripts: false,
      enableCommandUris: ['featureLens.showRun', 'featureLens.fitRfm', 'featureLens.exportRun'],
    };
    view.onDidDispose(() => (this.view = undefined));
    void this.render();
  }

  setRunning(text: string | undefined): void {
    this.running = text;
    void this.render();
  }

  private async render(): Promise<void> {
    if (!this.view) return;
    const last: RunMeta | undefined = (await this.store.list())[0];
    let body = '';
    if (this.running) body += `<p class="running">Running: ${esc(this.running)}</p>`;
    if (last) {
      const arg = encodeURIComponent(JSON.stringify([last.runId]));
      body += `<h3>${esc(last.dataset.name)} → ${esc(last.target)}</h3>
<dl>
<dt>Result</dt><dd>${esc(metricLabel(last))}</dd>
<dt>Data</dt><dd>${last.dataset.rows} × ${last.dataset.cols}, ${esc(last.task)}</dd>
<dt>Backend</dt><dd>${esc(last.backend)} (${esc(last.device)}), ${last.where === 'panel' ? 'panel' : 'extension host'}</dd>${last.solver ? `<dt>Solver</dt><dd>${esc(last.solver)}</dd>` : ''}
<dt>Time</dt><dd>${last.seconds.toFixed(2)} s · ${esc(new Date(last.createdAt).toLocaleString())}</dd>
</dl>
<p><a href="command:featureLens.showRun?${arg}">Open run</a> · <a href="command:featureLens.exportRun?${arg}">Export…</a></p>`;
    } else if (!this.running) {
      body += `<p>No runs yet. <a href="command:featureLens.fitRfm">Fit RFM on a dataset…</a></p>`;
    }
    this.view.webview.html = summaryHtml(this.view.webview, this.extensionUri, body);
  }
}
