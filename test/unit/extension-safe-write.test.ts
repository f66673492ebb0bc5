// The extension's writer (src/extension/host/safeWrite.ts) over a stand-in for workspace.fs backed by
// node:fs with VS Code's disk-provider semantics (stat type bits: File 1, Directory 2, SymbolicLink 64,
// Unknown 0 for devices and FIFOs; FileNotFound; rename refusing an existing target without overwrite).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type * as vscode from 'vscode';
import { InputError } from '../../src/core/errors';
import { checkOutputTarget, writeOutputFile, type OutputFs } from '../../src/extension/host/safeWrite';

const tmp = mkdtempSync(join(tmpdir(), 'fl-safewrite-'));

const uri = (path: string): vscode.Uri =>
  ({ path, with: (c: { path: string }) => uri(c.path) }) as unknown as vscode.Uri;

function fsError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

function typeOf(path: string): number {
  const l = lstatSync(path);
  if (l.isSymbolicLink()) {
    const t = existsSync(path) ? statSync(path) : undefined;
    return 64 | (t?.isFile() ? 1 : t?.isDirectory() ? 2 : 0);
  }
  return l.isFile() ? 1 : l.isDirectory() ? 2 : 0;
}

const diskFs = (hooks: { beforeWrite?: () => void; writeError?: string } = {}): OutputFs =>
  ({
    stat: async (u: vscode.Uri) => {
      try {
        return { type: typeOf(u.path), ctime: 0, mtime: 0, size: 0 };
      } catch {
        throw fsError('FileNotFound', `${u.path} not found`);
      }
    },
    writeFile: async (u: vscode.Uri, bytes: Uint8Array) => {
      if (hooks.writeError) throw fsError('Unknown', hooks.writeError);
      writeFileSync(u.path, bytes);
      hooks.beforeWrite?.();
    },
    rename: async (a: vscode.Uri, b: vscode.Uri, o?: { overwrite?: boolean }) => {
      if (!o?.overwrite && existsSync(b.path)) throw fsError('FileExists', `${b.path} exists`);
      renameSync(a.path, b.path);
    },
    delete: async (u: vscode.Uri) => unlinkSync(u.path),
  }) as unknown as OutputFs;

const bytes = new TextEncoder().encode('new contents');
const snap = (p: string) => {
  const s = lstatSync(p);
  return {
    ino: s.ino,
    link: s.isSymbolicLink() ? readlinkSync(p) : null,
    bytes: s.isFile() ? readFileSync(p, 'utf8') : null,
  };
};
const noTemps = () =>
  assert.deepEqual(
    readdirSync(tmp).filter((n) => n.endsWith('.tmp')),
    [],
  );

test('a new path is written; an existing regular file only with overwrite', async () => {
  const out = join(tmp, 'new.json');
  await writeOutputFile(diskFs(), uri(out), bytes, { name: 'new.json', overwrite: false });
  assert.equal(readFileSync(out, 'utf8'), 'new contents');
  writeFileSync(out, 'keep');
  const before = snap(out);
  await assert.rejects(
    writeOutputFile(diskFs(), uri(out), bytes, { name: 'new.json', overwrite: false }),
    (e) => e instanceof InputError && /new\.json already exists; not overwritten/.test(e.message),
  );
  assert.deepEqual(snap(out), before);
  await writeOutputFile(diskFs(), uri(out), bytes, { name: 'new.json', overwrite: true });
  assert.equal(readFileSync(out, 'utf8'), 'new contents');
  noTemps();
});

test('a symlink, a folder or a FIFO is refused even with overwrite, and left as it was', async () => {
  const target = join(tmp, 'target.json');
  writeFileSync(target, 'precious');
  const link = join(tmp, 'link.json');
  symlinkSync(target, link);
  const dir = join(tmp, 'folder');
  mkdirSync(dir);
  const fifo = join(tmp, 'fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  for (const [path, pattern] of [
    [link, /link\.json: is a symbolic link; .*not replaced/],
    [dir, /folder: is a folder/],
    [fifo, /fifo: is not a regular file \(a device, FIFO or socket\)/],
  ] as const) {
    const before = snap(path);
    await assert.rejects(checkOutputTarget(diskFs(), uri(path), path), pattern);
    await assert.rejects(
      writeOutputFile(diskFs(), uri(path), bytes, { name: path, overwrite: true }),
      (e) => e instanceof InputError && pattern.test(e.message),
    );
    assert.deepEqual(snap(path), before);
  }
  assert.equal(readFileSync(target, 'utf8'), 'precious');
  noTemps();
});

test('a symlink appearing during the write is not replaced; a failed write leaves nothing behind', async () => {
  const out = join(tmp, 'race.json');
  const target = join(tmp, 'race-target.json');
  writeFileSync(target, 'precious');
  await assert.rejects(
    writeOutputFile(diskFs({ beforeWrite: () => symlinkSync(target, out) }), uri(out), bytes, {
      name: 'race.json',
      overwrite: true,
    }),
    /race\.json: is a symbolic link/,
  );
  assert.equal(readlinkSync(out), target);
  assert.equal(readFileSync(target, 'utf8'), 'precious');
  const full = join(tmp, 'full.json');
  writeFileSync(full, 'old');
  await assert.rejects(
    writeOutputFile(diskFs({ writeError: 'ENOSPC: no space left on device' }), uri(full), bytes, {
      name: 'full.json',
      overwrite: true,
    }),
    (e) =>
      e instanceof InputError && /full\.json: could not write \(ENOSPC.*\); the file was not changed/.test(e.message),
  );
  assert.equal(readFileSync(full, 'utf8'), 'old');
  noTemps();
});
