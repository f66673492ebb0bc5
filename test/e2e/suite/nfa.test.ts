// Weights and the NFA in a real VS Code: the weights editor command, the NFA command against the CLI
// and PyTorch, hostile files, and the training lab. Fixtures are copied into the test workspace first.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { loadDataset } from '../../../src/core/data/index';
import { trainingTargets, trainMlp } from '../../../src/core/nfa/train';
import { modularTask } from '../../../src/core/data/modular';
import type { LabTrainResult } from '../../../src/extension/nfa/lab';
import type { NfaCorrelations } from '../../../src/core/nfa/correlation';
import type { NfaReport } from '../../../src/core/nfa/report';
import type { InspectWeightsResult } from '../../../src/extension/weights';
import type { NfaLabPanelState } from '../../../src/protocol/nfaLab';
import type { NfaPanelState } from '../../../src/protocol/nfa';
import { cliJson, ext, workspaceFile } from './extensionApi';

const FIXTURES = [
  'mlp.pt',
  'mlp.safetensors',
  'mlp.npz',
  'mlp_init.safetensors',
  'nfa_data.csv',
  'evil_system.pt',
  'bad_huge_header.safetensors',
  'expected.json',
  'train_checkpoint.pt',
  'checkpoints.json',
  'evil_nested_checkpoint.pt',
];

const ws = (name: string): vscode.Uri => workspaceFile('nfa-fixtures', name);

async function capturing<T>(fn: () => Thenable<T>): Promise<{ value: T; errors: string[] }> {
  const errors: string[] = [];
  const w = vscode.window as unknown as Record<string, unknown>;
  const original = w.showErrorMessage;
  w.showErrorMessage = (msg: string) => {
    errors.push(msg);
    return Promise.resolve(undefined);
  };
  try {
    return { value: await fn(), errors };
  } finally {
    w.showErrorMessage = original;
  }
}

function cliNfa(weights: vscode.Uri, data: vscode.Uri, extra: string[] = []): NfaReport {
  return cliJson<NfaReport>(['nfa', weights.fsPath, data.fsPath, '--target', 'y', ...extra]);
}

/** The PyTorch reference (test/fixtures/weights/make_weights.py writes expected.json). */
interface TorchLayer {
  name: string;
  shape: number[];
  nfm: number[];
  correlation: NfaCorrelations;
  correlation_minus_init: NfaCorrelations;
}
interface TorchReference {
  nfa: Record<'relu' | 'tanh' | 'gelu', { layers: TorchLayer[] }>;
}

const close = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

