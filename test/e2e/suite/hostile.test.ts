// The hostile corpus (test/fuzz/corpus.ts) through the extension: Inspect Weights on crafted weights
// files and Fit RFM on crafted datasets each end in one error notification naming the file, the
// extension keeps working, and the weights readers never hold the extension host's event loop long
// (they yield while parsing). The longest gap of a 10 ms timer during each command is the measure.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { CORPUS } from '../../fuzz/corpus';

/** Weights files go through Inspect Weights; datasets through Fit RFM (no panel: the host does the reading). */
const WEIGHTS = ['shared-subdict.pt', 'appends-300k.pt', 'huge-header.safetensors'];
const DATASETS = [
  'size-lying.npz',
  'rows-67M.npz',
  'columns-100k.csv',
  'arrays-3000-data.npz',
  'rows-600k.csv',
  'rows-30M.parquet',
];
/**
 * Datasets parse on a worker thread (src/extension/host/datasets.ts) and the weights readers yield every
 * ~10 ms, so the host's longest hold is held to the issue's ~50 ms over what the
 * same timer shows with the host idle (a loaded machine delays timers by itself).
 */
const HOLD_MS = 50;

function assertHeld(name: string, gapMs: number, idleMs: number): void {
  console.log(`      ${name}: longest hold ${gapMs.toFixed(0)} ms (idle timer: ${idleMs.toFixed(0)} ms)`);
  assert.ok(gapMs < HOLD_MS + idleMs, `${name}: the event loop was held for ${gapMs.toFixed(0)} ms`);
}

/** The longest gap of the same 10 ms timer over `ms` with nothing to do: the machine's own noise. */
async function idleGapMs(ms: number): Promise<number> {
  return (await capturing(() => new Promise<void>((r) => setTimeout(r, ms)))).longestGapMs;
}

async function capturing<T>(fn: () => Thenable<T>): Promise<{ value: T; errors: string[]; longestGapMs: number }> {
  const errors: string[] = [];
  const w = vscode.window as unknown as Record<string, unknown>;
  const original = w.showErrorMessage;
  w.showErrorMessage = (msg: string) => {
    errors.push(msg);
    return Promise.resolve(undefined);
  };
  let last = performance.now();
  let longestGapMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longestGapMs = Math.max(longestGapMs, now - last);
    last = now;
  }, 10);
  try {
    return { value: await fn(), errors, longestGapMs };
  } finally {
    clearInterval(timer);
    w.showErrorMessage = original;
  }
}

async function write(name: string): Promise<vscode.Uri> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the e2e driver opens a workspace folder');
  const entry = CORPUS.find((c) => c.name === name);
  assert.ok(entry, name);
  const uri = vscode.Uri.joinPath(folder.uri, 'hostile', name);
  await vscode.workspace.fs.writeFile(uri, entry.make());
  return uri;
}

suite('Hostile files in the extension', () => {
  suiteSetup(async () => {
    await vscode.extensions.getExtension('feature-lens.feature-lens')!.activate();
  });

  for (const name of WEIGHTS) {
    test(`Inspect Weights on ${name}: one error naming it, the host not held`, async () => {
      const uri = await write(name);
      const idle = await idleGapMs(1000);
      const r = await capturing(() =>
        vscode.commands.executeCommand('featureLens.inspectWeights', uri, { open: false }),
      );
      assert.equal(r.value, undefined);
      assert.equal(r.errors.length, 1, `${name}: ${r.errors.join(' | ')}`);
      assert.match(r.errors[0], new RegExp(name.replace(/[.-]/g, '\\$&')));
      assert.doesNotMatch(r.errors[0], /internal|RangeError|call stack|details in the Feature Lens output/);
      // The readers yield every ~10 ms.
      assertHeld(name, r.longestGapMs, idle);
    });
  }

  test('Inspect Weights on a valid np.savez of 3000 arrays lists them all, the host not held', async () => {
    const uri = await write('arrays-3000.npz');
    const idle = await idleGapMs(1000);
    const r = await capturing(() =>
      vscode.commands.executeCommand<{ tensors: unknown[] }>('featureLens.inspectWeights', uri, { open: false }),
    );
    assert.deepEqual(r.errors, []);
    assert.equal(r.value?.tensors.length, 3000);
    assertHeld('arrays-3000.npz', r.longestGapMs, idle);
  });

  for (const name of DATASETS) {
    test(`Fit RFM on ${name}: one error naming it, nothing saved, the host not held`, async () => {
      const uri = await write(name);
      const idle = await idleGapMs(1000);
      const r = await capturing(() =>
        vscode.commands.executeCommand('featureLens.fitRfm', uri, { target: 'y', panel: false, backend: 'cpu' }),
      );
      assert.equal(r.value, undefined);
      assert.equal(r.errors.length, 1, `${name}: ${r.errors.join(' | ')}`);
      assert.match(r.errors[0], new RegExp(name.replace(/[.-]/g, '\\$&')));
      assert.doesNotMatch(r.errors[0], /internal|RangeError|call stack|details in the Feature Lens output/);
      assertHeld(name, r.longestGapMs, idle);
    });
  }

  test('after all of them the extension still fits and inspects', async () => {
    const folder = vscode.workspace.workspaceFolders![0].uri;
    const fit = await vscode.commands.executeCommand<{ runId: string } | undefined>(
      'featureLens.fitRfm',
      vscode.Uri.joinPath(folder, 'iris.csv'),
      { target: 'species', panel: false, backend: 'cpu', iters: 1 },
    );
    assert.ok(fit?.runId);
    await vscode.commands.executeCommand('featureLens.deleteRun', fit.runId, { confirm: false });
  });
});
