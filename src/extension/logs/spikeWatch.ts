import * as vscode from 'vscode';
import { LogFollower, type FileSource, type FollowUpdate, type SpikeParams } from '../../core/logs/index';
import { bufferOf } from '../../protocol/wire';
import {
  toWireSpike,
  type LogColumnState,
  type LogsHostToWebview,
  type LogsWebviewToHost,
  type WireSpike,
} from '../../protocol/logs';
import type { Ctx } from '../ctx';
import { viewPage } from '../host/viewHtml';
import { WebviewHost, createPanel } from '../host/webviewHost';
import { fileSourceOf } from './fileSource';
import { resolveLogTarget, type LogTarget } from './logTarget';
import { unhandled } from '../../protocol/channel';
import { yieldToEventLoop } from '../../core/node';

function titleOf(target: LogTarget): string {
  const name = target.file.path.split('/').pop() ?? 'log';
  const folder = target.file.path.split('/').slice(-2, -1)[0];
  return `Spikes: ${name === 'metrics.csv' || target.kind === 'tfevents' ? `${folder}/${name.slice(0, 24)}` : name}`;
}

export const SPIKES_VIEW_TYPE = 'featureLens.spikes';

/** At most this many posts per second to the webview: points arriving faster are batched. */
const POSTS_PER_SECOND = 10;
/** Bounded work per update: one sync reads at most this many new bytes, then yields to the host. */
const MAX_BYTES_PER_UPDATE = 512 * 1024;
/** File watchers can miss events (network drives, files outside the workspace): also poll this often. */
const POLL_MS = 1000;

/** What a live view holds, for tests and the Feature Lens output. */
export interface SpikeWatchState {
  file: string;
  column: string | null;
  candidates: string[];
  /** Points of the column read by the host, and as last reported by the webview. */
  points: number;
  shownPoints: number;
  shownSpikes: number;
  spikes: WireSpike[];
  openSpike: WireSpike | null;
  bytesRead: number;
  problems: number;
}

export interface WatchSettings {
  notify: boolean;
  spikes: Partial<SpikeParams>;
  logScale: boolean;
  smoothing: number;
}

/**
 * One live loss-spike view: follows a log file with LogFollower (only appended bytes are read and
 * parsed), keeps the spikes, and posts new points to its webview in batches.
 */
export class SpikeWatch {
  private readonly host: WebviewHost<LogsHostToWebview, LogsWebviewToHost>;
  private follower: LogFollower;
  private source: FileSource & { dispose(): void };
  private fileWatcher: vscode.Disposable;
  private retargeting = false;
  private requestedColumn: string | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;
  private syncing = false;
  private again = false;
  /** Caught up with the file once: spikes found later are news worth a notification. */
  private caughtUp = false;
  private lastNotice = 0;

  private points = 0;
  private readonly spikes: WireSpike[] = [];
  private openSpike: WireSpike | null = null;
  private columns: LogColumnState = { column: null, candidates: [], all: [] };
  private problems: string[] = [];
  private problemCount = 0;
  private status = 'reading…';
  private shown = { points: 0, spikes: 0 };

