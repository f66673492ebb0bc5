// The NFA command on the host: which network, data, target, activation and layers (asked only when not
// given), then computeNfa (the core orchestrator) with progress and cancel, an RFM on the same rows (or
// a saved run's M), and the view beside the editor. Resolves to the CLI's `nfa --json` report.
import * as vscode from 'vscode';
import type { BackendChoice } from '../../core/compute';
import type { Dataset } from '../../core/data/dataset';
import { inspectDataset, loadDataset } from '../host/datasets';
import { CancelledError, InputError } from '../../core/errors';
import { type Mat } from '../../core/mat';
import { ACTIVATIONS, isActivation, type Activation } from '../../core/nfa/activation';
import {
  DEFAULT_CONV,
  describeConvNetwork,
  hasConvLayers,
  parseConvArch,
  parsePool,
  readConvNetwork,
  type ConvArch,
  type ConvNet,
} from '../../core/nfa/convnet';
import {
  inferLayerChain,
  loadMatchingWeights,
  loadMlp,
  naturalCompare,
  networkTensorName,
  networkView,
  suspiciousIgnored,
  type LayerChain,
  type Mlp,
} from '../../core/nfa/network';
import type { TensorInfo } from '../../core/weights';
import { nfaReport, type NfaReport } from '../../core/nfa/report';
import {
  DEFAULT_RFM_ROWS,
  runNfaStudy,
  type NfaStudy,
  type RfmComparisonPlan,
  type RfmFitPlan,
} from '../../core/nfa/study';
import { hostNfaStudy } from '../../core/node';
import { wireCollapseLayer, type WireCollapse } from '../../protocol/collapse';
import { classLabels, heldOutLabels, networkCollapse } from './collapseCore';
import { standardize, standardizer } from '../../core/rfm/fit';
import { DEFAULT_RFM_OPTIONS } from '../../core/rfm/types';
import { bufferOf } from '../../protocol/wire';
import type { NfaForm, NfaFormChoices, NfaFormDataset, NfaPanelState, NfaView } from '../../protocol/nfa';
import { NfaFormChoicesSchema, NfaPanelStateSchema, parseState } from '../../protocol/viewState';
import { columnsFromHead, HEAD_BYTES } from '../../core/data/peek';
import { baseName, displayPath, exists, loaderName, readDatasetFile, readHead, toUri } from '../host/datasetFile';
import { datasetFilter, pickDatasetFile } from '../host/prompts';
import { reportError } from '../host/commands';
import type { Ctx } from '../ctx';
import { RememberedViews } from '../host/viewMemory';
import { openWeightsUri } from '../host/weightsFile';
import type { NfaPanel, NfaPanels } from './panel';

/**
 * Arguments of `featureLens.computeNfa(weightsUri, args)`: the CLI's options in camelCase. With `data`
 * and `target` given the command asks nothing.
 */
export interface NfaArgs {
  data?: vscode.Uri | string;
  target?: string | number;
  activation?: Activation;
  /** Dense layers, input to output (weight tensors or module names); default inferred. */
  layers?: string[];
  /** Initial weights: NFM_l = (W_l - W0_l)^T (W_l - W0_l). */
  init?: vscode.Uri | string;
  standardize?: boolean;
  /** 'fit' (default) an RFM on the same rows; 'none'; or the id of a saved run whose M is compared. */
  rfm?: string;
  rfmIters?: number;
  rfmBandwidth?: number;
  rfmRows?: number;
  /** Layer shown first in the view. */
  focus?: string;
  /**
   * Conv networks (4-D weights): the architecture a state_dict does not record, as the CLI's --arch
   * file (a path or URI) or its parsed JSON; `stride`, `padding`, `pool` ('max:2', 'avg:3', 'none')
   * for every conv layer as the CLI's flags (the file's settings take precedence).
   */
  arch?: vscode.Uri | string | Record<string, unknown>;
  stride?: number;
  padding?: number;
  pool?: string;
  /** Open the view (default true). */
  panel?: boolean;
  /** Where the network AGOPs run; default the `featureLens.backend` setting. */
  backend?: BackendChoice;
  /** Title of the view (default `NFA: <weights> on <data>`). */
  title?: string;
  /** How the view and report name the weights (default their path). */
  weightsLabel?: string;
  /** Held-out rows for the Neural Collapse tab (same columns as `data`). */
  test?: vscode.Uri | string;
}

export type { NfaReport } from '../../core/nfa/report';

