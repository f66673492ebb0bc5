// Neural collapse in a real VS Code: the NFA view's Neural Collapse tab, collapse over checkpoints and
// Run Deep RFM, each checked number for number against the CLI's JSON (and the tab against the PyTorch
// reference test/fixtures/weights/make_collapse.py wrote). Fixtures are copied into the test workspace.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { loadDataset } from '../../../src/core/data/index';
import { mlpToSafetensors, trainingTargets, trainMlp } from '../../../src/core/nfa/train';
import type { FeatureLensApi } from '../../../src/extension/extension';
import type { CheckpointsView, DeepRfmView, WireNc } from '../../../src/protocol/collapse';

const EXT_ID = 'feature-lens.feature-lens';
const FIXTURES = ['collapse_net.pt', 'collapse_train.csv', 'collapse_test.csv', 'collapse_expected.json'];

function ext(): vscode.Extension<FeatureLensApi> {
  const e = vscode.extensions.getExtension<FeatureLensApi>(EXT_ID);
  assert.ok(e, `${EXT_ID} is installed`);
  return e;
}

function ws(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the e2e driver opens a workspace folder');
  return vscode.Uri.joinPath(folder.uri, 'collapse-fixtures', name);
}

/** The CLI's JSON report of `command args… --json OUT`. */
function cli(command: string, args: string[]): Record<string, unknown> {
  const out = path.join(os.tmpdir(), `fl-${command}-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  const r = spawnSync(
    process.execPath,
    [path.join(ext().extensionPath, 'dist', 'cli.js'), command, ...args, '--json', out],
    { encoding: 'utf8', env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } },
  );
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(fs.readFileSync(out, 'utf8')) as Record<string, unknown>;
}

interface JsonNc {
  nc1: number | null;
  nc1_classic: number | null;
  nc2: number | null;
}
interface JsonLayer extends JsonNc {
  name: string;
  test: JsonNc | null;
  class_means_2d: [number, number][];
}
interface CollapseJson {
  classes: string[];
  input: JsonLayer;
  layers: JsonLayer[];
}

/** The CLI's `collapse WEIGHTS collapse_train.csv --target y --test collapse_test.csv --backend cpu` report on workspace files. */
function collapseCli(weights: string): CollapseJson {
  return cli('collapse', [
    ws(weights).fsPath,
    ws('collapse_train.csv').fsPath,
    '--target',
    'y',
    '--test',
    ws('collapse_test.csv').fsPath,
    '--backend',
    'cpu',
  ]) as unknown as CollapseJson;
}

interface DeepRfmJson {
  agop: boolean;
  layers: (JsonNc & { layer: number })[];
}

const close = (a: number, b: number | null, tol: number, what: string) =>
  assert.ok(b !== null && Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

function sameNc(got: WireNc, want: JsonNc, tol: number, what: string): void {
  close(got.nc1, want.nc1, tol, `${what} nc1`);
  close(got.nc1Classic, want.nc1_classic, tol, `${what} nc1_classic`);
  close(got.nc2, want.nc2, tol, `${what} nc2`);
}

function api(): FeatureLensApi {
  return ext().exports;
}

suite('Neural collapse', () => {
  suiteSetup(async () => {
    await ext().activate();
    await vscode.workspace.fs.createDirectory(ws(''));
    for (const f of FIXTURES)
      await vscode.workspace.fs.copy(
        vscode.Uri.file(path.join(ext().extensionPath, 'test/fixtures/weights', f)),
        ws(f),
        { overwrite: true },
      );
  });

  test('the collapse commands are registered', async () => {
    const all = new Set(await vscode.commands.getCommands(true));
    for (const id of ['featureLens.runDeepRfm', 'featureLens.collapseOverCheckpoints']) assert.ok(all.has(id), id);
  });

  test("the NFA view's Neural Collapse tab gets the CLI's collapse numbers, train and held-out", async () => {
    const report = await vscode.commands.executeCommand('featureLens.computeNfa', ws('collapse_net.pt'), {
      data: ws('collapse_train.csv'),
      target: 'y',
      test: ws('collapse_test.csv'),
      rfm: 'none',
      backend: 'cpu',
    });
    assert.ok(report, 'the NFA command resolved to its report');
    const panel = api().nfa.panels.latest;
    assert.ok(panel);
    await panel.settled;
    const c = panel.shown?.collapse;
    assert.ok(c, `the view has a Neural Collapse tab (${panel.shown?.collapseNote})`);
    const want = collapseCli('collapse_net.pt');
    assert.deepEqual(c.classes, want.classes);
    const layers = [want.input, ...want.layers];
    assert.deepEqual(
      c.layers.map((l) => l.name),
      ['input', ...want.layers.map((l) => l.name)],
    );
    c.layers.forEach((l, i) => {
      sameNc(l, layers[i], 1e-9, `${l.name} train`);
      assert.ok(l.test && layers[i].test, `${l.name} has held-out numbers`);
      sameNc(l.test, layers[i].test, 1e-9, `${l.name} held-out`);
      const means = new Float64Array(l.means2d);
      assert.equal(means.length, 2 * c.classes.length);
      layers[i].class_means_2d.forEach(([x, y], k) => {
        close(means[2 * k], x, 1e-9, `${l.name} mean ${k} x`);
        close(means[2 * k + 1], y, 1e-9, `${l.name} mean ${k} y`);
      });
    });
    // And against PyTorch's features (make_collapse.py), independently of the CLI.
    const torch = JSON.parse(
      new TextDecoder().decode(await vscode.workspace.fs.readFile(ws('collapse_expected.json'))),
    ) as { input: JsonLayer; layers: JsonLayer[] };
    [torch.input, ...torch.layers].forEach((t, i) => {
      sameNc(c.layers[i], t, 1e-4, `${c.layers[i].name} vs PyTorch`);
      if (t.test) sameNc(c.layers[i].test!, t.test, 1e-4, `${c.layers[i].name} held-out vs PyTorch`);
    });
  });

  test('a numeric target gives the NFA view no collapse tab, and says why', async () => {
    await vscode.workspace.fs.copy(
      vscode.Uri.file(path.join(ext().extensionPath, 'test/fixtures/weights', 'nfa_data.csv')),
      ws('nfa_data.csv'),
      { overwrite: true },
    );
    await vscode.workspace.fs.copy(
      vscode.Uri.file(path.join(ext().extensionPath, 'test/fixtures/weights', 'mlp.safetensors')),
      ws('mlp.safetensors'),
      { overwrite: true },
    );
    await vscode.commands.executeCommand('featureLens.computeNfa', ws('mlp.safetensors'), {
      data: ws('nfa_data.csv'),
      target: 'y',
      rfm: 'none',
      backend: 'cpu',
    });
    const panel = api().nfa.panels.latest!;
    await panel.settled;
    assert.equal(panel.shown?.collapse, null);
    assert.match(panel.shown?.collapseNote ?? '', /class labels/);
  });

  test('a revived NFA view computes its Neural Collapse tab again, held-out rows included', async () => {
    const first = api().nfa.panels.latest!;
    const panel = vscode.window.createWebviewPanel('featureLens.nfa', 'restored', vscode.ViewColumn.Active, {});
    await api().nfa.serializers.nfa.deserializeWebviewPanel(panel, {
      title: 'NFA: revived collapse',
      weights: ws('collapse_net.pt').toString(),
      data: ws('collapse_train.csv').toString(),
      target: 'y',
      activation: 'relu',
      layers: ['0.weight', '2.weight', '4.weight', '6.weight'],
      init: null,
      standardize: false,
      rfm: 'none',
      focus: null,
      test: ws('collapse_test.csv').toString(),
    });
    const view = api().nfa.panels.latest!;
    assert.notEqual(view, first);
    await view.settled;
    const c = view.shown?.collapse;
    assert.ok(c, view.failure ?? view.shown?.collapseNote ?? 'no collapse tab');
    assert.equal(c.heldOut?.endsWith('collapse_test.csv'), true);
    assert.ok(
      c.layers.every((l) => l.test !== null),
      'every layer has held-out numbers',
    );
    panel.dispose();
  });

  test('collapse over checkpoints: NC1 per layer in natural name order equals the CLI on each file', async () => {
    // Three checkpoints of one training run (1, 4 and 12 epochs), named so that name order is not natural order.
    const bytes = await vscode.workspace.fs.readFile(ws('collapse_train.csv'));
    const { dataset } = await loadDataset(bytes, 'collapse_train.csv', { target: 'y' });
    const K = dataset.classes!.length;
    const files: vscode.Uri[] = [];
    for (const epochs of [12, 1, 4]) {
      const r = await trainMlp(dataset.X, trainingTargets(dataset.y, K), {
        width: 16,
        depth: 2,
        activation: 'relu',
        epochs,
        seed: 3,
        nfaRows: 0,
      });
      const f = ws(`step_${epochs}.safetensors`);
      await vscode.workspace.fs.writeFile(f, mlpToSafetensors(r.net, 'F64'));
      files.push(f);
    }
    const reports = await vscode.commands.executeCommand<unknown[]>(
      'featureLens.collapseOverCheckpoints',
      files[0],
      files,
      { data: ws('collapse_train.csv'), target: 'y', test: ws('collapse_test.csv'), backend: 'cpu' },
    );
    assert.equal(reports?.length, 3);
    const panel = api().nfa.collapse.latest;
    assert.ok(panel?.shown, panel?.failure ?? 'no view');
    const v = panel.shown as CheckpointsView;
    assert.equal(v.kind, 'checkpoints');
    assert.deepEqual(
      v.checkpoints.map((c) => path.basename(c)),
      ['step_1.safetensors', 'step_4.safetensors', 'step_12.safetensors'],
    );
    assert.equal(panel.progress.length, 3, 'one progress step per checkpoint');
    for (const [i, name] of v.checkpoints.entries()) {
      const want = collapseCli(path.basename(name));
      assert.deepEqual(
        v.layers,
        want.layers.map((l) => l.name),
      );
      want.layers.forEach((l, j) => {
        close(v.nc1[i][j], l.nc1, 1e-9, `${name} ${l.name} nc1`);
        close(v.nc2[i][j], l.nc2, 1e-9, `${name} ${l.name} nc2`);
        close(v.testNc1![i][j], l.test!.nc1, 1e-9, `${name} ${l.name} held-out nc1`);
      });
    }
  });

  test('a revived checkpoints view is computed again from its files', async () => {
    const before = api().nfa.collapse.latest!.shown as CheckpointsView;
    const panel = vscode.window.createWebviewPanel('featureLens.collapse', 'revived', vscode.ViewColumn.Active, {
      enableScripts: true,
    });
    await api().nfa.serializers.collapse.deserializeWebviewPanel(panel, {
      kind: 'checkpoints',
      title: 'revived',
      data: ws('collapse_train.csv').toString(),
      target: 'y',
      weights: ['step_12', 'step_1', 'step_4'].map((n) => ws(`${n}.safetensors`).toString()),
      activation: 'relu',
      test: ws('collapse_test.csv').toString(),
    });
    const revived = api().nfa.collapse.latest!;
    for (let i = 0; i < 600 && !revived.shown && !revived.failure; i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(revived.shown, revived.failure ?? 'not shown');
    // The revived view computes on the backend setting (WebGPU here: float32 features), the first on the CPU.
    (revived.shown as CheckpointsView).nc1.forEach((row, i) =>
      row.forEach((v, j) => close(v, before.nc1[i][j], 1e-4, `checkpoint ${i} layer ${j}`)),
    );
    panel.dispose();
  });

  test('Run Deep RFM: both curves equal the CLI with and without --no-agop, and only the AGOP step collapses', async () => {
    const settings = { depth: 4, width: 64, bandwidth: 2, seed: 1 };
    const reports = await vscode.commands.executeCommand<{ agop: DeepRfmJson; control: DeepRfmJson }>(
      'featureLens.runDeepRfm',
      ws('collapse_train.csv'),
      { target: 'y', ...settings, backend: 'cpu' },
    );
    const panel = api().nfa.collapse.latest;
    assert.ok(panel?.shown, panel?.failure ?? 'no view');
    const v = panel.shown as DeepRfmView;
    assert.equal(v.kind, 'deepRfm');
    assert.equal(panel.progress.length, 2 * (settings.depth + 1), 'one progress step per layer of each curve');
    const flags = (agop: boolean) => [
      ws('collapse_train.csv').fsPath,
      '--target',
      'y',
      '--depth',
      String(settings.depth),
      '--width',
      String(settings.width),
      '--bandwidth',
      String(settings.bandwidth),
      '--seed',
      String(settings.seed),
      '--backend',
      'cpu',
      ...(agop ? [] : ['--no-agop']),
    ];
    for (const [agop, curve, report] of [
      [true, v.withAgop, reports?.agop],
      [false, v.withoutAgop, reports?.control],
    ] as const) {
      const want = cli('deep-rfm', flags(agop)) as unknown as DeepRfmJson;
      assert.equal(want.agop, agop);
      assert.equal(report?.agop, agop, 'the command resolves to the same report');
      assert.equal(curve.length, settings.depth + 1, 'layer 0 (the input) and one per layer');
      want.layers.forEach((l, i) => {
        assert.equal(l.layer, i);
        sameNc(curve[i], l, 1e-9, `${agop ? 'agop' : 'control'} layer ${i}`);
        close(report!.layers[i].nc1 ?? NaN, l.nc1, 1e-12, `report layer ${i}`);
      });
    }
    // Layer 0 is the input for both; the AGOP step collapses further than random features alone.
    close(v.withAgop[0].nc1, v.withoutAgop[0].nc1, 1e-12, 'same input');
    assert.ok(
      v.withAgop[settings.depth].nc1 < v.withoutAgop[settings.depth].nc1,
      `NC1 at the last layer: ${v.withAgop[settings.depth].nc1} with AGOP, ${v.withoutAgop[settings.depth].nc1} without`,
    );
  });
});
