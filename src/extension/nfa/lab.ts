// The NFA training lab: an MLP trained in the extension host with the core trainer on WebGPU (Dawn) when
// the host has an adapter, else on the CPU (yielding to the event loop between step batches), charting
// loss and the NFA correlation live; then inspect or save the trained network. Under `auto` a device
// failure mid-training continues on the CPU from the last epoch's weights.
import * as vscode from 'vscode';
import { describePlacement, runPlaced, type BackendChoice } from '../../core/compute';
import type { Dataset } from '../../core/data/dataset';
import { checkModularOptions, DEFAULT_MODULAR_OPTIONS, MODULAR_SYMBOL, modularTask } from '../../core/data/modular';
import type { Mat } from '../../core/mat';
import { inspectDataset, loadDataset } from '../host/datasets';
import { CancelledError, InputError } from '../../core/errors';
import { hostNfaBackend, hostPlan } from '../../core/node';
import { isActivation, type Activation } from '../../core/nfa/activation';
import {
  DEFAULT_TRAIN_OPTIONS,
  mlpToSafetensors,
  trainingTargets,
  trainMlp,
  validateTrainOptions,
  type EpochRecord,
  type TrainOptions,
  type TrainProgress,
  type TrainResult,
} from '../../core/nfa/train';
import { inferLayerChain, loadMlp } from '../../core/nfa/network';
import type { LabBackendInfo } from '../../protocol/catapult';
import type {
  NfaLabEpoch,
  NfaLabHostToWebview,
  NfaLabPanelState,
  NfaLabSettings,
  NfaLabWebviewToHost,
} from '../../protocol/nfaLab';
import type { SafetensorsFile } from '../../core/weights/safetensors';
import { openWeightsUri } from '../host/weightsFile';
import { checkOutputTarget, writeOutputFile } from '../host/safeWrite';
import { baseName, displayPath, loaderName, readDatasetFile, toUri } from '../host/datasetFile';
import type { NfaReport, NfaService } from './service';
import { defaultRfmFit, pickDataset } from './service';
import { pickTargetColumn } from '../host/prompts';
import type { Ctx } from '../ctx';
import { reportError } from '../host/commands';
import { createPanel, WebviewHost } from '../host/webviewHost';
import { unhandled } from '../../protocol/channel';
import { NfaLabPanelStateSchema, parseState } from '../../protocol/viewState';

export const LAB_VIEW_TYPE = 'featureLens.lab';
const LAB_MEMORY = 'featureLens.nfaLab.state';

/** Arguments of `featureLens.openTrainingLab(dataUri, args)`; with `target` and `train: true` it trains without prompts. */
export interface LabArgs extends Partial<NfaLabSettings> {
  target?: string | number;
  /** Start training at once and resolve when it ends. */
  train?: boolean;
  /** NFA rows per epoch (the trainer's nfaRows). */
  nfaRows?: number;
  /** Where to train; default the `featureLens.backend` setting (auto: WebGPU in the host, else the CPU). */
  backend?: BackendChoice;
}

export interface LabTrainResult {
  epochs: number;
  cancelled: boolean;
  finalLoss: number;
  history: EpochRecord[];
  /** Where the network trained (the last backend, after a fallback), and why not WebGPU / why it changed. */
  backend: string;
  device: string;
  backendNote: string | null;
}

export const DEFAULT_LAB_SETTINGS: NfaLabSettings = {
  task: 'dataset',
  op: DEFAULT_MODULAR_OPTIONS.op,
  p: DEFAULT_MODULAR_OPTIONS.p,
  trainFrac: DEFAULT_MODULAR_OPTIONS.trainFrac,
  width: DEFAULT_TRAIN_OPTIONS.width,
  depth: DEFAULT_TRAIN_OPTIONS.depth,
  activation: DEFAULT_TRAIN_OPTIONS.activation,
  optimizer: DEFAULT_TRAIN_OPTIONS.optimizer,
  lr: DEFAULT_TRAIN_OPTIONS.lr,
  weightDecay: DEFAULT_TRAIN_OPTIONS.weightDecay,
  bias: DEFAULT_TRAIN_OPTIONS.bias,
  batch: DEFAULT_TRAIN_OPTIONS.batch,
  epochs: 30,
  seed: 0,
};