/** A network and the rows it is evaluated on, however they were obtained (a file, the training lab). */
export interface NfaJob {
  title: string;
  weightsLabel: string;
  dataLabel: string;
  dataset: Dataset;
  /** The network's inputs: dataset.X, standardised when asked. */
  X: Mat;
  net: Mlp | ConvNet;
  chain: Pick<LayerChain, 'orderedBy' | 'ignored'>;
  initWeights?: Float64Array[];
  standardized: boolean;
  /** As the study takes it, or a saved run whose M is read when the job runs. */
  rfm: Exclude<RfmComparisonPlan, { kind: 'given' }> | { kind: 'run'; runId: string };
  focus: string | null;
  /** Default the `featureLens.backend` setting. */
  backend?: BackendChoice;
  /** The view's inputs as files, kept as its webview state so a window reload computes it again. */
  revive?: NfaPanelState;
  /** Held-out rows for the Neural Collapse tab, as the user knows the file. */
  test?: { label: string; dataset: Dataset };
}

export class NfaService {
  constructor(
    private readonly panels: NfaPanels,
    private readonly ctx: Ctx,
  ) {}

  /** Each view's inputs by tab title in the workspace state (see host/viewMemory.ts). */
  private get views(): RememberedViews<NfaPanelState> {
    return new RememberedViews(this.ctx.memory, 'featureLens.nfa.views');
  }

  /** The form's choices per weights file URI (at most FORMS_KEPT files, the latest first). */
  private static readonly FORMS = 'featureLens.nfa.forms';
  private static readonly FORMS_KEPT = 50;

  private rememberForm(weights: vscode.Uri, choices: NfaFormChoices): void {
    const all = this.ctx.memory.get<unknown>(NfaService.FORMS);
    const kept = Array.isArray(all) ? all.filter((e) => Array.isArray(e) && e[0] !== weights.toString()) : [];
    void this.ctx.memory.update(
      NfaService.FORMS,
      [[weights.toString(), choices], ...kept].slice(0, NfaService.FORMS_KEPT),
    );
  }

  /** The remembered choices for this weights file, if they still parse (an older version's or damaged entry is ignored). */
  recallForm(weights: vscode.Uri): NfaFormChoices | null {
    const all = this.ctx.memory.get<unknown>(NfaService.FORMS);
    const entry = Array.isArray(all)
      ? (all.find((e) => Array.isArray(e) && e[0] === weights.toString()) as unknown[] | undefined)
      : undefined;
    return (entry && parseState(NfaFormChoicesSchema, entry[1])) ?? null;
  }

