// ConvRFM on an image file: `featureLens.fitConvRfm(uri?, args?)` (explorer menu on .npy/.npz, the
// palette with a picker). Loads the images, fits on the host placement (core/compute.ts) under a
// cancellable progress notification and shows the per-iteration metrics and M's eigenvectors as
// C x q x q filters in a panel. Resolves to the CLI's JSON report (tests and other extensions read it).
// A panel brought back after a window reload fits again from the file and options its state names.
import * as vscode from 'vscode';
import { runPlaced } from '../../core/compute';
import { parseImageShape } from '../../core/data/images';
import { loadDataset } from '../host/datasets';
import { CancelledError, InputError } from '../../core/errors';
import { hostConvRfmBackend, hostPlan } from '../../core/node';
import { fitConvRfm, parseConvRfmOptions } from '../../core/rfm/conv-fit';
import { convRfmResultToJson, type ConvRfmReport } from '../../core/rfm/conv-report';
import { parseValFraction } from '../../core/rfm/options';
import { unhandled } from '../../protocol/channel';
import {
  toConvRfmView,
  toWireIteration,
  type ConvRfmHostToWebview,
  type ConvRfmPanelState,
  type ConvRfmView,
  type ConvRfmWebviewToHost,
  type WireConvRfmIteration,
} from '../../protocol/convrfm';
import { ConvRfmPanelStateSchema } from '../../protocol/viewState';
import type { Ctx } from '../ctx';
import { baseName, displayPath, exists, loaderName, readDatasetFile } from '../host/datasetFile';
import { datasetUriOf } from '../host/prompts';
import { RememberedViews } from '../host/viewMemory';
import { createPanel, WebviewHost, copyFromPage } from '../host/webviewHost';

export const CONVRFM_VIEW_TYPE = 'featureLens.convrfm';

/** The command's options: the CLI's flags in camelCase (imageShape as text, e.g. "3,32,32"). */
export interface ConvRfmArgs {
  target?: string | number;
  imageShape?: string;
  channelsLast?: boolean;
  patch?: number;
  stride?: number;
  kernel?: string;
  bandwidth?: number;
  reg?: number;
  iters?: number;
  agopPower?: number;
  agopSamples?: number;
  valFraction?: number;
  seed?: number;
  backend?: string;
  /** false: no panel (tests, scripts). */
  panel?: boolean;
}

const WHERE = 'featureLens.fitConvRfm option';

export class ConvRfmPanel extends WebviewHost<ConvRfmHostToWebview, ConvRfmWebviewToHost> {
  /** What the page was last given to draw, or why it could not (tests read these). */
  shown: ConvRfmView | null = null;
  failure: string | null = null;
  /** Resolves once the page was given the fit or the reason there is none (tests await it). */
  readonly settled: Promise<void>;
  private settle!: () => void;

  constructor(panel: vscode.WebviewPanel, ctx: Ctx) {
    super(panel, {
      extensionUri: ctx.extensionUri,
      log: ctx.log,
      label: 'convrfm view',
      page: { entry: 'convrfm', bundle: 'convrfm', title: panel.title },
      onMessage: async (m) => {
        switch (m.type) {
          case 'copy':
            await copyFromPage(m, ctx.log, 'convrfm view');
            break;
          default:
            unhandled(m.type);
        }
      },
    });
    this.settled = new Promise((resolve) => (this.settle = resolve));
  }

  override post(m: ConvRfmHostToWebview): void {
    if (m.type === 'show') [this.shown, this.failure] = [m.view, null];
    else if (m.type === 'failed') this.failure = m.message;
    super.post(m);
    if (m.type === 'show' || m.type === 'failed') this.settle();
  }
}

export interface ConvRfmApi {
  /** The last panel opened or revived (tests). */
  readonly latest: ConvRfmPanel | undefined;
  /**
   * The serializer registered for the view (tests call it as VS Code does after a reload). It resolves
   * before the fit, as VS Code needs: await `latest.settled` for the page's numbers.
   */
  readonly serializer: vscode.WebviewPanelSerializer<ConvRfmPanelState> & {
    deserializeWebviewPanel(panel: vscode.WebviewPanel, state: ConvRfmPanelState | undefined): Promise<void>;
  };
}

/** Each view's inputs by tab title in the workspace state (see host/viewMemory.ts). */
const views = (ctx: Ctx) => new RememberedViews<ConvRfmPanelState>(ctx.memory, 'featureLens.convrfm.views');

