// The page's end of a view: acquireVsCodeApi once (VS Code allows one call per page), a typed Channel
// to the host, and the page's saved state. connect() says 'ready' once the handler is installed, so no
// host message can arrive before the page can take it.
import { Channel, type Envelope, type Reply } from '../../src/protocol/channel';

interface VsCodeApi<State> {
  postMessage(m: unknown): void;
  getState(): State | undefined;
  setState(s: State): void;
}
declare function acquireVsCodeApi<State>(): VsCodeApi<State>;

/** Control messages every page may send besides its view's own (the host's WebviewHost reads them). */
export type PageControl = { type: 'ready' } | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

export interface PageLink<Out, In, State> {
  post(m: Out): void;
  /** Asks the host; resolves with its reply (rejects with the host's error message). */
  request(m: Out, timeoutMs?: number): Promise<In>;
  getState(): State | undefined;
  setState(s: State): void;
  /** A line in the Feature Lens output (warnings a user may need to see). */
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

let api: VsCodeApi<unknown> | undefined;

/**
 * Connects the page: `onMessage` gets the host's messages (with `reply` when the host awaits an
 * answer; returning a rejected promise or throwing answers with the error). Call once per page.
 */
export function connect<Out, In, State = unknown>(
  onMessage: (m: In, reply: Reply<Out> | undefined) => unknown,
): PageLink<Out, In, State> {
  if (api) throw new Error('connect() called twice on one page');
  const vscode = (api = acquireVsCodeApi<unknown>());
  const channel = new Channel<Out | PageControl, In>(
    (e: Envelope<Out | PageControl>) => vscode.postMessage(e),
    (m, reply) => onMessage(m, reply as Reply<Out> | undefined),
    (e) =>
      channel.post({ type: 'log', level: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
  );
  window.addEventListener('message', (event: MessageEvent<unknown>) => channel.receive(event.data));
  channel.post({ type: 'ready' });
  return {
    post: (m) => channel.post(m),
    request: (m, timeoutMs) => channel.request(m, timeoutMs),
    getState: () => vscode.getState() as State | undefined,
    setState: (s) => vscode.setState(s),
    log: (level, message) => channel.post({ type: 'log', level, message }),
  };
}
