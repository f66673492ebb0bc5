import * as vscode from 'vscode';
import { InputError } from '../../core/errors';
import { logKindOf, type LogKind } from '../../core/logs/index';

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

/** A folder's own log: its newest event file (names carry the start time), else metrics.csv, else its one .csv/.jsonl. */
async function logInFolder(
  dir: vscode.Uri,
): Promise<{ file: vscode.Uri; kind: LogKind; mtime: number; note: string } | 'several' | undefined> {
  const entries = await Promise.resolve(vscode.workspace.fs.readDirectory(dir)).catch(
    () => [] as [string, vscode.FileType][],
  );
  const files = entries
    .filter(([, t]) => (t & vscode.FileType.File) !== 0)
    .map(([n]) => n)
    .sort();
  const events = files.filter((n) => logKindOf(n) === 'tfevents');
  let pick: string | undefined,
    note = '';
  if (events.length) {
    pick = events[events.length - 1];
    note =
      events.length > 1
        ? `the newest of ${events.length} event files (a resumed run writes a new one; earlier files are not shown)`
        : 'its event file';
  } else if (files.includes('metrics.csv')) {
    pick = 'metrics.csv';
    note = 'its metrics.csv';
  } else {
    const logs = files.filter((n) => {
      const k = followKindOf(n);
      return k === 'csv' || k === 'jsonl';
    });
    if (logs.length > 1) return 'several';
    if (logs.length === 1) {
      pick = logs[0];
      note = `its only log file`;
    }
  }
  if (!pick) return undefined;
  const file = vscode.Uri.joinPath(dir, pick);
  return { file, kind: followKindOf(pick)!, mtime: (await statOf(file))?.mtime ?? 0, note };
}

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
  let best: { file: vscode.Uri; kind: LogKind; mtime: number; note: string } | undefined;
  let several = false;
  const visit = async (dir: vscode.Uri, depth: number) => {
    const own = await logInFolder(dir);
    if (own === 'several') {
      if (depth === 0) several = true;
    } else if (own) {
      if (!best || own.mtime > best.mtime) best = own;
      return;
    }
    if (depth >= 3) return;
    const entries = await Promise.resolve(vscode.workspace.fs.readDirectory(dir)).catch(
      () => [] as [string, vscode.FileType][],
    );
    for (const [n, t] of entries) {
      if ((t & vscode.FileType.Directory) !== 0 && !n.startsWith('.') && n !== 'node_modules')
        await visit(vscode.Uri.joinPath(dir, n), depth + 1);
    }
  };
  await visit(uri, 0);
  const rel = vscode.workspace.asRelativePath(uri, false);
  if (!best) {
    throw new InputError(
      several
        ? `${rel}: several .csv/.jsonl files and no metrics.csv or event files; right-click the log file itself`
        : `${rel}: no TensorBoard event files, metrics.csv or .csv/.jsonl log in this folder or the run folders below it`,
    );
  }
  const found = best as { file: vscode.Uri; kind: LogKind; note: string };
  const inSub = found.file.path !== vscode.Uri.joinPath(uri, base(found.file)).path;
  return {
    file: found.file,
    kind: found.kind,
    requested: uri,
    note: inSub ? `the most recently written run: ${vscode.workspace.asRelativePath(found.file, false)}` : found.note,
  };
}
