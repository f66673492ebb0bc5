import * as vscode from 'vscode';
import type { GrokSettings } from '../../protocol/grokking';
import type { Ctx } from '../ctx';
import { GROK_VIEW_TYPE, GrokkingLab, type GrokLabResult } from './lab';

/** The Grokking Lab: its command (with settings it runs at once and resolves to the curves) and tab revival. */
export function register(ctx: Ctx): void {
  ctx.commands({
    'featureLens.openGrokkingLab': async (args?: Partial<GrokSettings>): Promise<GrokLabResult | undefined> => {
      const lab = GrokkingLab.open(ctx);
      return args ? lab.run(args) : undefined;
    },
  });
  ctx.subscribe(
    vscode.window.registerWebviewPanelSerializer(GROK_VIEW_TYPE, {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel) {
        GrokkingLab.revive(ctx, panel);
      },
    }),
  );
}
