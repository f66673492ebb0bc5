import * as vscode from 'vscode';

function nonce(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < 32; i++) s += chars[Math.floor(Math.random() * chars.length)];
  return s;
}

export interface PageOptions {
  /** `data-entry` of the body: which view the bundle draws. */
  entry: string;
  /** dist/<bundle>.js, loaded with the page's nonce; none for a static page. */
  bundle?: string;
  /** Stylesheets from media/ (panel.css first: the shared theme). */
  css?: string[];
  title?: string;
  body?: string;
}

/**
 * Every Feature Lens webview page: a strict CSP (no inline or remote scripts, only the bundle carrying
 * this page's nonce, and WebAssembly), resources through asWebviewUri from dist/ and media/.
 */
export function webviewPage(webview: vscode.Webview, extensionUri: vscode.Uri, o: PageOptions): string {
  const n = nonce();
  const media = (f: string) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', f));
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} data: blob:`,
    `style-src ${webview.cspSource}`,
    `font-src ${webview.cspSource}`,
    // 'wasm-unsafe-eval' lets the page compile the core's WebAssembly SIMD kernels (core/linalg/wasm:
    // the eigensolver's and preconditioner's loops, CG products on a software adapter); it allows no
    // JavaScript eval. Without it they fall back to their JavaScript loops.
    `script-src 'nonce-${n}' 'wasm-unsafe-eval'`,
  ].join('; ');
  const esc = (o.title ?? 'Feature Lens').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const links = (o.css ?? ['panel.css']).map((f) => `<link rel="stylesheet" href="${media(f)}">`).join('\n');
  const script = o.bundle
    ? `<script nonce="${n}" src="${webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', `${o.bundle}.js`))}"></script>`
    : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${links}
<title>${esc}</title>
</head>
<body data-entry="${o.entry}">
<div id="app">${o.body ?? ''}</div>
${script}
</body>
</html>`;
}