/** Fits and shows the result in a new panel, in `into` (a revived one), or nowhere (args.panel false). */
async function fit(
  ctx: Ctx,
  uri: vscode.Uri,
  args: ConvRfmArgs,
  api: { latest?: ConvRfmPanel },
  into?: ConvRfmPanel,
): Promise<ConvRfmReport> {
  const options = parseConvRfmOptions(args as Record<string, unknown>, WHERE);
  const valFraction = parseValFraction(args.valFraction ?? 0.2, `${WHERE} valFraction`);
  if (valFraction === 0) throw new InputError(`${WHERE} valFraction: expected a number > 0 and < 1, got 0`);
  const imageShape =
    args.imageShape === undefined ? undefined : parseImageShape(String(args.imageShape), `${WHERE} imageShape`);
  const choice = ctx.backend(args.backend, `${WHERE} backend`);
  const name = displayPath(uri);
  const bytes = await readDatasetFile(uri);
  const { dataset } = await loadDataset(bytes, loaderName(uri), {
    target: args.target,
    imageShape,
    ...(args.channelsLast !== undefined ? { channelsLast: args.channelsLast } : {}),
  });
  const title = `ConvRFM: ${baseName(uri)}`;
  const panel =
    into ??
    (args.panel === false ? undefined : new ConvRfmPanel(createPanel(ctx.extensionUri, CONVRFM_VIEW_TYPE, title), ctx));
  if (panel) {
    api.latest = panel;
    panel.panel.title = title;
    // Saved before fitting, so a reload while it runs still brings the view back.
    const { panel: _shown, ...options } = args;
    const state: ConvRfmPanelState = { title, data: uri.toString(), args: { ...options } };
    panel.post({ type: 'persist', state });
    views(ctx).remember(state);
  }
  const iterations: WireConvRfmIteration[] = [];
  try {
    const placed = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Feature Lens: ${title}`, cancellable: true },
      async (progress, token) => {
        const cancel = { cancelled: false };
        token.onCancellationRequested(() => (cancel.cancelled = true));
        const rounds = options.iters + 1;
        return runPlaced(
          hostPlan('convrfm', choice),
          async (p) => {
            const backend = await hostConvRfmBackend(p as 'host-gpu' | 'host-cpu');
            try {
              iterations.length = 0;
              return await fitConvRfm(dataset, options, {
                backend,
                valFraction,
                cancel,
                onEstimate: (line) => ctx.log.info(`convrfm: ${line}`),
                onIteration: (it) => {
                  iterations.push(toWireIteration(it));
                  const message = `iteration ${it.iter + 1} of ${rounds}: test ${it.testMetric?.toFixed(3) ?? '-'}`;
                  progress.report({ message, increment: 100 / rounds });
                  panel?.post({ type: 'progress', message, iterations: [...iterations] });
                },
              });
            } finally {
              backend.dispose();
            }
          },
          {
            onFallback: (from, e, next) =>
              ctx.log.warn(`convrfm: ${from} failed (${e.message})${next ? `; trying ${next}` : ''}`),
          },
        );
      },
    );
    const report = convRfmResultToJson(placed.value);
    ctx.log.info(
      `convrfm: ${name}: ${placed.value.nTrain} train / ${placed.value.nTest} test images, final test metric ${placed.value.final.testMetric ?? '-'} on ${placed.reason}`,
    );
    panel?.post({
      type: 'show',
      view: toConvRfmView(placed.value, { title, data: name, report: JSON.stringify(report, null, 1) }),
    });
    return report;
  } catch (e) {
    panel?.post({ type: 'failed', message: e instanceof CancelledError ? 'Cancelled.' : (e as Error).message });
    throw e;
  }
}

/**
 * A view restored after a window reload: fits again from the file and options of its state (or, when the
 * page's state never reached the workbench, of the one remembered under its tab title). A missing file or
 * state, or a fit that now fails, is said in the view instead of leaving it blank.
 */
async function revive(
  ctx: Ctx,
  webviewPanel: vscode.WebviewPanel,
  state: unknown,
  api: { latest?: ConvRfmPanel },
): Promise<ConvRfmReport | undefined> {
  const panel = new ConvRfmPanel(webviewPanel, ctx);
  api.latest = panel;
  const saved = views(ctx).revived(ConvRfmPanelStateSchema, state, webviewPanel.title, {
    view: 'ConvRFM',
    rerun: '"Fit ConvRFM on Images…" on the image file',
    log: ctx.log,
    lost: (message) => panel.post({ type: 'failed', message }),
  });
  if (!saved) return undefined;
  webviewPanel.title = saved.title;
  const uri = vscode.Uri.parse(saved.data);
  if (!(await exists(uri))) {
    ctx.log.warn(`convrfm: cannot revive '${saved.title}': ${displayPath(uri)} missing`);
    panel.post({
      type: 'failed',
      message: `This ConvRFM view cannot be fitted again: ${displayPath(uri)} is no longer there (moved or deleted).`,
    });
    return undefined;
  }
  try {
    return await fit(ctx, uri, saved.args as ConvRfmArgs, api, panel);
  } catch (e) {
    // fit has told the page why.
    ctx.log.warn(`convrfm: cannot revive '${saved.title}': ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
}

export function register(ctx: Ctx): ConvRfmApi {
  const api: { latest?: ConvRfmPanel } = {};
  // VS Code mounts a revived page only once deserializeWebviewPanel has resolved: the fit is not awaited.
  const serializer: ConvRfmApi['serializer'] = {
    deserializeWebviewPanel: async (panel, state) => {
      void revive(ctx, panel, state, api);
    },
  };
  ctx.subscribe(vscode.window.registerWebviewPanelSerializer(CONVRFM_VIEW_TYPE, serializer));
  ctx.commands({
    'featureLens.fitConvRfm': async (arg?: unknown, args?: ConvRfmArgs | unknown[]) => {
      const uri = await datasetUriOf(arg, {
        title: 'Fit ConvRFM on Images',
        placeHolder: 'Images: .npz with X (N, C, H, W) and y, or pixels + a label column',
        openLabel: 'Fit ConvRFM',
      });
      if (!uri) return undefined;
      // From the explorer the second argument is the list of selected uris, not options.
      return fit(ctx, uri, Array.isArray(args) ? {} : (args ?? {}), api);
    },
  });
  return {
    get latest() {
      return api.latest;
    },
    serializer,
  };
}
