// What the RFM panel draws (RunView), made from a fit starting, a fit the host computed, or a saved run.
import type { Dataset } from '../../core/data/dataset';
import { finalFromReport, iterationFromReport, matrixFromReport, treeFromReport } from '../../core/rfm/serialize';
import type { FitResult } from '../../core/rfm/types';
import type { RunView } from '../../protocol/rfm';
import { bufferOf } from '../../protocol/wire';
import type { RunMeta, RunRecord } from '../host/runStore';
import { topK } from '../host/options';

/** A fit about to start: names and task, no iteration or result yet. */
export function initialView(name: string, createdAt: Date, train: Dataset): RunView {
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
    // Dataset.imageShape (a 3-/4-D array) when the loader set it; the page detects pixel names itself.
    imageShape: train.imageShape ?? null,
  };
}

/** A fit computed in the host, saved as `meta`: the typed result as it is, M as its buffer. */
export function resultView(start: RunView, meta: RunMeta, r: FitResult): RunView {
  return {
    ...start,
    runId: meta.runId,
    iterations: r.iterations,
    bestIter: r.bestIter,
    M: bufferOf(r.M),
    final: r.final,
    backend: r.backend,
    device: r.device,
    backendReason: meta.backendReason,
    seconds: r.seconds,
    ...(r.tree ? { tree: r.tree } : {}),
  };
}

/** A saved run, read back from its report. */
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
    ...(r.tree ? { tree: treeFromReport(r.tree) } : {}),
  };
}
