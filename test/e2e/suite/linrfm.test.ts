// In a real VS Code: Complete Matrix (lin-RFM) on the bundled low-rank example (examples/lowrank.*,
// docs/science.md §8). What the panel was given equals what `feature-lens complete --json` reports for
// the same file and options (both on the CPU: float64, the same validation split); the saved completion
// matches the example's hidden truth; a matrix below the sample-complexity threshold is shown as NOT
// converged; Cancel stops a long run; Save never replaces the input or an existing file unasked.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { encodeNpy, parseNpy } from '../../../src/core/data/npy';
import type { FeatureLensApi } from '../../../src/extension/extension';
import type { CompleteMatrixResult } from '../../../src/extension/linrfm/index';

const EXT_ID = 'feature-lens.feature-lens';

function ext(): vscode.Extension<FeatureLensApi> {
  const e = vscode.extensions.getExtension<FeatureLensApi>(EXT_ID);
  assert.ok(e, `${EXT_ID} is installed`);
  return e;
}

const example = (name: string) => vscode.Uri.joinPath(ext().extensionUri, 'examples', name);

function ws(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the e2e driver opens a workspace folder');
  return vscode.Uri.joinPath(folder.uri, name);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The CLI's report for the same file and options. */
function cliComplete(file: string, alpha: number, maxIters: number): Record<string, unknown> {
  const out = path.join(os.tmpdir(), `fl-complete-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  const args = ['complete', file, '--alpha', String(alpha), '--max-iters', String(maxIters), '--backend', 'cpu'];
  const r = spawnSync(process.execPath, [path.join(ext().extensionPath, 'dist', 'cli.js'), ...args, '--json', out], {
    encoding: 'utf8',
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
  });
  // Exit 0 also when not converged: the report says so (converged false).
  assert.equal(r.status, 0, `feature-lens ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return JSON.parse(fs.readFileSync(out, 'utf8')) as Record<string, unknown>;
}

const close = (a: number, b: number, rel = 1e-9) => Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b), 1e-300);

/** A rows x cols matrix of rank r with a `fraction` of its entries observed (NaN elsewhere), seeded. */
function lowRank(rows: number, cols: number, r: number, fraction: number, seed: number): Float64Array {
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  const gauss = () => Math.sqrt(-2 * Math.log(rand())) * Math.cos(2 * Math.PI * rand());
  const U = Float64Array.from({ length: rows * r }, gauss);
  const V = Float64Array.from({ length: r * cols }, gauss);
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) {
      let v = 0;
      for (let k = 0; k < r; k++) v += U[i * r + k] * V[k * cols + j];
      out[i * cols + j] = rand() < fraction ? v : NaN;
    }
  return out;
}

async function writeNpy(name: string, values: Float64Array, rows: number, cols: number): Promise<vscode.Uri> {
  const uri = ws(name);
  await vscode.workspace.fs.writeFile(uri, encodeNpy(values, [rows, cols]));
  return uri;
}

/**
 * The panel's numbers: consistent with the command's result and its own curve, then equal to the CLI's
 * report of the same completion (run after the panel checks, so those speak first).
 */
