// The NFA views: heatmaps, correlation table and eigenvector comparison of one computation each. The
// page only draws; the numbers are computed in the host (NfaService) and posted once.
import * as vscode from 'vscode';
import type { NfaForm, NfaHostToWebview, NfaView, NfaWebviewToHost } from '../../protocol/nfa';

/** The form's messages (answered by NfaService while the view has a form). */
export type NfaFormMessage = Exclude<NfaWebviewToHost, { type: 'copy' }>;
import type { Ctx } from '../ctx';
import { createPanel, WebviewHost, copyFromPage } from '../host/webviewHost';
import { unhandled } from '../../protocol/channel';

export const NFA_VIEW_TYPE = 'featureLens.nfa';

export class NfaPanel extends WebviewHost<NfaHostToWebview, NfaWebviewToHost> {
  /** What the page was last given to draw, or why it could not (tests and the revival path read these). */
  shown: NfaView | null = null;
  failure: string | null = null;
  /** The form the page was given, and the last columns it was sent (tests read these). */
  form: NfaForm | null = null;
  columns: Extract<NfaHostToWebview, { type: 'columns' }> | null = null;
  /** Resolves once the page has been given a result or a failure to show. */
  readonly settled: Promise<void>;
  /** Answers the form's messages; unset for a view without a form (a revived one, the lab's). */
  onForm: ((m: NfaFormMessage) => Promise<void>) | undefined;
  private settle!: () => void;

  constructor(panel: vscode.WebviewPanel, ctx: Ctx) {
    super(panel, {
      extensionUri: ctx.extensionUri,
      log: ctx.log,
      label: 'nfa view',
      page: { entry: 'nfa', bundle: 'nfa', title: panel.title },
      onMessage: async (m) => {
        switch (m.type) {
          case 'copy':
            await copyFromPage(m, ctx.log, 'nfa view');
            break;
          case 'columns':
          case 'browse':
          case 'compute':
            if (this.onForm) await this.onForm(m);
            else ctx.log.warn(`nfa view: '${m.type}' from a view without a form`);
            break;
          default:
            unhandled(m);
        }
      },
    });
    this.settled = new Promise((r) => (this.settle = r));
  }

  override post(m: NfaHostToWebview): void {
    if (m.type === 'show') {
      this.shown = m.view;
      this.failure = null;
      this.settle();
    } else if (m.type === 'failed') {
      this.failure = m.message;
      this.settle();
    } else if (m.type === 'form') {
      this.form = m.form;
    } else if (m.type === 'columns') {
      this.columns = m;
    }
    super.post(m);
  }
}

export class NfaPanels {
  private last: NfaPanel | undefined;
  constructor(private readonly ctx: Ctx) {}

  /**
   * A new view, as a tab of the active editor group (the weights editor's, when the command came from it)
   * so it has the group's full width; later views join the group of the last one. `focus`: take the
   * keyboard (the form), else the editor keeps it.
   */
  open(title: string, focus = false): NfaPanel {
    const column = this.last && !this.last.isDisposed ? this.last.panel.viewColumn : vscode.ViewColumn.Active;
    this.last = new NfaPanel(
      createPanel(this.ctx.extensionUri, NFA_VIEW_TYPE, title, { column, findWidget: true, preserveFocus: !focus }),
      this.ctx,
    );
    return this.last;
  }

  /** A panel VS Code restored after a reload (WebviewPanelSerializer): the page is set again by the host. */
  adopt(panel: vscode.WebviewPanel): NfaPanel {
    this.last = new NfaPanel(panel, this.ctx);
    return this.last;
  }

  get latest(): NfaPanel | undefined {
    return this.last;
  }
}
