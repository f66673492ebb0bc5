// The one webview host every Feature Lens view builds on: the page (CSP with a nonce, resources through
// asWebviewUri), the ready handshake with a watchdog, typed posts and requests over one Channel, and
// disposal. A page that never says 'ready' (seen in fresh code-server windows and after reloads: the
// script of a new or restored page sometimes never runs) is set again; when it still does not answer,
// whenReady() resolves false so the caller runs the work on a host placement, and whatever was posted
// meanwhile is delivered if the page loads later. No user action ever waits on a page forever.
import * as vscode from 'vscode';
import { Channel, ChannelError, type Envelope, type Reply } from '../../protocol/channel';
import { webviewPage, type PageOptions } from './webviewPage';

/** Where a page is: loading (maybe again), ready, given up on (still listening), or closed. */
export type PageState = 'loading' | 'ready' | 'unavailable' | 'disposed';

/** Messages every page may send besides its view's own: the handshake and log lines. */
type PageControl = { type: 'ready' } | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

export interface WebviewHostOptions<Out, In> {
  extensionUri: vscode.Uri;
  log: vscode.LogOutputChannel;
  /** Names the view in log lines ("rfm panel"). */
  label: string;
  page: PageOptions;
  /** The view's own messages (never 'ready' or 'log'); `reply` is set when the page awaits an answer. */
  onMessage?: (m: In, reply: Reply<Out> | undefined) => unknown;
  /** Each time the page says 'ready': a page set again or reloaded starts empty, so a view may send it everything. */
  onReady?: () => void;
  /** How long a page may take to say 'ready' before it is set again (default 4 s, see pagePatienceMs). */
  patienceMs?: number;
  /** Page loads tried before the page counts as unavailable (default 3). */
  attempts?: number;
}

/** A page's "copy" request (a table or report as text): to the clipboard, said in a notification and the log. */
export async function copyFromPage(
  m: { text: string; what: string },
  log: vscode.LogOutputChannel,
  label: string,
): Promise<void> {
  await vscode.env.clipboard.writeText(m.text);
  void vscode.window.showInformationMessage(`Feature Lens: ${m.what} copied.`);
  log.info(`${label}: copied ${m.what} (${m.text.length} characters)`);
}

/** Resources a Feature Lens page may load: the bundles and the stylesheets. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

/**
 * The watchdog's patience. `FEATURE_LENS_PAGE_PATIENCE_MS` shortens it for tests; the default covers a
 * cold code-server start (a page's bundle takes 0.3–1.5 s to run there).
 */
export function pagePatienceMs(): number {
  const env = Number(process.env.FEATURE_LENS_PAGE_PATIENCE_MS);
  return Number.isFinite(env) && env > 0 ? env : 4000;
}

/**
 * A test hook for the never-ready page: with `FEATURE_LENS_TEST_DEAF_PAGES` listing view labels (or
 * '*'), the host ignores those pages' 'ready', as if their script had never run.
 */
function deafTo(label: string): boolean {
  const v = process.env.FEATURE_LENS_TEST_DEAF_PAGES;
  return !!v && (v === '*' || v.split(',').includes(label));
}

/** Creates a panel beside the editor with the page's resource roots (retainContextWhenHidden: a page may compute). */
export function createPanel(
  extensionUri: vscode.Uri,
  viewType: string,
  title: string,
  options: { column?: vscode.ViewColumn; findWidget?: boolean; preserveFocus?: boolean } = {},
): vscode.WebviewPanel {
  const panel = vscode.window.createWebviewPanel(
    viewType,
    title,
    { viewColumn: options.column ?? vscode.ViewColumn.Beside, preserveFocus: options.preserveFocus ?? true },
    { ...webviewOptions(extensionUri), retainContextWhenHidden: true, enableFindWidget: options.findWidget ?? false },
  );
  panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'icon.svg');
  return panel;
}

