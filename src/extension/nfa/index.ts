// Issue 5's NFA entry points: `featureLens.computeNfa(weightsUri, args)`, the training lab and saving
// its network. Registered from extension.ts by one call, so other branches' registrations merge cleanly.
import * as vscode from 'vscode';
import type { RunStore } from '../host/runStore';
import { toUri } from '../host/datasetFile';
import { weightsUriOf } from '../weights';
import type { NfaLabPanelState } from '../../protocol/nfaLab';
import type { NfaPanelState } from '../../protocol/nfa';
import { LAB_VIEW_TYPE, TrainingLab, type LabArgs } from './lab';
import { NFA_VIEW_TYPE, NfaPanels } from './panel';
import { NfaService, type NfaArgs } from './service';
import { registerReportingCommand } from '../host/webviewHtml';

export interface NfaApi {
  nfa: NfaService;
  lab: TrainingLab;
  panels: NfaPanels;
  /**
   * The serializers registered for the NFA view and the lab (tests call them as VS Code does after a
   * reload). They resolve before the page is drawn: await `panels.latest.settled` / `lab.restoring`.
   */
  serializers: {
    nfa: vscode.WebviewPanelSerializer<NfaPanelState> & {
      deserializeWebviewPanel(panel: vscode.WebviewPanel, state: NfaPanelState | undefined): Promise<void>;
    };
    lab: vscode.WebviewPanelSerializer<NfaLabPanelState> & {
      deserializeWebviewPanel(panel: vscode.WebviewPanel, state: NfaLabPanelState | undefined): Promise<void>;
    };
  };
}

export function registerNfa(context: vscode.ExtensionContext, log: vscode.LogOutputChannel, store: RunStore): NfaApi {
  const panels = new NfaPanels(context.extensionUri, log);
  const nfa = new NfaService(panels, store, log, context.workspaceState);
  const lab = new TrainingLab(
    context.extensionUri,
    nfa,
    log,
    context.storageUri ?? context.globalStorageUri,
    context.workspaceState,
  );
  // VS Code mounts a revived page only once deserializeWebviewPanel has resolved, so the work that
  // talks to the page (and waits for it to be ready) must not be awaited here.
  const serializers: NfaApi['serializers'] = {
    nfa: {
      deserializeWebviewPanel: async (panel, state) => {
        void nfa
          .revive(panel, state)
          .catch((e: unknown) =>
            log.error(`nfa: reviving a view failed: ${e instanceof Error ? e.message : String(e)}`),
          );
      },
    },
    lab: {
      deserializeWebviewPanel: async (panel, state) => {
        lab.revive(panel, state);
      },
    },
  };
  context.subscriptions.push(
    // Views and the lab come back after a window reload, computed again from the files their state names.
    vscode.window.registerWebviewPanelSerializer(NFA_VIEW_TYPE, serializers.nfa),
    vscode.window.registerWebviewPanelSerializer(LAB_VIEW_TYPE, serializers.lab),
    registerReportingCommand('featureLens.computeNfa', log, async (arg?: unknown, args?: NfaArgs | unknown[]) => {
      const uri = await weightsUriOf(arg);
      // The explorer passes the selected uris as the second argument: not options.
      return uri ? nfa.run(uri, Array.isArray(args) ? {} : (args ?? {})) : undefined;
    }),
    registerReportingCommand(
      'featureLens.openTrainingLab',
      log,
      async (data?: vscode.Uri | string | { uri: vscode.Uri }, args?: LabArgs | unknown[]) => {
        const d = data && typeof data === 'object' && !(data instanceof vscode.Uri) ? data.uri : data;
        return lab.open(d, Array.isArray(args) ? {} : (args ?? {}));
      },
    ),
    registerReportingCommand('featureLens.cancelTraining', log, async () => {
      const stopped = lab.cancelTraining();
      if (!stopped) void vscode.window.showInformationMessage('Feature Lens: no network is training.');
      return stopped;
    }),
    registerReportingCommand('featureLens.inspectTrainedNetwork', log, async (opts?: { panel?: boolean }) =>
      lab.inspect(opts?.panel !== false),
    ),
    registerReportingCommand(
      'featureLens.saveTrainedWeights',
      log,
      async (target?: vscode.Uri | string, opts?: { overwrite?: boolean }) =>
        lab.save(target === undefined ? undefined : toUri(target), opts?.overwrite),
    ),
  );
  return { nfa, lab, panels, serializers };
}