function assertSameAsCli(r: CompleteMatrixResult, cli: () => Record<string, unknown>): void {
  const panel = ext().exports.linrfm.latest;
  assert.ok(panel?.final && panel.info, 'the panel was given the final state');
  const f = panel.final;
  // The curve the panel drew holds every iteration (the refit's after the run's), and the command
  // resolves to the same numbers.
  const total = f.iterations + f.refitIterations;
  assert.equal(panel.curve.length, total);
  assert.deepEqual(
    panel.curve.map((it) => it.iter),
    Array.from({ length: total }, (_, k) => k + 1),
  );
  assert.deepEqual(
    panel.curve.map((it) => it.refit),
    Array.from({ length: total }, (_, k) => k >= f.iterations),
  );
  assert.ok(panel.curve.every((it) => it.refit === (it.validationError === null)));
  assert.equal(r.converged, f.converged);
  assert.equal(r.iterations, f.iterations);
  assert.equal(r.observedMse, f.observedMse);
  const report = cli();
  assert.equal(panel.info.rows, report.rows);
  assert.equal(panel.info.cols, report.cols);
  assert.equal(panel.info.observed, report.observed);
  assert.equal(f.converged, report.converged);
  assert.equal(f.iterations, report.iterations);
  assert.equal(f.stopReason, report.stop_reason);
  assert.equal(f.refitIterations, report.refit_iterations);
  assert.ok(close(f.observedMse, report.observed_mse as number), `${f.observedMse} vs ${String(report.observed_mse)}`);
  assert.equal(f.rankEstimate, report.rank_estimate);
  const sv = new Float64Array(f.singularValues);
  const cliSv = report.singular_values as number[];
  assert.equal(sv.length, cliSv.length);
  for (let i = 0; i < sv.length; i++)
    assert.ok(close(sv[i], cliSv[i], 1e-8) || Math.abs(sv[i] - cliSv[i]) < 1e-9, `σ${i}: ${sv[i]} vs ${cliSv[i]}`);
  // The whole report (one serializer in core) is the CLI's, but for the time taken and the file's name.
  const strip = (o: Record<string, unknown>) => ({ ...o, seconds: null, file: null });
  assert.deepEqual(strip(r.report), strip(report));
}

