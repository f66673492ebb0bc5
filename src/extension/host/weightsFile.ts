// Weight files for every feature that reads them (the weights editor, the NFA view, the training lab):
// which file a command means, and opening it from a workspace Uri. workspace.fs has no ranged read, so a file is read whole
// through it up to `featureLens.weights.wholeReadBytes`; a larger `file:` file (the extension host
// then runs where the file is, local or remote) is read by ranges, so a multi-gigabyte safetensors
// lists from its header alone. A larger file on any other file system is refused with that reason.
import * as vscode from 'vscode';
import { InputError } from '../../core/errors';
import { bytesSource, openWeights, type ByteSource, type WeightFile } from '../../core/weights';
import { fileByteSource } from '../../core/weights/node';
import { confirmUntrustedRead, displayPath, statFile, toUri } from './datasetFile';

export const WEIGHT_EXTENSIONS = ['.safetensors', '.pt', '.pth', '.npz', '.npy'];

/** The weights editor's view type (a custom editor: the active one names the file a command means). */
export const WEIGHTS_VIEW_TYPE = 'featureLens.weights';

async function pickWeightsFile(): Promise<vscode.Uri | undefined> {
  const files = await vscode.window.showOpenDialog({
    canSelectMany: false,
    openLabel: 'Inspect Weights',
    filters: { Weights: WEIGHT_EXTENSIONS.map((e) => e.slice(1)) },
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
  });
  return files?.[0];
}

/** The weight file a command was given (a Uri, a path, an explorer item), else the open weights editor's, else one picked. */
export async function weightsUriOf(arg: unknown): Promise<vscode.Uri | undefined> {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string') return toUri(arg);
  if (arg && typeof arg === 'object' && (arg as { uri?: unknown }).uri instanceof vscode.Uri)
    return (arg as { uri: vscode.Uri }).uri;
  const active = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (active instanceof vscode.TabInputCustom && active.viewType === WEIGHTS_VIEW_TYPE) return active.uri;
  return pickWeightsFile();
}

export interface OpenedWeights {
  readonly uri: vscode.Uri;
  readonly file: WeightFile;
  readonly sizeBytes: number;
  /** How the file is read, when that limits anything (shown in the editor). */
  readonly note: string | null;
  close(): Promise<void>;
}

function megabytes(n: number): string {
  return n >= 1048576 ? `${(n / 1048576).toFixed(0)} MB` : `${n} bytes`;
}

export function wholeReadLimit(): number {
  return vscode.workspace.getConfiguration('featureLens.weights').get<number>('wholeReadBytes', 256 * 1024 * 1024);
}

export async function openWeightsUri(uri: vscode.Uri): Promise<OpenedWeights> {
  const name = displayPath(uri);
  const stat = await statFile(uri, name, 'a weight file');
  const limit = wholeReadLimit();
  let source: ByteSource;
  let close = async () => {};
  let note: string | null = null;
  if (stat.size <= limit) {
    await confirmUntrustedRead(name, stat.size);
    source = bytesSource(await vscode.workspace.fs.readFile(uri));
  } else if (uri.scheme === 'file') {
    const f = await fileByteSource(uri.fsPath);
    source = f;
    close = () => f.close();
    note = `${megabytes(stat.size)}: read by ranges (header first, each tensor when needed)`;
  } else {
    throw new InputError(
      `${name}: ${megabytes(stat.size)} is above featureLens.weights.wholeReadBytes (${megabytes(limit)}) and its file system (${uri.scheme}:) cannot be read by ranges; raise the setting to read it whole`,
    );
  }
  try {
    const file = await openWeights(source, name);
    return { uri, file, sizeBytes: stat.size, note, close };
  } catch (e) {
    await close();
    throw e;
  }
}
