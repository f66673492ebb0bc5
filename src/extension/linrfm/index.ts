// Matrix completion with lin-RFM in VS Code (docs/science.md §8): `featureLens.completeMatrix(uri?, args?)`
// from the explorer on a .npy or .csv matrix or from the palette. The matrix is parsed on the dataset
// worker, completed on the host placement (core/compute.ts 'linrfm') under a cancellable progress
// notification, and drawn live in a panel (mask, completed matrix, spectra, error curves); Save writes
// the completed matrix through workspace.fs. Resolves to the run's numbers (tests, scripts).
import * as vscode from 'vscode';
import { runPlaced, type Placement } from '../../core/compute';
import { CancelledError, InputError } from '../../core/errors';
import {
  finiteOrNull,
  matrixPicture,
  observedMask,
  toWireSpectrum,
  type LinRfmFinal,
  type LinRfmInfo,
  type WireLinRfmIteration,
  type WireSpectrum,
} from '../../protocol/linrfm';
import type { Ctx } from '../ctx';
import { baseName, displayPath, loaderName, readDatasetFile, toUri } from '../host/datasetFile';
import { askChoice, askNumber, datasetUriOf } from '../host/prompts';
import { checkOutputTarget, writeOutputFile } from '../host/safeWrite';
import {
  complete,
  completionPlan,
  DEFAULT_SETTINGS,
  loadMatrix,
  matrixFileBytes,
  parseSettings,
  settingProblem,
  type CompletionSettings,
} from './core';
import { LINRFM_VIEW_TYPE, LinRfmPanel } from './panel';

/** The command's options: the CLI's flags in camelCase. Without any, the command asks for them. */
export interface CompleteMatrixArgs extends Partial<CompletionSettings> {
  backend?: string;
}

/** What a completion resolves to (the command's result). */
export interface CompleteMatrixResult extends LinRfmInfo, Omit<LinRfmFinal, 'completed' | 'singularValues'> {
  placement: Placement;
  /** The core's JSON report, as `feature-lens complete --json` writes it. */
  report: Record<string, unknown>;
}

export interface LinRfmApi {
  /** The last lin-RFM view opened (tests). */
  readonly latest: LinRfmPanel | undefined;
}

const WHERE = 'featureLens.completeMatrix option';
/** Posts to the page at most this often while iterations stream (a run may do thousands a second). */
const FLUSH_MS = 150;

/** α, λ and the iteration budget, asked one by one; undefined when the user escapes. */
async function askSettings(): Promise<CompletionSettings | undefined> {
  const d = DEFAULT_SETTINGS;
  const alpha = await askChoice('Complete Matrix (1/3): α in M = (WᵀW/m)^α', [
    { label: '½ (default)', value: 0.5, detail: 'no SVD; more iterations, recovers closest to the threshold' },
    { label: '1', value: 1, detail: 'fewer iterations well above the threshold' },
  ]);
  if (!alpha) return undefined;
  const reg = await askNumber('Complete Matrix (2/3): ridge λ at the start', String(d.reg), (s) =>
    settingProblem('reg', s),
  );
  if (reg === undefined) return undefined;
  const maxIters = await askNumber('Complete Matrix (3/3): at most this many iterations', String(d.maxIters), (s) =>
    settingProblem('maxIters', s),
  );
  if (maxIters === undefined) return undefined;
  return parseSettings({ alpha: alpha.value, reg, maxIters }, WHERE);
}

