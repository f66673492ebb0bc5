import * as vscode from 'vscode';
import { webviewPage } from '../webviewPage';

export function localRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  return [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')];
}

/** A page for one of the issue-5 bundles (dist/<script>.js). */
export function bundleHtml(webview: vscode.Webview, extensionUri: vscode.Uri, script: 'weights' | 'nfa' | 'lab', title: string): string {
  return webviewPage(webview, extensionUri, { entry: script, bundle: script, title });
}

export { registerReportingCommand, reportError } from '../commands';

/** Lets the extension host's event loop run (progress, cancel clicks, other extensions) between CPU steps. */
export function yieldToHost(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}