/** At most this many epochs are kept for a reload (every k-th and the last), as the page thins its curves. */
const KEPT_EPOCHS = 1500;

function thinned(epochs: NfaLabEpoch[]): NfaLabEpoch[] {
  const stride = Math.ceil(epochs.length / KEPT_EPOCHS);
  return stride <= 1 ? epochs : epochs.filter((_, i) => i % stride === 0 || i === epochs.length - 1);
}

export function labEpochOf(rec: EpochRecord): NfaLabEpoch {
  return {
    epoch: rec.epoch,
    loss: rec.loss,
    layers: rec.nfa.map((l) => ({
      name: l.name,
      pearsonSqrt: l.correlation.pearson.sqrt_agop,
      pearson: l.correlation.pearson.agop,
    })),
    ...(rec.test
      ? { trainAccuracy: rec.test.trainAccuracy, testAccuracy: rec.test.accuracy, testLoss: rec.test.loss }
      : {}),
  };
}

/** The modular task of the settings as the lab trains on it: its training pairs as a Dataset, its test pairs held out. */
export function modularLabData(s: Pick<NfaLabSettings, 'op' | 'p' | 'trainFrac' | 'seed'>): {
  dataset: Dataset;
  heldOut: { X: Mat; Y: Mat };
  label: string;
} {
  const o = { op: s.op, p: s.p, trainFrac: s.trainFrac, seed: s.seed };
  checkModularOptions(o, 'training lab');
  const t = modularTask(o);
  const label = `(a ${MODULAR_SYMBOL[s.op]} b) mod ${s.p}`;
  return {
    dataset: {
      source: label,
      X: t.train.X,
      featureNames: t.featureNames,
      y: Float64Array.from(t.train.label),
      targetName: label,
      task: 'classification',
      classes: Array.from({ length: s.p }, (_, i) => String(i)),
    },
    heldOut: { X: t.test.X, Y: t.test.Y },
    label: `${label}, ${t.train.X.rows} training pairs, ${t.test.X.rows} held out (seed ${s.seed})`,
  };
}

export class TrainingLab {
  private page: WebviewHost<NfaLabHostToWebview, NfaLabWebviewToHost> | undefined;
  private dataset: { uri: vscode.Uri; data: Dataset } | undefined;
  private settings: NfaLabSettings = { ...DEFAULT_LAB_SETTINGS };
  private nfaRows = DEFAULT_TRAIN_OPTIONS.nfaRows;
  private backendChoice: BackendChoice | undefined;
  private cancel: { cancelled: boolean } | undefined;
  /** The last training's curves, as the page draws them (kept for a reload). */
  private epochs: NfaLabEpoch[] = [];
  private total = 0;
  private message = '';
  /** `uri` is the dataset file, null for the modular task (generated from the settings). */
  trained:
    | {
        result: TrainResult;
        dataset: Dataset;
        uri: vscode.Uri | null;
        settings: NfaLabSettings;
        file: vscode.Uri | null;
      }
    | undefined;

  /**
   * The trained network is kept in the extension's storage so a reload can restore it; the workspace
   * state holds a second copy of the page's state (see NfaService).
   */
  constructor(
    private readonly ctx: Ctx,
    private readonly nfa: NfaService,
  ) {}