suite('lin-RFM: Complete Matrix', () => {
  /** Iterations α = ½ took on the example (α = 1 takes fewer, docs/science.md §8). */
  let halfIterations = Infinity;
  suiteSetup(async () => {
    await ext().activate();
  });

  test('α = ½ on examples/lowrank.npy converges, the panel shows the CLI`s numbers, the saved matrix is the truth', async () => {
    const input = example('lowrank.npy');
    const r = await vscode.commands.executeCommand<CompleteMatrixResult>('featureLens.completeMatrix', input, {
      alpha: 0.5,
      maxIters: 3000,
      backend: 'cpu',
    });
    assert.ok(r, 'the command resolves to the run');
    assert.equal(r.placement, 'host-cpu');
    assert.deepEqual([r.rows, r.cols], [60, 40]);
    assert.equal(r.converged, true, `validation error ${r.validationError}`);
    assert.ok(r.validationError !== null && r.validationError < 1e-3);
    assert.equal(r.rankEstimate, 3);
    halfIterations = r.iterations;
    const panel = ext().exports.linrfm.latest!;
    assert.equal(panel.final!.completed.rowStep, 1, 'a 60 x 40 matrix is shown whole');
    assert.ok(panel.spectra > 0, 'spectra were streamed while it ran');

    // Save as .npy: the completion equals the hidden truth off the observed entries.
    const target = ws('lowrank-completed.npy');
    const saved = await vscode.commands.executeCommand<string>('featureLens.saveCompletedMatrix', target);
    assert.equal(saved, target.toString());
    const completed = parseNpy(await vscode.workspace.fs.readFile(target), 'saved');
    const truth = parseNpy(fs.readFileSync(example('lowrank-truth.npy').fsPath), 'truth');
    assert.deepEqual(completed.shape, [60, 40]);
    let err = 0;
    let norm = 0;
    for (let k = 0; k < truth.data.length; k++) {
      err += (Number(completed.data[k]) - Number(truth.data[k])) ** 2;
      norm += Number(truth.data[k]) ** 2;
    }
    assert.ok(err / norm < 1e-3, `relative squared error ${err / norm}`);

    // Saving again to the same file is refused when told not to overwrite; the input is never a target.
    const before = fs.statSync(target.fsPath).mtimeMs;
    const again = await vscode.commands.executeCommand('featureLens.saveCompletedMatrix', target, { overwrite: false });
    assert.equal(again, undefined);
    assert.equal(fs.statSync(target.fsPath).mtimeMs, before, 'the saved file is unchanged');
    const size = fs.statSync(input.fsPath).size;
    const onInput = await vscode.commands.executeCommand('featureLens.saveCompletedMatrix', input, { overwrite: true });
    assert.equal(onInput, undefined);
    assert.equal(fs.statSync(input.fsPath).size, size, 'the input matrix is untouched');
    assertSameAsCli(r, () => cliComplete(input.fsPath, 0.5, 3000));
  });

  test('α = 1 on examples/lowrank.csv (empty cells missing) converges in fewer iterations, as the CLI reports', async () => {
    const input = example('lowrank.csv');
    const r = await vscode.commands.executeCommand<CompleteMatrixResult>('featureLens.completeMatrix', input, {
      alpha: 1,
      maxIters: 3000,
      backend: 'cpu',
    });
    assert.ok(r);
    assert.equal(r.converged, true);
    assert.ok(r.iterations < halfIterations, `α = 1: ${r.iterations} iterations, α = ½: ${halfIterations}`);
    const target = ws('lowrank-completed.csv');
    await vscode.commands.executeCommand('featureLens.saveCompletedMatrix', target);
    const rows = fs.readFileSync(target.fsPath, 'utf8').trim().split(/\r?\n/);
    assert.equal(rows.length, 60);
    assert.ok(rows.every((l) => l.split(',').length === 40 && l.split(',').every((c) => Number.isFinite(Number(c)))));
    assertSameAsCli(r, () => cliComplete(input.fsPath, 1, 3000));
  });

  test('with backend auto it runs where the placement puts it (WebGPU in the host when there is an adapter) and says so', async () => {
    const r = await vscode.commands.executeCommand<CompleteMatrixResult>(
      'featureLens.completeMatrix',
      example('lowrank.npy'),
      { alpha: 1, backend: 'auto' },
    );
    assert.ok(r);
    assert.ok(['host-gpu', 'host-cpu'].includes(r.placement), r.placement);
    console.log(
      `      ran on ${r.reason} (${r.device}): ${r.iterations} + ${r.refitIterations} iterations in ${r.seconds.toFixed(2)} s`,
    );
    assert.equal(r.converged, true, `${r.reason}: validation error ${r.validationError}`);
    assert.equal(r.rankEstimate, 3);
    const f = ext().exports.linrfm.latest!.final!;
    assert.equal(f.reason, r.reason);
    assert.equal(f.device, r.device);
    assert.ok(r.reason.length > 0 && r.device.length > 0);
  });

  test('below the sample-complexity threshold the panel says NOT converged, as the CLI does', async () => {
    // 60 x 40 of rank 3 has 291 degrees of freedom; 6% observed is ~144 entries.
    const input = await writeNpy('too-few.npy', lowRank(60, 40, 3, 0.06, 5), 60, 40);
    const r = await vscode.commands.executeCommand<CompleteMatrixResult>('featureLens.completeMatrix', input, {
      alpha: 0.5,
      maxIters: 400,
      backend: 'cpu',
    });
    assert.ok(r);
    assert.equal(r.converged, false);
    assert.equal(ext().exports.linrfm.latest!.final!.converged, false);
    assertSameAsCli(r, () => cliComplete(input.fsPath, 0.5, 400));
  });

  test('Cancel stops a long completion: the command resolves undefined and the panel says cancelled', async () => {
    const rows = 300;
    const input = await writeNpy('large.npy', lowRank(rows, rows, 8, 0.2, 9), rows, rows);
    const api = ext().exports.linrfm;
    const previous = api.latest;
    const running = vscode.commands.executeCommand<CompleteMatrixResult>('featureLens.completeMatrix', input, {
      alpha: 0.5,
      maxIters: 3000,
      backend: 'cpu',
    });
    for (let i = 0; i < 600 && (api.latest === previous || (api.latest?.curve.length ?? 0) < 2); i++) await sleep(50);
    const panel = api.latest!;
    assert.notEqual(panel, previous, 'a new panel opened');
    assert.ok(panel.curve.length >= 2, 'iterations streamed in before Cancel');
    assert.ok(panel.cancel, 'the running completion can be cancelled');
    panel.cancel();
    assert.equal(await running, undefined);
    assert.deepEqual(panel.stopped, { cancelled: true, message: 'Cancelled.' });
    assert.equal(panel.final, null);
    const seen = panel.curve.length;
    assert.ok(seen < 3000);
    await sleep(500);
    assert.equal(panel.curve.length, seen, 'nothing more arrives after Cancel');
  });
});