  /**
   * The NFA command in one step: the view opens with a form (data filtered to the network's input
   * width, target, activation, layers, initial weights, standardise, RFM comparison), filled with the
   * choices last used for this weights file. Each Compute draws into the same view.
   */
  private async runForm(weightsUri: vscode.Uri, given: NfaArgs): Promise<NfaReport | undefined> {
    const weightsName = displayPath(weightsUri);
    const opened = await openWeightsUri(weightsUri);
    let form: NfaForm;
    try {
      const weights = networkView(opened.file);
      // A conv network's input width follows from its declared architecture and the data (its chain is
      // found when it is computed): every dataset is offered; its weights are listed in name order.
      const chain = hasConvLayers(weights.tensors)
        ? convFormChain(weights.tensors)
        : inferLayerChain(weights.tensors, weightsName, {
            layers: given.layers?.map((n) => networkTensorName(opened.file, n)),
            fileOrder: weights.savedOrder,
          });
      const inputDim = 'conv' in chain ? null : chain.layers[0].inDim;
      const { datasets, otherWidths } = await this.datasetsOfWidth(inputDim);
      const runs = (await this.ctx.store.list())
        .filter((m) => inputDim !== null && m.dataset.cols === inputDim)
        .map((m) => ({
          id: m.runId,
          label: `Saved run: ${m.dataset.name} → ${m.target} (${new Date(m.createdAt).toLocaleString()})`,
        }));
      const remembered = this.recallForm(weightsUri);
      const str = (u: vscode.Uri | string | undefined) => (u === undefined ? undefined : toUri(u).toString());
      const heldOut = str(given.test) ?? remembered?.test;
      form = {
        weights: weightsName,
        inputDim,
        layerOrder: chain.orderedBy,
        ignored: [...chain.ignored],
        layers: chain.layers.map((l) => ({ name: l.name, shape: [l.outDim, l.inDim], bias: l.biasName })),
        activations: [...ACTIVATIONS],
        datasets,
        otherWidths,
        runs,
        choices:
          remembered || given.data !== undefined
            ? {
                data: str(given.data) ?? remembered?.data ?? '',
                target: given.target === undefined ? (remembered?.target ?? '') : String(given.target),
                activation: given.activation ?? remembered?.activation ?? 'relu',
                layers: given.layers ?? remembered?.layers ?? chain.layers.map((l) => l.name),
                init: str(given.init) ?? remembered?.init ?? null,
                standardize: given.standardize ?? remembered?.standardize ?? false,
                rfm: given.rfm ?? remembered?.rfm ?? 'fit',
                // Only when there is one: choices without a held-out file stay as they were before it existed.
                ...(heldOut ? { test: heldOut } : {}),
              }
            : null,
      };
    } finally {
      await opened.close();
    }
    const panel = this.panels.open(given.title ?? `NFA: ${baseName(weightsUri)}`, true);
    this.ctx.log.info(
      `nfa: form for ${weightsName} (input width ${form.inputDim ?? 'from the conv architecture'}; ${form.datasets.length} datasets offered, ${form.otherWidths} of other widths left out)`,
    );
    return new Promise<NfaReport | undefined>((resolve) => {
      let first = true;
      panel.onDidDispose(() => {
        if (first) resolve(undefined);
        first = false;
      });
      panel.onForm = async (m) => {
        switch (m.type) {
          case 'columns': {
            const uri = vscode.Uri.parse(m.data);
            try {
              const info = await inspectDataset(await readDatasetFile(uri), loaderName(uri));
              panel.post({
                type: 'columns',
                data: m.data,
                columns: info.columns.map((c) => c.name),
                suggested: info.suggestedTarget,
                error: null,
              });
            } catch (e) {
              const error = e instanceof Error ? e.message : String(e);
              panel.post({ type: 'columns', data: m.data, columns: [], suggested: '', error });
            }
            break;
          }
          case 'browse': {
            const files = await vscode.window.showOpenDialog({
              canSelectMany: false,
              openLabel: m.what === 'data' ? 'Use Dataset' : m.what === 'test' ? 'Held-out Dataset' : 'Initial Weights',
              filters:
                m.what !== 'init'
                  ? { Datasets: datasetFilter() }
                  : { Weights: ['safetensors', 'pt', 'pth', 'npz', 'npy'] },
            });
            const f = files?.[0];
            if (f)
              panel.post({
                type: 'picked',
                what: m.what,
                uri: f.toString(),
                label: displayPath(f),
                columns: m.what !== 'init' ? await headColumns(f) : null,
              });
            break;
          }
          case 'compute': {
            this.rememberForm(weightsUri, m.choices);
            const args: NfaArgs = {
              ...given,
              data: vscode.Uri.parse(m.choices.data),
              target: m.choices.target,
              activation: m.choices.activation as Activation,
              // None ticked (a conv network's form lists none): the layers are inferred.
              layers: m.choices.layers.length ? m.choices.layers : undefined,
              init: m.choices.init === null ? undefined : vscode.Uri.parse(m.choices.init),
              standardize: m.choices.standardize,
              rfm: m.choices.rfm,
              test: m.choices.test ? vscode.Uri.parse(m.choices.test) : undefined,
              title: given.title ?? `NFA: ${baseName(weightsUri)} on ${baseName(vscode.Uri.parse(m.choices.data))}`,
            };
            try {
              const report = await this.run(weightsUri, args, panel);
              if (first) resolve(report);
              first = false;
            } catch (e) {
              // The form stays: the message shows in the view, and the user changes a choice and computes again.
              panel.post({ type: 'failed', message: e instanceof Error ? e.message : String(e) });
              reportError('nfa', this.ctx.log, e);
            }
            break;
          }
        }
      };
      panel.post({ type: 'form', form });
    });
  }

  /**
   * Workspace dataset files whose width fits `inputDim` (columns - 1: one is the target), counted from
   * each file's first bytes; files whose first bytes do not tell follow; the others are only counted.
   */
  private async datasetsOfWidth(inputDim: number | null): Promise<{ datasets: NfaFormDataset[]; otherWidths: number }> {
    const glob = `**/*.{${datasetFilter().join(',')}}`;
    const found = await vscode.workspace.findFiles(glob, '**/{node_modules,.git}/**', 500);
    const fits: NfaFormDataset[] = [],
      unknown: NfaFormDataset[] = [];
    let otherWidths = 0;
    for (const uri of found.sort((a, b) => a.path.localeCompare(b.path))) {
      const columns = await headColumns(uri);
      const entry = { uri: uri.toString(), label: displayPath(uri), columns };
      if (columns === null) unknown.push(entry);
      else if (inputDim === null || columns - 1 === inputDim) fits.push(entry);
      else otherWidths++;
    }
    return { datasets: [...fits, ...unknown], otherWidths };
  }