  async open(dataArg: vscode.Uri | string | undefined, args: LabArgs = {}): Promise<LabTrainResult | undefined> {
    const { target, train, nfaRows, backend, ...settings } = args;
    // A dataset given to the command is the task unless the arguments say otherwise.
    this.settings = { ...this.settings, ...(dataArg !== undefined ? { task: 'dataset' as const } : {}), ...settings };
    if (nfaRows !== undefined) this.nfaRows = nfaRows;
    if (backend !== undefined) this.backendChoice = backend;
    this.show();
    // The modular task needs no file: it is generated from the settings when training starts.
    if (dataArg !== undefined || (!this.dataset && this.settings.task !== 'modular')) {
      const ok = await this.chooseDataset(dataArg === undefined ? undefined : toUri(dataArg), target);
      if (!ok && dataArg !== undefined) return undefined;
    } else {
      this.postDataset();
    }
    if (train) return this.train(this.settings);
    return undefined;
  }

  private show(): void {
    if (this.page) {
      this.page.panel.reveal(undefined, true);
      return;
    }
    this.attach(createPanel(this.ctx.extensionUri, LAB_VIEW_TYPE, 'NFA Training Lab'));
  }

  private attach(panel: vscode.WebviewPanel): void {
    const page = new WebviewHost<NfaLabHostToWebview, NfaLabWebviewToHost>(panel, {
      extensionUri: this.ctx.extensionUri,
      log: this.ctx.log,
      label: 'training lab',
      page: { entry: 'lab', bundle: 'lab', title: 'NFA Training Lab' },
      onMessage: async (m) => {
        try {
          switch (m.type) {
            case 'chooseDataset':
              await this.chooseDataset(undefined, undefined);
              break;
            case 'train':
              await this.train(m.settings);
              break;
            case 'cancel':
              this.cancelTraining();
              break;
            case 'inspect':
              await this.inspect();
              break;
            case 'save':
              await this.save(undefined);
              break;
            default:
              unhandled(m);
          }
        } catch (e) {
          reportError(`training lab (${m.type})`, this.ctx.log, e);
        }
      },
    });
    page.onDidDispose(() => {
      this.cancelTraining();
      if (this.page === page) this.page = undefined;
    });
    this.page = page;
  }

  private post(m: NfaLabHostToWebview): void {
    this.page?.post(m);
  }

  /**
   * The lab restored after a window reload (WebviewPanelSerializer): its dataset read again, its curves
   * redrawn, and the trained network read back from the extension's storage so Inspect and Save work.
   * What cannot be restored (a file gone) is said on the page.
   */
  revive(panel: vscode.WebviewPanel, state: NfaLabPanelState | undefined): void {
    if (this.page) {
      // One lab at a time: the live one wins over a restored copy.
      panel.dispose();
      return;
    }
    this.ctx.log.info(
      `training lab: restoring after a reload (${state?.settings ? 'with' : 'without'} the page's state)`,
    );
    this.attach(panel);
    // Not awaited by the serializer: the page is mounted only after it returns, and posting waits for the page.
    this.restoring = this.restore(state).catch((e: unknown) => reportError('training lab (restore)', this.ctx.log, e));
  }

  /** The restoration of a revived lab, for tests (resolved when the page has its data, curves and network). */
  restoring: Promise<void> = Promise.resolve();

