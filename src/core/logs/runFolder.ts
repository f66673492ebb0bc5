// Which log a run folder stands for: the one rule of the CLI (`feature-lens spikes lightning_logs/`) and
// the extension's live view. Pure: the caller lends a way to list folders and read modification times
// (node:fs for the CLI, vscode.workspace.fs for the extension).
import type { LogKind } from './types';

/** What the rule needs of a file system; P is the caller's path type (a string, a vscode.Uri). */
export interface FolderAccess<P> {
  list(dir: P): Promise<{ name: string; file: boolean; dir: boolean }[]>;
  child(dir: P, name: string): P;
  /** Modification time in ms (0 when it cannot be read). */
  mtime(file: P): Promise<number>;
}

/** A folder's own log. */
export interface FolderLog<P> {
  dir: P;
  kind: LogKind;
  /** The log's files in name order: every TensorBoard event file of the folder, else the one log. */
  files: string[];
  /** The newest of `files` (names of event files carry their start time). */
  newest: string;
  mtime: number;
  /** Why this file, for a message ("its metrics.csv"). */
  note: string;
}

/** How deep below the folder given a run is looked for (lightning_logs/version_3, runs/2024-…/train). */
export const RUN_FOLDER_DEPTH = 3;

/**
 * A folder's own log: its TensorBoard event files (newest = last by name), else metrics.csv, else its
 * one .csv/.jsonl; 'several' when it holds more than one .csv/.jsonl and neither of the others.
 */
export async function logInFolder<P>(
  fs: FolderAccess<P>,
  dir: P,
  kindOf: (name: string) => LogKind | undefined,
): Promise<FolderLog<P> | 'several' | undefined> {
  const names = (await fs.list(dir).catch(() => []))
    .filter((e) => e.file)
    .map((e) => e.name)
    .sort();
  const events = names.filter((n) => kindOf(n) === 'tfevents');
  let files: string[];
  let note: string;
  if (events.length) {
    files = events;
    note =
      events.length > 1
        ? `the newest of ${events.length} event files (a resumed run writes a new one)`
        : 'its event file';
  } else if (names.includes('metrics.csv')) {
    files = ['metrics.csv'];
    note = 'its metrics.csv';
  } else {
    const logs = names.filter((n) => kindOf(n) === 'csv' || kindOf(n) === 'jsonl');
    if (logs.length > 1) return 'several';
    if (!logs.length) return undefined;
    files = logs;
    note = 'its only log file';
  }
  const newest = files[files.length - 1];
  return { dir, kind: kindOf(newest)!, files, newest, mtime: await fs.mtime(fs.child(dir, newest)), note };
}

/**
 * The log a folder stands for: its own, else the most recently written run below it (up to
 * RUN_FOLDER_DEPTH levels; hidden folders and node_modules skipped), as a training script that makes a
 * new version_N or timestamped folder per run expects. `several`: the folder itself holds several logs.
 */
export async function findRunLog<P>(
  fs: FolderAccess<P>,
  root: P,
  kindOf: (name: string) => LogKind | undefined,
): Promise<{ log: FolderLog<P>; inSubfolder: boolean } | { log: undefined; several: boolean }> {
  let best: FolderLog<P> | undefined;
  let several = false;
  const visit = async (dir: P, depth: number): Promise<void> => {
    const own = await logInFolder(fs, dir, kindOf);
    if (own === 'several') {
      if (depth === 0) several = true;
    } else if (own) {
      if (!best || own.mtime > best.mtime) best = own;
      return;
    }
    if (depth >= RUN_FOLDER_DEPTH) return;
    const entries = await fs.list(dir).catch(() => []);
    for (const e of entries.filter((x) => x.dir).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)))
      if (!e.name.startsWith('.') && e.name !== 'node_modules') await visit(fs.child(dir, e.name), depth + 1);
  };
  await visit(root, 0);
  const found = best as FolderLog<P> | undefined;
  return found ? { log: found, inSubfolder: found.dir !== root } : { log: undefined, several };
}
