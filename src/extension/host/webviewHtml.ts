import * as vscode from 'vscode';
import { webviewPage } from './webviewPage';

export function localRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  return [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')];
}

/** A page for one of the issue-5 bundles (dist/<script>.js). */
export function bundleHtml(
  webview: vscode.Webview,
  extensionUri: vscode.Uri,
  script: 'weights' | 'nfa' | 'lab',
  title: string,
): string {
  return webviewPage(webview, extensionUri, { entry: script, bundle: script, title });
}

export { registerReportingCommand, reportError } from './commands';

/** Lets the extension host's event loop run (progress, cancel clicks, other extensions) between CPU steps. */
export function yieldToHost(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/**
 * Sets a page's HTML and sets it again (fresh nonce, so the page reloads) while it has not said
 * 'ready': a page revived after a window reload sometimes never runs its script (seen in code-server
 * with two restored views), which would leave a blank tab waiting forever.
 */
export function loadPage(
  panel: vscode.WebviewPanel,
  render: () => string,
  isReady: () => boolean,
  log: vscode.LogOutputChannel,
  label: string,
): void {
  const PATIENCE_MS = 8000;
  let attempts = 1;
  let disposed = false;
  panel.webview.html = render();
  const check = (): void => {
    if (disposed || isReady()) return;
    if (attempts >= 4) {
      log.warn(`${label}: the page did not load after ${attempts} attempts`);
      return;
    }
    attempts++;
    log.warn(`${label}: the page did not load within ${PATIENCE_MS / 1000} s; loading it again (attempt ${attempts})`);
    panel.webview.html = render();
    timer = setTimeout(check, PATIENCE_MS);
  };
  let timer = setTimeout(check, PATIENCE_MS);
  panel.onDidDispose(() => {
    disposed = true;
    clearTimeout(timer);
  });
}
