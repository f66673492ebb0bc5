// Opening a weight file from a workspace Uri. workspace.fs has no ranged read, so a file is read whole
// through it up to `featureLens.weights.wholeReadBytes`; a larger `file:` file (the extension host
// then runs where the file is, local or remote) is read by ranges, so a multi-gigabyte safetensors
// lists from its header alone. A larger file on any other file system is refused with that reason.
import * as vscode from 'vscode';
import { CancelledError, InputError } from '../../core/errors';
import { bytesSource, openWeights, type ByteSource, type WeightFile } from '../../core/weights';
import { fileByteSource } from '../../core/weights/node';
import { displayPath } from '../datasetFile';

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
  let stat: vscode.FileStat;
  try {
    stat = await vscode.workspace.fs.stat(uri);
  } catch (e) {
    throw new InputError(`${name}: cannot read the file (${e instanceof Error ? e.message : String(e)})`);
  }
  if (stat.type & vscode.FileType.Directory) throw new InputError(`${name}: is a folder, expected a weight file`);
  const limit = wholeReadLimit();
  let source: ByteSource;
  let close = async () => {};
  let note: string | null = null;
  if (stat.size <= limit) {
    if (!vscode.workspace.isTrusted) {
      const confirmAbove = vscode.workspace.getConfiguration('featureLens').get<number>('confirmReadBytes', 50 * 1024 * 1024);
      if (stat.size > confirmAbove) {
        const ok = await vscode.window.showWarningMessage(`This workspace is not trusted. Read ${name} (${(stat.size / 1048576).toFixed(1)} MB)?`, { modal: true }, 'Read File');
        if (ok !== 'Read File') throw new CancelledError();
      }
    }
    const read = await vscode.workspace.fs.readFile(uri);
    // The host hands out a Node Buffer, whose slice() is a view, not a copy: the core decoder's
    // aligned-copy step needs a plain Uint8Array.
    source = bytesSource(new Uint8Array(read.buffer, read.byteOffset, read.byteLength));
  } else if (uri.scheme === 'file') {
    const f = await fileByteSource(uri.fsPath);
    source = f;
    close = () => f.close();
    note = `${megabytes(stat.size)}: read by ranges (header first, each tensor when needed)`;
  } else {
    throw new InputError(`${name}: ${megabytes(stat.size)} is above featureLens.weights.wholeReadBytes (${megabytes(limit)}) and its file system (${uri.scheme}:) cannot be read by ranges; raise the setting to read it whole`);
  }
  try {
    const file = await openWeights(source, name);
    return { uri, file, sizeBytes: stat.size, note, close };
  } catch (e) {
    await close();
    throw e;
  }
}
