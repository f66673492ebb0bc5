// In a real VS Code: the live loss-spike view follows a growing CSV log, the Python CodeLens,
// and the catapult lab's phases for the linear toy (docs/science.md §3).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { SpikeWatchState } from '../../../src/extension/logs/spikeWatch';
import type { LabResult } from '../../../src/extension/catapult/lab';

const EXT_ID = 'feature-lens.feature-lens';

function workspaceDir(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the e2e driver opens a workspace folder');
  return folder.uri.fsPath;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20000): Promise<T> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  const last: unknown = await probe().catch((e) => e);
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

/** A smoothly falling loss with +-2% deterministic wiggle: no spikes of its own. */
function lossAt(step: number): number {
  return (2 * Math.exp(-step / 150) + 0.2) * (1 + 0.02 * Math.sin(step * 1.7) * Math.cos(step * 0.31));
}
const lines = (from: number, to: number, f = lossAt) =>
  Array.from({ length: to - from }, (_, i) => `${from + i},${f(from + i).toFixed(6)}\n`).join('');

async function state(file: string): Promise<SpikeWatchState | undefined> {
  const all = (await vscode.commands.executeCommand<SpikeWatchState[]>('featureLens.spikes.state')) ?? [];
  return all.find((s) => vscode.Uri.parse(s.file).fsPath === file);
}

