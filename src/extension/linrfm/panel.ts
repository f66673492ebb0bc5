// The lin-RFM view of one completion (docs/science.md §8): the host posts what the page draws and keeps
// what the page was given (tests read it) and the completed matrix (Save writes it). A revived tab has
// no matrix: its page redraws what it kept in its own state and Save says to run again.
import * as vscode from 'vscode';
import { unhandled } from '../../protocol/channel';
import type {
  LinRfmFinal,
  LinRfmHostToWebview,
  LinRfmInfo,
  LinRfmWebviewToHost,
  WireLinRfmIteration,
} from '../../protocol/linrfm';
import type { Ctx } from '../ctx';
import { reportError } from '../host/commands';
import { createPanel, WebviewHost } from '../host/webviewHost';

export const LINRFM_VIEW_TYPE = 'featureLens.linrfm';

/** What the completed matrix is, for Save. */
export interface CompletedMatrix {
  values: Float64Array;
  rows: number;
  cols: number;
  /** The input file: the default folder and name of the saved file, and never overwritten. */
  source: vscode.Uri;
}

export class LinRfmPanel extends WebviewHost<LinRfmHostToWebview, LinRfmWebviewToHost> {
  /** What the page was given (tests compare these with the CLI's report). */
  info: LinRfmInfo | null = null;
  readonly curve: WireLinRfmIteration[] = [];
  spectra = 0;
  final: LinRfmFinal | null = null;
  stopped: { message: string; cancelled: boolean } | null = null;
  /** Set by the run; undefined in a revived tab. */
  completed: CompletedMatrix | undefined;
  /** The running completion's cancel (the page's Cancel button). */
  cancel: (() => void) | undefined;

  constructor(
    ctx: Ctx,
    save: (panel: LinRfmPanel, format: 'npy' | 'csv') => Promise<unknown>,
    revived?: vscode.WebviewPanel,
    title = 'lin-RFM',
  ) {
    super(revived ?? createPanel(ctx.extensionUri, LINRFM_VIEW_TYPE, title), {
      extensionUri: ctx.extensionUri,
      log: ctx.log,
      label: 'linrfm view',
      page: { entry: 'linrfm', bundle: 'linrfm', css: ['panel.css', 'logs.css'], title },
      onMessage: (m) => {
        switch (m.type) {
          case 'cancel':
            this.cancel?.();
            return;
          case 'save':
            save(this, m.format).catch((e: unknown) => reportError('linrfm view', ctx.log, e));
            return;
          default:
            unhandled(m);
        }
      },
    });
  }

  override post(m: LinRfmHostToWebview): void {
    switch (m.type) {
      case 'start':
        [this.info, this.final, this.stopped, this.spectra] = [m.info, null, null, 0];
        this.curve.length = 0;
        break;
      case 'progress':
        this.curve.push(...m.iterations);
        if (m.spectrum) this.spectra++;
        break;
      case 'finished':
        this.final = m.final;
        break;
      case 'stopped':
        this.stopped = { message: m.message, cancelled: m.cancelled };
        break;
      case 'saved':
        break;
      default:
        unhandled(m);
    }
    super.post(m);
  }
}
