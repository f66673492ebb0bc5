// Issue 5's weights entry points: the custom editor, explorer *Inspect Weights* and
// `featureLens.inspectWeights(uri)` (also what issue 6's Inspect Weights CodeLens calls).
import * as vscode from 'vscode';
import { InputError } from '../../core/errors';
import { toUri } from '../host/datasetFile';
import { registerReportingCommand } from '../host/webviewHtml';
import { WEIGHTS_VIEW_TYPE, WeightsEditorProvider } from './editor';
import { openWeightsUri, WEIGHT_EXTENSIONS } from './source';

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

async function pickWeightsFile(): Promise<vscode.Uri | undefined> {
  const files = await vscode.window.showOpenDialog({
    canSelectMany: false,
    openLabel: 'Inspect Weights',
    filters: { Weights: WEIGHT_EXTENSIONS.map((e) => e.slice(1)) },
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
  });
  return files?.[0];
}

export async function weightsUriOf(arg: unknown): Promise<vscode.Uri | undefined> {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string') return toUri(arg);
  if (arg && typeof arg === 'object' && (arg as { uri?: unknown }).uri instanceof vscode.Uri)
    return (arg as { uri: vscode.Uri }).uri;
  const active = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (active instanceof vscode.TabInputCustom && active.viewType === WEIGHTS_VIEW_TYPE) return active.uri;
  return pickWeightsFile();
}

export function registerWeights(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): void {
  context.subscriptions.push(
    vscode.window.registerCustomEditorProvider(
      WEIGHTS_VIEW_TYPE,
      new WeightsEditorProvider(context.extensionUri, log),
      {
        webviewOptions: { enableFindWidget: true },
        supportsMultipleEditorsPerDocument: true,
      },
    ),
    registerReportingCommand(
      'featureLens.inspectWeights',
      log,
      async (arg?: unknown, opts?: { open?: boolean }): Promise<InspectWeightsResult | undefined> => {
        const uri = await weightsUriOf(arg);
        if (!uri) return undefined;
        // Parse first: a refused file gives an error message, not an editor.
        const opened = await openWeightsUri(uri);
        try {
          if (!opened.file.tensors.length)
            throw new InputError(`${vscode.workspace.asRelativePath(uri, false)}: holds no tensors`);
          if (opts?.open !== false) await vscode.commands.executeCommand('vscode.openWith', uri, WEIGHTS_VIEW_TYPE);
          log.info(`inspect weights: ${uri.toString()} (${opened.file.format}, ${opened.file.tensors.length} tensors)`);
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
      },
    ),
  );
}
