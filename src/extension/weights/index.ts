// The weights entry points: the custom editor, explorer *Inspect Weights* and
// `featureLens.inspectWeights(uri)` (also what the Inspect Weights CodeLens calls).
import * as vscode from 'vscode';
import { InputError } from '../../core/errors';
import type { Ctx } from '../ctx';
import { openWeightsUri, weightsUriOf, WEIGHTS_VIEW_TYPE } from '../host/weightsFile';
import { WeightsEditorProvider } from './editor';

/** What `featureLens.inspectWeights` resolves to. */
export interface InspectWeightsResult {
  file: string;
  format: string;
  /** How the file was read when not whole (e.g. by ranges), else null. */
  note: string | null;
  tensors: { name: string; dtype: string; shape: number[]; byteLength: number }[];
  /** Non-tensor entries (epoch, loss, config...): Python type and short repr. */
  metadata: { name: string; pyType: string; value: string }[];
  /** The checkpoint dict the network is read from, or null when the weights are at the top. */
  modelScope: string | null;
}

async function inspectWeights(
  ctx: Ctx,
  arg?: unknown,
  opts?: { open?: boolean },
): Promise<InspectWeightsResult | undefined> {
  const uri = await weightsUriOf(arg);
  if (!uri) return undefined;
  // Parse first: a refused file gives an error message, not an editor.
  const opened = await openWeightsUri(uri);
  try {
    if (!opened.file.tensors.length)
      throw new InputError(`${vscode.workspace.asRelativePath(uri, false)}: holds no tensors`);
    if (opts?.open !== false) await vscode.commands.executeCommand('vscode.openWith', uri, WEIGHTS_VIEW_TYPE);
    ctx.log.info(`inspect weights: ${uri.toString()} (${opened.file.format}, ${opened.file.tensors.length} tensors)`);
    return {
      file: uri.toString(),
      format: opened.file.format,
      note: opened.note,
      tensors: opened.file.tensors.map((t) => ({
        name: t.name,
        dtype: t.dtype,
        shape: [...t.shape],
        byteLength: t.byteLength,
      })),
      metadata: opened.file.metadata.map((m) => ({ ...m })),
      modelScope: opened.file.modelScope ?? null,
    };
  } finally {
    await opened.close();
  }
}

export function register(ctx: Ctx): void {
  ctx.subscribe(
    vscode.window.registerCustomEditorProvider(WEIGHTS_VIEW_TYPE, new WeightsEditorProvider(ctx), {
      // A hidden editor keeps its page: the table and its statistics are posted once.
      webviewOptions: { enableFindWidget: true, retainContextWhenHidden: true },
      supportsMultipleEditorsPerDocument: true,
    }),
  );
  ctx.commands({
    'featureLens.inspectWeights': (arg?: unknown, opts?: { open?: boolean }) => inspectWeights(ctx, arg, opts),
  });
}