export class WebviewHost<Out extends { type: string }, In extends { type: string }> {
  readonly channel: Channel<Out, In>;
  private pageState: PageState = 'loading';
  private readonly queue: Out[] = [];
  private readonly ready: Promise<boolean>;
  private settleReady!: (ok: boolean) => void;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly disposeListeners: (() => void)[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private loads = 0;

  constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly options: WebviewHostOptions<Out, In>,
  ) {
    this.ready = new Promise((r) => (this.settleReady = r));
    // A revived panel comes back without our options; a new one already has them (setting them again is harmless).
    panel.webview.options = webviewOptions(options.extensionUri);
    panel.iconPath ??= vscode.Uri.joinPath(options.extensionUri, 'media', 'icon.svg');
    this.channel = new Channel<Out, In>(
      (e: Envelope<Out>) => void panel.webview.postMessage(e),
      (m, reply) => this.receive(m as In | PageControl, reply),
      (e) => options.log.error(`${options.label}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`),
    );
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => this.channel.receive(raw)),
      panel.onDidDispose(() => this.disposed()),
    );
    this.load();
  }

  get state(): PageState {
    return this.pageState;
  }

  get isDisposed(): boolean {
    return this.pageState === 'disposed';
  }

  /** True once the page said 'ready'; false when the watchdog gave up on it or the panel closed. */
  whenReady(): Promise<boolean> {
    return this.ready;
  }

  /** Sends now when the page is ready, else when (if ever) it becomes ready. Dropped once closed. */
  post(m: Out): void {
    if (this.pageState === 'ready') this.channel.post(m);
    else if (this.pageState !== 'disposed') this.queue.push(m);
  }

  /** Asks the page and resolves with its reply; rejects when the page never loaded, closes, or times out. */
  async request(m: Out, timeoutMs = 0): Promise<In> {
    if (!(await this.ready)) throw new ChannelError(`${this.options.label}: the page did not load`);
    return this.channel.request(m, timeoutMs);
  }

  onDidDispose(fn: () => void): void {
    if (this.pageState === 'disposed') fn();
    else this.disposeListeners.push(fn);
  }

  dispose(): void {
    this.panel.dispose();
  }

  private load(): void {
    this.loads++;
    this.panel.webview.html = webviewPage(this.panel.webview, this.options.extensionUri, this.options.page);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.watchdog(), this.options.patienceMs ?? pagePatienceMs());
  }

  private watchdog(): void {
    if (this.pageState !== 'loading') return;
    const { label, log } = this.options;
    const attempts = this.options.attempts ?? 3;
    if (this.loads < attempts) {
      log.warn(`${label}: the page did not say ready; loading it again (attempt ${this.loads + 1} of ${attempts})`);
      this.load();
      return;
    }
    log.warn(
      `${label}: the page did not load after ${this.loads} attempts; work runs on the host, the page shows it if it loads later`,
    );
    this.pageState = 'unavailable';
    this.settleReady(false);
  }

  private receive(m: In | PageControl, reply: Reply<Out> | undefined): unknown {
    if (m.type === 'ready') {
      if (deafTo(this.options.label)) return undefined;
      clearTimeout(this.timer);
      const late = this.pageState === 'unavailable';
      this.pageState = 'ready';
      if (late) this.options.log.info(`${this.options.label}: the page loaded late; showing what it missed`);
      for (const q of this.queue.splice(0)) this.channel.post(q);
      this.settleReady(true);
      this.options.onReady?.();
      return undefined;
    }
    if (m.type === 'log' && 'level' in m) {
      this.options.log[m.level](`[${this.options.label}] ${m.message}`);
      return undefined;
    }
    return this.options.onMessage?.(m as In, reply);
  }

  private disposed(): void {
    if (this.pageState === 'disposed') return;
    this.pageState = 'disposed';
    clearTimeout(this.timer);
    this.queue.length = 0;
    this.settleReady(false);
    this.channel.dispose(`${this.options.label} was closed`);
    for (const d of this.disposables) d.dispose();
    for (const fn of this.disposeListeners.splice(0)) fn();
  }
}
