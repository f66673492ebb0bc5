import * as vscode from 'vscode';
import { labTaskFromDataset, type LabSweep, type LabTask } from '../../core/catapult/index';
import { describePlacement } from '../../core/compute';
import { loadDataset } from '../host/datasets';
import { CancelledError, InputError } from '../../core/errors';
import {
  toWireLabStep,
  type LabHostToWebview,
  type LabRunInfo,
  type LabSettings,
  type LabWebviewToHost,
  type WireLabStep,
} from '../../protocol/catapult';
import { toWireDataset } from '../../protocol/wire';
import type { Ctx } from '../ctx';
import { reportError } from '../host/commands';
import { displayPath, loaderName, readDatasetFile } from '../host/datasetFile';
import { pickDatasetFile } from '../host/prompts';
import { viewPage } from '../host/viewHtml';
import { WebviewHost, createPanel } from '../host/webviewHost';
import { errorOfFailure } from '../../protocol/failure';
import { hostGpuSurface, runLabPlaced, type PagePlacement, type PlacedLabRun } from './placeRun';
import { unhandled } from '../../protocol/channel';

export const LAB_VIEW_TYPE = 'featureLens.catapultLab';

/** batch at or above the row count is full-batch GD (the page's optimizer choice sends Number.MAX_SAFE_INTEGER). */
export const DEFAULT_LAB_SETTINGS: LabSettings = {
  model: 'relu',
  width: 256,
  lrFactor: 3,
  steps: 300,
  batch: Number.MAX_SAFE_INTEGER,
  seed: 0,
};

/** What a lab run resolves to (the openCatapultLab command's result, for scripting and tests). */
export type LabResult = LabRunInfo &
  (
    | {
        type: 'labDone';
        model: 'linear' | 'relu';
        lambda0: number;
        lr: number;
        phase: string;
        catapults: number;
        /** Float64 losses, one per step. */
        losses: ArrayBuffer;
        seconds: number;
      }
    | {
        type: 'labSweepDone';
        sweep: 'lr' | 'batch';
        rows: { x: number; phase: string; catapults: number }[];
        seconds: number;
      }
  );

/** Host steps reach the page at most this often (the page redraws its live chart at 4 per second). */
const PROGRESS_MS = 250;

const whatOf = (s: LabSettings, sweep: LabSweep): string =>
  sweep === 'lr'
    ? 'learning-rate sweep…'
    : sweep === 'batch'
      ? 'batch-size sweep…'
      : `training the ${s.model === 'linear' ? 'linear toy' : 'ReLU network'}…`;

function resultOf(r: PlacedLabRun): LabResult {
  const o = r.outcome;
  switch (o.kind) {
    case 'run':
      return {
        type: 'labDone',
        model: o.run.model,
        lambda0: o.run.lambda0,
        lr: o.run.lr,
        phase: o.run.phase,
        catapults: o.run.catapults.length,
        losses: o.run.losses,
        seconds: r.seconds,
        ...r.info,
      };
    case 'lrSweep':
      return {
        type: 'labSweepDone',
        sweep: 'lr',
        rows: o.rows.map((p) => ({ x: p.etaOverEdge, phase: p.phase, catapults: p.catapults })),
        seconds: r.seconds,
        ...r.info,
      };
    case 'batchSweep':
      return {
        type: 'labSweepDone',
        sweep: 'batch',
        rows: o.rows.map((p) => ({ x: p.batch, phase: p.phase, catapults: p.catapults })),
        seconds: r.seconds,
        ...r.info,
      };
  }
}

/**
 * The catapult lab panel: the form and charts live in the page; each run is placed here
 * (placeRun.ts) and computed by the page or by the host, one at a time, with a progress notification
 * whose Cancel stops it wherever it runs.
 */
export class CatapultLab {
  private static current: CatapultLab | undefined;
  private readonly host: WebviewHost<LabHostToWebview, LabWebviewToHost>;
  /** The user's table for the ReLU network (undefined: the synthetic task). */
  private task: LabTask | undefined;
  private running: { cancel: { cancelled: boolean } } | undefined;

  static open(ctx: Ctx): CatapultLab {
    if (CatapultLab.current) {
      CatapultLab.current.host.panel.reveal(undefined, true);
      return CatapultLab.current;
    }
    return (CatapultLab.current = new CatapultLab(ctx));
  }

  /** A lab tab restored after a reload: a fresh page (runs are quick to repeat, so none is kept). */
  static revive(ctx: Ctx, panel: vscode.WebviewPanel): CatapultLab {
    CatapultLab.current?.host.dispose();
    return (CatapultLab.current = new CatapultLab(ctx, panel));
  }

  private constructor(
    private readonly ctx: Ctx,
    revived?: vscode.WebviewPanel,
  ) {
    this.host = new WebviewHost(revived ?? createPanel(ctx.extensionUri, LAB_VIEW_TYPE, 'Catapult Lab'), {
      extensionUri: ctx.extensionUri,
      log: ctx.log,
      label: 'catapult lab',
      page: viewPage('catapult', 'Catapult Lab'),
      onMessage: (m) => this.onMessage(m),
    });
    this.host.post({ type: 'labInit', settings: DEFAULT_LAB_SETTINGS });
    this.host.onDidDispose(() => {
      this.stop();
      if (CatapultLab.current === this) CatapultLab.current = undefined;
    });
  }

