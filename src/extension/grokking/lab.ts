import { errorOfFailure } from '../../protocol/failure';
import * as vscode from 'vscode';
import { PlacementUnavailable, describePlacement, planPlacements, runPlaced } from '../../core/compute';
import { CancelledError, InputError } from '../../core/errors';
import { hostGramSums, yieldToEventLoop } from '../../core/node';
import { DEFAULT_GROK_OPTIONS, parseGrokOptions, runGrokking } from '../../core/rfm/grokking/run';
import { unhandled } from '../../protocol/channel';
import {
  toWireGrokIteration,
  type GrokHostToWebview,
  type GrokRunInfo,
  type GrokSettings,
  type GrokWebviewToHost,
} from '../../protocol/grokking';
import type { Ctx } from '../ctx';
import { reportError } from '../host/commands';
import { viewPage } from '../host/viewHtml';
import { WebviewHost, createPanel } from '../host/webviewHost';

export const GROK_VIEW_TYPE = 'featureLens.grokkingLab';
/** The training lab's command (src/extension/nfa), run by "Train the network on this task". */
export const TRAINING_LAB_COMMAND = 'featureLens.openTrainingLab';

/** What a lab run resolves to (the command's result, for scripting and tests). */
export interface GrokLabResult extends GrokRunInfo {
  testAcc: number[];
  trainAcc: number[];
  circulantDeviation: (number | null)[];
  agopAlignment: number[];
  seconds: number;
}

/**
 * The Grokking Lab panel (docs/science.md §4): the form and charts live in the page; each run is placed
 * here over the 'grokking' placements and computed by the page (its WebGPU or thread) or by the host
 * (which streams the iterations), one at a time; Stop cancels it wherever it runs.
 */
export class GrokkingLab {
  private static current: GrokkingLab | undefined;
  private readonly host: WebviewHost<GrokHostToWebview, GrokWebviewToHost>;
  private running: { cancel: { cancelled: boolean } } | undefined;

  static open(ctx: Ctx): GrokkingLab {
    if (GrokkingLab.current) {
      GrokkingLab.current.host.panel.reveal(undefined, true);
      return GrokkingLab.current;
    }
    return (GrokkingLab.current = new GrokkingLab(ctx));
  }

  static revive(ctx: Ctx, panel: vscode.WebviewPanel): GrokkingLab {
    GrokkingLab.current?.host.dispose();
    return (GrokkingLab.current = new GrokkingLab(ctx, panel));
  }

  private constructor(
    private readonly ctx: Ctx,
    revived?: vscode.WebviewPanel,
  ) {
    this.host = new WebviewHost(revived ?? createPanel(ctx.extensionUri, GROK_VIEW_TYPE, 'Grokking Lab'), {
      extensionUri: ctx.extensionUri,
      log: ctx.log,
      label: 'grokking lab',
      page: viewPage('grokking', 'Grokking Lab'),
      onMessage: (m) => this.onMessage(m),
    });
    void vscode.commands.getCommands(true).then((all) =>
      this.host.post({
        type: 'grokInit',
        settings: DEFAULT_GROK_OPTIONS,
        trainCommand: all.includes(TRAINING_LAB_COMMAND) ? TRAINING_LAB_COMMAND : null,
      }),
    );
    this.host.onDidDispose(() => {
      this.stop();
      if (GrokkingLab.current === this) GrokkingLab.current = undefined;
    });
  }

  private onMessage(m: GrokWebviewToHost): void {
    switch (m.type) {
      case 'grokStart':
        this.run(m.settings).catch(() => undefined);
        return;
      case 'grokStop':
        this.stop();
        return;
      case 'grokTrainNetwork':
        // The training lab owns the network side: open it on the same modular task (op, p, split).
        void vscode.commands
          .executeCommand(TRAINING_LAB_COMMAND, undefined, {
            task: 'modular',
            op: m.settings.op,
            p: m.settings.p,
            trainFrac: m.settings.trainFrac,
          })
          .then(undefined, (e: unknown) => reportError('grokking lab', this.ctx.log, e));
        return;
      case 'grokDone':
      case 'grokFailed':
        return; // replies to grokRun: the channel hands them to the request
      default:
        unhandled(m);
    }
  }

