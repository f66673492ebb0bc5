// The NFA views: heatmaps, correlation table and eigenvector comparison of one computation each. The
// page only draws; the numbers are computed in the host (NfaService) and posted once.
import * as vscode from 'vscode';
import type { NfaHostToWebview, NfaView, NfaWebviewToHost } from '../../protocol/nfa';
import type { Ctx } from '../ctx';
import { createPanel, WebviewHost } from '../host/webviewHost';
import { unhandled } from '../../protocol/channel';

export const NFA_VIEW_TYPE = 'featureLens.nfa';

export class NfaPanel extends WebviewHost<NfaHostToWebview, NfaWebviewToHost> {
  /** What the page was last given to draw, or why it could not (tests and the revival path read these). */
  shown: NfaView | null = null;
  failure: string | null = null;
  /** Resolves once the page has been given a result or a failure to show. */
  readonly settled: Promise<void>;
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
            await vscode.env.clipboard.writeText(m.text);
            void vscode.window.showInformationMessage(`Feature Lens: ${m.what} copied.`);
            ctx.log.info(`nfa view: copied ${m.what} (${m.text.length} characters)`);
            break;
          default:
            unhandled(m.type);
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
    }
    super.post(m);
  }
}

export class NfaPanels {
  private last: NfaPanel | undefined;
  constructor(private readonly ctx: Ctx) {}

  open(title: string): NfaPanel {
    // Later views join the column of the last one instead of opening yet another column.
    const column = this.last && !this.last.isDisposed ? this.last.panel.viewColumn : undefined;
    this.last = new NfaPanel(
      createPanel(this.ctx.extensionUri, NFA_VIEW_TYPE, title, { column, findWidget: true }),
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