  private onMessage(m: LabWebviewToHost): void {
    switch (m.type) {
      case 'labStart':
        // The page shows how the run ended (labFinished / labStopped); the log has the rest.
        this.run(m.settings, m.sweep).catch(() => undefined);
        return;
      case 'labStop':
        this.stop();
        return;
      case 'labPickDataset':
        void pickDatasetFile()
          .then((uri) => (uri ? this.useDataset(uri) : undefined))
          .catch((e: unknown) => reportError('catapult lab', this.ctx.log, e));
        return;
      case 'labSynthetic':
        this.task = undefined;
        this.host.post({ type: 'labDataset', name: '', dataset: null });
        return;
      case 'labOutcome':
      case 'labFailed':
        return; // replies to labRun: the channel hands them to the request
      default:
        unhandled(m);
    }
  }

  private stop(): void {
    if (!this.running) return;
    this.running.cancel.cancelled = true;
    this.host.post({ type: 'labCancel' });
  }

  /**
   * The user's table for the ReLU network (read with workspace.fs like a fit's dataset; the target is
   * `target` or the loader's choice: a column named target/label/y, else the last one).
   */
  async useDataset(uri: vscode.Uri, target?: string): Promise<string> {
    const bytes = await readDatasetFile(uri);
    const { dataset } = await loadDataset(bytes, loaderName(uri), target ? { target } : {});
    const task = labTaskFromDataset(dataset);
    const name = `${displayPath(uri)} (${dataset.X.rows} x ${dataset.X.cols}, target ${dataset.targetName}${dataset.task === 'classification' ? `: +1 for '${dataset.classes?.[0] ?? 0}', -1 otherwise` : ', standardised'})`;
    this.ctx.log.info(`catapult lab: training data ${name}`);
    this.task = task;
    this.host.post({ type: 'labDataset', name, dataset: toWireDataset(dataset) });
    return name;
  }

  /** Places and runs one training run or sweep; resolves with its summary (for scripting and tests). */
  async run(settings: Partial<LabSettings>, sweep: LabSweep = 'none'): Promise<LabResult> {
    if (this.running) throw new InputError('the Catapult Lab is already running; stop it first');
    const s: LabSettings = { ...DEFAULT_LAB_SETTINGS, ...settings };
    const choice = this.ctx.backend(settings.backend, 'backend');
    const cancel = { cancelled: false };
    this.running = { cancel };
    const log = this.ctx.log;
    const ended = this.showProgress(whatOf(s, sweep));
    let steps: WireLabStep[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      timer = undefined;
      if (steps.length) this.host.post({ type: 'labProgress', steps });
      steps = [];
    };
    try {
      this.host.post({ type: 'labStarted', settings: s, sweep });
      const page = await this.host.whenReady();
      const r = await runLabPlaced(
        s,
        sweep,
        choice,
        { page: page ? (p, ps, sw) => this.onPage(p, ps, sw) : undefined, hostGpu: hostGpuSurface },
        {
          task: this.task,
          cancel,
          onHostProgress: (p) => {
            steps.push(toWireLabStep(p));
            timer ??= setTimeout(flush, PROGRESS_MS);
          },
          onFallback: (from, e, next) => {
            log.warn(
              `catapult lab: ${describePlacement(from, 'panel')} failed (${e.message})${next ? `; continuing on ${describePlacement(next, 'panel')}` : ''}`,
            );
            // The next placement starts the run over: the live chart too.
            this.host.post({ type: 'labStarted', settings: s, sweep });
          },
        },
      );
      clearTimeout(timer);
      this.host.post({ type: 'labFinished', settings: s, outcome: r.onPage ? null : r.outcome, info: r.info });
      const result = resultOf(r);
      log.info(
        `catapult lab: ${result.type === 'labDone' ? `${result.model} run -> ${result.phase}, ${result.catapults} catapult(s)` : `${result.sweep} sweep, ${result.rows.length} runs`} in ${r.seconds.toFixed(2)} s on ${r.info.reason} (${r.info.device})`,
      );
      return result;
    } catch (e) {
      clearTimeout(timer);
      const cancelled = e instanceof CancelledError;
      const message = cancelled ? 'stopped' : e instanceof Error ? e.message : String(e);
      this.host.post({ type: 'labStopped', message, cancelled });
      log.warn(`catapult lab: ${message}`);
      throw e;
    } finally {
      this.running = undefined;
      ended();
    }
  }

  /** A page placement: the page computes the run and draws it; its failure comes back typed. */
  private async onPage(placement: PagePlacement, settings: LabSettings, sweep: LabSweep) {
    const reply = await this.host.request({ type: 'labRun', placement, settings, sweep });
    if (reply.type === 'labOutcome') return reply;
    if (reply.type === 'labFailed') throw errorOfFailure(reply.failure);
    throw new Error(`catapult lab: unexpected reply '${reply.type}'`);
  }

  /** VS Code shows the run is busy and offers Cancel, which stops it wherever it computes. Returns the end. */
  private showProgress(what: string): () => void {
    let end!: () => void;
    const done = new Promise<void>((r) => (end = r));
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Catapult Lab: ${what}`, cancellable: true },
      (_progress, token) => {
        const sub = token.onCancellationRequested(() => this.stop());
        return done.finally(() => sub.dispose());
      },
    );
    return end;
  }
}