  /**
   * featureLens.computeNfa: without `data` and `target` the view opens with its form (everything in one
   * step) and this resolves once the form's first computation is shown, or to undefined when the view is
   * closed first. `into`: draw in this view (a revived one, or the form's).
   */
  async run(weightsUri: vscode.Uri, given: NfaArgs = {}, into?: NfaPanel): Promise<NfaReport | undefined> {
    if (into === undefined && (given.data === undefined || given.target === undefined))
      return this.runForm(weightsUri, given);
    const args: NfaArgs = { ...given };
    const weightsName = displayPath(weightsUri);
    const opened = await openWeightsUri(weightsUri);
    let job: NfaJob;
    try {
      if (args.data === undefined || args.target === undefined)
        throw new InputError('featureLens.computeNfa: data and target are required');
      const dataUri = toUri(args.data);
      const bytes = await readDatasetFile(dataUri);
      const target = typeof args.target === 'string' && /^\d+$/.test(args.target) ? Number(args.target) : args.target;
      const { dataset } = await loadDataset(bytes, loaderName(dataUri), { target });
      const dataName = displayPath(dataUri);
      const inputLabel = `${dataName}: ${dataset.featureNames.join(', ')} besides the target '${dataset.targetName}'`;
      const weights = networkView(opened.file);
      if (hasConvLayers(weights.tensors)) {
        // The weights are read into memory by now: the file stays open only until this returns.
        const focus = args.focus === undefined ? undefined : networkTensorName(opened.file, args.focus);
        const conv = await convJob(weightsUri, weights, dataUri, dataset, { ...args, focus });
        return conv && this.computeAndShow(conv, into ?? args.panel !== false);
      }
      const givenLayers = args.layers?.map((n) => networkTensorName(opened.file, n));
      const chain = inferLayerChain(weights.tensors, weightsName, {
        layers: givenLayers,
        inputDim: dataset.X.cols,
        inputLabel,
        fileOrder: weights.savedOrder,
      });
      const activation = args.activation ?? 'relu';
      if (!isActivation(activation))
        throw new InputError(
          `featureLens.computeNfa: 'activation' must be one of ${ACTIVATIONS.join(', ')}, got ${JSON.stringify(activation)}`,
        );
      const skipped = suspiciousIgnored(chain, weights.tensors);
      if (skipped.length)
        void vscode.window.showWarningMessage(
          `Feature Lens: ${skipped.join(', ')} look like layers of the network; they are skipped, so the numbers are for the dense chain alone.`,
        );
      const net = await loadMlp(weights, chain, activation);
      let initWeights: Float64Array[] | undefined;
      if (args.init !== undefined) {
        const init = await openWeightsUri(toUri(args.init));
        try {
          initWeights = await loadMatchingWeights(networkView(init.file), chain);
        } finally {
          await init.close();
        }
      }
      const stdz = args.standardize ? standardizer(dataset.X) : null;
      const X = stdz ? standardize(dataset.X, stdz) : dataset.X;
      const test = args.test === undefined ? undefined : await heldOutRows(toUri(args.test), target, dataset, stdz);
      const title = args.title ?? `NFA: ${baseName(weightsUri)} on ${baseName(dataUri)}`;
      const focus = args.focus === undefined ? null : networkTensorName(opened.file, args.focus);
      const rfm = rfmChoice(args);
      job = {
        title,
        weightsLabel: args.weightsLabel ?? weightsName,
        dataLabel: dataName,
        dataset,
        X,
        net,
        chain: { orderedBy: chain.orderedBy, ignored: chain.ignored },
        initWeights,
        standardized: !!args.standardize,
        rfm,
        focus,
        backend: args.backend,
        test,
        revive: {
          title,
          ...(args.weightsLabel ? { weightsLabel: args.weightsLabel } : {}),
          weights: weightsUri.toString(),
          data: dataUri.toString(),
          target: args.target,
          activation,
          layers: chain.layers.map((l) => l.name),
          init: args.init === undefined ? null : toUri(args.init).toString(),
          standardize: !!args.standardize,
          focus,
          ...(rfm.kind === 'fit'
            ? { rfm: 'fit', rfmIters: rfm.iters, rfmBandwidth: rfm.bandwidth, rfmRows: rfm.rows }
            : { rfm: rfm.kind === 'run' ? rfm.runId : 'none' }),
          test: args.test === undefined ? null : toUri(args.test).toString(),
        },
      };
    } finally {
      await opened.close();
    }
    return this.computeAndShow(job, into ?? args.panel !== false);
  }

