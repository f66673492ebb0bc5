// The read-only weights editor: a table of the file's tensors; statistics follow one tensor at a time
// so a large checkpoint lists at once. Nothing in the file is ever executed (the core parser refuses).
import * as vscode from 'vscode';
import { numel, tensorStatsOf } from '../../core/weights';
import type { WeightsHostToWebview, WeightsWebviewToHost } from '../../protocol/weights';
import type { Ctx } from '../ctx';
import { reportError } from '../host/commands';
import { baseName } from '../host/datasetFile';
import { WebviewHost } from '../host/webviewHost';
import { openWeightsUri, type OpenedWeights } from '../host/weightsFile';
import { unhandled } from '../../protocol/channel';
import { yieldToEventLoop } from '../../core/node';

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

/** One open editor: its page shows what it is posted, whenever it has loaded. */
class WeightsEditor extends WebviewHost<WeightsHostToWebview, WeightsWebviewToHost> {
  constructor(ctx: Ctx, doc: WeightsDocument, panel: vscode.WebviewPanel) {
    super(panel, {
      extensionUri: ctx.extensionUri,
      log: ctx.log,
      label: 'weights editor',
      page: { entry: 'weights', bundle: 'weights', title: baseName(doc.uri) },
      onMessage: async (m) => {
        switch (m.type) {
          case 'openNfa':
            try {
              await vscode.commands.executeCommand('featureLens.computeNfa', doc.uri, { focus: m.tensor });
            } catch (e) {
              reportError('weights editor', ctx.log, e);
            }
            break;
          default:
            unhandled(m.type);
        }
      },
    });
  }

  async show(doc: WeightsDocument): Promise<void> {
    if (!doc.opened) {
      this.post({ type: 'failed', message: doc.error ?? 'unreadable' });
      return;
    }
    const f = doc.opened.file;
    this.post({
      type: 'tensors',
      file: vscode.workspace.asRelativePath(doc.uri, false),
      format: f.format,
      sizeBytes: doc.opened.sizeBytes,
      note: doc.opened.note,
      tensors: f.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: [...t.shape], byteLength: t.byteLength })),
      metadata: f.metadata.map((m) => ({ ...m })),
      modelScope: f.modelScope ?? null,
    });
    // Statistics wait for the page (or the watchdog giving up on it: a late page still gets them queued).
    await this.whenReady();
    for (const t of f.tensors) {
      if (this.isDisposed) return;
      // One tensor per task: the host's event loop stays free between tensors.
      await yieldToEventLoop();
      if (numel(t.shape) === 0) {
        this.post({ type: 'stats', name: t.name, stats: null, error: 'empty' });
        continue;
      }
      try {
        const s = await tensorStatsOf(f, t.name, STATS_CHUNK);
        this.post({ type: 'stats', name: t.name, stats: s, error: null });
      } catch (e) {
        this.post({ type: 'stats', name: t.name, stats: null, error: e instanceof Error ? e.message : String(e) });
      }
    }
  }
}

export class WeightsEditorProvider implements vscode.CustomReadonlyEditorProvider<WeightsDocument> {
  constructor(private readonly ctx: Ctx) {}

  async openCustomDocument(uri: vscode.Uri): Promise<WeightsDocument> {
    try {
      return new WeightsDocument(uri, await openWeightsUri(uri), null);
    } catch (e) {
      // The editor still opens, showing why the file was refused (hostile pickle, bad header...).
      this.ctx.log.warn(`weights editor: ${uri.toString()}: ${e instanceof Error ? e.message : String(e)}`);
      return new WeightsDocument(uri, null, e instanceof Error ? e.message : String(e));
    }
  }

  async resolveCustomEditor(doc: WeightsDocument, panel: vscode.WebviewPanel): Promise<void> {
    void new WeightsEditor(this.ctx, doc, panel).show(doc);
  }
}
