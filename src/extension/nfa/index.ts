// Issue 5's NFA entry points: `featureLens.computeNfa(weightsUri, args)`, the training lab and saving
// its network. Registered from extension.ts by one call, so other branches' registrations merge cleanly.
import * as vscode from 'vscode';
import type { RunStore } from '../runStore';
import { toUri } from '../datasetFile';
import { weightsUriOf } from '../weights';
import { TrainingLab, type LabArgs } from './lab';
import { NfaPanels } from './panel';
import { NfaService, type NfaArgs } from './service';
import { registerReportingCommand } from './webviewHtml';

export interface NfaApi {
  nfa: NfaService;
  lab: TrainingLab;
}

export function registerNfa(context: vscode.ExtensionContext, log: vscode.LogOutputChannel, store: RunStore): NfaApi {
  const nfa = new NfaService(new NfaPanels(context.extensionUri, log), store, log);
  const lab = new TrainingLab(context.extensionUri, nfa, log);
  context.subscriptions.push(
    registerReportingCommand('featureLens.computeNfa', log, async (arg?: unknown, args?: NfaArgs | unknown[]) => {
      const uri = await weightsUriOf(arg);
      // The explorer passes the selected uris as the second argument: not options.
      return uri ? nfa.run(uri, Array.isArray(args) ? {} : args ?? {}) : undefined;
    }),
    registerReportingCommand('featureLens.openTrainingLab', log, async (data?: vscode.Uri | string | { uri: vscode.Uri }, args?: LabArgs | unknown[]) => {
      const d = data && typeof data === 'object' && !(data instanceof vscode.Uri) ? data.uri : data;
      return lab.open(d, Array.isArray(args) ? {} : args ?? {});
    }),
    registerReportingCommand('featureLens.cancelTraining', log, async () => {
      const stopped = lab.cancelTraining();
      if (!stopped) void vscode.window.showInformationMessage('Feature Lens: no network is training.');
      return stopped;
    }),
    registerReportingCommand('featureLens.inspectTrainedNetwork', log, async (opts?: { panel?: boolean }) => lab.inspect(opts?.panel !== false)),
    registerReportingCommand('featureLens.saveTrainedWeights', log, async (target?: vscode.Uri | string, opts?: { overwrite?: boolean }) =>
      lab.save(target === undefined ? undefined : toUri(target), opts?.overwrite)),
  );
  return { nfa, lab };
}