  private async restore(saved: NfaLabPanelState | undefined): Promise<void> {
    // The page's state, else the copy kept in workspace memory; one that does not parse is not restored.
    const state =
      parseState(NfaLabPanelStateSchema, saved) ??
      parseState(NfaLabPanelStateSchema, this.ctx.memory.get<unknown>(LAB_MEMORY));
    if (!state) {
      this.postDataset();
      return;
    }
    this.settings = { ...DEFAULT_LAB_SETTINGS, ...state.settings };
    this.epochs = state.epochs;
    this.total = state.total;
    const problems: string[] = [];
    if (state.data && state.target !== null) {
      const uri = vscode.Uri.parse(state.data);
      try {
        const { dataset } = await loadDataset(await readDatasetFile(uri), loaderName(uri), { target: state.target });
        this.dataset = { uri, data: dataset };
      } catch (e) {
        problems.push(
          `the dataset ${displayPath(uri)} cannot be read again (${e instanceof Error ? e.message : String(e)})`,
        );
      }
    }
    const modular = this.settings.task === 'modular' ? this.modularOrProblem(problems) : undefined;
    const data = modular ? { uri: null, data: modular.dataset } : this.dataset;
    if (state.trained && data) {
      const file = vscode.Uri.parse(state.trained);
      try {
        const opened = await openWeightsUri(file);
        try {
          const chain = inferLayerChain(opened.file.tensors, displayPath(file), { inputDim: data.data.X.cols });
          const activation = isActivation(this.settings.activation) ? this.settings.activation : 'relu';
          const net = await loadMlp(opened.file, chain, activation);
          // Where it was trained is in the kept file's metadata (see keep()).
          const meta = (opened.file as Partial<SafetensorsFile>).headerMetadata ?? {};
          const result: TrainResult = {
            net,
            initial: [],
            history: [],
            backend: meta.backend === 'webgpu' ? 'webgpu' : 'cpu',
            device: meta.device ?? 'unknown',
          };
          this.trained = { result, dataset: data.data, uri: data.uri, settings: this.settings, file };
        } finally {
          await opened.close();
        }
      } catch (e) {
        problems.push(
          `the trained network was not kept (${e instanceof Error ? e.message : String(e)}); train it again`,
        );
      }
    }
    this.message = problems.length ? `Restored after a reload, but ${problems.join('; ')}.` : state.message;
    this.postDataset();
    this.post({
      type: 'restore',
      epochs: this.epochs,
      total: this.total,
      trained: !!this.trained,
      message: this.message,
      error: problems.length > 0,
    });
    this.persist();
  }

  /** What the page keeps across reloads (also the test hook's view of the lab). */
  state(): NfaLabPanelState {
    return {
      data: this.dataset?.uri.toString() ?? null,
      target: this.dataset?.data.targetName ?? null,
      settings: this.settings,
      epochs: this.epochs,
      total: this.total,
      trained: this.trained?.file?.toString() ?? null,
      message: this.message,
    };
  }

  private persist(): void {
    const state = this.state();
    void this.ctx.memory.update(LAB_MEMORY, state);
    this.post({ type: 'persist', state });
  }

  private postDataset(): void {
    const d = this.dataset?.data;
    this.post({
      type: 'dataset',
      name: this.dataset ? displayPath(this.dataset.uri) : null,
      target: d?.targetName ?? null,
      rows: d?.X.rows ?? 0,
      cols: d?.X.cols ?? 0,
      task: d?.task ?? null,
      settings: this.settings,
    });
  }

  private async chooseDataset(given: vscode.Uri | undefined, targetArg: string | number | undefined): Promise<boolean> {
    const uri = given ?? (await pickDataset('the training lab'));
    if (!uri) return false;
    let bytes = await readDatasetFile(uri);
    let target = targetArg;
    if (target === undefined) {
      const info = await inspectDataset(bytes, loaderName(uri));
      bytes = info.bytes;
      target = await pickTargetColumn(info, `Training lab: target column of ${displayPath(uri)}`);
      if (target === undefined) return false;
    }
    const t = typeof target === 'string' && /^\d+$/.test(target) ? Number(target) : target;
    const { dataset } = await loadDataset(bytes, loaderName(uri), { target: t });
    this.dataset = { uri, data: dataset };
    this.postDataset();
    this.persist();
    return true;
  }

  /** The modular task of the current settings, or undefined with the reason added to `problems`. */
  private modularOrProblem(problems: string[]): ReturnType<typeof modularLabData> | undefined {
    try {
      return modularLabData(this.settings);
    } catch (e) {
      problems.push(`the modular task cannot be made again (${e instanceof Error ? e.message : String(e)})`);
      return undefined;
    }
  }

