// The RFM fit command: prompts, loading, then ONE runPlaced over the placements core/compute.ts plans
// for the user's backend choice. A page placement is one request to the panel's page; a host placement
// runs fitRfm here on the host's GPU lease or the yielding CPU backend. The finished fit crosses the
// host/page boundary once: the page that computed it only hears that it was saved.
import * as vscode from 'vscode';
import {
  planPlacements,
  PlacementUnavailable,
  runPlaced,
  type BackendChoice,
  type Placement,
} from '../../core/compute';
import type { Dataset } from '../../core/data/dataset';
import { inspectDataset, loadDataset } from '../host/datasets';
import { BackendError, CancelledError, InputError, type CancelToken } from '../../core/errors';
import { hostRfmBackend } from '../../core/node';
import { fitRfm } from '../../core/rfm/fit';
import { MAX_LEAF_ROWS } from '../../core/limits';
import { DEFAULT_SPLIT_SAMPLES, defaultLeafSize, fitTree } from '../../core/rfm/tree';
import { fitResultToJson, type FitReport } from '../../core/rfm/serialize';
import type { FitResult, IterationRecord, RfmOptions } from '../../core/rfm/types';
import { ChannelError } from '../../protocol/channel';
import { fromWireFitResult, type FitReply, type PagePlacement, type RunView } from '../../protocol/rfm';
import { toWireDataset } from '../../protocol/wire';
import type { Ctx } from '../ctx';
import { baseName, displayPath, loaderName, readDatasetFile, toUri } from '../host/datasetFile';
import { resolveRfmOptions, resolveValFraction, type FitArgs } from '../host/options';
import { askAdvanced, pickDatasetFile, pickTarget } from '../host/prompts';
import { RunStore, type RunMeta, type RunRecord } from '../host/runStore';
import type { PanelManager, RfmPanel } from './panel';
import { initialView, resultView } from './view';

/** What `featureLens.fitRfm` resolves to: the CLI's JSON report plus where the fit ran and why. */
export type FitCommandResult = FitReport & {
  runId: string;
  where: 'panel' | 'host';
  backendReason: string;
};

interface FitJob {
  runId: string;
  name: string;
  train: Dataset;
  test?: Dataset;
  options: RfmOptions;
  valFraction: number;
  backend: BackendChoice;
  view: RunView;
}

type Progress = vscode.Progress<{ message?: string; increment?: number }>;

/** How long a page may take to answer a cancel before the fit counts as cancelled anyway. */
const CANCEL_GRACE_MS = 3000;

/** A cancel token that can also be awaited (a page that never answers must not hold the command). */
class Cancel implements CancelToken {
  cancelled = false;
  private readonly listeners: (() => void)[] = [];
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    for (const l of this.listeners.splice(0)) l();
  }
  /** Rejects with CancelledError `graceMs` after a cancel. */
  after(graceMs: number): Promise<never> {
    const p = new Promise<never>((_, reject) => {
      const fire = () => setTimeout(() => reject(new CancelledError()), graceMs);
      if (this.cancelled) fire();
      else this.listeners.push(fire);
    });
    // Raced against the work: when the work wins, this rejection has no one to hear it.
    p.catch(() => {});
    return p;
  }
}

export class FitService {
  /** Cancel actions of the fits under way (progress Cancel and featureLens.cancelFit share them). */
  private readonly running = new Map<string, () => void>();

  constructor(
    private readonly ctx: Ctx,
    private readonly panels: PanelManager,
  ) {}

