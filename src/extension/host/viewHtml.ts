import * as vscode from 'vscode';
import { webviewPage } from './webviewPage';

/** The page of a spikes or lab view: the RFM panel's stylesheet plus logs.css, its own bundle. */
export function viewHtml(
  webview: vscode.Webview,
  extensionUri: vscode.Uri,
  bundle: 'logs' | 'catapult',
  title: string,
): string {
  return webviewPage(webview, extensionUri, { entry: bundle, bundle, css: ['panel.css', 'logs.css'], title });
}
