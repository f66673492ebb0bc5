// The NFA entry points: `featureLens.computeNfa(weightsUri, args)`, the training lab and saving its
// network, and the serializers that bring the NFA views and the lab back after a window reload.
import * as vscode from 'vscode';
import type { NfaLabPanelState } from '../../protocol/nfaLab';
import type { NfaPanelState } from '../../protocol/nfa';
import type { Ctx } from '../ctx';
import { toUri } from '../host/datasetFile';
import { datasetUriOf } from '../host/prompts';
import { weightsUriOf } from '../host/weightsFile';
import { CollapseViews, COLLAPSE_VIEW_TYPE, selectedWeights, type CheckpointsArgs, type DeepRfmArgs } from './collapse';
import { LAB_VIEW_TYPE, TrainingLab, type LabArgs } from './lab';
import { NFA_VIEW_TYPE, NfaPanels } from './panel';
import { NfaService, type NfaArgs } from './service';

export interface NfaApi {
  nfa: NfaService;
  lab: TrainingLab;
  panels: NfaPanels;
  /** The Deep RFM and checkpoint collapse views. */
  collapse: CollapseViews;
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
    collapse: vscode.WebviewPanelSerializer<unknown> & {
      deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void>;
    };
  };
}

/** Command arguments from the explorer are (clicked uri, all selected uris): the second is not options. */
const options = <T extends object>(args: T | unknown[] | undefined): T | Record<string, never> =>
  Array.isArray(args) ? {} : (args ?? {});

export function register(ctx: Ctx): NfaApi {
  const panels = new NfaPanels(ctx);
  const nfa = new NfaService(panels, ctx);
  const lab = new TrainingLab(ctx, nfa);
  const collapse = new CollapseViews(ctx);
  // VS Code mounts a revived page only once deserializeWebviewPanel has resolved, so the work that
  // talks to the page must not be awaited here; views and the lab are computed again from their files.
  const serializers: NfaApi['serializers'] = {
    nfa: {
      deserializeWebviewPanel: async (panel, state) => {
        void nfa
          .revive(panel, state)
          .catch((e: unknown) =>
            ctx.log.error(`nfa: reviving a view failed: ${e instanceof Error ? e.message : String(e)}`),
          );
      },
    },
    lab: {
      deserializeWebviewPanel: async (panel, state) => lab.revive(panel, state),
    },
    collapse: {
      deserializeWebviewPanel: async (panel, state) => {
        void collapse.revive(panel, state);
      },
    },
  };
  ctx.subscribe(
    vscode.window.registerWebviewPanelSerializer(NFA_VIEW_TYPE, serializers.nfa),
    vscode.window.registerWebviewPanelSerializer(LAB_VIEW_TYPE, serializers.lab),
    vscode.window.registerWebviewPanelSerializer(COLLAPSE_VIEW_TYPE, serializers.collapse),
  );
  ctx.commands({
    'featureLens.computeNfa': async (arg?: unknown, args?: NfaArgs | unknown[]) => {
      const uri = await weightsUriOf(arg);
      return uri ? nfa.run(uri, options(args)) : undefined;
    },
    'featureLens.openTrainingLab': (data?: vscode.Uri | string | { uri: vscode.Uri }, args?: LabArgs | unknown[]) =>
      lab.open(data && typeof data === 'object' && !(data instanceof vscode.Uri) ? data.uri : data, options(args)),
    'featureLens.cancelTraining': async () => {
      const stopped = lab.cancelTraining();
      if (!stopped) void vscode.window.showInformationMessage('Feature Lens: no network is training.');
      return stopped;
    },
    'featureLens.inspectTrainedNetwork': (opts?: { panel?: boolean }) => lab.inspect(opts?.panel !== false),
    // From the explorer: (clicked, all selected); from a test or script: (uri, options).
    'featureLens.runDeepRfm': async (arg?: unknown, args?: DeepRfmArgs | unknown[]) => {
      const uri = await datasetUriOf(arg, {
        title: 'Run Deep RFM',
        placeHolder: 'Dataset with a class label column',
        openLabel: 'Run Deep RFM',
      });
      return uri ? collapse.deepRfm(uri, options(args)) : undefined;
    },
    'featureLens.collapseOverCheckpoints': async (arg?: unknown, selection?: unknown, args?: CheckpointsArgs) => {
      let files = selectedWeights(arg, selection);
      if (!files.length) {
        files =
          (await vscode.window.showOpenDialog({
            canSelectMany: true,
            openLabel: 'Use Checkpoints',
            filters: { Weights: ['safetensors', 'pt', 'pth', 'npz', 'npy'] },
          })) ?? [];
        if (!files.length) return undefined;
      }
      const opts = args ?? (selection && !Array.isArray(selection) ? (selection as CheckpointsArgs) : {});
      return collapse.checkpoints(files, opts);
    },
    'featureLens.saveTrainedWeights': (target?: vscode.Uri | string, opts?: { overwrite?: boolean }) =>
      lab.save(target === undefined ? undefined : toUri(target), opts?.overwrite),
  });
  return { nfa, lab, panels, collapse, serializers };
}
