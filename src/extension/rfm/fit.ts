import * as vscode from 'vscode';
import { BackendError } from '../../core/errors';
import type { Backend } from '../../core/rfm/backend';
import { CancelledError, InputError } from '../../core/errors';
import type { Dataset } from '../../core/data/dataset';
import { inspectDataset, loadDataset } from '../../core/data/index';
import { fitRfm } from '../../core/rfm/fit';
import { CpuBackend } from '../../core/rfm/cpu';
import {
  finalFromReport,
  fitResultToJson,
  iterationFromReport,
  matrixFromReport,
  type FitReport,
} from '../../core/rfm/serialize';
import type { FitResult, IterationRecord, RfmOptions } from '../../core/rfm/types';
import { fromWireFitResult, type RunView } from '../../protocol/rfm';
import { bufferOf, toWireDataset } from '../../protocol/wire';
import type { BackendChoice } from '../../core/compute';
import { baseName, displayPath, loaderName, readDatasetFile, sha256, toUri } from '../host/datasetFile';
import { resolveBackend, resolveRfmOptions, resolveValFraction, topK, type FitArgs } from '../host/options';
import type { LensPanel, PanelManager } from './panel';
import { askAdvanced, pickDatasetFile, pickTarget } from '../host/prompts';
import { RunStore, type RunMeta, type RunRecord } from '../host/runStore';

/** What `featureLens.fitRfm` resolves to: the CLI's JSON plus where the fit ran. */
export type FitCommandResult = FitReport & {
  runId: string;
  backend: string;
  where: 'panel' | 'host';
  backendReason: string;
};

interface Outcome {
  result: FitResult;
  where: 'panel' | 'host';
  reason: string;
}

type PanelFit =
  | { ok: true; result: FitResult; reason: string }
  | { ok: false; gpuUnavailable: boolean; cancelled: boolean; message: string };

export class FitService {
  /** Cancel actions of the fits under way (progress Cancel and featureLens.cancelFit share them). */
  private readonly running = new Map<string, () => void>();

