import * as vscode from 'vscode';
import type { LabSweep } from '../../core/catapult/index';
import type { LabSettings } from '../../protocol/catapult';
import type { Ctx } from '../ctx';
import { toUri } from '../host/datasetFile';
import { CatapultLab, LAB_VIEW_TYPE, type LabResult } from './lab';

/** openCatapultLab's optional argument: run at once with these settings (scripting, tests). */
export interface LabCommandArgs extends Partial<LabSettings> {
  sweep?: LabSweep;
  /** Train the ReLU network on this table; `target` names its target column. */
  dataset?: vscode.Uri | string;
  target?: string;
}

/** The Catapult Lab: its command and the revival of its tab after a reload. */
export function register(ctx: Ctx): void {
  ctx.commands({
    // With arguments it runs at once and resolves to the run's summary.
    'featureLens.openCatapultLab': async (args?: LabCommandArgs): Promise<LabResult | undefined> => {
      const lab = CatapultLab.open(ctx);
      if (!args) return undefined;
      const { sweep, dataset, target, ...settings } = args;
      if (dataset) await lab.useDataset(toUri(dataset), target);
      return lab.run(settings, sweep ?? 'none');
    },
  });
  ctx.subscribe(
    vscode.window.registerWebviewPanelSerializer(LAB_VIEW_TYPE, {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel) {
        CatapultLab.revive(ctx, panel);
      },
    }),
  );
}