  /**
   * An NFA view restored after a window reload (the WebviewPanelSerializer): computes it again from the
   * files its state names. Files that are gone, or a state that never reached the workbench, give a
   * message in the view instead of a blank page. Resolves to the report, or undefined when there was none.
   */
  async revive(webviewPanel: vscode.WebviewPanel, state: NfaPanelState | undefined): Promise<NfaReport | undefined> {
    const panel = this.panels.adopt(webviewPanel);
    state = this.views.revived(NfaPanelStateSchema, state, webviewPanel.title, {
      view: 'NFA',
      rerun: '"Neural Feature Ansatz of Weights…" on the weights file',
      log: this.ctx.log,
      lost: (message) => panel.post({ type: 'failed', message }),
    });
    if (!state) return undefined;
    webviewPanel.title = state.title;
    const files = [state.weights, state.data, ...(state.init ? [state.init] : [])].map((u) => vscode.Uri.parse(u));
    if (state.test) files.push(vscode.Uri.parse(state.test));
    const missing: vscode.Uri[] = [];
    for (const f of files) if (!(await exists(f))) missing.push(f);
    if (missing.length) {
      const names = missing.map((u) => displayPath(u)).join(', ');
      this.ctx.log.warn(`nfa: cannot revive '${state.title}': ${names} missing`);
      panel.post({
        type: 'failed',
        message: `This NFA view cannot be computed again: ${names} ${missing.length > 1 ? 'are' : 'is'} no longer there (moved or deleted).`,
      });
      return undefined;
    }
    try {
      return await this.run(
        files[0],
        {
          data: files[1],
          target: state.target,
          activation: state.activation as Activation,
          layers: state.layers,
          init: state.init ? files[2] : undefined,
          standardize: state.standardize,
          rfm: state.rfm,
          rfmIters: state.rfmIters,
          rfmBandwidth: state.rfmBandwidth,
          rfmRows: state.rfmRows,
          focus: state.focus ?? undefined,
          ...(state.arch && typeof state.arch === 'object' ? { arch: state.arch as Record<string, unknown> } : {}),
          ...(typeof state.stride === 'number' ? { stride: state.stride } : {}),
          ...(typeof state.padding === 'number' ? { padding: state.padding } : {}),
          ...(typeof state.pool === 'string' ? { pool: state.pool } : {}),
          ...(state.test ? { test: files[files.length - 1] } : {}),
          title: state.title,
          weightsLabel: typeof state.weightsLabel === 'string' ? state.weightsLabel : undefined,
        },
        panel,
      );
    } catch (e) {
      // The files changed since (another network, other columns): say so in the view, not in a pop-up.
      const message = e instanceof Error ? e.message : String(e);
      this.ctx.log.warn(`nfa: cannot revive '${state.title}': ${message}`);
      if (!panel.failure) panel.post({ type: 'failed', message: `This NFA view cannot be computed again: ${message}` });
      return undefined;
    }
  }

  /** Computes the job and draws it in a new view (true), in `show` (a revived view), or nowhere (false). */
  async computeAndShow(job: NfaJob, show: boolean | NfaPanel): Promise<NfaReport> {
    const choice = this.ctx.backend(job.backend, "featureLens.computeNfa: 'backend'");
    const rfm = await this.comparisonPlan(job);
    this.ctx.log.info(
      `nfa: ${job.weightsLabel} on ${job.dataLabel} (${job.X.rows} rows, ${job.net.activation}, layers ${job.net.layers.map((l) => l.name).join(' -> ')}), backend ${choice}`,
    );
    const panel = show === true ? this.panels.open(job.title) : show === false ? undefined : show;
    if (panel) {
      panel.panel.title = job.title;
      // Saved before computing, so a reload while the AGOPs run still brings the view back.
      if (job.revive) {
        panel.post({ type: 'persist', state: job.revive });
        this.views.remember(job.revive);
      }
    }
    const started = Date.now();
    let collapse: NfaCollapseOutcome = { collapse: null, note: null };
    const study = await vscode.window
      .withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Feature Lens: ${job.title}`, cancellable: true },
        async (progress, token) => {
          const cancel = { cancelled: false };
          token.onCancellationRequested(() => (cancel.cancelled = true));
          let last = 0;
          const study = await runNfaStudy(
            { net: job.net, dataset: job.dataset, X: job.X, initWeights: job.initWeights, rfm },
            hostNfaStudy(choice, {
              onFallback: (part, from, e, next) =>
                this.ctx.log.warn(`nfa: ${part} on ${from} failed (${e.message})${next ? `; trying ${next}` : ''}`),
            }),
            {
              cancel,
              onProgress: (done, total) => {
                const pct = (100 * done) / total;
                const message = `network AGOP: ${done}/${total} rows`;
                progress.report({ message, increment: 0.8 * (pct - last) });
                last = pct;
                if (panel) panel.post({ type: 'progress', message });
              },
              onRfm: () => progress.report({ message: 'RFM on the same rows…' }),
            },
          );
          const abort = new AbortController();
          token.onCancellationRequested(() => abort.abort());
          collapse = await nfaCollapse(job, choice, abort.signal, (done, total) => {
            const message = `neural collapse: layer ${done} of ${total}`;
            progress.report({ message });
            if (panel) panel.post({ type: 'progress', message });
          });
          if (collapse.note) this.ctx.log.info(`nfa: no Neural Collapse tab (${collapse.note})`);
          return study;
        },
      )
      .then(undefined, (e: unknown) => {
        if (panel)
          panel.post({
            type: 'failed',
            message:
              e instanceof CancelledError ? 'Cancelled.' : `Failed: ${e instanceof Error ? e.message : String(e)}`,
          });
        throw e;
      });
    const report = nfaReport(study, {
      weights: job.weightsLabel,
      data: job.dataLabel,
      target: job.dataset.targetName,
      activation: job.net.activation,
      standardize: job.standardized,
      layer_order: job.chain.orderedBy,
      ignored: job.chain.ignored,
    });
    if (panel)
      panel.post({
        type: 'show',
        view: { ...nfaViewOf(job, study, report), collapse: collapse.collapse, collapseNote: collapse.note },
      });
    const { nfa } = study;
    this.ctx.log.info(
      `nfa: on ${nfa.backend} (${nfa.device})${study.rfm?.origin.kind === 'fit' ? `, RFM on ${study.rfm.origin.device}` : ''} in ${((Date.now() - started) / 1000).toFixed(1)} s${study.note ? `; ${study.note}` : ''}`,
    );
    this.ctx.log.info(
      `nfa: ${nfa.layers.map((l) => `${l.name} pearson(AGOP^1/2)=${l.correlation.pearson.sqrt_agop.toFixed(4)}`).join(', ')}`,
    );
    return report;
  }

  /** The job's RFM choice as the study takes it: a saved run's M is read from the run store here. */
  private async comparisonPlan(job: NfaJob): Promise<RfmComparisonPlan> {
    if (job.rfm.kind !== 'run') return job.rfm;
    const runId = job.rfm.runId;
    const run = await this.ctx.store.get(runId);
    if (!run) throw new InputError(`featureLens.computeNfa: run '${runId}' is not stored in this workspace`);
    const d = job.X.cols;
    const rows = (run.result as { M?: number[][] }).M ?? [];
    if (rows.length !== d)
      throw new InputError(
        `run ${runId}: its M is ${rows.length} x ${rows.length}, the network's first layer takes ${d} inputs`,
      );
    const M = new Float64Array(d * d);
    rows.forEach((r, i) => M.set(r, i * d));
    return { kind: 'given', M, source: runId, dataset: run.meta.dataset.name, standardized: run.options.standardize };
  }
}