  constructor(
    private readonly store: RunStore,
    private readonly panels: PanelManager,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** The fit flow. Undefined when the user backed out of a prompt; throws InputError on bad input. */
  async fit(uri: vscode.Uri | undefined, given: FitArgs = {}): Promise<FitCommandResult | undefined> {
    const args: FitArgs = { ...given };
    const file = uri ?? (await pickDatasetFile());
    if (!file) return undefined;
    const name = displayPath(file);
    const bytes = await readDatasetFile(file);
    if (args.target === undefined) {
      const info = await inspectDataset(bytes, loaderName(file));
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
    const backend = resolveBackend(args);
    const valFraction = resolveValFraction(args);
    const { dataset: train, schema } = await loadDataset(bytes, loaderName(file), {
      target: args.target,
      task: args.task,
      impute: args.impute,
    });
    let test: Dataset | undefined;
    let testUri: vscode.Uri | undefined;
    if (args.test !== undefined) {
      testUri = toUri(args.test);
      const testBytes = await readDatasetFile(testUri);
      test = (
        await loadDataset(
          testBytes,
          loaderName(testUri),
          { target: args.target, task: train.task, impute: args.impute },
          schema,
        )
      ).dataset;
    }
    const createdAt = new Date();
    const runId = RunStore.newRunId(createdAt);
    this.log.info(
      `fit ${runId}: ${name} target=${train.targetName} task=${train.task} n=${train.X.rows} d=${train.X.cols} backend=${backend} options=${JSON.stringify(options)}`,
    );

    const outcome = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Feature Lens: RFM on ${baseName(file)}`,
        cancellable: true,
      },
      (progress, token) =>
        this.compute(
          { runId, name, createdAt, train, test, options, valFraction, backend, showPanel: args.panel !== false },
          progress,
          token,
        ),
    );

    const json = fitResultToJson(outcome.result);
    const meta: RunMeta = {
      runId,
      createdAt: createdAt.toISOString(),
      dataset: {
        uri: file.toString(),
        name,
        sha256: sha256(bytes),
        bytes: bytes.byteLength,
        rows: train.X.rows,
        cols: train.X.cols,
      },
      target: train.targetName,
      task: train.task,
      backend: outcome.result.backend,
      device: outcome.result.device,
      where: outcome.where,
      backendReason: outcome.reason,
      final: json.final,
      seconds: outcome.result.seconds,
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
    await this.store.save(record);
    this.log.info(
      `fit ${runId}: done on ${outcome.result.backend} (${outcome.where}; ${outcome.reason}) final=${JSON.stringify(outcome.result.final)} in ${outcome.result.seconds.toFixed(2)} s`,
    );
    const panel = this.panels.all().find((p) => p.runId === `fit:${runId}`);
    if (panel) {
      panel.runId = runId;
      await panel.post({ type: 'show', view: runViewOf(record) });
    }
    return { ...json, runId, backend: outcome.result.backend, where: outcome.where, backendReason: outcome.reason };
  }

  private async compute(
    job: {
      runId: string;
      name: string;
      createdAt: Date;
      train: Dataset;
      test?: Dataset;
      options: RfmOptions;
      valFraction: number;
      backend: BackendChoice;
      showPanel: boolean;
    },
    progress: vscode.Progress<{ message?: string; increment?: number }>,
    token: vscode.CancellationToken,
  ): Promise<Outcome> {
    const cancel = { cancelled: false };
    const panel = job.showPanel
      ? this.panels.open(`fit:${job.runId}`, `RFM: ${job.name.slice(job.name.lastIndexOf('/') + 1)}`)
      : undefined;
    const fitId = job.runId;
    const doCancel = () => {
      if (cancel.cancelled) return;
      cancel.cancelled = true;
      this.log.info(`fit ${fitId}: cancel requested`);
      if (panel) void panel.post({ type: 'cancel', fitId });
    };
    token.onCancellationRequested(doCancel);
    this.running.set(fitId, doCancel);
    try {
      return await this.computeWith(job, panel, cancel, progress);
    } finally {
      this.running.delete(fitId);
    }
  }

  /** Cancels every fit under way; the number cancelled. */
  cancelAll(): number {
    const n = this.running.size;
    for (const c of [...this.running.values()]) c();
    return n;
  }

  private async computeWith(
    job: {
      runId: string;
      name: string;
      createdAt: Date;
      train: Dataset;
      test?: Dataset;
      options: RfmOptions;
      valFraction: number;
      backend: BackendChoice;
      showPanel: boolean;
    },
    panel: LensPanel | undefined,
    cancel: { cancelled: boolean },
    progress: vscode.Progress<{ message?: string; increment?: number }>,
  ): Promise<Outcome> {
    const fitId = job.runId;
    const total = job.options.iters + 1;
    const onIteration = (rec: IterationRecord, fromHost: boolean) => {
      const metric = rec.testMetric ?? rec.trainMetric;
      progress.report({
        message: `iteration ${rec.iter + 1}/${total}, ${job.train.task === 'classification' ? 'accuracy' : 'R²'} ${metric.toFixed(4)}`,
        increment: 100 / total,
      });
      if (fromHost && panel) void panel.post({ type: 'iteration', record: rec });
    };
    const view = initialView(job.runId, job.name, job.createdAt, job.train);
    if (panel) await panel.post({ type: 'show', view });
    try {
      return await this.computeOn(panel, fitId, job, view, cancel, progress, onIteration);
    } catch (e) {
      const message =
        e instanceof CancelledError ? 'Fit cancelled.' : `Fit failed: ${e instanceof Error ? e.message : String(e)}`;
      if (panel && !panel.isDisposed) void panel.post({ type: 'failed', message });
      throw e;
    }
  }

  private async computeOn(
    panel: LensPanel | undefined,
    fitId: string,
    job: { train: Dataset; test?: Dataset; options: RfmOptions; valFraction: number; backend: BackendChoice },
    view: RunView,
    cancel: { cancelled: boolean },
    progress: vscode.Progress<{ message?: string; increment?: number }>,
    onIteration: (rec: IterationRecord, fromHost: boolean) => void,
  ): Promise<Outcome> {
    const reasons: string[] = [];
    if (job.backend !== 'cpu') {
      if (panel) {
        progress.report({ message: 'WebGPU in the panel…' });
        const r = await this.fitInPanel(panel, fitId, job, true, view, (rec) => onIteration(rec, false));
        if (r.ok) return { result: r.result, where: 'panel', reason: r.reason };
        if (r.cancelled || cancel.cancelled) throw new CancelledError();
        if (!r.gpuUnavailable) throw new InputError(r.message);
        reasons.push(`panel WebGPU: ${r.message}`);
        this.log.warn(`fit ${fitId}: panel WebGPU unavailable: ${r.message}`);
      } else {
        reasons.push('no panel');
      }
      progress.report({ message: 'WebGPU in the extension host…' });
      // A panel attempt may have drawn some iterations before failing: the retry starts afresh.
      if (panel && !panel.isDisposed) await panel.post({ type: 'show', view: { ...view, iterations: [] } });
      let hostGpu: Backend | undefined;
      try {
        const { createBackend } = await import('../../core/node');
        hostGpu = (await createBackend('webgpu')).backend;
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        reasons.push(`host WebGPU: ${msg}`);
        this.log.warn(`fit ${fitId}: host WebGPU unavailable: ${msg}`);
      }
      if (hostGpu) {
        const reason = `${reasons.join('; ')} → WebGPU in the extension host`;
        if (panel) void panel.post({ type: 'backend', backend: hostGpu.name, device: hostGpu.device, reason });
        try {
          const result = await fitRfm(job.train, job.options, {
            backend: hostGpu,
            test: job.test,
            valFraction: job.valFraction,
            cancel,
            onIteration: (rec) => onIteration(rec, true),
          });
          return { result, where: 'host', reason: result.fallback ? `${reason}; ${result.fallback}` : reason };
        } catch (e) {
          if (e instanceof CancelledError || cancel.cancelled) throw new CancelledError();
          if (!(e instanceof BackendError)) throw e;
          reasons.push(`host WebGPU: ${e.message}`);
        } finally {
          hostGpu.dispose();
        }
      }
      if (job.backend === 'webgpu')
        throw new InputError(
          `WebGPU was requested but is unavailable (${reasons.join('; ')}). Choose backend 'auto' or 'cpu'.`,
        );
    } else {
      reasons.push('CPU backend chosen');
    }

    // The CPU fit runs in the panel when there is one: the webview's thread is not the extension host's.
    if (panel && !panel.isDisposed) {
      progress.report({ message: 'CPU in the panel…' });
      const r = await this.fitInPanel(
        panel,
        fitId,
        job,
        false,
        view,
        (rec) => onIteration(rec, false),
        reasons.join('; '),
      );
      if (r.ok) return { result: r.result, where: 'panel', reason: r.reason };
      if (r.cancelled || cancel.cancelled) throw new CancelledError();
      if (!r.gpuUnavailable) throw new InputError(r.message);
      reasons.push(`panel CPU: ${r.message}`);
    }
    progress.report({ message: 'CPU in the extension host…' });
    const reason = `${reasons.join('; ')} → CPU in the extension host`;
    if (panel && !panel.isDisposed) void panel.post({ type: 'backend', backend: 'cpu', device: 'cpu float64', reason });
    const result = await fitRfm(job.train, job.options, {
      backend: new CpuBackend(),
      test: job.test,
      valFraction: job.valFraction,
      cancel,
      onIteration: (rec) => onIteration(rec, true),
    });
    return { result, where: 'host', reason };
  }

  private fitInPanel(
    panel: LensPanel,
    fitId: string,
    job: { train: Dataset; test?: Dataset; options: RfmOptions; valFraction: number },
    gpu: boolean,
    view: RunView,
    onIteration: (r: IterationRecord) => void,
    why = '',
  ): Promise<PanelFit> {
    return new Promise((resolve) => {
      let reason = '';
      const sub = panel.onMessage((m) => {
        if (!('fitId' in m) || (m.fitId !== fitId && m.fitId !== '*')) return;
        switch (m.type) {
          case 'backend':
            reason = m.reason;
            break;
          case 'iteration':
            onIteration(m.record);
            break;
          case 'fitDone':
            sub.dispose();
            try {
              resolve({ ok: true, result: fromWireFitResult(m.result), reason });
            } catch (e) {
              resolve({
                ok: false,
                gpuUnavailable: true,
                cancelled: false,
                message: `the panel sent a result that could not be read: ${e}`,
              });
            }
            break;
          case 'fitFailed':
            sub.dispose();
            resolve({ ok: false, gpuUnavailable: m.gpuUnavailable, cancelled: m.cancelled, message: m.message });
            break;
        }
      });
      void panel.post({
        type: 'fit',
        fitId,
        train: toWireDataset(job.train),
        test: job.test ? toWireDataset(job.test) : null,
        options: job.options,
        valFraction: job.valFraction,
        allowGpu: gpu,
        allowCpu: !gpu,
        view: { ...view, backendReason: why || null },
      });
    });
  }
}

export function initialView(runId: string, name: string, createdAt: Date, train: Dataset): RunView {
  return {
    runId: null,
    title: `${name} → ${train.targetName}`,
    datasetName: name,
    createdAt: createdAt.toISOString(),
    task: train.task,
    featureNames: train.featureNames,
    targetName: train.targetName,
    iterations: [],
    bestIter: 0,
    M: null,
    final: null,
    backend: null,
    device: null,
    backendReason: null,
    seconds: null,
    topK: topK(),
  };
}

/** The panel's picture of a saved run (M flattened into a buffer). */
export function runViewOf(run: RunRecord): RunView {
  const r = run.result;
  return {
    runId: run.meta.runId,
    title: `${run.meta.dataset.name} → ${run.meta.target}`,
    datasetName: run.meta.dataset.name,
    createdAt: run.meta.createdAt,
    task: run.meta.task,
    featureNames: r.feature_names,
    targetName: run.meta.target,
    iterations: r.iterations.map(iterationFromReport),
    bestIter: r.best_iter,
    M: bufferOf(matrixFromReport(r)),
    final: finalFromReport(run.meta.final),
    backend: run.meta.backend,
    device: run.meta.device,
    backendReason: run.meta.backendReason,
    seconds: run.meta.seconds,
    topK: topK(),
  };
}