  async train(given: Partial<NfaLabSettings>): Promise<LabTrainResult> {
    const s: NfaLabSettings = { ...DEFAULT_LAB_SETTINGS, ...given };
    if (this.cancel) throw new InputError('training lab: a network is already training (cancel it first)');
    if (!isActivation(s.activation)) throw new InputError(`training lab: unknown activation '${s.activation}'`);
    const modular = s.task === 'modular' ? modularLabData(s) : undefined;
    if (!modular && !this.dataset) throw new InputError('training lab: choose a dataset first');
    const options: TrainOptions = {
      ...DEFAULT_TRAIN_OPTIONS,
      width: s.width,
      depth: s.depth,
      activation: s.activation as Activation,
      optimizer: s.optimizer,
      lr: s.lr,
      weightDecay: s.weightDecay,
      bias: s.bias,
      batch: s.batch,
      epochs: s.epochs,
      seed: s.seed,
      nfaRows: Math.max(1, this.nfaRows),
      // The modular task compares the first layer's NFM with AGOP^1/2 (the wide hidden layer's would cost a
      // width x width eigendecomposition every epoch).
      nfaLayers: modular ? 1 : 0,
    };
    validateTrainOptions(options);
    this.settings = { ...s };
    const { data, uri } = modular ? { data: modular.dataset, uri: null } : this.dataset!;
    const dataName = modular ? modular.label : displayPath(uri!);
    const Y = trainingTargets(data.y, data.task === 'classification' ? (data.classes?.length ?? 0) : null);
    const choice = this.ctx.backend(this.backendChoice, "training lab: 'backend'");
    const plan = hostPlan('nfaTrain', choice);
    const cancel = { cancelled: false };
    this.cancel = cancel;
    this.post({ type: 'started', settings: s });
    // Epochs can take microseconds: the page gets them in batches, at most ~10 messages a second.
    let pending: NfaLabEpoch[] = [];
    let flushTimer: NodeJS.Timeout | undefined;
    const flush = () => {
      flushTimer = undefined;
      if (!pending.length) return;
      this.post({ type: 'epochs', records: pending, total: options.epochs });
      pending = [];
    };
    // Shared by the placements: after a device failure the next one continues from the last epoch.
    const progressed: TrainProgress = { history: [] };
    const history = progressed.history;
    let info: LabBackendInfo = { backend: 'cpu', device: 'cpu float64', backendNote: null };
    try {
      const { value: result } = await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: `Feature Lens: training an MLP on ${uri ? baseName(uri) : data.targetName}`,
          cancellable: true,
        },
        (progress, token) => {
          token.onCancellationRequested(() => (cancel.cancelled = true));
          let reportedDone = 0,
            reportedAt = 0;
          return runPlaced(
            plan,
            async (placement, why) => {
              const backend = await hostNfaBackend(placement as 'host-gpu' | 'host-cpu');
              try {
                info = {
                  backend: backend.name,
                  device: backend.device,
                  backendNote: placement === plan[0] ? null : why,
                };
                this.post({ type: 'backend', ...info });
                this.ctx.log.info(
                  `training lab: ${dataName} → ${data.targetName}, ${JSON.stringify(options)}, on ${why}${history.length ? ` from epoch ${history.length}` : ''}`,
                );
                return await trainMlp(data.X, Y, options, {
                  heldOut: modular?.heldOut,
                  cancel,
                  backend,
                  progress: progressed,
                  onEpoch: (rec) => {
                    const now = Date.now();
                    if (now - reportedAt > 200 || rec.epoch === options.epochs) {
                      progress.report({
                        message: `epoch ${rec.epoch}/${options.epochs}, loss ${rec.loss.toPrecision(4)}`,
                        increment: (100 * (history.length - reportedDone)) / (options.epochs + 1),
                      });
                      reportedAt = now;
                      reportedDone = history.length;
                    }
                    pending.push(labEpochOf(rec));
                    flushTimer ??= setTimeout(flush, 100);
                  },
                });
              } finally {
                backend.dispose();
              }
            },
            {
              onFallback: (from, e, next) => {
                if (!next) return;
                this.ctx.log.warn(
                  `training lab: ${describePlacement(from)} failed (${e.message}); continuing on ${describePlacement(next)}`,
                );
                if (history.length)
                  void vscode.window.showWarningMessage(
                    `Feature Lens: the training lab's GPU failed (${e.message}); training continues on the CPU from the last epoch's weights.`,
                  );
              },
            },
          );
        },
      );
      if (flushTimer) clearTimeout(flushTimer);
      flush();
      const last = history[history.length - 1];
      this.ctx.log.info(
        `training lab: ${options.epochs} epochs on ${result.backend} (${result.device}), loss ${last.loss.toPrecision(4)}${result.fallback ? `; ${result.fallback}` : ''}`,
      );
      this.trained = { result, dataset: data, uri, settings: s, file: await this.keep(result) };
      this.epochs = thinned(history.map(labEpochOf));
      this.total = options.epochs;
      this.message = `Trained ${options.epochs} epochs on ${result.backend === 'webgpu' ? 'WebGPU' : 'the CPU'}: loss ${last.loss.toPrecision(4)}`;
      this.post({ type: 'finished', cancelled: false, message: this.message });
      this.persist();
      return { epochs: options.epochs, cancelled: false, finalLoss: last.loss, history, ...info };
    } catch (e) {
      if (flushTimer) clearTimeout(flushTimer);
      flush();
      if (e instanceof CancelledError) {
        this.post({
          type: 'finished',
          cancelled: true,
          message: `Cancelled after ${Math.max(0, history.length - 1)} epochs (nothing kept).`,
        });
        return {
          epochs: Math.max(0, history.length - 1),
          cancelled: true,
          finalLoss: history[history.length - 1]?.loss ?? NaN,
          history,
          ...info,
        };
      }
      this.post({ type: 'failed', message: e instanceof Error ? e.message : String(e) });
      throw e;
    } finally {
      if (flushTimer) clearTimeout(flushTimer);
      flush();
      this.cancel = undefined;
    }
  }

  /**
   * Writes the trained network (float64, so Inspect after a reload gives the same numbers) to the
   * extension's storage, replacing the one this lab kept before.
   */
  private async keep(result: TrainResult): Promise<vscode.Uri | null> {
    try {
      const dir = vscode.Uri.joinPath(this.ctx.storage, 'nfa-lab');
      await vscode.workspace.fs.createDirectory(dir);
      const file = vscode.Uri.joinPath(dir, `trained-${Date.now()}.safetensors`);
      await writeOutputFile(
        vscode.workspace.fs,
        file,
        mlpToSafetensors(result.net, 'F64', {
          source: 'feature-lens training lab (kept for window reloads)',
          backend: result.backend,
          device: result.device,
        }),
        { name: file.path, overwrite: false },
      );
      const previous = this.trained?.file;
      if (previous && previous.toString() !== file.toString())
        await Promise.resolve(vscode.workspace.fs.delete(previous)).catch(() => undefined);
      return file;
    } catch (e) {
      // Only the reload loses: the network stays usable in this window.
      this.ctx.log.warn(
        `training lab: could not keep the trained network for reloads: ${e instanceof Error ? e.message : String(e)}`,
      );
      return null;
    }
  }

  /** Stops the training under way; false when nothing is training. */
  cancelTraining(): boolean {
    if (!this.cancel) return false;
    this.cancel.cancelled = true;
    return true;
  }

  /** The NFA view of the trained network on its training rows. */
  async inspect(showPanel = true): Promise<NfaReport> {
    const t = this.requireTrained();
    const net = t.result.net;
    const title = `NFA: lab MLP on ${t.uri ? baseName(t.uri) : t.dataset.targetName}`;
    const weightsLabel = `training lab (${t.settings.depth}x${t.settings.width} ${t.settings.activation}, ${t.settings.optimizer})`;
    const rfm = defaultRfmFit();
    return this.nfa.computeAndShow(
      {
        title,
        weightsLabel,
        dataLabel: t.uri ? displayPath(t.uri) : t.dataset.source,
        dataset: t.dataset,
        X: t.dataset.X,
        net,
        chain: { orderedBy: 'file', ignored: [] },
        standardized: false,
        rfm,
        focus: null,
        // After a reload the view is computed again from the network the lab kept in storage.
        // The modular task is no file: its view is not revived.
        revive:
          t.file && t.uri
            ? {
                title,
                weightsLabel,
                weights: t.file.toString(),
                data: t.uri.toString(),
                target: t.dataset.targetName,
                activation: net.activation,
                layers: net.layers.map((l) => l.name),
                init: null,
                standardize: false,
                rfm: 'fit',
                rfmIters: rfm.iters,
                rfmBandwidth: rfm.bandwidth,
                rfmRows: rfm.rows,
                focus: null,
              }
            : undefined,
      },
      showPanel,
    );
  }

  /** Writes the trained network as .safetensors; an existing file is replaced only after the user agrees (or `overwrite: true`). */
  async save(target: vscode.Uri | undefined, overwrite?: boolean): Promise<string | undefined> {
    const t = this.requireTrained();
    let uri = target;
    if (!uri) {
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
      const s = t.settings;
      const base = t.uri
        ? vscode.Uri.joinPath(t.uri, '..', `${baseName(t.uri).replace(/\.[^.]+$/, '')}-mlp.safetensors`)
        : folder && vscode.Uri.joinPath(folder, `modular-${s.op}-p${s.p}-mlp.safetensors`);
      uri = await vscode.window.showSaveDialog({
        defaultUri: base,
        filters: { Safetensors: ['safetensors'] },
        saveLabel: 'Save Weights',
      });
      if (!uri) return undefined;
    }
    // A symlink, folder or device there is refused outright; a regular file only after the user agrees.
    const existed = await checkOutputTarget(vscode.workspace.fs, uri, displayPath(uri));
    if (existed && overwrite !== true) {
      if (overwrite === false) throw new InputError(`${displayPath(uri)} already exists; not overwritten`);
      const ok = await vscode.window.showWarningMessage(
        `${displayPath(uri)} exists. Replace it with the trained weights?`,
        { modal: true },
        'Replace',
      );
      if (ok !== 'Replace') return undefined;
    }
    const s = t.settings;
    const bytes = mlpToSafetensors(t.result.net, 'F32', {
      source: 'feature-lens training lab',
      dataset: t.uri ? displayPath(t.uri) : t.dataset.source,
      target: t.dataset.targetName,
      activation: s.activation,
      bias: String(s.bias),
      ...(s.optimizer === 'adamw' ? { weight_decay: String(s.weightDecay) } : {}),
      ...(s.task === 'modular' ? { modular: `${s.op} p=${s.p} train_frac=${s.trainFrac}` } : {}),
      width: String(s.width),
      depth: String(s.depth),
      optimizer: s.optimizer,
      lr: String(s.lr),
      batch: String(s.batch),
      epochs: String(s.epochs),
      seed: String(s.seed),
      trained_on: t.result.device,
    });
    await writeOutputFile(vscode.workspace.fs, uri, bytes, { name: displayPath(uri), overwrite: existed });
    this.ctx.log.info(`training lab: saved ${uri.toString()} (${bytes.length} bytes)`);
    void vscode.window.showInformationMessage(`Feature Lens: saved the trained weights to ${displayPath(uri)}.`);
    return uri.toString();
  }

  private requireTrained(): NonNullable<TrainingLab['trained']> {
    if (!this.trained) throw new InputError('training lab: train a network first');
    return this.trained;
  }
}