/** The RFM the CLI fits by default: the paper's iterations and bandwidth on at most DEFAULT_RFM_ROWS rows. */
export function defaultRfmFit(): RfmFitPlan {
  return {
    kind: 'fit',
    iters: DEFAULT_RFM_OPTIONS.iters,
    bandwidth: DEFAULT_RFM_OPTIONS.bandwidth,
    rows: DEFAULT_RFM_ROWS,
    seed: DEFAULT_RFM_OPTIONS.seed,
  };
}

function rfmChoice(args: NfaArgs): NfaJob['rfm'] {
  const v = args.rfm ?? 'fit';
  if (v === 'none') return { kind: 'none' };
  if (v !== 'fit') return { kind: 'run', runId: v };
  const int = (x: unknown, name: string, ok: (n: number) => boolean, want: string) => {
    if (x === undefined) return undefined;
    if (typeof x !== 'number' || !ok(x))
      throw new InputError(`featureLens.computeNfa: '${name}' must be ${want}, got ${JSON.stringify(x)}`);
    return x;
  };
  const d = defaultRfmFit();
  return {
    ...d,
    iters:
      int(args.rfmIters, 'rfmIters', (n) => Number.isInteger(n) && n >= 0 && n <= 100, 'an integer 0..100') ?? d.iters,
    bandwidth:
      int(args.rfmBandwidth, 'rfmBandwidth', (n) => n > 0 && Number.isFinite(n), 'a positive number') ?? d.bandwidth,
    rows: int(args.rfmRows, 'rfmRows', (n) => Number.isInteger(n) && n >= 2, 'an integer >= 2') ?? d.rows,
  };
}

/** The form's layer list for a conv network: its conv and dense weights in name order, shapes as the view shows them. */
function convFormChain(tensors: readonly TensorInfo[]): {
  conv: true;
  orderedBy: 'names';
  ignored: string[];
  layers: { name: string; outDim: number; inDim: number; biasName: string | null }[];
} {
  const names = new Set(tensors.map((t) => t.name));
  const layers = tensors
    .filter((t) => /(^|[._/])weight$/.test(t.name) && (t.shape.length === 4 || t.shape.length === 2))
    .sort((a, b) => naturalCompare(a.name, b.name))
    .map((t) => {
      const bias = t.name.replace(/weight$/, 'bias');
      return {
        name: t.name,
        outDim: t.shape[0],
        inDim: t.shape.slice(1).reduce((a, b) => a * b, 1),
        biasName: names.has(bias) ? bias : null,
      };
    });
  const used = new Set(layers.flatMap((l) => [l.name, l.biasName ?? '']));
  return { conv: true, orderedBy: 'names', ignored: tensors.map((t) => t.name).filter((n) => !used.has(n)), layers };
}