suite('Weights and the Neural Feature Ansatz', () => {
  let expected: TorchReference;

  suiteSetup(async () => {
    await ext().activate();
    await vscode.workspace.fs.createDirectory(ws(''));
    for (const f of FIXTURES) {
      await vscode.workspace.fs.copy(
        vscode.Uri.file(path.join(ext().extensionPath, 'test/fixtures/weights', f)),
        ws(f),
        { overwrite: true },
      );
    }
    expected = JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(ws('expected.json'))));
  });

  test('the weights and NFA commands are registered', async () => {
    const all = new Set(await vscode.commands.getCommands(true));
    for (const id of [
      'featureLens.inspectWeights',
      'featureLens.computeNfa',
      'featureLens.openTrainingLab',
      'featureLens.saveTrainedWeights',
      'featureLens.inspectTrainedNetwork',
      'featureLens.cancelTraining',
    ])
      assert.ok(all.has(id), id);
  });

  test('inspectWeights lists the tensors of a PyTorch checkpoint with their shapes and opens the editor', async () => {
    const { value, errors } = await capturing(() =>
      vscode.commands.executeCommand<InspectWeightsResult>('featureLens.inspectWeights', ws('mlp.pt')),
    );
    assert.deepEqual(errors, []);
    assert.ok(value);
    assert.equal(value.format, 'pytorch');
    assert.equal(value.note, null, 'a small file is read whole through workspace.fs');
    // The shapes PyTorch saved (make_weights.py), as the PyTorch reference lists them.
    const shapes = Object.fromEntries(value.tensors.map((t) => [t.name, t.shape]));
    const w = expected.nfa.relu.layers as { name: string; shape: number[] }[];
    for (const l of w) assert.deepEqual(shapes[l.name], l.shape, l.name);
    for (const l of w) assert.deepEqual(shapes[l.name.replace('weight', 'bias')], [l.shape[0]]);
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    assert.ok(
      tab instanceof vscode.TabInputCustom && tab.viewType === 'featureLens.weights',
      'the weights editor is the active tab',
    );
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('computeNfa with arguments equals the CLI and the PyTorch reference', async () => {
    const data = ws('nfa_data.csv');
    for (const file of ['mlp.pt', 'mlp.safetensors']) {
      const { value, errors } = await capturing(() =>
        vscode.commands.executeCommand<NfaReport>('featureLens.computeNfa', ws(file), {
          data,
          target: 'y',
          activation: 'relu',
          backend: 'cpu',
        }),
      );
      assert.deepEqual(errors, []);
      assert.ok(value, `${file}: the command resolved to a report`);
      const cli = cliNfa(ws(file), data, ['--backend', 'cpu']);
      assert.equal(value.layers.length, cli.layers.length);
      value.layers.forEach((l, i) => {
        assert.equal(l.name, cli.layers[i].name);
        assert.deepEqual(l.shape, cli.layers[i].shape);
        for (const kind of ['cosine', 'pearson', 'cosine_offdiag', 'pearson_offdiag'] as const) {
          for (const p of ['agop', 'sqrt_agop'] as const) {
            // Same core code in the same kind of process: equal to the last bits.
            assert.equal(l.correlation[kind][p], cli.layers[i].correlation[kind][p], `${file} ${l.name} ${kind}.${p}`);
            // PyTorch's square root of the AGOP (eigh in float64) agrees to ~1e-8 on rank-deficient layers.
            close(
              l.correlation[kind][p],
              expected.nfa.relu.layers[i].correlation[kind][p],
              p === 'agop' ? 1e-10 : 1e-7,
              `${file} ${l.name} ${kind}.${p} vs PyTorch`,
            );
          }
        }
      });
      assert.ok(value.rfm && cli.rfm, 'RFM comparison present');
      assert.deepEqual(value.rfm.correlation, cli.rfm.correlation);
    }
  });

  test('computeNfa minus the initial weights and another activation match PyTorch', async () => {
    const data = ws('nfa_data.csv');
    const { value, errors } = await capturing(() =>
      vscode.commands.executeCommand<NfaReport>('featureLens.computeNfa', ws('mlp.npz'), {
        data,
        target: 'y',
        activation: 'tanh',
        init: ws('mlp_init.safetensors'),
        rfm: 'none',
        panel: false,
        backend: 'cpu',
      }),
    );
    assert.deepEqual(errors, []);
    assert.ok(value);
    assert.equal(value.minus_init, true);
    assert.equal(value.rfm, null);
    value.layers.forEach((l, i) =>
      close(
        l.correlation.pearson.sqrt_agop,
        expected.nfa.tanh.layers[i].correlation_minus_init.pearson.sqrt_agop,
        1e-7,
        `${l.name} tanh minus init`,
      ),
    );
  });

  test('computeNfa honours featureLens.backend: auto (WebGPU when the host has an adapter) equals cpu within 1e-4', async () => {
    const data = ws('nfa_data.csv');
    const config = vscode.workspace.getConfiguration('featureLens');
    const byBackend: Record<string, NfaReport> = {};
    try {
      for (const choice of ['cpu', 'auto'] as const) {
        await config.update('backend', choice, vscode.ConfigurationTarget.Global);
        const { value, errors } = await capturing(() =>
          vscode.commands.executeCommand<NfaReport>('featureLens.computeNfa', ws('mlp.pt'), {
            data,
            target: 'y',
            rfm: 'none',
            panel: false,
          }),
        );
        assert.deepEqual(errors, []);
        assert.ok(value, choice);
        byBackend[choice] = value;
      }
    } finally {
      await config.update('backend', undefined, vscode.ConfigurationTarget.Global);
    }
    const { cpu, auto } = byBackend;
    assert.equal(cpu.backend, 'cpu');
    assert.equal(cpu.backend_note, null);
    assert.ok(['webgpu', 'cpu'].includes(auto.backend), auto.backend);
    assert.equal(typeof auto.device, 'string');
    // On the CPU, auto must say why WebGPU was not used.
    if (auto.backend === 'cpu') assert.ok(auto.backend_note, 'auto on the CPU carries the reason');
    auto.layers.forEach((l, i) => {
      for (const kind of ['cosine', 'pearson', 'cosine_offdiag', 'pearson_offdiag'] as const) {
        for (const p of ['agop', 'sqrt_agop'] as const)
          close(
            l.correlation[kind][p],
            expected.nfa.relu.layers[i].correlation[kind][p],
            1e-4,
            `auto (${auto.backend}) ${l.name} ${kind}.${p} vs PyTorch`,
          );
        for (const p of ['agop', 'sqrt_agop'] as const)
          close(
            l.correlation[kind][p],
            cpu.layers[i].correlation[kind][p],
            1e-4,
            `auto (${auto.backend}) ${l.name} ${kind}.${p} vs cpu`,
          );
      }
    });
  });

  test('computeNfa compares NFM_1 with the M of a saved RFM run', async () => {
    const data = ws('nfa_data.csv');
    const fit = await vscode.commands.executeCommand<{ runId: string; M: number[][] }>('featureLens.fitRfm', data, {
      target: 'y',
      backend: 'cpu',
      standardize: false,
      iters: 2,
      panel: false,
    });
    assert.ok(fit?.runId);
    const { value, errors } = await capturing(() =>
      vscode.commands.executeCommand<NfaReport>('featureLens.computeNfa', ws('mlp.pt'), {
        data,
        target: 'y',
        rfm: fit.runId,
        panel: false,
        backend: 'cpu',
      }),
    );
    assert.deepEqual(errors, []);
    assert.ok(value?.rfm);
    assert.equal(value.rfm.source, fit.runId);
    // Pearson of the PyTorch NFM of the first layer with the run's M, computed here from the two matrices.
    const nfm: number[] = expected.nfa.relu.layers[0].nfm;
    const m = fit.M.flat();
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    const ma = mean(nfm),
      mb = mean(m);
    let ab = 0,
      aa = 0,
      bb = 0;
    nfm.forEach((x, i) => {
      ab += (x - ma) * (m[i] - mb);
      aa += (x - ma) ** 2;
      bb += (m[i] - mb) ** 2;
    });
    close(value.rfm.correlation.pearson.m, ab / Math.sqrt(aa * bb), 1e-9, 'pearson(NFM_1, M of the run)');
    await vscode.commands.executeCommand('featureLens.deleteRun', fit.runId, { confirm: false });
  });

  test('computeNfa without data opens one form in a full-width tab: widths filtered, choices remembered per weights file', async () => {
    const config = vscode.workspace.getConfiguration('featureLens');
    await config.update('backend', 'cpu', vscode.ConfigurationTarget.Global);
    // A dataset of another width (8 columns: 7 inputs) must not be offered for a network taking 5 inputs.
    const wide = ws('wide.csv');
    await vscode.workspace.fs.writeFile(wide, new TextEncoder().encode('a,b,c,d,e,f,g,y\n1,2,3,4,5,6,7,8\n'));
    const api = ext().exports.nfa;
    const weights = ws('mlp.safetensors');
    const data = ws('nfa_data.csv');
    try {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      const groupsBefore = vscode.window.tabGroups.all.length;
      const before = api.panels.latest;
      const running = vscode.commands.executeCommand<NfaReport | undefined>('featureLens.computeNfa', weights);
      const formPanel = async () => {
        for (const t0 = Date.now(); Date.now() - t0 < 60_000;) {
          const p = api.panels.latest;
          if (p && p !== before && p.form && !p.isDisposed) return p;
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error('no NFA form within 60 s');
      };
      const panel = await formPanel();
      const form = panel.form!;
      assert.equal(form.inputDim, 5);
      const offered = form.datasets.map((d) => d.uri);
      assert.ok(offered.includes(data.toString()), `nfa_data.csv offered: ${offered.join(', ')}`);
      assert.ok(!offered.includes(wide.toString()), 'the 7-input file is left out');
      assert.ok(form.otherWidths >= 1, `other widths counted: ${form.otherWidths}`);
      assert.equal(form.datasets.find((d) => d.uri === data.toString())?.columns, 6);
      assert.deepEqual(
        form.layers.map((l) => l.name),
        ['0.weight', '2.weight', '4.weight'],
      );
      assert.ok(form.activations.includes('quadratic'));
      // Its own tab in the active group (full width), not a half-width group beside. The workbench reports
      // a new panel's tab to the extension host a moment after it is created.
      const nfaTabGroups = () =>
        vscode.window.tabGroups.all.flatMap((g) =>
          g.tabs
            .filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('featureLens.nfa'))
            .map(() => g),
        );
      for (const t0 = Date.now(); !nfaTabGroups().length && Date.now() - t0 < 15_000;)
        await new Promise((r) => setTimeout(r, 100));
      const nfaTabs = nfaTabGroups();
      assert.equal(nfaTabs.length, 1, 'one NFA tab');
      assert.equal(vscode.window.tabGroups.all.length, Math.max(1, groupsBefore), 'no extra editor group');
      assert.equal(nfaTabs[0].viewColumn, vscode.window.tabGroups.activeTabGroup.viewColumn, 'in the active group');

      // What the page sends: the columns of the chosen file, then Compute.
      await panel.onForm!({ type: 'columns', data: data.toString() });
      assert.equal(panel.columns?.error, null);
      assert.ok(panel.columns?.columns.includes('y'), `columns ${panel.columns?.columns}`);
      const choices = {
        data: data.toString(),
        target: 'y',
        activation: 'tanh',
        layers: ['0.weight', '2.weight', '4.weight'],
        init: null,
        standardize: true,
        rfm: 'none',
      };
      await panel.onForm!({ type: 'compute', choices });
      const report = await running;
      assert.ok(report, 'the command resolves to the first computation');
      assert.equal(report.standardize, true);
      assert.equal(report.activation, 'tanh');
      assert.equal(report.rfm, null);
      assert.ok(panel.shown, 'drawn in the form view');
      const direct = await vscode.commands.executeCommand<NfaReport>('featureLens.computeNfa', weights, {
        data,
        target: 'y',
        activation: 'tanh',
        standardize: true,
        rfm: 'none',
        panel: false,
      });
      assert.deepEqual(
        report.layers.map((l) => l.correlation),
        direct.layers.map((l) => l.correlation),
      );
      assert.deepEqual(api.nfa.recallForm(weights), choices);
      panel.panel.dispose();

      // The next time the form starts from those choices; closing it resolves the command to undefined.
      const again = vscode.commands.executeCommand<NfaReport | undefined>('featureLens.computeNfa', weights);
      const second = await formPanel();
      assert.deepEqual(second.form?.choices, choices);
      second.panel.dispose();
      assert.equal(await again, undefined);
    } finally {
      await config.update('backend', undefined, vscode.ConfigurationTarget.Global);
      await vscode.workspace.fs.delete(wide);
    }
  });

  test('training in the lab can be cancelled while it runs (the host keeps serving commands)', async () => {
    const data = ws('nfa_data.csv');
    // On the CPU: the backend that could starve the host. (Under auto the host's WebGPU start-up, seconds
    // on a loaded machine, would race the first cancel; test/gpu/nfa-train.test.ts cancels on WebGPU.)
    const running = vscode.commands.executeCommand<LabTrainResult>('featureLens.openTrainingLab', data, {
      target: 'y',
      train: true,
      width: 64,
      depth: 2,
      batch: 1,
      epochs: 100000,
      seed: 1,
      backend: 'cpu',
    });
    // Training starts once the data is read (slower on a loaded machine): retry until there is something to cancel.
    let cancelled = false;
    await new Promise((r) => setTimeout(r, 1500));
    for (const t0 = Date.now(); !cancelled && Date.now() - t0 < 60_000;) {
      await new Promise((r) => setTimeout(r, 250));
      cancelled = (await vscode.commands.executeCommand<boolean>('featureLens.cancelTraining')) === true;
    }
    assert.equal(cancelled, true);
    const r = await running;
    assert.ok(r && r.cancelled, 'training ended as cancelled');
    assert.ok(r.epochs >= 1 && r.epochs < 100000, `epochs before cancel: ${r.epochs}`);
  });

  test('the lab trains the grokking network on a modular task like the core trainer (no dataset file)', async () => {
    const settings = {
      task: 'modular' as const,
      op: 'add' as const,
      p: 7,
      trainFrac: 0.8,
      width: 16,
      depth: 1,
      activation: 'quadratic',
      optimizer: 'adamw' as const,
      lr: 1e-3,
      weightDecay: 1,
      bias: false,
      batch: 32,
      epochs: 4,
      seed: 2,
    };
    const { value, errors } = await capturing(() =>
      vscode.commands.executeCommand<LabTrainResult>('featureLens.openTrainingLab', undefined, {
        ...settings,
        train: true,
        backend: 'cpu',
      }),
    );
    assert.deepEqual(errors, []);
    assert.ok(value && !value.cancelled);
    const t = modularTask({ op: 'add', p: 7, trainFrac: 0.8, seed: 2 });
    const ref = await trainMlp(
      t.train.X,
      t.train.Y,
      { ...settings, activation: 'quadratic', momentum: 0, nfaRows: 500, nfaLayers: 1 },
      { heldOut: { X: t.test.X, Y: t.test.Y } },
    );
    assert.deepEqual(
      value.history.map((h) => [h.loss, h.test?.accuracy, h.nfa[0].correlation.pearson.sqrt_agop]),
      ref.history.map((h) => [h.loss, h.test?.accuracy, h.nfa[0].correlation.pearson.sqrt_agop]),
    );
    assert.equal(value.history[0].nfa.length, 1, 'the first layer only');
    assert.ok(
      ext().exports.nfa.lab.trained?.result.net.layers.every((l) => l.b === null),
      'no biases',
    );
  });

  test('hostile and malformed files give an error message, not a crash', async () => {
    for (const f of ['evil_system.pt', 'bad_huge_header.safetensors']) {
      const r1 = await capturing(() => vscode.commands.executeCommand('featureLens.inspectWeights', ws(f)));
      assert.equal(r1.value, undefined);
      assert.equal(r1.errors.length, 1, `${f}: ${r1.errors}`);
      assert.match(r1.errors[0], new RegExp(f.replace('.', '\\.')));
      const r2 = await capturing(() =>
        vscode.commands.executeCommand('featureLens.computeNfa', ws(f), { data: ws('nfa_data.csv'), target: 'y' }),
      );
      assert.equal(r2.value, undefined);
      assert.equal(r2.errors.length, 1);
    }
    assert.match(
      (await capturing(() => vscode.commands.executeCommand('featureLens.inspectWeights', ws('evil_system.pt'))))
        .errors[0],
      /system|global|refus|not allowed/i,
    );
    // The extension still works afterwards.
    const ok = await vscode.commands.executeCommand<InspectWeightsResult>(
      'featureLens.inspectWeights',
      ws('mlp.safetensors'),
      { open: false },
    );
    assert.equal(ok?.tensors.length, 6);
  });

  test('a file above featureLens.weights.wholeReadBytes is read by ranges and gives the same numbers', async () => {
    const cfg = vscode.workspace.getConfiguration('featureLens.weights');
    const data = ws('nfa_data.csv');
    const whole = await vscode.commands.executeCommand<NfaReport>('featureLens.computeNfa', ws('mlp.pt'), {
      data,
      target: 'y',
      rfm: 'none',
      panel: false,
    });
    await cfg.update('wholeReadBytes', 64, vscode.ConfigurationTarget.Workspace);
    try {
      const listed = await vscode.commands.executeCommand<InspectWeightsResult>(
        'featureLens.inspectWeights',
        ws('mlp.pt'),
        { open: false },
      );
      assert.match(listed?.note ?? '', /read by ranges/);
      assert.deepEqual(
        listed?.tensors.map((t) => t.shape),
        [[12, 5], [12], [8, 12], [8], [2, 8], [2]],
      );
      const ranged = await vscode.commands.executeCommand<NfaReport>('featureLens.computeNfa', ws('mlp.pt'), {
        data,
        target: 'y',
        rfm: 'none',
        panel: false,
      });
      assert.ok(whole && ranged);
      assert.deepEqual(
        ranged.layers.map((l) => l.correlation),
        whole.layers.map((l) => l.correlation),
      );
    } finally {
      await cfg.update('wholeReadBytes', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  test('the training lab trains like the core trainer, saves .safetensors without overwriting, and inspects', async () => {
    const data = ws('nfa_data.csv');
    const settings = {
      width: 12,
      depth: 1,
      activation: 'relu',
      // The lab keeps its settings between commands: the grokking test before left biases off.
      bias: true,
      optimizer: 'adam' as const,
      lr: 0.01,
      batch: 8,
      epochs: 15,
      seed: 3,
    };
    // auto (WebGPU when the host has an adapter) first, then the CPU, which the last-trained state below is.
    const auto = await capturing(() =>
      vscode.commands.executeCommand<LabTrainResult>('featureLens.openTrainingLab', data, {
        target: 'y',
        train: true,
        backend: 'auto',
        ...settings,
      }),
    );
    assert.deepEqual(auto.errors, []);
    assert.ok(auto.value && !auto.value.cancelled);
    assert.ok(['webgpu', 'cpu'].includes(auto.value.backend), auto.value.backend);
    if (auto.value.backend === 'cpu') assert.ok(auto.value.backendNote, 'auto on the CPU carries the reason');
    const { value, errors } = await capturing(() =>
      vscode.commands.executeCommand<LabTrainResult>('featureLens.openTrainingLab', data, {
        target: 'y',
        train: true,
        backend: 'cpu',
        ...settings,
      }),
    );
    assert.deepEqual(errors, []);
    assert.ok(value && !value.cancelled);
    assert.equal(value.backend, 'cpu');
    assert.equal(value.history.length, 16);
    // The same training through the core API on the same bytes.
    const { dataset } = await loadDataset(await vscode.workspace.fs.readFile(data), 'nfa_data.csv', { target: 'y' });
    const ref = await trainMlp(dataset.X, trainingTargets(dataset.y, null), {
      ...settings,
      activation: 'relu',
      momentum: 0,
      nfaRows: 500,
    });
    assert.deepEqual(
      value.history.map((h) => h.loss),
      ref.history.map((h) => h.loss),
    );
    // f32 on the device: the loss curve within 1e-4 (test/gpu/nfa-train.test.ts measures ~1e-6 relative).
    auto.value.history.forEach((h, e) =>
      close(h.loss, ref.history[e].loss, 1e-4, `auto (${auto.value?.backend}) loss at epoch ${e}`),
    );
    assert.ok(value.finalLoss < value.history[0].loss, 'training lowers the loss');

    const out = ws('lab.safetensors');
    try {
      await vscode.workspace.fs.delete(out);
    } catch {
      /* absent */
    }
    const saved = await vscode.commands.executeCommand<string>('featureLens.saveTrainedWeights', out);
    assert.equal(saved, out.toString());
    const listed = await vscode.commands.executeCommand<InspectWeightsResult>('featureLens.inspectWeights', out, {
      open: false,
    });
    assert.deepEqual(
      listed?.tensors.map((t) => [t.name, t.dtype, t.shape]).sort(),
      [
        ['0.bias', 'F32', [12]],
        ['0.weight', 'F32', [12, 5]],
        ['2.bias', 'F32', [1]],
        ['2.weight', 'F32', [1, 12]],
      ].sort(),
    );
    const before = await vscode.workspace.fs.readFile(out);
    const again = await capturing(() =>
      vscode.commands.executeCommand('featureLens.saveTrainedWeights', out, { overwrite: false }),
    );
    assert.equal(again.value, undefined);
    assert.match(again.errors[0] ?? '', /already exists/);
    assert.deepEqual(await vscode.workspace.fs.readFile(out), before, 'not overwritten');

    // Inspect (float64 net) against the saved float32 file read back through computeNfa.
    const inspected = await vscode.commands.executeCommand<NfaReport>('featureLens.inspectTrainedNetwork', {
      panel: false,
    });
    const fromFile = await vscode.commands.executeCommand<NfaReport>('featureLens.computeNfa', out, {
      data,
      target: 'y',
      rfm: 'none',
      panel: false,
    });
    assert.ok(inspected && fromFile);
    inspected.layers.forEach((l, i) =>
      close(
        l.correlation.pearson.sqrt_agop,
        fromFile.layers[i].correlation.pearson.sqrt_agop,
        1e-4,
        `${l.name} f64 vs f32`,
      ),
    );
  });
  test('a training checkpoint: metadata listed, the NFA of its model dict equals PyTorch, a hostile one nested is refused', async () => {
    const listed = await vscode.commands.executeCommand<InspectWeightsResult>(
      'featureLens.inspectWeights',
      ws('train_checkpoint.pt'),
      { open: false },
    );
    assert.ok(listed);
    assert.equal(listed.modelScope, 'model_state_dict');
    const ck = JSON.parse(
      new TextDecoder().decode(await vscode.workspace.fs.readFile(ws('checkpoints.json'))),
    ).train_checkpoint;
    assert.deepEqual(
      listed.tensors.map((t) => t.name),
      Object.keys(ck.tensors),
    );
    const meta = new Map(listed.metadata.map((m) => [m.name, m]));
    for (const name of ['epoch', 'loss', 'config.lr', 'optimizer_state_dict.param_groups.0.betas']) {
      assert.deepEqual(
        [meta.get(name)?.pyType, meta.get(name)?.value],
        [ck.values[name].type, ck.values[name].repr],
        name,
      );
    }
    const { value, errors } = await capturing(() =>
      vscode.commands.executeCommand<NfaReport>('featureLens.computeNfa', ws('train_checkpoint.pt'), {
        data: ws('nfa_data.csv'),
        target: 'y',
        rfm: 'none',
        panel: false,
        backend: 'cpu',
        focus: 'model_state_dict.2.weight',
      }),
    );
    assert.deepEqual(errors, []);
    assert.ok(value);
    assert.deepEqual(
      value.layers.map((l) => l.name),
      ['0.weight', '2.weight', '4.weight'],
    );
    value.layers.forEach((l, i) =>
      close(
        l.correlation.pearson.sqrt_agop,
        expected.nfa.relu.layers[i].correlation.pearson.sqrt_agop,
        1e-7,
        `${l.name} from the checkpoint vs PyTorch`,
      ),
    );
    const evil = await capturing(() =>
      vscode.commands.executeCommand('featureLens.inspectWeights', ws('evil_nested_checkpoint.pt')),
    );
    assert.equal(evil.value, undefined);
    assert.match(evil.errors[0] ?? '', /posix\.system/);
  });

  suite('views come back after a window reload (the registered serializers, called as VS Code does)', () => {
    const api = () => ext().exports.nfa;
    const state = (over: Partial<NfaPanelState> = {}): NfaPanelState => ({
      title: 'NFA: revived',
      weights: ws('train_checkpoint.pt').toString(),
      data: ws('nfa_data.csv').toString(),
      target: 'y',
      activation: 'relu',
      layers: ['0.weight', '2.weight', '4.weight'],
      init: null,
      standardize: false,
      rfm: 'none',
      focus: '2.weight',
      ...over,
    });
    const restoredPanel = (viewType: string) =>
      vscode.window.createWebviewPanel(
        viewType,
        'restored',
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        {},
      );
    const config = () => vscode.workspace.getConfiguration('featureLens');

    suiteSetup(async () => {
      await config().update('backend', 'cpu', vscode.ConfigurationTarget.Global);
    });
    suiteTeardown(async () => {
      await config().update('backend', undefined, vscode.ConfigurationTarget.Global);
    });

    test('an NFA view is computed again from the files in its saved state', async () => {
      const panel = restoredPanel('featureLens.nfa');
      await api().serializers.nfa.deserializeWebviewPanel(panel, state());
      // VS Code mounts the page only after the serializer returns: it must not wait for the page.
      assert.equal(api().panels.latest?.shown, null, 'the serializer returned before computing');
      await api().panels.latest?.settled;
      const view = api().panels.latest;
      assert.ok(view && view.panel === panel, 'the revived panel is the one drawn into');
      assert.equal(view.failure, null);
      assert.ok(view.shown, 'the view was shown');
      assert.equal(panel.title, 'NFA: revived');
      assert.equal(view.shown.focus, '2.weight');
      assert.deepEqual(
        view.shown.layers.map((l) => l.name),
        ['0.weight', '2.weight', '4.weight'],
      );
      view.shown.layers.forEach((l, i) => {
        for (const p of ['agop', 'sqrt_agop'] as const)
          close(
            l.correlation.pearson[p],
            expected.nfa.relu.layers[i].correlation.pearson[p],
            1e-7,
            `revived ${l.name} pearson.${p} vs PyTorch`,
          );
      });
      panel.dispose();
      // A page whose state had not reached the workbench's storage: found again by its tab title.
      const untitled = vscode.window.createWebviewPanel(
        'featureLens.nfa',
        'NFA: revived',
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        {},
      );
      await api().serializers.nfa.deserializeWebviewPanel(untitled, undefined);
      await api().panels.latest?.settled;
      assert.deepEqual(
        api().panels.latest?.shown?.layers.map((l) => l.correlation),
        view.shown.layers.map((l) => l.correlation),
      );
      untitled.dispose();
    });

    test('files gone, or no saved state: the view says so instead of staying blank', async () => {
      const gone = ws('gone-away.pt');
      await vscode.workspace.fs.copy(ws('mlp.pt'), gone, { overwrite: true });
      await vscode.workspace.fs.delete(gone);
      const panel = restoredPanel('featureLens.nfa');
      await api().serializers.nfa.deserializeWebviewPanel(panel, state({ weights: gone.toString() }));
      await api().panels.latest?.settled;
      assert.equal(api().panels.latest?.panel, panel);
      assert.match(api().panels.latest?.failure ?? '', /gone-away\.pt is no longer there/);
      assert.equal(api().panels.latest?.shown, null);
      panel.dispose();
      const bare = restoredPanel('featureLens.nfa');
      await api().serializers.nfa.deserializeWebviewPanel(bare, undefined);
      await api().panels.latest?.settled;
      assert.match(api().panels.latest?.failure ?? '', /inputs were not saved/);
      bare.dispose();
    });

    test('the training lab comes back with its curves and its trained network (read back from storage)', async () => {
      const data = ws('nfa_data.csv');
      const trainedRun = await vscode.commands.executeCommand<LabTrainResult>('featureLens.openTrainingLab', data, {
        target: 'y',
        train: true,
        width: 10,
        depth: 1,
        epochs: 6,
        seed: 5,
        lr: 0.01,
      });
      assert.ok(trainedRun && !trainedRun.cancelled);
      const before = await vscode.commands.executeCommand<NfaReport>('featureLens.inspectTrainedNetwork', {
        panel: false,
      });
      const saved: NfaLabPanelState = JSON.parse(JSON.stringify(api().lab.state()));
      assert.ok(saved.trained, 'the trained network was kept in storage');
      assert.equal(saved.epochs.length, 7);
      assert.equal(saved.target, 'y');
      // Close the lab as a window reload would, and forget the network held in memory.
      const labTabs = vscode.window.tabGroups.all
        .flatMap((g) => g.tabs)
        .filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('featureLens.lab'));
      assert.equal(labTabs.length, 1);
      await vscode.window.tabGroups.close(labTabs);
      api().lab.trained = undefined;
      const panel = restoredPanel('featureLens.lab');
      await api().serializers.lab.deserializeWebviewPanel(panel, saved);
      await api().lab.restoring;
      assert.ok(api().lab.trained, 'the trained network is back');
      assert.deepEqual(api().lab.state().epochs, saved.epochs);
      const after = await vscode.commands.executeCommand<NfaReport>('featureLens.inspectTrainedNetwork', {
        panel: false,
      });
      assert.ok(before && after);
      // Kept as float64: the same network, so the same numbers to the last bit.
      assert.deepEqual(
        after.layers.map((l) => l.correlation),
        before.layers.map((l) => l.correlation),
      );
      // The lab's NFA view revives from the same kept file.
      const nfaPanel = restoredPanel('featureLens.nfa');
      await api().serializers.nfa.deserializeWebviewPanel(nfaPanel, {
        title: 'NFA: lab MLP',
        weights: saved.trained,
        data: saved.data!,
        target: 'y',
        activation: 'relu',
        layers: ['0.weight', '2.weight'],
        init: null,
        standardize: false,
        rfm: 'none',
        focus: null,
      });
      await api().panels.latest?.settled;
      const shown = api().panels.latest?.shown;
      assert.ok(shown);
      shown.layers.forEach((l, i) => assert.deepEqual(l.correlation, before.layers[i].correlation, l.name));
      nfaPanel.dispose();
      panel.dispose();
    });
  });
});
