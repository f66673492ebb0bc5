import * as vscode from 'vscode';
import { InputError } from '../../core/errors';
import { logKindOf, type LogKind } from '../../core/logs/index';
import { findRunLog, type FolderAccess } from '../../core/logs/runFolder';

/** The one file a live view follows, and how to read it. */
export interface LogTarget {
  file: vscode.Uri;
  kind: LogKind;
  /** What the user asked for (the file itself, or the run folder it was found in). */
  requested: vscode.Uri;
  /** Why this file, when it was picked from a folder. */
  note: string | undefined;
}

/** Also reads `.json` as JSON lines: many loggers append one object per line to a .json file. */
export function followKindOf(name: string): LogKind | undefined {
  return logKindOf(name) ?? (/\.json$/i.test(name) ? 'jsonl' : undefined);
}

const base = (u: vscode.Uri) => u.path.split('/').pop() ?? '';

async function statOf(uri: vscode.Uri): Promise<vscode.FileStat | undefined> {
  try {
    return await vscode.workspace.fs.stat(uri);
  } catch {
    return undefined;
  }
}

/** The extension's view of the workspace file system for the shared run-folder rule (core/logs/runFolder.ts). */
const workspaceFolders: FolderAccess<vscode.Uri> = {
  list: async (dir) =>
    (await vscode.workspace.fs.readDirectory(dir)).map(([name, t]) => ({
      name,
      file: (t & vscode.FileType.File) !== 0,
      dir: (t & vscode.FileType.Directory) !== 0,
    })),
  child: (dir, name) => vscode.Uri.joinPath(dir, name),
  mtime: async (file) => (await statOf(file))?.mtime ?? 0,
};

/**
 * What to follow for a file or folder. A folder without a log of its own (runs/, lightning_logs/)
 * stands for its most recently written run below it (up to three levels), as a training script
 * that makes a new version_N or timestamped folder per run expects.
 */
export async function resolveLogTarget(uri: vscode.Uri): Promise<LogTarget> {
  const info = await statOf(uri);
  if (!info && !followKindOf(base(uri))) {
    // A run folder the script has not created yet (a CodeLens on SummaryWriter("runs/x") before the
    // first run): the view waits, and moves to the first log that appears below it.
    return {
      file: vscode.Uri.joinPath(uri, 'metrics.csv'),
      kind: 'csv',
      requested: uri,
      note: `waiting for training to write a log in ${vscode.workspace.asRelativePath(uri, false)}`,
    };
  }
  if (!info || (info.type & vscode.FileType.Directory) === 0) {
    const kind = followKindOf(base(uri));
    if (!kind)
      throw new InputError(
        `${vscode.workspace.asRelativePath(uri, false)}: not a training log; expected .csv, .tsv, .jsonl, .ndjson, .json (one object per line) or a TensorBoard events.out.tfevents.* file, or a run folder`,
      );
    // A file that does not exist yet is watched until training creates it.
    return { file: uri, kind, requested: uri, note: info ? undefined : 'waiting for the file to be created' };
  }
  const found = await findRunLog(workspaceFolders, uri, followKindOf);
  const rel = vscode.workspace.asRelativePath(uri, false);
  if (!found.log) {
    throw new InputError(
      found.several
        ? `${rel}: several .csv/.jsonl files and no metrics.csv or event files; right-click the log file itself`
        : `${rel}: no TensorBoard event files, metrics.csv or .csv/.jsonl log in this folder or the run folders below it`,
    );
  }
  const file = vscode.Uri.joinPath(found.log.dir, found.log.newest);
  return {
    file,
    kind: found.log.kind,
    requested: uri,
    note: found.inSubfolder
      ? `the most recently written run: ${vscode.workspace.asRelativePath(file, false)}`
      : found.log.note,
  };
}