/** Reads a conv-network args.arch: a file (path or URI) holding the JSON, or the JSON itself. */
async function convArchOf(args: NfaArgs): Promise<{ arch: ConvArch; json: Record<string, unknown> | undefined }> {
  const where = 'featureLens.computeNfa';
  const num = (x: unknown, name: string, min: number) => {
    if (x === undefined) return undefined;
    if (typeof x !== 'number' || !Number.isInteger(x) || x < min)
      throw new InputError(`${where}: '${name}' must be an integer >= ${min}, got ${JSON.stringify(x)}`);
    return x;
  };
  const base = {
    stride: num(args.stride, 'stride', 1) ?? DEFAULT_CONV.stride,
    padding: num(args.padding, 'padding', 0) ?? DEFAULT_CONV.padding,
    pool: args.pool !== undefined ? parsePool(String(args.pool), `${where}: 'pool'`) : DEFAULT_CONV.pool,
  };
  if (args.arch === undefined) return { arch: { defaults: base, perLayer: {} }, json: undefined };
  if (typeof args.arch === 'object' && !(args.arch instanceof vscode.Uri))
    return { arch: parseConvArch(args.arch, `${where}: 'arch'`, base), json: args.arch };
  const uri = toUri(args.arch);
  const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new InputError(`${displayPath(uri)}: not valid JSON (${(e as Error).message})`);
  }
  return { arch: parseConvArch(json, displayPath(uri), base), json };
}

/**
 * The job for a conv network (docs/science.md §6): the chain from the weights and the declared architecture,
 * the activation and initial weights from the NFA form (or the command's arguments); no RFM comparison (a conv layer's NFM is
 * over patches). Undefined when the user backed out.
 */
async function convJob(
  weightsUri: vscode.Uri,
  weights: ReturnType<typeof networkView>,
  dataUri: vscode.Uri,
  dataset: Dataset,
  args: NfaArgs,
): Promise<NfaJob | undefined> {
  const weightsName = displayPath(weightsUri);
  const dataName = displayPath(dataUri);
  const { arch, json } = await convArchOf(args);
  const activation = args.activation ?? 'relu';
  if (!isActivation(activation))
    throw new InputError(
      `featureLens.computeNfa: 'activation' must be one of ${ACTIVATIONS.join(', ')}, got ${JSON.stringify(activation)}`,
    );
  const init = args.init !== undefined ? await openWeightsUri(toUri(args.init)) : null;
  let read;
  try {
    read = await readConvNetwork(weights, weightsName, {
      inputDim: dataset.X.cols,
      rows: dataset.X.rows,
      imageShape: dataset.imageShape,
      arch,
      inputLabel: `${dataName}: ${dataset.X.cols} columns besides the target '${dataset.targetName}'`,
      fileOrder: weights.savedOrder,
      activation,
      backend: args.backend ?? 'auto',
      init: init ? networkView(init.file) : undefined,
    });
  } finally {
    await init?.close();
  }
  const skipped = suspiciousIgnored(read.chain, weights.tensors);
  if (skipped.length)
    void vscode.window.showWarningMessage(
      `Feature Lens: ${skipped.join(', ')} look like layers of the network; they are skipped, so the numbers are for the conv and dense layers alone.`,
    );
  const X = args.standardize ? standardize(dataset.X, standardizer(dataset.X)) : dataset.X;
  const title = args.title ?? `NFA: ${baseName(weightsUri)} on ${baseName(dataUri)}`;
  const focus = args.focus ?? null;
  return {
    title,
    weightsLabel: args.weightsLabel ?? weightsName,
    dataLabel: `${dataName} (${describeConvNetwork(read.chain)})`,
    dataset,
    X,
    net: read.net,
    chain: { orderedBy: read.chain.orderedBy, ignored: read.chain.ignored },
    initWeights: read.initWeights,
    standardized: !!args.standardize,
    rfm: { kind: 'none' },
    focus,
    backend: args.backend,
    revive: {
      title,
      ...(args.weightsLabel ? { weightsLabel: args.weightsLabel } : {}),
      weights: weightsUri.toString(),
      data: dataUri.toString(),
      target: args.target!,
      activation,
      layers: read.chain.layers.map((l) => l.name),
      init: args.init === undefined ? null : toUri(args.init).toString(),
      standardize: !!args.standardize,
      focus,
      rfm: 'none',
      ...(json ? { arch: json } : {}),
      ...(args.stride !== undefined ? { stride: args.stride } : {}),
      ...(args.padding !== undefined ? { padding: args.padding } : {}),
      ...(args.pool !== undefined ? { pool: args.pool } : {}),
    },
  };
}

/** Names of a conv layer's patch entries: channel and offset in the filter, `c0[1,2]`. */
function patchNames(filter: readonly [number, number, number]): string[] {
  const [c, kh, kw] = filter;
  const out: string[] = [];
  for (let ch = 0; ch < c; ch++)
    for (let u = 0; u < kh; u++) for (let v = 0; v < kw; v++) out.push(`c${ch}[${u},${v}]`);
  return out;
}

