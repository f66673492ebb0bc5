// In a real VS Code: the Grokking Lab (docs/science.md §4) runs a small task through its command, wherever
// the placement puts it, and the run groks: test accuracy near chance first, then >= 0.9, train 1.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { GrokLabResult } from '../../../src/extension/grokking/lab';

const EXT_ID = 'feature-lens.feature-lens';

suite('Grokking Lab', () => {
  suiteSetup(async () => {
    await vscode.extensions.getExtension(EXT_ID)?.activate();
  });

  test('Grokking Lab: add mod 23 with 70% training pairs groks, and names where it ran', async () => {
    const r = await vscode.commands.executeCommand<GrokLabResult>('featureLens.openGrokkingLab', {
      op: 'add',
      p: 23,
      trainFrac: 0.7,
      iters: 14,
      backend: 'auto',
    });
    assert.ok(r, 'the command resolves to the run');
    assert.ok(['webgpu', 'cpu'].includes(r.backend), r.backend);
    assert.ok(r.reason.length > 0 && r.device.length > 0);
    assert.equal(r.agopAlignment.length, 15);
    assert.ok(Math.abs(r.agopAlignment[14] - 1) < 1e-9);
    // Curves are collected here only for host placements (a page draws its own).
    if (r.placement.startsWith('host-')) {
      assert.equal(r.testAcc.length, 15);
      for (const a of r.trainAcc) assert.equal(a, 1);
      for (const a of r.testAcc.slice(0, 5)) assert.ok(a < 0.1, r.testAcc.join(' '));
      assert.ok(r.testAcc[14] >= 0.9, r.testAcc.join(' '));
    }
  });

  test('Grokking Lab refuses a p that is not prime (reported, resolves undefined) and runs the next request', async () => {
    const bad = await vscode.commands.executeCommand<GrokLabResult>('featureLens.openGrokkingLab', { p: 60 });
    assert.equal(bad, undefined);
    const ok = await vscode.commands.executeCommand<GrokLabResult>('featureLens.openGrokkingLab', { p: 5, iters: 1 });
    assert.ok(ok && ok.agopAlignment.length === 2);
  });
});
