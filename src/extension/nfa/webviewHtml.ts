import * as vscode from 'vscode';

function nonce(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < 32; i++) s += chars[Math.floor(Math.random() * chars.length)];
  return s;
}

export function localRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  return [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')];
}

/** A page for one of the issue-5 bundles (dist/<script>.js), same CSP and stylesheet as the RFM panel. */
export function bundleHtml(webview: vscode.Webview, extensionUri: vscode.Uri, script: 'weights' | 'nfa' | 'lab', title: string): string {
  const n = nonce();
  const src = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', `${script}.js`));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'panel.css'));
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} data: blob:`,
    `style-src ${webview.cspSource}`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${n}'`,
  ].join('; ');
  const esc = title.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}">
<title>${esc}</title>
</head>
<body data-entry="${script}">
<div id="app"></div>
<script nonce="${n}" src="${src}"></script>
</body>
</html>`;
}

export { registerReportingCommand, reportError } from '../commands';

/** Lets the extension host's event loop run (progress, cancel clicks, other extensions) between CPU steps. */
export function yieldToHost(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}
