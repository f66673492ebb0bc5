import * as vscode from 'vscode';
import { scanPythonPaths, DEFAULT_WEIGHT_EXTENSIONS, type PathLens } from './scan';
import type { Ctx } from '../ctx';
import { datasetExtensions } from '../host/options';
import { exists } from '../host/datasetFile';

export const INSPECT_WEIGHTS_COMMAND = 'featureLens.inspectWeights';

/** A notebook cell's paths are relative to its notebook, not to the cell's own (virtual) URI. */
function scriptUri(uri: vscode.Uri): vscode.Uri {
  if (uri.scheme !== 'vscode-notebook-cell') return uri;
  const nb = vscode.workspace.notebookDocuments.find((n) =>
    n.getCells().some((c) => c.document.uri.toString() === uri.toString()),
  );
  return nb?.uri ?? uri.with({ scheme: 'file', fragment: '' });
}

/**
 * Where a path written in a script points: absolute as is; relative to the script's folder if it
 * exists there, else to the workspace folder (scripts usually run from the workspace root), which is
 * also where a log that does not exist yet is expected.
 */
export async function resolveScriptPath(path: string, cellOrDoc: vscode.Uri): Promise<vscode.Uri> {
  const doc = scriptUri(cellOrDoc);
  if (/^([A-Za-z]:[\\/]|\/|\\\\)/.test(path)) return vscode.Uri.file(path);
  const rel = path.replace(/\\/g, '/').replace(/^\.\//, '');
  const here = vscode.Uri.joinPath(doc, '..', rel);
  const folder = vscode.workspace.getWorkspaceFolder(doc);
  const root = folder ? vscode.Uri.joinPath(folder.uri, rel) : undefined;
  if (await exists(here)) return here;
  if (root && (await exists(root))) return root;
  return root ?? here;
}

/** CodeLens above the lines of a Python script that write training logs, load datasets or weights. */
export class PathCodeLensProvider implements vscode.CodeLensProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private inspectKnown: { at: number; value: boolean } = { at: 0, value: false };

  refresh(): void {
    this.changed.fire();
  }

  /** Inspect Weights belongs to another part of the extension: offer it only once that command exists. */
  private async hasInspectWeights(): Promise<boolean> {
    if (Date.now() - this.inspectKnown.at > 5000)
      this.inspectKnown = {
        at: Date.now(),
        value: (await vscode.commands.getCommands(true)).includes(INSPECT_WEIGHTS_COMMAND),
      };
    return this.inspectKnown.value;
  }

  async provideCodeLenses(doc: vscode.TextDocument, token: vscode.CancellationToken): Promise<vscode.CodeLens[]> {
    const cfg = vscode.workspace.getConfiguration('featureLens.codeLens', doc);
    const want = {
      spikes: cfg.get<boolean>('spikes', true),
      dataset: cfg.get<boolean>('datasets', true),
      weights: cfg.get<boolean>('weights', true) && (await this.hasInspectWeights()),
    };
    if (!want.spikes && !want.dataset && !want.weights) return [];
    const found = scanPythonPaths(doc.getText(), {
      datasetExtensions: datasetExtensions(),
      weightExtensions: DEFAULT_WEIGHT_EXTENSIONS,
    }).filter((l) => want[l.kind]);
    const lenses = await Promise.all(found.map(async (l) => this.lensFor(l, doc)));
    return token.isCancellationRequested ? [] : lenses;
  }

  private async lensFor(l: PathLens, doc: vscode.TextDocument): Promise<vscode.CodeLens> {
    const uri = await resolveScriptPath(l.path, doc.uri);
    const range = new vscode.Range(l.line, 0, l.line, 0);
    const where = vscode.workspace.asRelativePath(uri, false);
    switch (l.kind) {
      case 'spikes':
        return new vscode.CodeLens(range, {
          title: '$(pulse) Watch Loss Spikes',
          command: 'featureLens.watchLossSpikes',
          arguments: [uri],
          tooltip: `Follow ${where}${l.folder ? ' (the newest run in it)' : ''} live and mark loss spikes (${l.source})`,
        });
      case 'dataset':
        return new vscode.CodeLens(range, {
          title: '$(play) Fit RFM',
          command: 'featureLens.fitRfmHere',
          arguments: [uri],
          tooltip: `Fit a Recursive Feature Machine on ${where}`,
        });
      case 'weights':
        return new vscode.CodeLens(range, {
          title: '$(search) Inspect Weights',
          command: INSPECT_WEIGHTS_COMMAND,
          arguments: [uri],
          tooltip: `Inspect the weights in ${where}`,
        });
    }
  }
}

/** CodeLens in Python scripts; it has no commands of its own (it offers other features' commands). */
export function register(ctx: Ctx): PathCodeLensProvider {
  const provider = new PathCodeLensProvider();
  ctx.subscribe(
    vscode.languages.registerCodeLensProvider({ language: 'python' }, provider),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('featureLens.codeLens') || e.affectsConfiguration('featureLens.datasetExtensions'))
        provider.refresh();
    }),
  );
  return provider;
}
