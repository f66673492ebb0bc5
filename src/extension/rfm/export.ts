import * as vscode from 'vscode';
import type { RfmPanel } from './panel';
import type { RunRecord } from '../host/runStore';
import { displayPath, exists } from '../host/datasetFile';
import { writeOutputFile } from '../host/safeWrite';

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function importancesCsv(run: RunRecord): string {
  const { feature_names: names, importance } = run.result;
  const rows = names.map((n, i) => ({ n, v: importance[i] })).sort((a, b) => b.v - a.v);
  return 'rank,feature,importance\n' + rows.map((r, i) => `${i + 1},${csvField(r.n)},${r.v}`).join('\n') + '\n';
}

/**
 * Writes the run's JSON, its importances as CSV and a PNG per chart into `dir`. Existing files are
 * never replaced: a numbered stem is chosen instead.
 */
export async function exportRun(
  run: RunRecord,
  dir: vscode.Uri,
  panel: RfmPanel,
  log: vscode.LogOutputChannel,
): Promise<vscode.Uri[]> {
  const charts = await panel.charts().catch((e) => {
    log.warn(`export ${run.meta.runId}: no chart images: ${e instanceof Error ? e.message : e}`);
    return [] as { name: string; png: ArrayBuffer }[];
  });
  const base = `feature-lens-${run.meta.dataset.name
    .split('/')
    .pop()!
    .replace(/\.[^.]+$/, '')
    .replace(/[^\w.-]+/g, '_')}-${run.meta.runId}`;
  const files: [string, Uint8Array][] = [
    ['.json', new TextEncoder().encode(JSON.stringify(run, null, 1))],
    ['-importances.csv', new TextEncoder().encode(importancesCsv(run))],
    ...charts.map((c): [string, Uint8Array] => [`-${c.name}.png`, new Uint8Array(c.png)]),
  ];
  await vscode.workspace.fs.createDirectory(dir);
  let stem = base;
  for (
    let k = 2;
    (await Promise.all(files.map(([suffix]) => exists(vscode.Uri.joinPath(dir, stem + suffix))))).some(Boolean);
    k++
  )
    stem = `${base}-${k}`;
  const written: vscode.Uri[] = [];
  for (const [suffix, bytes] of files) {
    const uri = vscode.Uri.joinPath(dir, stem + suffix);
    // A new path (the stem was chosen so): refused, not replaced, if anything appeared there meanwhile.
    await writeOutputFile(vscode.workspace.fs, uri, bytes, { name: displayPath(uri), overwrite: false });
    written.push(uri);
  }
  log.info(`export ${run.meta.runId}: ${written.map((u) => u.path).join(', ')}`);
  return written;
}