  // Not yet posted to the webview.
  private pendingReset = true;
  private pendingSteps: Float64Array[] = [];
  private pendingValues: Float64Array[] = [];
  private pendingSpikes: WireSpike[] = [];
  private pendingProblems: string[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private lastFlush = 0;

  private readonly log: vscode.LogOutputChannel;

  constructor(
    private current: LogTarget,
    ctx: Ctx,
    private readonly settings: WatchSettings,
    onDispose: (w: SpikeWatch) => void,
    column?: string,
    revived?: vscode.WebviewPanel,
  ) {
    this.log = ctx.log;
    this.requestedColumn = column;
    this.follower = this.newFollower();
    this.source = fileSourceOf(current.file);
    const title = titleOf(current);
    this.host = new WebviewHost(revived ?? createPanel(ctx.extensionUri, SPIKES_VIEW_TYPE, title), {
      extensionUri: ctx.extensionUri,
      log: ctx.log,
      label: 'spikes view',
      page: viewPage('logs', title),
      onMessage: (m) => this.onMessage(m),
      onReady: () => this.sendAll(),
    });
    this.panel.title = title;
    this.fileWatcher = this.watchFile();

    let polls = 0;
    const poll = setInterval(() => {
      void this.sync();
      if (this.followsFolder && ++polls % 5 === 0) void this.retargetIfNewer();
    }, POLL_MS);
    this.disposables.push(new vscode.Disposable(() => clearInterval(poll)));
    this.host.onDidDispose(() => {
      this.disposed = true;
      if (this.flushTimer) clearTimeout(this.flushTimer);
      for (const d of this.disposables) d.dispose();
      this.fileWatcher.dispose();
      this.source.dispose();
      onDispose(this);
    });
    if (this.followsFolder) {
      // A new run (version_N, a timestamped folder) or a resumed run's new event file: follow the newest.
      const runs = vscode.workspace.createFileSystemWatcher(
        new vscode.RelativePattern(current.requested, '**/{events.out.tfevents.*,metrics.csv}'),
        false,
        true,
        true,
      );
      this.disposables.push(
        runs,
        runs.onDidCreate(() => void this.retargetIfNewer()),
      );
    }
    void this.sync();
  }

  get target(): LogTarget {
    return this.current;
  }

  get panel(): vscode.WebviewPanel {
    return this.host.panel;
  }

  /** The page draws only what it was sent: until it is ready, nothing is queued (sendAll catches it up). */
  private get pageReady(): boolean {
    return this.host.state === 'ready';
  }

  private get followsFolder(): boolean {
    return this.current.requested.toString() !== this.current.file.toString();
  }

  private newFollower(): LogFollower {
    return new LogFollower(this.current.kind, {
      column: this.requestedColumn,
      spikes: this.settings.spikes,
      maxBytesPerUpdate: MAX_BYTES_PER_UPDATE,
    });
  }

  private watchFile(): vscode.Disposable {
    const name = this.current.file.path.split('/').pop() ?? 'log';
    const watcher = vscode.workspace.createFileSystemWatcher(
      new vscode.RelativePattern(vscode.Uri.joinPath(this.current.file, '..'), name),
    );
    const poke = () => void this.sync();
    return vscode.Disposable.from(
      watcher,
      watcher.onDidChange(poke),
      watcher.onDidCreate(poke),
      watcher.onDidDelete(poke),
    );
  }

  /** The folder asked for now has a newer run than the one shown: the view starts over on it. */
  private async retargetIfNewer(): Promise<void> {
    if (this.retargeting || this.disposed) return;
    this.retargeting = true;
    try {
      const next = await resolveLogTarget(this.current.requested).catch(() => undefined);
      if (!next || next.file.toString() === this.current.file.toString() || this.disposed) return;
      while (this.syncing) await new Promise((r) => setTimeout(r, 20));
      this.log.info(
        `spikes: ${vscode.workspace.asRelativePath(this.current.requested, false)} has a newer log, now following ${next.file.toString()}`,
      );
      this.current = next;
      this.fileWatcher.dispose();
      this.source.dispose();
      this.source = fileSourceOf(next.file);
      this.fileWatcher = this.watchFile();
      this.follower = this.newFollower();
      this.caughtUp = false;
      this.panel.title = titleOf(next);
      this.absorb({
        restarted: true,
        steps: new Float64Array(0),
        values: new Float64Array(0),
        newSpikes: [],
        openSpike: undefined,
        problems: [],
        column: { kind: 'pending', column: this.requestedColumn },
        behind: false,
      });
    } finally {
      this.retargeting = false;
    }
    await this.sync();
  }

  state(): SpikeWatchState {
    return {
      file: this.target.file.toString(),
      column: this.columns.column,
      candidates: this.columns.candidates,
      points: this.points,
      shownPoints: this.shown.points,
      shownSpikes: this.shown.spikes,
      spikes: [...this.spikes],
      openSpike: this.openSpike,
      bytesRead: this.follower.bytesRead,
      problems: this.problemCount,
    };
  }

  /** Reads what was appended; repeats while the file is ahead (bounded bytes per round, yielding between rounds). */
  async sync(): Promise<void> {
    if (this.disposed) return;
    if (this.syncing) {
      this.again = true;
      return;
    }
    this.syncing = true;
    try {
      do {
        this.again = false;
        const u = await this.follower.sync(this.source);
        if (this.disposed) return;
        this.absorb(u);
        if (u.behind) {
          this.again = true;
          this.status = `catching up: ${(this.follower.bytesRead / 1e6).toFixed(1)} MB read`;
          await yieldToEventLoop();
        } else {
          this.caughtUp = true;
          this.status = this.statusLine();
        }
      } while (this.again && !this.disposed);
    } catch (e) {
      const status = `cannot read ${vscode.workspace.asRelativePath(this.target.file, false)}: ${e instanceof Error ? e.message : String(e)}`;
      if (status !== this.status) this.log.warn(`spikes: ${status}`); // the poll retries every second: log each new error once
      this.status = status;
      this.scheduleFlush();
    } finally {
      this.syncing = false;
    }
  }

  pickColumn(column: string): void {
    this.requestedColumn = column;
    this.absorb(this.follower.setColumn(column));
  }

  private statusLine(): string {
    const c = this.columns;
    // "waiting for ..." notes are stale once data has come.
    const where =
      this.target.note && !(c.column && this.target.note.startsWith('waiting')) ? ` (${this.target.note})` : '';
    if (c.column)
      return `${this.points.toLocaleString('en-US')} points of '${c.column}' · ${this.spikes.length} spike(s)${this.openSpike ? ' + 1 in progress' : ''} · following ${vscode.workspace.asRelativePath(this.target.file, false)}${where}`;
    if (c.candidates.length || c.all.length) return `Which column is the loss? Pick it above.${where}`;
    return this.target.note?.startsWith('waiting')
      ? `${this.target.note[0].toUpperCase()}${this.target.note.slice(1)}…`
      : `waiting for data in ${vscode.workspace.asRelativePath(this.target.file, false)}${where}`;
  }

  private absorb(u: FollowUpdate): void {
    if (u.restarted) {
      this.pendingReset = true;
      this.pendingSteps = [];
      this.pendingValues = [];
      this.pendingSpikes = [];
      this.spikes.length = 0;
      this.points = 0;
    }
    if (u.values.length) {
      if (this.pageReady) {
        this.pendingSteps.push(u.steps.slice());
        this.pendingValues.push(u.values.slice());
      }
      this.points += u.values.length;
    }
    const fresh = u.newSpikes.map(toWireSpike);
    this.spikes.push(...fresh);
    if (this.pageReady) this.pendingSpikes.push(...fresh);
    this.openSpike = u.openSpike ? toWireSpike(u.openSpike) : null;
    const col = u.column;
    this.columns = {
      column: col.kind === 'chosen' ? col.column : null,
      candidates: col.kind === 'ambiguous' ? [...col.candidates] : [],
      all: [...this.follower.tagNames],
    };
    if (u.problems.length) {
      this.problemCount += u.problems.length;
      for (const p of u.problems) {
        const msg = `${p.line !== undefined ? `line ${p.line}: ` : p.byteOffset !== undefined ? `byte ${p.byteOffset}: ` : ''}${p.message}`;
        if (this.problems.length < 50) {
          this.problems.push(msg);
          if (this.pageReady) this.pendingProblems.push(msg);
        }
      }
    }
    if (!u.behind) this.status = this.statusLine();
    if (u.restarted && this.pageReady) this.host.post(this.info());
    if (fresh.length && this.caughtUp) this.notify(fresh);
    this.scheduleFlush();
  }

  private notify(fresh: WireSpike[]): void {
    // Read now, not at open: turning the setting off silences views already open.
    const on = vscode.workspace.getConfiguration('featureLens.spikes').get<boolean>('notify', this.settings.notify);
    if (!on || Date.now() - this.lastNotice < 10_000) return;
    this.lastNotice = Date.now();
    const s = fresh[fresh.length - 1];
    const name = vscode.workspace.asRelativePath(this.target.file, false);
    const ratio = s.heightRatio === null ? 'to a non-finite loss' : `x${s.heightRatio.toFixed(1)}`;
    void vscode.window
      .showWarningMessage(
        `Feature Lens: loss spike in ${name} at step ${s.peak} (${ratio})${fresh.length > 1 ? ` and ${fresh.length - 1} more` : ''}.`,
        'Show',
      )
      .then((a) => {
        if (a !== 'Show' || this.disposed) return;
        this.panel.reveal(undefined, false);
        this.host.post({ type: 'logZoom', start: s.start, end: s.end });
      });
  }

  private scheduleFlush(): void {
    if (this.flushTimer || this.disposed) return;
    const wait = Math.max(0, 1000 / POSTS_PER_SECOND - (Date.now() - this.lastFlush));
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flush();
    }, wait);
  }

  private flush(): void {
    if (!this.pageReady || this.disposed) return;
    this.lastFlush = Date.now();
    const n = this.pendingValues.reduce((a, v) => a + v.length, 0);
    const steps = new Float64Array(n),
      values = new Float64Array(n);
    let k = 0;
    for (let i = 0; i < this.pendingValues.length; i++) {
      steps.set(this.pendingSteps[i], k);
      values.set(this.pendingValues[i], k);
      k += this.pendingValues[i].length;
    }
    const msg: LogsHostToWebview = {
      type: 'logPoints',
      reset: this.pendingReset,
      steps: bufferOf(steps),
      values: bufferOf(values),
      spikes: this.pendingSpikes,
      openSpike: this.openSpike,
      columns: this.columns,
      status: this.status,
      problems: this.pendingProblems,
    };
    this.pendingReset = false;
    this.pendingSteps = [];
    this.pendingValues = [];
    this.pendingSpikes = [];
    this.pendingProblems = [];
    this.host.post(msg);
  }

  private info(): LogsHostToWebview {
    return {
      type: 'logInfo',
      title: this.panel.title,
      source: vscode.workspace.asRelativePath(this.current.file, false),
      requested: this.current.requested.toString(),
      logScale: this.settings.logScale,
      smoothing: this.settings.smoothing,
    };
  }

  /** A fresh page (first load, set again, reloaded): everything held so far, as one reset. */
  private sendAll(): void {
    this.host.post(this.info());
    const s = this.columns.column ? this.follower.series(this.columns.column) : undefined;
    this.pendingReset = true;
    this.pendingSteps = s ? [s.steps.slice()] : [];
    this.pendingValues = s ? [s.values.slice()] : [];
    this.pendingSpikes = [...this.spikes];
    this.pendingProblems = [...this.problems];
    this.scheduleFlush();
  }

  private onMessage(m: LogsWebviewToHost): void {
    switch (m.type) {
      case 'pickColumn':
        this.pickColumn(m.column);
        break;
      case 'logShown':
        this.shown = { points: m.points, spikes: m.spikes };
        break;
      default:
        unhandled(m);
    }
  }
}