suite('Loss spikes and the catapult lab', () => {
  suiteSetup(async () => {
    await vscode.extensions.getExtension(EXT_ID)!.activate();
  });

  test('Watch Loss Spikes follows lines appended to a CSV log and finds an injected spike', async () => {
    const file = path.join(workspaceDir(), 'train_log.csv');
    fs.writeFileSync(file, 'step,loss\n' + lines(0, 200));
    const opened = await vscode.commands.executeCommand<string>('featureLens.watchLossSpikes', vscode.Uri.file(file));
    assert.equal(vscode.Uri.parse(opened!).fsPath, file);
    const first = await until('the first 200 points in the view', async () => {
      const s = await state(file);
      return s && s.points === 200 && s.shownPoints === 200 ? s : undefined;
    });
    assert.equal(first.column, 'loss');
    assert.equal(first.spikes.length, 0, `no spikes in a smooth loss: ${JSON.stringify(first.spikes)}`);

    // Training appends: a spike of x6 over steps 250..253, then recovery; the first write ends mid-line.
    const spiky = (s: number) => lossAt(s) * (s >= 250 && s <= 253 ? 6 : 1);
    const more = lines(200, 320, spiky);
    const cut = more.indexOf('\n', 1000) + 4;
    fs.appendFileSync(file, more.slice(0, cut));
    await new Promise((r) => setTimeout(r, 300));
    fs.appendFileSync(file, more.slice(cut));
    const after = await until('320 points and the spike', async () => {
      const s = await state(file);
      return s && s.points === 320 && s.shownPoints === 320 && s.spikes.length > 0 && s.shownSpikes === s.spikes.length
        ? s
        : undefined;
    });
    assert.equal(after.spikes.length, 1, JSON.stringify(after.spikes));
    const spike = after.spikes[0];
    assert.ok(spike.start >= 249 && spike.start <= 250, `start ${spike.start}`);
    assert.ok(spike.peak >= 250 && spike.peak <= 253, `peak ${spike.peak}`);
    assert.ok(spike.end >= 254 && spike.end <= 258, `end ${spike.end}`);
    assert.ok(
      spike.heightRatio !== null && spike.heightRatio > 4.5 && spike.heightRatio < 7.5,
      `height ${spike.heightRatio}`,
    );
    assert.equal(after.problems, 0);
  });

  test('the view keeps up with 10,000 new points per second (2 s of appends, every point shown)', async () => {
    const file = path.join(workspaceDir(), 'fast_log.csv');
    fs.writeFileSync(file, 'step,train_loss\n');
    await vscode.commands.executeCommand('featureLens.watchLossSpikes', vscode.Uri.file(file));
    for (let k = 0; k < 20; k++) {
      fs.appendFileSync(file, lines(k * 1000, (k + 1) * 1000));
      await new Promise((r) => setTimeout(r, 100));
    }
    const done = await until('20,000 points in the view', async () => {
      const s = await state(file);
      return s && s.points === 20000 && s.shownPoints === 20000 ? s : undefined;
    });
    assert.equal(done.column, 'train_loss');
    assert.equal(done.problems, 0);
  });

  test('a large existing log (500,000 points) is read in bounded updates and shown whole', async () => {
    const file = path.join(workspaceDir(), 'big_log.csv');
    const chunks = ['step,train_loss\n'];
    for (let a = 0; a < 500_000; a += 50_000) chunks.push(lines(a, a + 50_000));
    fs.writeFileSync(file, chunks.join(''));
    await vscode.commands.executeCommand('featureLens.watchLossSpikes', vscode.Uri.file(file));
    const s = await until(
      '500,000 points in the view',
      async () => {
        const x = await state(file);
        return x && x.shownPoints === 500_000 ? x : undefined;
      },
      90000,
    );
    assert.equal(s.points, 500_000);
    assert.equal(s.bytesRead, fs.statSync(file).size);
  });

  test('a run folder follows its newest run, and moves to a new run when training starts one', async () => {
    const runs = path.join(workspaceDir(), 'lightning_logs');
    fs.mkdirSync(path.join(runs, 'version_0'), { recursive: true });
    fs.writeFileSync(path.join(runs, 'version_0', 'metrics.csv'), 'step,train_loss\n' + lines(0, 30));
    await vscode.commands.executeCommand('featureLens.watchLossSpikes', vscode.Uri.file(runs));
    const all = async () => (await vscode.commands.executeCommand<SpikeWatchState[]>('featureLens.spikes.state')) ?? [];
    const inRun = (v: string) => async () =>
      (await all()).find((s) => vscode.Uri.parse(s.file).fsPath === path.join(runs, v, 'metrics.csv'));
    const first = await until('version_0 followed', async () => {
      const s = await inRun('version_0')();
      return s && s.shownPoints === 30 ? s : undefined;
    });
    assert.equal(first.points, 30);
    await new Promise((r) => setTimeout(r, 1100)); // a later modification time for the new run
    fs.mkdirSync(path.join(runs, 'version_1'));
    fs.writeFileSync(path.join(runs, 'version_1', 'metrics.csv'), 'step,train_loss\n' + lines(0, 12));
    const moved = await until('version_1 followed', async () => {
      const s = await inRun('version_1')();
      return s && s.points === 12 && s.shownPoints === 12 ? s : undefined;
    });
    assert.equal(moved.column, 'train_loss');
    assert.equal(await inRun('version_0')(), undefined, 'the view moved, it did not open a second one');
  });

  test('a TensorBoard run folder: the event file is followed, its loss tag chosen (values written by Python protobuf)', async () => {
    const ext = vscode.extensions.getExtension(EXT_ID)!;
    const run = path.join(workspaceDir(), 'tb_run');
    fs.mkdirSync(run, { recursive: true });
    fs.copyFileSync(
      path.join(ext.extensionPath, 'test/fixtures/logs/events.out.tfevents.1700000000.fixture'),
      path.join(run, 'events.out.tfevents.1700000000.fixture'),
    );
    const expected = JSON.parse(
      fs.readFileSync(path.join(ext.extensionPath, 'test/fixtures/logs/tfevents-expected.json'), 'utf8'),
    ) as { fixture: { points: { tag: string }[] } };
    const n = expected.fixture.points.filter((p) => p.tag === 'train/loss').length;
    assert.ok(n > 10);
    await vscode.commands.executeCommand('featureLens.watchLossSpikes', vscode.Uri.file(run));
    const s = await until('the event file followed', async () => {
      const all = (await vscode.commands.executeCommand<SpikeWatchState[]>('featureLens.spikes.state')) ?? [];
      const w = all.find((x) => vscode.Uri.parse(x.file).fsPath.startsWith(run));
      return w && w.shownPoints === n ? w : undefined;
    });
    assert.equal(s.column, 'train/loss');
    assert.equal(s.points, n);
  });

  test('a run folder that does not exist yet is waited for (CodeLens before the first run)', async () => {
    const later = path.join(workspaceDir(), 'runs_later', 'exp');
    await vscode.commands.executeCommand('featureLens.watchLossSpikes', vscode.Uri.file(later));
    fs.mkdirSync(later, { recursive: true });
    fs.writeFileSync(
      path.join(later, 'log.jsonl'),
      Array.from({ length: 25 }, (_, i) => JSON.stringify({ step: i, loss: lossAt(i) }) + '\n').join(''),
    );
    const s = await until('the new log followed', async () => {
      const all = (await vscode.commands.executeCommand<SpikeWatchState[]>('featureLens.spikes.state')) ?? [];
      const w = all.find((x) => vscode.Uri.parse(x.file).fsPath === path.join(later, 'log.jsonl'));
      return w && w.shownPoints === 25 ? w : undefined;
    });
    assert.equal(s.column, 'loss');
  });

  test('a log file that does not exist yet is waited for', async () => {
    const file = path.join(workspaceDir(), 'not_yet.csv');
    await vscode.commands.executeCommand('featureLens.watchLossSpikes', vscode.Uri.file(file));
    await new Promise((r) => setTimeout(r, 1500));
    const before = await state(file);
    assert.ok(before && before.points === 0 && before.bytesRead === 0, JSON.stringify(before));
    fs.writeFileSync(file, 'step,loss\n' + lines(0, 40));
    const s = await until('the created file followed', async () => {
      const x = await state(file);
      return x && x.shownPoints === 40 ? x : undefined;
    });
    assert.equal(s.column, 'loss');
  });

  test('an ambiguous log waits for the column pick and a watch with column given follows it', async () => {
    const file = path.join(workspaceDir(), 'two_losses.jsonl');
    fs.writeFileSync(
      file,
      Array.from(
        { length: 50 },
        (_, i) => JSON.stringify({ step: i, loss_a: lossAt(i), loss_b: 2 * lossAt(i) }) + '\n',
      ).join(''),
    );
    await vscode.commands.executeCommand('featureLens.watchLossSpikes', vscode.Uri.file(file));
    const waiting = await until('the candidates', async () => {
      const s = await state(file);
      return s && s.candidates.length ? s : undefined;
    });
    assert.equal(waiting.column, null);
    assert.deepEqual(waiting.candidates, ['loss_a', 'loss_b']);
    await vscode.commands.executeCommand('featureLens.watchLossSpikes', vscode.Uri.file(file), { column: 'loss_b' });
    const picked = await until('loss_b followed', async () => {
      const s = await state(file);
      return s && s.column === 'loss_b' && s.shownPoints === 50 ? s : undefined;
    });
    assert.equal(picked.points, 50);
  });

  test('CodeLens on a Python script: Watch Loss Spikes, Fit RFM and (if available) Inspect Weights at the right lines', async () => {
    const ext = vscode.extensions.getExtension(EXT_ID)!;
    const script = path.join(workspaceDir(), 'train_spikes.py');
    fs.copyFileSync(path.join(ext.extensionPath, 'test/fixtures/codelens/train_spikes.py'), script);
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(script));
    assert.equal(doc.languageId, 'python');
    const hasInspect = (await vscode.commands.getCommands(true)).includes('featureLens.inspectWeights');
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>(
      'vscode.executeCodeLensProvider',
      doc.uri,
      100,
    );
    const ours = lenses
      .filter((l) => l.command?.command.startsWith('featureLens.'))
      .map(
        (l) =>
          `${l.range.start.line}:${l.command!.command}:${path.relative(workspaceDir(), (l.command!.arguments![0] as vscode.Uri).fsPath)}`,
      );
    const expected = [
      '6:featureLens.watchLossSpikes:runs/exp1',
      '7:featureLens.watchLossSpikes:logs/mnist',
      '8:featureLens.fitRfmHere:iris.csv',
      '9:featureLens.watchLossSpikes:train_log.csv',
      ...(hasInspect ? ['11:featureLens.inspectWeights:checkpoints/model.pt'] : []),
    ];
    assert.deepEqual(ours.sort(), expected.sort());

    // Each kind can be turned off.
    const cfg = vscode.workspace.getConfiguration('featureLens.codeLens');
    await cfg.update('spikes', false, vscode.ConfigurationTarget.Workspace);
    try {
      const fewer = await vscode.commands.executeCommand<vscode.CodeLens[]>(
        'vscode.executeCodeLensProvider',
        doc.uri,
        100,
      );
      assert.deepEqual(fewer.filter((l) => l.command?.command === 'featureLens.watchLossSpikes').length, 0);
      assert.equal(fewer.filter((l) => l.command?.command === 'featureLens.fitRfmHere').length, 1);
    } finally {
      await cfg.update('spikes', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  test('Catapult Lab: the linear toy at 1.5, 3 and 5 x 1/lambda0 is lazy, catapult, divergent (docs/science.md §3)', async () => {
    const phases: string[] = [];
    for (const lrFactor of [1.5, 3, 5]) {
      const r = await vscode.commands.executeCommand<LabResult>('featureLens.openCatapultLab', {
        model: 'linear',
        width: 1000,
        lrFactor,
        steps: 100,
        seed: 0,
      });
      assert.ok(r && r.type === 'labDone', JSON.stringify(r));
      phases.push(r.phase);
      assert.ok(Math.abs(r.lr * r.lambda0 - lrFactor) < 1e-9);
    }
    assert.deepEqual(phases, ['lazy', 'catapult', 'divergent']);
  });

  test('Catapult Lab names the backend the ReLU network trained on (auto: the first placement that runs, with the reason)', async () => {
    const r = await vscode.commands.executeCommand<LabResult>('featureLens.openCatapultLab', {
      model: 'relu',
      width: 32,
      lrFactor: 1,
      steps: 10,
      seed: 0,
      backend: 'auto',
    });
    assert.ok(r && r.type === 'labDone', JSON.stringify(r));
    assert.ok(['webgpu', 'cpu'].includes(r.backend), r.backend);
    assert.ok(r.device.length > 0);
    if (r.backend === 'cpu')
      assert.match(r.backendNote ?? '', /WebGPU/, 'auto on the CPU says why WebGPU was not used');
    assert.ok(Number.isFinite(r.lambda0) && r.lambda0 > 0);
    const lin = await vscode.commands.executeCommand<LabResult>('featureLens.openCatapultLab', {
      model: 'linear',
      width: 100,
      lrFactor: 1,
      steps: 10,
      seed: 0,
      backend: 'auto',
    });
    assert.ok(lin && lin.type === 'labDone');
    assert.equal(lin.backend, 'cpu', 'the linear toy is the exact recursion');
  });

  test('Catapult Lab in a panel without WebGPU trains the ReLU network on the host WebGPU (Dawn), and says why', async () => {
    const r = await vscode.commands.executeCommand<LabResult>('featureLens.openCatapultLab', {
      model: 'relu',
      width: 32,
      lrFactor: 3,
      steps: 20,
      seed: 0,
      backend: 'auto',
    });
    assert.ok(r && r.type === 'labDone', JSON.stringify(r));
    if (r.placement === 'page-gpu') return; // this browser has WebGPU: nothing moves to the host
    // Whether Dawn finds an adapter in this extension host (this bundle's own copy of core/node).
    const { hostGpu } = await import('../../../src/core/node');
    const dawn = await hostGpu().then(
      async (gpu) => (await gpu.requestAdapter()) !== null,
      () => false,
    );
    if (dawn) {
      assert.equal(r.placement, 'host-gpu', r.reason);
      assert.equal(r.backend, 'webgpu');
      assert.match(r.reason, /^WebGPU in the extension host \(WebGPU in the panel: .+\)$/);
      assert.equal(r.backendNote, r.reason);
    } else {
      assert.equal(r.placement, 'page-cpu', r.reason);
      assert.match(r.reason, /WebGPU in the extension host: /);
    }
  });

  test('Catapult Lab lr sweep of the linear toy: lazy below 2/lambda0, catapult to about 4/lambda0, divergent beyond (docs/science.md §3)', async () => {
    const r = await vscode.commands.executeCommand<LabResult>('featureLens.openCatapultLab', {
      model: 'linear',
      width: 1000,
      steps: 100,
      seed: 0,
      sweep: 'lr',
    });
    assert.ok(r && r.type === 'labSweepDone', JSON.stringify(r));
    assert.equal(r.rows.length, 12);
    // x = eta / (2 / lambda0); the edges 1 and ~2 themselves are left out (docs/science.md §3: "about 4/lambda_max").
    for (const row of r.rows) {
      if (row.x < 1) assert.equal(row.phase, 'lazy', `x=${row.x}`);
      else if (row.x > 1 && row.x < 1.9) assert.equal(row.phase, 'catapult', `x=${row.x}`);
      else if (row.x > 2.1) assert.equal(row.phase, 'divergent', `x=${row.x}`);
    }
  });

  test("Catapult Lab trains the ReLU network on the user's table (iris.csv) in the webview, as the core does", async () => {
    const uri = vscode.Uri.file(path.join(workspaceDir(), 'iris.csv'));
    const settings = { model: 'relu' as const, width: 64, lrFactor: 3, steps: 40, batch: 1000, seed: 0 };
    const r = await vscode.commands.executeCommand<LabResult>('featureLens.openCatapultLab', {
      ...settings,
      dataset: uri,
      target: 'species',
      backend: 'cpu',
    });
    assert.ok(r && r.type === 'labDone', JSON.stringify(r));
    assert.equal(r.backend, 'cpu', 'backend cpu was asked');
    assert.equal(r.backendNote, null);
    // The same training outside the webview, from the same bytes.
    const { loadDataset } = await import('../../../src/core/data/index');
    const { CpuCatapultBackend, labTaskFromDataset, trainReluLab } = await import('../../../src/core/catapult/index');
    const { dataset } = await loadDataset(await vscode.workspace.fs.readFile(uri), 'iris.csv', { target: 'species' });
    const ref = await trainReluLab(
      { ...settings, every: 10, task: labTaskFromDataset(dataset) },
      new CpuCatapultBackend(),
    );
    // The page's V8 (Chromium) and the host's (Node) may differ in the last bit of Math.log/cos: relative 1e-9.
    const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
    assert.ok(close(r.lambda0, ref.lambda0), `${r.lambda0} vs ${ref.lambda0}`);
    assert.equal(r.phase, ref.phase);
    const losses = Array.from(new Float64Array(r.losses));
    assert.equal(losses.length, ref.losses.length);
    losses.forEach((l, i) => assert.ok(close(l, ref.losses[i]), `loss ${i}: ${l} vs ${ref.losses[i]}`));
  });
});