export function nfaViewOf(job: NfaJob, study: NfaStudy, report: NfaReport): NfaView {
  const { nfa: result, rfm } = study;
  return {
    title: job.title,
    weights: job.weightsLabel,
    data: job.dataLabel,
    target: job.dataset.targetName,
    activation: job.net.activation,
    rows: result.rows,
    minusInit: result.minusInit,
    layerOrder: job.chain.orderedBy,
    layers: result.layers.map((l, i) => ({
      name: l.name,
      shape: l.shape,
      ...(l.conv ? { kind: l.kind, filter: l.conv.filter } : l.kind === 'conv' ? {} : { kind: l.kind }),
      inputNames: l.conv
        ? patchNames(l.conv.filter)
        : i === 0
          ? job.dataset.featureNames
          : Array.from({ length: l.shape[1] }, (_, k) => `h${i}.${k}`),
      nfm: bufferOf(l.nfm),
      agop: bufferOf(l.agop),
      sqrtAgop: bufferOf(l.sqrtAgop),
      correlation: l.correlation,
      eigen: l.eigen,
    })),
    rfm: rfm && {
      source: rfm.source,
      comparedWith: rfm.comparedWith,
      d: rfm.d,
      M: bufferOf(rfm.M),
      correlation: rfm.correlation,
    },
    focus: job.focus,
    imageShape: job.dataset.imageShape ?? null,
    report: JSON.stringify(report, null, 1),
    backend: result.backend,
    device: result.device,
    backendNote: report.backend_note,
  };
}

/** The rows a network is evaluated on: a dataset file picked for `forWhat`. */
export function pickDataset(forWhat: string): Promise<vscode.Uri | undefined> {
  return pickDatasetFile({
    title: `Dataset for ${forWhat}`,
    placeHolder: 'The rows the network is evaluated on',
    openLabel: 'Use Dataset',
  });
}

/** Columns of a dataset file from its first bytes (core/data/peek.ts), or null when they do not tell. */
async function headColumns(uri: vscode.Uri): Promise<number | null> {
  try {
    const read = await readHead(uri, HEAD_BYTES);
    return read && columnsFromHead(read.head, loaderName(uri), read.whole);
  } catch {
    return null;
  }
}

/** The Neural Collapse tab of a view, or why it has none. */
interface NfaCollapseOutcome {
  collapse: WireCollapse | null;
  note: string | null;
}

/**
 * NC1/NC2 per layer of the job's network on its rows (and the held-out rows): a dense network on class
 * labels only. A failure other than a cancel leaves the NFA view as it is and says why in the tab.
 */
async function nfaCollapse(
  job: NfaJob,
  choice: BackendChoice,
  signal: AbortSignal,
  onLayer: (done: number, total: number) => void,
): Promise<NfaCollapseOutcome> {
  let train;
  try {
    train = classLabels(job.dataset, job.dataLabel);
  } catch (e) {
    return { collapse: null, note: (e as Error).message };
  }
  try {
    const test = job.test
      ? { X: job.test.dataset.X, labels: heldOutLabels(train.classes, job.test.dataset, job.test.label) }
      : null;
    const c = await networkCollapse(
      job.net,
      train.classes,
      { X: job.X, labels: train.labels },
      test,
      { choice, signal, onLayer },
      {
        weights: job.weightsLabel,
        data: job.dataLabel,
        test: job.test?.label ?? null,
        target: job.dataset.targetName,
        activation: job.net.activation,
        standardize: job.standardized,
      },
    );
    return {
      collapse: {
        classes: train.classes,
        layers: c.layers.map((l) => wireCollapseLayer(l.name, l.train, l.means2d, l.test)),
        heldOut: job.test?.label ?? null,
        report: JSON.stringify(c.report, null, 1),
        device: c.device,
      },
      note: null,
    };
  } catch (e) {
    if (e instanceof CancelledError || signal.aborted) throw e instanceof CancelledError ? e : new CancelledError();
    return { collapse: null, note: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * Held-out rows for the Neural Collapse tab: the same target and input columns as the training data,
 * standardised with the training rows' means and scales when those are.
 */
async function heldOutRows(
  uri: vscode.Uri,
  target: string | number,
  train: Dataset,
  stdz: ReturnType<typeof standardizer> | null,
): Promise<{ label: string; dataset: Dataset }> {
  const label = displayPath(uri);
  const { dataset } = await loadDataset(await readDatasetFile(uri), loaderName(uri), { target });
  if (dataset.X.cols !== train.X.cols)
    throw new InputError(
      `${label}: ${dataset.X.cols} input columns besides the target '${dataset.targetName}'; the training data has ${train.X.cols}. Choose a held-out file with the same columns.`,
    );
  const X = stdz ? standardize(dataset.X, stdz) : dataset.X;
  return { label, dataset: { ...dataset, X } };
}
