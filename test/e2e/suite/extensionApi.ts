// What the e2e suites share: the installed extension and its API, files of the test workspace, and the
// CLI the extension ships (dist/cli.js) run with --json, for comparing a command's numbers with it.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { FeatureLensApi } from '../../../src/extension/extension';

export const EXT_ID = 'feature-lens.feature-lens';

export function ext(): vscode.Extension<FeatureLensApi> {
  const e = vscode.extensions.getExtension<FeatureLensApi>(EXT_ID);
  assert.ok(e, `${EXT_ID} is installed`);
  return e;
}

/** `name` in the folder `dir` of the workspace the e2e driver opens. */
export function workspaceFile(dir: string, name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the e2e driver opens a workspace folder');
  return vscode.Uri.joinPath(folder.uri, dir, name);
}

/** The extension's CLI with `args` and `--json FILE`: the report it wrote (exit code 0 asserted). */
export function cliJson<T>(args: string[]): T {
  const out = path.join(os.tmpdir(), `fl-cli-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  const r = spawnSync(process.execPath, [path.join(ext().extensionPath, 'dist', 'cli.js'), ...args, '--json', out], {
    encoding: 'utf8',
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(fs.readFileSync(out, 'utf8')) as T;
}
