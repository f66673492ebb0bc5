// Opening a weight file from a workspace Uri. workspace.fs has no ranged read, so a file is read whole
// through it up to `featureLens.weights.wholeReadBytes`; a larger `file:` file (the extension host
// then runs where the file is, local or remote) is read by ranges, so a multi-gigabyte safetensors
// lists from its header alone. A larger file on any other file system is refused with that reason.
import * as vscode from 'vscode';
import { InputError } from '../../core/errors';
import { bytesSource, openWeights, type ByteSource, type WeightFile } from '../../core/weights';
import { fileByteSource } from '../../core/weights/node';
import { confirmUntrustedRead, displayPath, statFile } from '../host/datasetFile';

export const WEIGHT_EXTENSIONS = ['.safetensors', '.pt', '.pth', '.npz', '.npy'];

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
