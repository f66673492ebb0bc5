// The collapse view: *Run Deep RFM* on a dataset (NC1/NC2 per layer with and without the AGOP step, one
// chart) and *Neural Collapse over Checkpoints* (NC1 per hidden layer over a series of weight files in
// natural name order). Both load data through the dataset worker, compute through collapseCore.ts under
// a cancellable progress notification (one step per layer or checkpoint) and come back after a reload.
import * as vscode from 'vscode';
import { CancelledError, InputError } from '../../core/errors';
import { isActivation, ACTIVATIONS, type Activation } from '../../core/nfa/activation';
import { inferLayerChain, loadMlp, naturalCompare, networkView } from '../../core/nfa/network';
import { unhandled } from '../../protocol/channel';
import type {
  CheckpointsView,
  CollapseHostToWebview,
  CollapsePanelState,
  CollapseView,
  CollapseWebviewToHost,
  DeepRfmView,
} from '../../protocol/collapse';
import { wireNc } from '../../protocol/collapse';
import { CollapsePanelStateSchema, parseState } from '../../protocol/viewState';
import type { Ctx } from '../ctx';
import { baseName, displayPath, exists, loaderName, readDatasetFile, toUri } from '../host/datasetFile';
import { inspectDataset, loadDataset } from '../host/datasets';
import { pickDatasetFile, pickTargetColumn } from '../host/prompts';
import { createPanel, WebviewHost, copyFromPage } from '../host/webviewHost';
import { openWeightsUri, WEIGHT_EXTENSIONS } from '../host/weightsFile';
import {
  classLabels,
  deepRfmSettings,
  deepRfmCurve,
  heldOutLabels,
  networkCollapse,
  type LabelledRows,
  type Nc,
  type Progress,
} from './collapseCore';

export const COLLAPSE_VIEW_TYPE = 'featureLens.collapse';

export class CollapsePanel extends WebviewHost<CollapseHostToWebview, CollapseWebviewToHost> {
  /** What the page was last given to draw, or why it could not (tests read these). */
  shown: CollapseView | null = null;
  failure: string | null = null;
  /** Progress messages posted, in order (tests read them). */
  readonly progress: string[] = [];

  constructor(panel: vscode.WebviewPanel, ctx: Ctx) {
    super(panel, {
      extensionUri: ctx.extensionUri,
      log: ctx.log,
      label: 'collapse view',
      page: { entry: 'collapse', bundle: 'collapse', title: panel.title },
      onMessage: async (m) => {
        switch (m.type) {
          case 'copy':
            await copyFromPage(m, ctx.log, 'collapse view');
            break;
          default:
            unhandled(m.type);
        }
      },
    });
  }

  override post(m: CollapseHostToWebview): void {
    if (m.type === 'show') [this.shown, this.failure] = [m.view, null];
    else if (m.type === 'failed') this.failure = m.message;
    else if (m.type === 'progress') this.progress.push(m.message);
    super.post(m);
  }
}

/** `featureLens.runDeepRfm(dataUri?, args?)`: the CLI's `deep-rfm` options in camelCase. */
export interface DeepRfmArgs {
  target?: string | number;
  depth?: number;
  width?: number;
  bandwidth?: number;
  seed?: number;
  backend?: string;
  /** false: no view (scripts, tests). */
  panel?: boolean;
  title?: string;
}

/** `featureLens.collapseOverCheckpoints(weights[], args?)`. */
export interface CheckpointsArgs {
  data?: vscode.Uri | string;
  target?: string | number;
  activation?: string;
  /** Held-out rows, reported beside the training rows. */
  test?: vscode.Uri | string;
  backend?: string;
  panel?: boolean;
  title?: string;
}

/** What runDeepRfm resolves to: the CLI's `deep-rfm --json` with and without `--no-agop`. */
export interface DeepRfmReports {
  agop: unknown;
  control: unknown;
}

export class CollapseViews {
  /** The last view opened (tests). */
  latest: CollapsePanel | undefined;

  constructor(private readonly ctx: Ctx) {}