async function run(
  ctx: Ctx,
  uri: vscode.Uri,
  settings: CompletionSettings,
  backend: unknown,
  api: { latest?: LinRfmPanel },
): Promise<CompleteMatrixResult> {
  const choice = ctx.backend(backend, `${WHERE} backend`);
  const file = displayPath(uri);
  const matrix = await loadMatrix(await readDatasetFile(uri), loaderName(uri));
  let observed = 0;
  for (const v of matrix.values) if (Number.isFinite(v)) observed++;
  const info: LinRfmInfo = { file, rows: matrix.rows, cols: matrix.cols, observed, settings };
  const title = `lin-RFM: ${baseName(uri)}`;
  const panel = new LinRfmPanel(ctx, (p, format) => save(ctx, p, format), undefined, title);
  api.latest = panel;
  const mask = matrixPicture(observedMask(matrix.values), matrix.rows, matrix.cols);
  const abort = new AbortController();
  panel.cancel = () => abort.abort();
  panel.onDidDispose(() => abort.abort());
  ctx.log.info(
    `linrfm: ${file}: ${matrix.rows} x ${matrix.cols}, ${observed} observed; α ${settings.alpha}, λ ${settings.reg}, at most ${settings.maxIters} iterations`,
  );
  try {
    const placed = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Feature Lens: ${title}`, cancellable: true },
      async (progress, token) => {
        token.onCancellationRequested(() => abort.abort());
        let pending: WireLinRfmIteration[] = [];
        let spectrum: WireSpectrum | null = null;
        let last = 0;
        let reported = 0;
        const flush = () => {
          if (!pending.length && !spectrum) return;
          const latest = pending[pending.length - 1];
          if (latest) {
            const v = latest.validationError;
            progress.report({
              message: `${latest.refit ? 'refit on every observed entry, ' : ''}iteration ${latest.iter} of at most ${settings.maxIters}: observed MSE ${latest.observedMse.toExponential(2)}${v === null ? '' : `, validation ${v.toExponential(2)}`}`,
              increment: (100 * (latest.iter - reported)) / settings.maxIters,
            });
            reported = latest.iter;
          }
          panel.post({ type: 'progress', iterations: pending, spectrum });
          [pending, spectrum, last] = [[], null, Date.now()];
        };
        return runPlaced(
          completionPlan(choice, matrix.rows, matrix.cols),
          async (placement) => {
            // A placement that failed part-way starts over: the page's curve with it.
            panel.post({ type: 'start', info, mask });
            [pending, spectrum, reported] = [[], null, 0];
            const outcome = await complete(matrix, settings, {
              placement,
              signal: abort.signal,
              onStep: (s) => {
                pending.push({
                  iter: s.iter,
                  observedMse: s.observedMse,
                  validationError: finiteOrNull(s.validationError),
                  refit: s.refit,
                });
                if (s.singularValues) spectrum = toWireSpectrum(s.iter, s.singularValues);
                if (Date.now() - last >= FLUSH_MS || s.singularValues) flush();
              },
            });
            flush();
            return outcome;
          },
          {
            onFallback: (from, e, next) =>
              ctx.log.warn(`linrfm: ${from} failed (${e.message})${next ? `; trying ${next}` : ''}`),
          },
        );
      },
    );
    const o = placed.value;
    const final: LinRfmFinal = {
      converged: o.converged,
      stopReason: o.stopReason,
      iterations: o.iterations,
      refitIterations: o.refitIterations,
      observedMse: o.observedMse,
      validationError: finiteOrNull(o.validationError),
      rankEstimate: o.rankEstimate,
      seconds: o.seconds,
      reason: placed.reason,
      device: o.device,
      completed: matrixPicture(o.completed, matrix.rows, matrix.cols),
      singularValues: toWireSpectrum(o.iterations, o.singularValues).values,
    };
    panel.completed = { values: o.completed, rows: matrix.rows, cols: matrix.cols, source: uri };
    panel.post({ type: 'finished', final });
    ctx.log.info(
      `linrfm: ${file}: ${o.converged ? 'converged' : 'NOT converged'} after ${o.iterations} iterations (${o.stopReason}; refit ${o.refitIterations}; observed MSE ${o.observedMse}, validation ${o.validationError ?? '-'}, rank estimate ${o.rankEstimate}) in ${o.seconds.toFixed(2)} s on ${placed.reason}`,
    );
    return {
      ...info,
      converged: o.converged,
      stopReason: o.stopReason,
      iterations: o.iterations,
      refitIterations: o.refitIterations,
      observedMse: o.observedMse,
      validationError: final.validationError,
      rankEstimate: o.rankEstimate,
      placement: placed.placement,
      reason: placed.reason,
      device: o.device,
      seconds: o.seconds,
      report: o.report,
    };
  } catch (e) {
    const cancelled = e instanceof CancelledError || abort.signal.aborted;
    panel.post({ type: 'stopped', cancelled, message: cancelled ? 'Cancelled.' : (e as Error).message });
    throw cancelled && !(e instanceof CancelledError) ? new CancelledError() : e;
  } finally {
    panel.cancel = undefined;
  }
}

/**
 * Writes the panel's completed matrix as .npy or .csv: a new file, or an existing regular file after
 * the user agrees (`overwrite` true skips the question, false refuses); never the input matrix.
 */
async function save(
  ctx: Ctx,
  panel: LinRfmPanel | undefined,
  format: 'npy' | 'csv',
  target?: vscode.Uri,
  overwrite?: boolean,
): Promise<string | undefined> {
  const c = panel?.completed;
  if (!c)
    throw new InputError(
      'no completed matrix in this view (a restored view keeps only its pictures); run Complete Matrix again',
    );
  let uri = target;
  if (!uri) {
    const stem = baseName(c.source).replace(/\.[^.]+$/, '');
    uri = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.joinPath(c.source, '..', `${stem}-completed.${format}`),
      filters: format === 'npy' ? { NumPy: ['npy'] } : { CSV: ['csv'] },
      saveLabel: 'Save Completed Matrix',
    });
    if (!uri) return undefined;
  }
  const name = displayPath(uri);
  if (uri.toString() === c.source.toString())
    throw new InputError(`${name}: is the input matrix; the completed matrix goes to another file`);
  const ext = uri.path.toLowerCase().endsWith('.csv') ? 'csv' : uri.path.toLowerCase().endsWith('.npy') ? 'npy' : null;
  if (!ext) throw new InputError(`${name}: expected a .npy or .csv file name`);
  // A symlink, folder or device there is refused outright; a regular file only after the user agrees.
  const existed = await checkOutputTarget(vscode.workspace.fs, uri, name);
  if (existed && overwrite !== true) {
    if (overwrite === false) throw new InputError(`${name} already exists; not overwritten`);
    const ok = await vscode.window.showWarningMessage(
      `${name} exists. Replace it with the completed matrix?`,
      { modal: true },
      'Replace',
    );
    if (ok !== 'Replace') return undefined;
  }
  const bytes = matrixFileBytes(c.values, c.rows, c.cols, ext);
  await writeOutputFile(vscode.workspace.fs, uri, bytes, { name, overwrite: existed });
  ctx.log.info(`linrfm: saved the completed matrix to ${uri.toString()} (${bytes.length} bytes)`);
  panel.post({ type: 'saved', path: name });
  void vscode.window.showInformationMessage(`Feature Lens: saved the completed matrix to ${name}.`);
  return uri.toString();
}

export function register(ctx: Ctx): LinRfmApi {
  const api: { latest?: LinRfmPanel } = {};
  ctx.commands({
    'featureLens.completeMatrix': async (arg?: unknown, args?: CompleteMatrixArgs | unknown[]) => {
      const uri = await datasetUriOf(arg, {
        title: 'Complete Matrix (lin-RFM)',
        placeHolder: 'A matrix: .npy (NaN = missing), .csv (empty or NaN = missing) or row,col,value',
        openLabel: 'Complete Matrix',
      });
      if (!uri) return undefined;
      // From the explorer the second argument is the list of selected uris, not options: ask then.
      const given = Array.isArray(args) ? undefined : args;
      const settings = given ? parseSettings(given as Record<string, unknown>, WHERE) : await askSettings();
      if (!settings) return undefined;
      return run(ctx, uri, settings, given?.backend, api);
    },
    'featureLens.saveCompletedMatrix': (target?: vscode.Uri | string, opts?: { overwrite?: boolean }) => {
      const uri = target === undefined ? undefined : toUri(target);
      const format = uri?.path.toLowerCase().endsWith('.csv') ? 'csv' : 'npy';
      return save(ctx, api.latest, format, uri, opts?.overwrite);
    },
  });
  ctx.subscribe(
    vscode.window.registerWebviewPanelSerializer(LINRFM_VIEW_TYPE, {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel) {
        api.latest = new LinRfmPanel(ctx, (p, format) => save(ctx, p, format), panel, panel.title);
      },
    }),
  );
  return {
    get latest() {
      return api.latest;
    },
  };
}
