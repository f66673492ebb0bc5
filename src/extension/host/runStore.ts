import * as vscode from 'vscode';
import { RunMetaSchema, RunRecordSchema, type RunMeta, type RunRecord } from './runRecord';
import { writeOutputFile } from './safeWrite';

export type { RunMeta, RunRecord } from './runRecord';

/**
 * Runs under the workspace storage (global storage without a workspace), one JSON per run plus a
 * meta file. Writes go to a temporary name first and are renamed over, so a crash never leaves a
 * half-written run. Only workspace.fs: the storage may be remote.
 */
export class RunStore {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly root: vscode.Uri) {}

  get dir(): vscode.Uri {
    return vscode.Uri.joinPath(this.root, 'runs');
  }

  static newRunId(now = new Date()): string {
    const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    return `${stamp}-${Math.random().toString(36).slice(2, 8)}`;
  }

  async save(run: RunRecord): Promise<void> {
    await vscode.workspace.fs.createDirectory(this.dir);
    // The full record first: a meta file without its record would list a run that cannot open.
    await this.writeAtomic(this.fileOf(run.meta.runId), JSON.stringify(run));
    await this.writeAtomic(this.metaOf(run.meta.runId), JSON.stringify(run.meta));
    this.changed.fire();
  }

  async list(): Promise<RunMeta[]> {
    let entries: [string, vscode.FileType][];
    try {
      entries = await vscode.workspace.fs.readDirectory(this.dir);
    } catch {
      return [];
    }
    const metas = await Promise.all(
      entries
        .filter(([name, type]) => type === vscode.FileType.File && name.endsWith('.meta.json'))
        .map(async ([name]) => {
          try {
            const text = new TextDecoder().decode(
              await vscode.workspace.fs.readFile(vscode.Uri.joinPath(this.dir, name)),
            );
            // A foreign, damaged or older file that does not match the schema is skipped, not fatal to the listing.
            const parsed = RunMetaSchema.safeParse(JSON.parse(text));
            return parsed.success ? parsed.data : undefined;
          } catch {
            return undefined;
          }
        }),
    );
    return metas.filter((m): m is RunMeta => !!m).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /** The run, or undefined when it is missing, not JSON or does not match RunRecordSchema (runRecord.ts). */
  async get(runId: string): Promise<RunRecord | undefined> {
    try {
      const parsed = RunRecordSchema.safeParse(
        JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(this.fileOf(runId)))),
      );
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  async delete(runId: string): Promise<void> {
    for (const uri of [this.metaOf(runId), this.fileOf(runId)]) {
      try {
        await vscode.workspace.fs.delete(uri, { useTrash: false });
      } catch (e) {
        if (!(e instanceof vscode.FileSystemError && e.code === 'FileNotFound')) throw e;
      }
    }
    this.changed.fire();
  }

  fileOf(runId: string): vscode.Uri {
    if (!/^[\w.-]+$/.test(runId)) throw new Error(`invalid run id '${runId}'`);
    return vscode.Uri.joinPath(this.dir, `${runId}.json`);
  }

  private metaOf(runId: string): vscode.Uri {
    return vscode.Uri.joinPath(this.dir, `${runId}.meta.json`);
  }

  /** Replaces the run's own regular file (never a symlink, folder or device put in its place). */
  private async writeAtomic(target: vscode.Uri, text: string): Promise<void> {
    await writeOutputFile(vscode.workspace.fs, target, new TextEncoder().encode(text), {
      name: `run store ${target.path}`,
      overwrite: true,
    });
  }

  dispose(): void {
    this.changed.dispose();
  }
}