  private stop(): void {
    if (!this.running) return;
    this.running.cancel.cancelled = true;
    this.host.post({ type: 'grokCancel' });
  }

  /** Places and runs one grokking run; resolves with its curves (for scripting and tests). */
  async run(settings: Partial<GrokSettings>): Promise<GrokLabResult> {
    if (this.running) throw new InputError('the Grokking Lab is already running; stop it first');
    const s: GrokSettings = { ...parseGrokOptions(settings, (k) => `featureLens.openGrokkingLab ${k}`) };
    const choice = this.ctx.backend(settings.backend, 'backend');
    const cancel = { cancelled: false };
    this.running = { cancel };
    const log = this.ctx.log;
    const curves = { testAcc: [] as number[], trainAcc: [] as number[], circ: [] as (number | null)[] };
    try {
      this.host.post({ type: 'grokStarted', settings: s });
      const page = await this.host.whenReady();
      const t0 = performance.now();
      const plan = planPlacements('grokking', choice, { page: !!page });
      const placed = await runPlaced(
        plan,
        async (placement) => {
          curves.testAcc = [];
          curves.trainAcc = [];
          curves.circ = [];
          if (placement === 'page-gpu' || placement === 'page-cpu') {
            if (!page) throw new PlacementUnavailable('the panel is not loaded');
            const reply = await this.host.request({ type: 'grokRun', placement, settings: s });
            if (reply.type === 'grokFailed') throw errorOfFailure(reply.failure);
            if (reply.type !== 'grokDone') throw new Error(`grokking lab: unexpected reply '${reply.type}'`);
            return { agopAlignment: reply.agopAlignment, backend: reply.backend, device: reply.device };
          }
          const gram = await hostGramSums(placement);
          try {
            const r = await runGrokking(s, {
              gram,
              cancel,
              yieldNow: yieldToEventLoop,
              onIteration: (it, M) => {
                curves.testAcc.push(it.testAcc);
                curves.trainAcc.push(it.trainAcc);
                curves.circ.push(Number.isFinite(it.circulantDeviation) ? it.circulantDeviation : null);
                this.host.post({ type: 'grokIteration', iteration: toWireGrokIteration(it, M) });
              },
            });
            return {
              agopAlignment: r.iterations.map((it) => it.agopAlignment),
              backend: gram.name,
              device: gram.device,
            };
          } finally {
            gram.dispose();
          }
        },
        {
          page: 'panel',
          onFallback: (from, e, next) => {
            log.warn(
              `grokking lab: ${describePlacement(from, 'panel')} failed (${e.message})${next ? `; continuing on ${describePlacement(next, 'panel')}` : ''}`,
            );
            this.host.post({ type: 'grokStarted', settings: s });
          },
        },
      );
      const seconds = (performance.now() - t0) / 1000;
      const info: GrokRunInfo = {
        backend: placed.value.backend,
        device: placed.value.device,
        placement: placed.placement,
        reason: placed.reason,
      };
      this.host.post({ type: 'grokFinished', agopAlignment: placed.value.agopAlignment, info, seconds });
      log.info(`grokking lab: ${s.op} mod ${s.p} in ${seconds.toFixed(1)} s on ${info.reason} (${info.device})`);
      return {
        ...info,
        testAcc: curves.testAcc,
        trainAcc: curves.trainAcc,
        circulantDeviation: curves.circ,
        agopAlignment: placed.value.agopAlignment,
        seconds,
      };
    } catch (e) {
      const cancelled = e instanceof CancelledError;
      const message = cancelled ? 'stopped' : e instanceof Error ? e.message : String(e);
      this.host.post({ type: 'grokStopped', message, cancelled });
      log.warn(`grokking lab: ${message}`);
      throw e;
    } finally {
      this.running = undefined;
    }
  }
}
