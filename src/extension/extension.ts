import * as vscode from 'vscode';
import { Ctx } from './ctx';
import type { RunStore } from './host/runStore';
import { register as registerRfm, type RfmApi } from './rfm';
import * as nfa from './nfa';
import * as weights from './weights';
import * as logs from './logs/index';
import * as catapult from './catapult/index';
import * as grokking from './grokking/index';
import * as codelens from './codelens/codelens';
import * as convrfm from './convrfm/index';
import * as linrfm from './linrfm/index';

/** What the extension hands to other extensions and to its tests. */
export interface FeatureLensApi extends RfmApi {
  store: RunStore;
  /** The NFA service, its views and the training lab. */
  nfa: nfa.NfaApi;
  /** The ConvRFM command's last view. */
  convrfm: convrfm.ConvRfmApi;
  /** The lin-RFM command's last view. */
  linrfm: linrfm.LinRfmApi;
}

export function activate(context: vscode.ExtensionContext): FeatureLensApi {
  const ctx = new Ctx(context);
  const { log, store } = ctx;
  const rfm = registerRfm(ctx);
  weights.register(ctx);
  const nfaApi = nfa.register(ctx);
  logs.register(ctx);
  catapult.register(ctx);
  const convrfmApi = convrfm.register(ctx);
  grokking.register(ctx);
  codelens.register(ctx);
  const linrfmApi = linrfm.register(ctx);
  log.info(`Feature Lens activated; runs under ${store.dir.toString()}`);
  return { store, ...rfm, nfa: nfaApi, convrfm: convrfmApi, linrfm: linrfmApi };
}

export function deactivate(): void {}
