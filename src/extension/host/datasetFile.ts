import * as vscode from 'vscode';
import { open } from 'node:fs/promises';
import { CancelledError, InputError } from '../../core/errors';
import { checkDatasetFileSize, DATASET_EXTENSIONS } from '../../core/data/index';

export function baseName(uri: vscode.Uri): string {
  return uri.path.slice(uri.path.lastIndexOf('/') + 1);
}

/** Shows a uri the way users know it: a workspace-relative path when inside the workspace. */
export function displayPath(uri: vscode.Uri): string {
  return vscode.workspace.asRelativePath(uri, false);
}

export function toUri(u: vscode.Uri | string): vscode.Uri {
  if (typeof u !== 'string') return u;
  if (/^[a-z][\w+.-]*:/i.test(u) && !/^[a-z]:[\\/]/i.test(u)) return vscode.Uri.parse(u);
  const folder = vscode.workspace.workspaceFolders?.[0];
  // An absolute path lives where the workspace lives (a remote or virtual workspace has no local file).
  if (u.startsWith('/')) return folder ? folder.uri.with({ path: u }) : vscode.Uri.file(u);
  if (!folder) throw new InputError(`${u}: a relative path needs an open workspace folder`);
  return vscode.Uri.joinPath(folder.uri, u);
}

/**
 * Reads a dataset through workspace.fs (remote workspaces have no local file). In an untrusted
 * workspace a file above `featureLens.confirmReadBytes` is read only after the user agrees.
 */
export async function readDatasetFile(uri: vscode.Uri): Promise<Uint8Array> {
  const name = displayPath(uri);
  const stat = await statFile(uri, name, 'a dataset file');
  // From stat, before a byte is read; the loader's name says whether it is parsed as text.
  checkDatasetFileSize(stat.size, loaderName(uri));
  await confirmUntrustedRead(name, stat.size, ' to fit an RFM on it');
  return vscode.workspace.fs.readFile(uri);
}

/** Whether something is at `uri` (workspace.fs: remote-safe). */
export async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}

/** workspace.fs.stat with our error style; a folder where a file is `expected` is an InputError. */
export async function statFile(uri: vscode.Uri, name: string, expected: string): Promise<vscode.FileStat> {
  let stat: vscode.FileStat;
  try {
    stat = await vscode.workspace.fs.stat(uri);
  } catch (e) {
    throw new InputError(`${name}: cannot read the file (${e instanceof Error ? e.message : String(e)})`);
  }
  if (stat.type & vscode.FileType.Directory) throw new InputError(`${name}: is a folder, expected ${expected}`);
  return stat;
}

/** In an untrusted workspace a file above `featureLens.confirmReadBytes` is read only after the user agrees. */
export async function confirmUntrustedRead(name: string, size: number, purpose = ''): Promise<void> {
  const limit = vscode.workspace.getConfiguration('featureLens').get<number>('confirmReadBytes', 50 * 1024 * 1024);
  if (vscode.workspace.isTrusted || size <= limit) return;
  const mb = (size / 1024 / 1024).toFixed(1);
  const choice = await vscode.window.showWarningMessage(
    `This workspace is not trusted. Read ${name} (${mb} MB)${purpose}?`,
    { modal: true },
    'Read File',
  );
  if (choice !== 'Read File') throw new CancelledError();
}

/**
 * The name the core loaders get: they choose the format by extension, so a file with an extension
 * from `featureLens.datasetExtensions` is announced as CSV, and messages still show its real path.
 */
export function loaderName(uri: vscode.Uri): string {
  const name = displayPath(uri);
  const lower = uri.path.toLowerCase();
  const known = [...DATASET_EXTENSIONS, '.txt'].some((e) => lower.endsWith(e));
  return known ? name : `${name} as .csv`;
}

/**
 * The first `bytes` of a file and whether that is the whole file, without reading the rest: a small file
 * through workspace.fs, a larger local one by a ranged read; null for a larger remote one (no ranged read).
 */
export async function readHead(uri: vscode.Uri, bytes: number): Promise<{ head: Uint8Array; whole: boolean } | null> {
  const stat = await vscode.workspace.fs.stat(uri);
  if (stat.size <= bytes) return { head: await vscode.workspace.fs.readFile(uri), whole: true };
  if (uri.scheme !== 'file') return null;
  const handle = await open(uri.fsPath, 'r');
  try {
    const head = new Uint8Array(bytes);
    const { bytesRead } = await handle.read(head, 0, bytes, 0);
    return { head: head.subarray(0, bytesRead), whole: false };
  } finally {
    await handle.close();
  }
}