  private open(title: string): CollapsePanel {
    this.latest = new CollapsePanel(createPanel(this.ctx.extensionUri, COLLAPSE_VIEW_TYPE, title), this.ctx);
    return this.latest;
  }

  /** The target: given, else asked (the proposed one first). */
  private async target(uri: vscode.Uri, given: string | number | undefined, title: string) {
    if (given !== undefined) return typeof given === 'string' && /^\d+$/.test(given) ? Number(given) : given;
    const info = await inspectDataset(await readDatasetFile(uri), loaderName(uri));
    return pickTargetColumn(info, title, 'The column of class labels');
  }

  private async labelled(uri: vscode.Uri, target: string | number, where: string) {
    const { dataset } = await loadDataset(await readDatasetFile(uri), loaderName(uri), { target });
    const { labels, classes } = classLabels(dataset, `${where}: ${displayPath(uri)}`);
    return { dataset, rows: { X: dataset.X, labels } as LabelledRows, classes };
  }

  /**
   * Runs `work` under a cancellable notification; the view (if any) hears each step and, when it fails
   * or is cancelled, why.
   */
  private async withProgress<T>(
    title: string,
    panel: CollapsePanel | undefined,
    work: (
      step: (message: string, increment: number, partial: CollapseView | null) => void,
      signal: AbortSignal,
    ) => Promise<T>,
  ): Promise<T> {
    try {
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Feature Lens: ${title}`, cancellable: true },
        async (progress, token) => {
          const abort = new AbortController();
          token.onCancellationRequested(() => abort.abort());
          return work((message, increment, partial) => {
            progress.report({ message, increment });
            panel?.post({ type: 'progress', message, partial });
          }, abort.signal);
        },
      );
    } catch (e) {
      const cancelled = e instanceof CancelledError || (e instanceof Error && e.name === 'AbortError');
      panel?.post({ type: 'failed', message: cancelled ? 'Cancelled.' : `Failed: ${(e as Error).message}` });
      throw cancelled && !(e instanceof CancelledError) ? new CancelledError() : e;
    }
  }

  private progressOf(choice: Progress['choice'], signal: AbortSignal, onLayer: Progress['onLayer'], what: string) {
    return {
      choice,
      signal,
      onLayer,
      onFallback: (line: string) => this.ctx.log.warn(`${what}: ${line}`),
    } satisfies Progress;
  }

  /** *Run Deep RFM*: both curves (with the AGOP step and the random-features control) in one chart. */
  async deepRfm(uri: vscode.Uri, args: DeepRfmArgs = {}, into?: CollapsePanel): Promise<DeepRfmReports | undefined> {
    const where = 'featureLens.runDeepRfm';
    const settings = deepRfmSettings(
      { depth: args.depth, width: args.width, bandwidth: args.bandwidth, seed: args.seed },
      where,
    );
    const choice = this.ctx.backend(args.backend, `${where} backend`);
    const target = await this.target(uri, args.target, 'Run Deep RFM: target');
    if (target === undefined) return undefined;
    const { dataset, classes } = await this.labelled(uri, target, where);
    const title = args.title ?? `Deep RFM: ${baseName(uri)}`;
    const panel = into ?? (args.panel === false ? undefined : this.open(title));
    const state: CollapsePanelState = { kind: 'deepRfm', title, data: uri.toString(), target, ...settings };
    panel?.post({ type: 'persist', state });
    const view: DeepRfmView = {
      kind: 'deepRfm',
      title,
      data: displayPath(uri),
      target: dataset.targetName,
      rows: dataset.X.rows,
      classes: classes.length,
      ...settings,
      withAgop: [],
      withoutAgop: [],
      report: '',
      device: '',
    };
    const total = 2 * (settings.depth + 1);
    const result = await this.withProgress(title, panel, async (step, signal) => {
      const curve = async (agop: boolean) => {
        const key = agop ? 'withAgop' : 'withoutAgop';
        view[key] = [];
        const c = await deepRfmCurve(
          dataset,
          { ...settings, agop },
          this.progressOf(
            choice,
            signal,
            (done, of, nc) => {
              // A run restarted on another placement starts again at layer 0.
              view[key] = [...view[key].slice(0, done - 1), wireNc(nc)];
              step(`${agop ? 'with AGOP' : 'control (no AGOP)'}: layer ${done} of ${of}`, 100 / total, { ...view });
            },
            'deep-rfm',
          ),
        );
        view[key] = c.layers.map(wireNc);
        return c;
      };
      const agop = await curve(true);
      const control = await curve(false);
      return { agop, control };
    });
    const reports: DeepRfmReports = { agop: result.agop.report, control: result.control.report };
    const shown: DeepRfmView = { ...view, report: JSON.stringify(reports, null, 1), device: result.agop.device };
    panel?.post({ type: 'show', view: shown });
    const last = (c: Nc[]) => c[c.length - 1]?.nc1;
    this.ctx.log.info(
      `deep-rfm: ${displayPath(uri)}: NC1 input ${view.withAgop[0]?.nc1} → layer ${settings.depth} ${last(view.withAgop)} with AGOP, ${last(view.withoutAgop)} without (${result.agop.device})`,
    );
    return reports;
  }

  /** *Neural Collapse over Checkpoints*: NC1 per hidden layer over weight files in natural name order. */
  async checkpoints(
    files: vscode.Uri[],
    args: CheckpointsArgs = {},
    into?: CollapsePanel,
  ): Promise<unknown[] | undefined> {
    const where = 'featureLens.collapseOverCheckpoints';
    if (files.length < 1) throw new InputError(`${where}: select one or more weight files`);
    const ordered = [...files].sort((a, b) => naturalCompare(baseName(a), baseName(b)));
    const activation = args.activation ?? 'relu';
    if (!isActivation(activation))
      throw new InputError(
        `${where} activation: expected one of ${ACTIVATIONS.join(', ')}, got ${JSON.stringify(activation)}`,
      );
    const choice = this.ctx.backend(args.backend, `${where} backend`);
    const dataUri =
      args.data !== undefined
        ? toUri(args.data)
        : await pickDatasetFile({
            title: 'Neural Collapse over Checkpoints: data',
            placeHolder: 'The rows the networks are evaluated on',
            openLabel: 'Use Dataset',
          });
    if (!dataUri) return undefined;
    const target = await this.target(dataUri, args.target, 'Neural Collapse over Checkpoints: target');
    if (target === undefined) return undefined;
    const train = await this.labelled(dataUri, target, where);
    const testUri = args.test === undefined ? null : toUri(args.test);
    const testData = testUri
      ? (await loadDataset(await readDatasetFile(testUri), loaderName(testUri), { target })).dataset
      : null;
    const test = testData && {
      X: testData.X,
      labels: heldOutLabels(train.classes, testData, `${where}: ${displayPath(testUri!)}`),
    };
    if (test && test.X.cols !== train.rows.X.cols)
      throw new InputError(
        `${where}: ${displayPath(testUri!)} has ${test.X.cols} input columns, ${displayPath(dataUri)} has ${train.rows.X.cols}`,
      );
    const title = args.title ?? `Collapse over ${ordered.length} checkpoints: ${baseName(dataUri)}`;
    const panel = into ?? (args.panel === false ? undefined : this.open(title));
    panel?.post({
      type: 'persist',
      state: {
        kind: 'checkpoints',
        title,
        data: dataUri.toString(),
        target,
        weights: ordered.map((u) => u.toString()),
        activation,
        test: testUri?.toString() ?? null,
      },
    });
    const view: CheckpointsView = {
      kind: 'checkpoints',
      title,
      data: displayPath(dataUri),
      target: train.dataset.targetName,
      checkpoints: [],
      layers: [],
      nc1: [],
      nc2: [],
      testNc1: test ? [] : null,
      heldOut: testUri ? displayPath(testUri) : null,
      report: '',
      device: '',
    };
    const reports: unknown[] = [];
    await this.withProgress(title, panel, async (step, signal) => {
      for (const [i, file] of ordered.entries()) {
        const name = displayPath(file);
        const opened = await openWeightsUri(file);
        let net;
        try {
          const weights = networkView(opened.file);
          const chain = inferLayerChain(weights.tensors, name, {
            inputDim: train.rows.X.cols,
            inputLabel: `${view.data}: ${train.rows.X.cols} columns besides the target '${view.target}'`,
            fileOrder: weights.savedOrder,
          });
          net = await loadMlp(weights, chain, activation as Activation);
        } finally {
          await opened.close();
        }
        const c = await networkCollapse(
          net,
          train.classes,
          train.rows,
          test,
          this.progressOf(choice, signal, undefined, 'collapse'),
          {
            weights: name,
            data: view.data,
            test: view.heldOut,
            target: view.target,
            activation,
            standardize: false,
          },
        );
        // The input is the same for every checkpoint: the lines are the hidden layers.
        const hidden = c.layers.filter((l) => l.name !== 'input');
        if (i === 0) view.layers = hidden.map((l) => l.name);
        else if (hidden.map((l) => l.name).join() !== view.layers.join())
          throw new InputError(
            `${where}: ${name} has layers ${hidden.map((l) => l.name).join(', ')}; ${view.checkpoints[0]} has ${view.layers.join(', ')}. Select checkpoints of one network.`,
          );
        view.checkpoints.push(name);
        view.nc1.push(hidden.map((l) => l.train.nc1));
        view.nc2.push(hidden.map((l) => l.train.nc2));
        view.testNc1?.push(hidden.map((l) => l.test?.nc1 ?? NaN));
        view.device = c.device;
        reports.push(c.report);
        step(`checkpoint ${i + 1} of ${ordered.length}: ${baseName(file)}`, 100 / ordered.length, { ...view });
      }
    });
    const byFile = Object.fromEntries(view.checkpoints.map((n, i) => [n, reports[i]]));
    panel?.post({ type: 'show', view: { ...view, report: JSON.stringify(byFile, null, 1) } });
    return reports;
  }

  /** A view VS Code restored after a reload: computed again from the files its state names. */
  async revive(webviewPanel: vscode.WebviewPanel, raw: unknown): Promise<void> {
    const panel = new CollapsePanel(webviewPanel, this.ctx);
    this.latest = panel;
    const state = parseState(CollapsePanelStateSchema, raw);
    if (!state) {
      panel.post({
        type: 'failed',
        message:
          'This view cannot be shown again: its inputs were not saved before the window closed. Run the command again.',
      });
      return;
    }
    const files = [state.data, ...(state.weights ?? []), ...(state.test ? [state.test] : [])].map((u) =>
      vscode.Uri.parse(u),
    );
    const missing: string[] = [];
    for (const f of files) if (!(await exists(f))) missing.push(displayPath(f));
    if (missing.length) {
      panel.post({
        type: 'failed',
        message: `This view cannot be computed again: ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} no longer there (moved or deleted).`,
      });
      return;
    }
    try {
      if (state.kind === 'deepRfm')
        await this.deepRfm(
          files[0],
          {
            target: state.target,
            depth: state.depth,
            width: state.width,
            bandwidth: state.bandwidth,
            seed: state.seed,
            title: state.title,
          },
          panel,
        );
      else
        await this.checkpoints(
          (state.weights ?? []).map((u) => vscode.Uri.parse(u)),
          {
            data: files[0],
            target: state.target,
            activation: state.activation,
            test: state.test ?? undefined,
            title: state.title,
          },
          panel,
        );
    } catch (e) {
      this.ctx.log.warn(`collapse: cannot revive '${state.title}': ${(e as Error).message}`);
    }
  }
}

/** The weight files a command from the explorer means: all selected ones that are weight files. */
export function selectedWeights(arg: unknown, selection: unknown): vscode.Uri[] {
  const all = Array.isArray(selection) ? selection : Array.isArray(arg) ? arg : [arg];
  return all
    .map((u) => (u instanceof vscode.Uri ? u : typeof u === 'string' ? toUri(u) : undefined))
    .filter((u): u is vscode.Uri => !!u && WEIGHT_EXTENSIONS.some((e) => u.path.toLowerCase().endsWith(e)));
}
