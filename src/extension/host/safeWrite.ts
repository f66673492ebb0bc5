// The extension's one way to write a file the user will keep (run records, exports, saved weights),
// over workspace.fs (the storage or workspace may be remote). The same rules as the CLI's writer
// (src/cli/output.ts): only new paths or plain regular files are written; a symbolic link, folder,
// device, FIFO or socket is never written to or replaced; an existing file is replaced only when the
// caller says so (after the user's confirmation); the bytes go to a temporary file in the same folder
// that then takes the target's name, after the target is checked once more.
// No runtime import of vscode (the file system is passed in), so the rules are unit-tested in Node.
import type * as vscode from 'vscode';
import { InputError } from '../../core/errors';

/** vscode.FileType values (stable API constants). Unknown (0) is what a device, FIFO or socket stats as. */
const FILE = 1;
const DIRECTORY = 2;
const SYMBOLIC_LINK = 64;

export type OutputFs = Pick<vscode.FileSystem, 'stat' | 'writeFile' | 'rename' | 'delete'>;

function kindOf(type: number): string {
  if (type & SYMBOLIC_LINK) return 'a symbolic link';
  if (type & DIRECTORY) return 'a folder';
  return 'not a regular file (a device, FIFO or socket)';
}

const notFound = (e: unknown) => {
  const code = (e as { code?: string } | undefined)?.code;
  return code === 'FileNotFound' || code === 'ENOENT';
};
const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Whether a plain regular file is at `uri` (false: nothing is there). Anything else there (a symlink,
 * folder, device, FIFO) is an InputError naming `name`: it is never replaced.
 */
export async function checkOutputTarget(fs: OutputFs, uri: vscode.Uri, name: string): Promise<boolean> {
  let type: number;
  try {
    type = (await fs.stat(uri)).type;
  } catch (e) {
    if (notFound(e)) return false;
    throw new InputError(`${name}: cannot check the path (${messageOf(e)})`);
  }
  if (type !== FILE)
    throw new InputError(
      `${name}: is ${kindOf(type)}; only new paths or regular files are written, so it is not replaced`,
    );
  return true;
}

/**
 * Writes `bytes` to `uri`: a new path, or an existing regular file when `overwrite` (the caller asked
 * the user, or owns the file). Through a temporary file renamed into place, so an interrupted write
 * leaves the target as it was.
 */
export async function writeOutputFile(
  fs: OutputFs,
  uri: vscode.Uri,
  bytes: Uint8Array,
  o: { name: string; overwrite: boolean },
): Promise<void> {
  const existed = await checkOutputTarget(fs, uri, o.name);
  if (existed && !o.overwrite) throw new InputError(`${o.name} already exists; not overwritten`);
  const slash = uri.path.lastIndexOf('/');
  const tmp = uri.with({
    path: `${uri.path.slice(0, slash + 1)}.${uri.path.slice(slash + 1)}.${Math.random().toString(36).slice(2, 10)}.tmp`,
  });
  try {
    await fs.writeFile(tmp, bytes);
    // Whatever is at the target now must still be what was checked.
    const now = await checkOutputTarget(fs, uri, o.name);
    if (now && !o.overwrite) throw new InputError(`${o.name}: a file appeared there meanwhile; not overwritten`);
    await fs.rename(tmp, uri, { overwrite: now });
  } catch (e) {
    await Promise.resolve(fs.delete(tmp, { useTrash: false })).catch(() => undefined);
    if (e instanceof InputError) throw e;
    throw new InputError(`${o.name}: could not write (${messageOf(e)})${existed ? '; the file was not changed' : ''}`);
  }
}
