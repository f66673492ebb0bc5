// The read-only weights editor: a table of the file's tensors; statistics follow one tensor at a time
// so a large checkpoint lists at once. Nothing in the file is ever executed (the core parser refuses).
import * as vscode from 'vscode';
import { numel, tensorStatsOf } from '../../core/weights';
import type { WeightsHostToWebview, WeightsWebviewToHost } from '../../protocol/weights';
import { baseName } from '../host/datasetFile';
import { bundleHtml, localRoots, reportError, yieldToHost } from '../host/webviewHtml';
import { openWeightsUri, type OpenedWeights } from './source';

export const WEIGHTS_VIEW_TYPE = 'featureLens.weights';

/** Elements read per step when summarising a tensor: bounds memory and keeps the host responsive. */
const STATS_CHUNK = 1 << 20;

class WeightsDocument implements vscode.CustomDocument {
  constructor(
    readonly uri: vscode.Uri,
    readonly opened: OpenedWeights | null,
    readonly error: string | null,
  ) {}
  dispose(): void {
    void this.opened?.close();
  }
}

export class WeightsEditorProvider implements vscode.CustomReadonlyEditorProvider<WeightsDocument> {
  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  async openCustomDocument(uri: vscode.Uri): Promise<WeightsDocument> {
    try {
      return new WeightsDocument(uri, await openWeightsUri(uri), null);
    } catch (e) {
      // The editor still opens, showing why the file was refused (hostile pickle, bad header...).
      this.log.warn(`weights editor: ${uri.toString()}: ${e instanceof Error ? e.message : String(e)}`);
      return new WeightsDocument(uri, null, e instanceof Error ? e.message : String(e));
    }
  }

  async resolveCustomEditor(doc: WeightsDocument, panel: vscode.WebviewPanel): Promise<void> {
    panel.webview.options = { enableScripts: true, localResourceRoots: localRoots(this.extensionUri) };
    panel.webview.html = bundleHtml(panel.webview, this.extensionUri, 'weights', baseName(doc.uri));
    let alive = true;
    const post = (m: WeightsHostToWebview) => (alive ? panel.webview.postMessage(m) : Promise.resolve(false));
    panel.onDidDispose(() => (alive = false));
    panel.webview.onDidReceiveMessage(async (m: WeightsWebviewToHost) => {
      if (m.type === 'ready') {
        if (!doc.opened) {
          await post({ type: 'failed', message: doc.error ?? 'unreadable' });
          return;
        }
        const f = doc.opened.file;
        await post({
          type: 'tensors',
          file: vscode.workspace.asRelativePath(doc.uri, false),
          format: f.format,
          sizeBytes: doc.opened.sizeBytes,
          note: doc.opened.note,
          tensors: f.tensors.map((t) => ({
            name: t.name,
            dtype: t.dtype,
            shape: [...t.shape],
            byteLength: t.byteLength,
          })),
          metadata: f.metadata.map((m) => ({ ...m })),
          modelScope: f.modelScope ?? null,
        });
        await this.streamStats(doc.opened, post, () => alive);
      } else if (m.type === 'openNfa') {
        try {
          await vscode.commands.executeCommand('featureLens.computeNfa', doc.uri, { focus: m.tensor });
        } catch (e) {
          reportError('weights editor', this.log, e);
        }
      }
    });
  }

  private async streamStats(
    opened: OpenedWeights,
    post: (m: WeightsHostToWebview) => Thenable<boolean>,
    alive: () => boolean,
  ): Promise<void> {
    for (const t of opened.file.tensors) {
      if (!alive()) return;
      await yieldToHost();
      if (numel(t.shape) === 0) {
        await post({ type: 'stats', name: t.name, stats: null, error: 'empty' });
        continue;
      }
      try {
        const s = await tensorStatsOf(opened.file, t.name, STATS_CHUNK);
        await post({ type: 'stats', name: t.name, stats: s, error: null });
      } catch (e) {
        await post({ type: 'stats', name: t.name, stats: null, error: e instanceof Error ? e.message : String(e) });
      }
    }
  }
}
