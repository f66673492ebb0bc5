import { open } from 'node:fs/promises';
import * as vscode from 'vscode';
import { checkLogSize, type FileSource } from '../../core/logs/index';

/**
 * A followed log as LogFollower reads it. workspace.fs has no ranged read, so:
 * - `file:` URIs (local folders, and Remote-SSH/WSL/containers, where this extension host runs next
 *   to the files) are read by byte range with node:fs: each update costs only the appended bytes.
 * - any other scheme (virtual workspaces) goes through workspace.fs.readFile, which returns the whole
 *   file; one read per update serves every range asked for, and only the new bytes are parsed, so the
 *   parse work stays bounded while the transfer grows with the file (the documented compromise).
 */
export function fileSourceOf(uri: vscode.Uri): FileSource & { dispose(): void } {
  return uri.scheme === 'file' ? new RangedFileSource(uri.fsPath) : new WholeFileSource(uri);
}

class RangedFileSource implements FileSource {
  constructor(private readonly path: string) {}

  async size(): Promise<number> {
    const h = await open(this.path, 'r').catch(() => undefined);
    if (!h) return 0; // not created yet (watch before training starts) or rotated away
    try {
      return (await h.stat()).size;
    } finally {
      await h.close();
    }
  }

  async read(start: number, end: number): Promise<Uint8Array> {
    if (end <= start) return new Uint8Array(0); // nothing to read: a file not created yet needs no open
    const h = await open(this.path, 'r');
    try {
      const out = new Uint8Array(end - start);
      let got = 0;
      while (got < out.length) {
        const { bytesRead } = await h.read(out, got, out.length - got, start + got);
        if (bytesRead === 0) break; // truncated between size() and read(): the follower re-checks next time
        got += bytesRead;
      }
      return got === out.length ? out : out.subarray(0, got);
    } finally {
      await h.close();
    }
  }

  dispose(): void {}
}

class WholeFileSource implements FileSource {
  private cached: Uint8Array | undefined;

  constructor(private readonly uri: vscode.Uri) {}

  async size(): Promise<number> {
    // A new update starts with size(): drop the previous snapshot and take one for this update. This
    // source reads the whole file each time, so its size is checked from stat before a byte is read.
    const stat = await Promise.resolve(vscode.workspace.fs.stat(this.uri)).catch(() => undefined);
    if (!stat) return 0;
    checkLogSize(stat.size, this.uri.toString());
    this.cached = await Promise.resolve(vscode.workspace.fs.readFile(this.uri)).catch(() => new Uint8Array(0));
    return this.cached.length;
  }

  async read(start: number, end: number): Promise<Uint8Array> {
    const bytes = this.cached ?? (await vscode.workspace.fs.readFile(this.uri));
    return bytes.subarray(start, Math.min(end, bytes.length));
  }

  dispose(): void {
    this.cached = undefined;
  }
}