  /** The fit flow. Undefined when the user backed out of a prompt; throws InputError on bad input. */
  async fit(uri: vscode.Uri | undefined, given: FitArgs = {}): Promise<FitCommandResult | undefined> {
    const args: FitArgs = { ...given };
    const file = uri ?? (await pickDatasetFile());
    if (!file) return undefined;
    const name = displayPath(file);
    let bytes = await readDatasetFile(file);
    const size = bytes.byteLength;
    if (args.target === undefined) {
      const info = await inspectDataset(bytes, loaderName(file));
      bytes = info.bytes;
      const picked = await pickTarget(name, info.columns, info.suggestedTarget, info.suggestedTask);
      if (!picked) return undefined;
      args.target = picked.target;
      if (picked.advanced) {
        const more = await askAdvanced(info.suggestedTask);
        if (!more) return undefined;
        Object.assign(args, more);
      }
    }
    const options = resolveRfmOptions(args);
    const backend = this.ctx.backend(args.backend, 'featureLens.fitRfm option backend');
    const valFraction = resolveValFraction(args);
    const {
      dataset: train,
      schema,
      sha256,
    } = await loadDataset(bytes, loaderName(file), {
      target: args.target,
      task: args.task,
      impute: args.impute,
    });
    let test: Dataset | undefined;
    let testUri: vscode.Uri | undefined;
    if (args.test !== undefined) {
      testUri = toUri(args.test);
      const testBytes = await readDatasetFile(testUri);
      const loaded = await loadDataset(
        testBytes,
        loaderName(testUri),
        { target: args.target, task: train.task, impute: args.impute },
        schema,
      );
      test = loaded.dataset;
    }
    const createdAt = new Date();
    const runId = RunStore.newRunId(createdAt);
    this.ctx.log.info(
      `fit ${runId}: ${name} target=${train.targetName} task=${train.task} n=${train.X.rows} d=${train.X.cols} backend=${backend} options=${JSON.stringify(options)}`,
    );
    const job: FitJob = {
      runId,
      name,
      train,
      test,
      options,
      valFraction,
      backend,
      view: initialView(name, createdAt, train),
    };
    const panel = args.panel === false ? undefined : this.panels.open(`fit:${runId}`, `RFM: ${baseName(file)}`);

    const { result, placement, reason } = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Feature Lens: RFM on ${baseName(file)}`,
        cancellable: true,
      },
      (progress, token) => this.compute(job, panel, progress, token),
    );
    const where = placement.startsWith('page-') ? 'panel' : 'host';
    const json = fitResultToJson(result);
    const meta: RunMeta = {
      runId,
      createdAt: createdAt.toISOString(),
      dataset: {
        uri: file.toString(),
        name,
        sha256,
        bytes: size,
        rows: train.X.rows,
        cols: train.X.cols,
      },
      target: train.targetName,
      task: train.task,
      backend: result.backend,
      device: result.device,
      solver: result.solver,
      where,
      backendReason: reason,
      final: json.final,
      seconds: result.seconds,
    };
    const { test: _t, ...rest } = args;
    const record: RunRecord = {
      version: 1,
      meta,
      args: { ...rest, ...(testUri ? { test: testUri.toString() } : {}) },
      options,
      valFraction,
      result: json,
    };
    await this.ctx.store.save(record);
    this.ctx.log.info(
      `fit ${runId}: done on ${placement} (${reason}) final=${JSON.stringify(json.final)} in ${result.seconds.toFixed(2)} s`,
    );
    if (panel && !panel.isDisposed) {
      panel.runId = runId;
      // The page that computed the fit draws it already; a fit from the host is shown once, now.
      if (where === 'panel') panel.post({ type: 'saved', runId });
      else panel.post({ type: 'show', view: resultView(job.view, meta, result) });
    }
    return { ...json, runId, where, backendReason: reason };
  }

  /** Cancels every fit under way; the number cancelled. */
  cancelAll(): number {
    const n = this.running.size;
    for (const c of [...this.running.values()]) c();
    return n;
  }

  private async compute(
    job: FitJob,
    panel: RfmPanel | undefined,
    progress: Progress,
    token: vscode.CancellationToken,
  ): Promise<{ result: FitResult; placement: Placement; reason: string }> {
    const cancel = new Cancel();
    const doCancel = () => {
      if (cancel.cancelled) return;
      cancel.cancel();
      this.ctx.log.info(`fit ${job.runId}: cancel requested`);
      panel?.post({ type: 'cancel', fitId: job.runId });
    };
    const sub = token.onCancellationRequested(doCancel);
    this.running.set(job.runId, doCancel);
    try {
      panel?.post({ type: 'show', view: job.view });
      // A page that never says ready (the watchdog gives up on it) leaves the fit to the host placements.
      if (panel) progress.report({ message: 'opening the panel…' });
      const pageReady = panel ? await Promise.race([panel.host.whenReady(), cancel.after(0)]) : false;
      // Past the largest leaf any device holds, the fit is an xRFM tree, which runs on the host's placements.
      const tree = job.train.X.rows > MAX_LEAF_ROWS;
      const plan = planPlacements('rfm', job.backend, { page: pageReady && !tree });
      const total = job.options.iters + 1;
      const onIteration = (rec: IterationRecord) => {
        const metric = rec.testMetric ?? rec.trainMetric;
        progress.report({
          message: `iteration ${rec.iter + 1}/${total}, ${job.train.task === 'classification' ? 'accuracy' : 'R²'} ${metric.toFixed(4)}`,
          increment: 100 / total,
        });
      };
      const placed = await runPlaced(
        plan,
        (p, why) => {
          progress.report({ message: `${why}…` });
          return p === 'page-gpu' || p === 'page-cpu'
            ? this.onPage(job, panel!, p, why, cancel, onIteration)
            : this.onHost(job, panel, p, why, cancel, onIteration, progress);
        },
        {
          onFallback: (from, e, next) =>
            this.ctx.log.warn(`fit ${job.runId}: ${from} could not run (${e.message}); next: ${next ?? 'none'}`),
        },
      );
      const reason = panel && !pageReady ? `${placed.reason}; the panel did not load` : placed.reason;
      return { result: placed.value, placement: placed.placement, reason };
    } catch (e) {
      const cancelled = e instanceof CancelledError || cancel.cancelled;
      const message = cancelled ? 'Fit cancelled.' : `Fit failed: ${e instanceof Error ? e.message : String(e)}`;
      panel?.post({ type: 'failed', message });
      throw cancelled ? new CancelledError() : e;
    } finally {
      sub.dispose();
      this.running.delete(job.runId);
    }
  }

  /** One request to the page; its failure says whether the next placement should try. */
  private async onPage(
    job: FitJob,
    panel: RfmPanel,
    placement: PagePlacement,
    why: string,
    cancel: Cancel,
    onIteration: (rec: IterationRecord) => void,
  ): Promise<FitResult> {
    if (panel.isDisposed) throw new PlacementUnavailable('the panel was closed');
    const request = panel.fit(
      {
        type: 'fit',
        fitId: job.runId,
        placement,
        train: toWireDataset(job.train),
        test: job.test ? toWireDataset(job.test) : null,
        options: job.options,
        valFraction: job.valFraction,
        view: { ...job.view, backendReason: why },
      },
      onIteration,
    );
    let reply: FitReply;
    try {
      reply = await Promise.race([request, cancel.after(CANCEL_GRACE_MS)]);
    } catch (e) {
      if (e instanceof ChannelError) throw new PlacementUnavailable(`the panel went away (${e.message})`);
      throw e;
    }
    if (reply.type === 'fitDone') return fromWireFitResult(reply.result);
    switch (reply.outcome) {
      case 'unavailable':
        throw new BackendError('webgpu', reply.message);
      case 'cancelled':
        throw new CancelledError();
      case 'error':
        throw new InputError(reply.message);
    }
  }

  /** fitRfm here, on the host's GPU lease or the yielding CPU backend; the panel (if any) follows along. */
  private async onHost(
    job: FitJob,
    panel: RfmPanel | undefined,
    placement: 'host-gpu' | 'host-cpu',
    why: string,
    cancel: Cancel,
    onIteration: (rec: IterationRecord) => void,
    progress: Progress,
  ): Promise<FitResult> {
    const backend = await hostRfmBackend(placement);
    try {
      // A page attempt may have drawn some iterations before failing: the view starts afresh.
      panel?.post({
        type: 'show',
        view: { ...job.view, backend: backend.name, device: backend.device, backendReason: why },
      });
      const shape = {
        d: job.train.X.cols,
        classes: job.train.task === 'classification' ? (job.train.classes?.length ?? 2) : 1,
        iters: job.options.iters,
        agopSamples: job.options.agopSamples,
        diag: job.options.diag,
        valFraction: job.test ? 0 : job.valFraction,
      };
      const leafSize = defaultLeafSize(shape, backend.name);
      if (job.train.X.rows > leafSize) {
        // An xRFM tree: the leaves fit in sequence (each yields like any fit), each reports, Cancel stops it.
        const { result } = await fitTree(
          job.train,
          job.options,
          { leafSize, splitSamples: DEFAULT_SPLIT_SAMPLES, temperature: 0 },
          {
            backend,
            test: job.test,
            valFraction: job.valFraction,
            cancel,
            onSplit: (depth, rows) => progress.report({ message: `splitting ${rows} rows (depth ${depth})…` }),
            onIteration: (leaf, rec) =>
              progress.report({ message: `leaf ${leaf + 1}: iteration ${rec.iter + 1}/${job.options.iters + 1}` }),
            onLeaf: (leaf, leaves, r) =>
              progress.report({
                message: `leaf ${leaf + 1}/${leaves} done (${r.nTrain + r.nTest} rows, ${r.seconds.toFixed(1)} s)`,
                increment: 100 / leaves,
              }),
          },
        );
        this.ctx.log.info(`fit ${job.runId}: xRFM tree of ${result.tree.leaves} leaves (leaf size ${leafSize})`);
        return result;
      }
      return await fitRfm(job.train, job.options, {
        backend,
        test: job.test,
        valFraction: job.valFraction,
        cancel,
        onIteration: (record) => {
          onIteration(record);
          panel?.post({ type: 'iteration', record });
        },
      });
    } finally {
      backend.dispose();
    }
  }
}
