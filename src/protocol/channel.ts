// One message channel for both ends of every view (the extension host's WebviewPanel and the page's
// acquireVsCodeApi): plain posts, requests with ids answered by replies, and pending requests rejected
// when the channel is disposed or times out. Each view's messages stay a discriminated union; the
// envelope only adds ids, so a handler always sees the typed message itself.

/** What actually crosses postMessage. `id`: a request awaiting a reply; `re`: the reply to request `re`. */
export interface Envelope<M> {
  readonly m?: M;
  readonly id?: number;
  readonly re?: number;
  /** A request whose handler threw: the message of the error, raised again at the requester. */
  readonly error?: string;
}

/** Thrown at the requester when the other end is gone, never answered, or failed. */
export class ChannelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChannelError';
  }
}

export type Reply<Out> = (m: Out) => void;

/**
 * `send` posts an envelope (webview.postMessage or vscode.postMessage); `onMessage` handles each
 * incoming message, with `reply` set when the sender awaits an answer (the handler may also throw or
 * reject, which rejects the sender's request). Feed every raw incoming event to `receive`.
 */
export class Channel<Out, In> {
  private nextId = 1;
  private disposed: string | null = null;
  private readonly pending = new Map<
    number,
    { resolve: (m: In) => void; reject: (e: Error) => void; timer?: ReturnType<typeof setTimeout> }
  >();

  constructor(
    private readonly send: (e: Envelope<Out>) => unknown,
    private readonly onMessage: (m: In, reply: Reply<Out> | undefined) => unknown,
    /** Failures of handlers of plain posts (no one awaits them): logged by the owner. */
    private readonly onError: (e: unknown) => void = (e) => console.error(e),
  ) {}

  get isDisposed(): boolean {
    return this.disposed !== null;
  }

  post(m: Out): void {
    if (!this.disposed) this.send({ m });
  }

  /** Posts `m` and resolves with the other end's reply; rejects after `timeoutMs` (0: never) or on dispose. */
  request(m: Out, timeoutMs = 0): Promise<In> {
    if (this.disposed) return Promise.reject(new ChannelError(this.disposed));
    const id = this.nextId++;
    return new Promise<In>((resolve, reject) => {
      const entry: { resolve: (m: In) => void; reject: (e: Error) => void; timer?: ReturnType<typeof setTimeout> } = {
        resolve,
        reject,
      };
      if (timeoutMs > 0) {
        entry.timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new ChannelError(`no reply within ${timeoutMs / 1000} s`));
        }, timeoutMs);
      }
      this.pending.set(id, entry);
      this.send({ m, id });
    });
  }

  /** Handles one raw incoming message; anything that is not an envelope is ignored. */
  receive(raw: unknown): void {
    if (this.disposed || !raw || typeof raw !== 'object') return;
    const e = raw as Envelope<In>;
    if (typeof e.re === 'number') {
      const p = this.pending.get(e.re);
      if (!p) return;
      this.pending.delete(e.re);
      if (p.timer) clearTimeout(p.timer);
      if (e.error !== undefined) p.reject(new ChannelError(e.error));
      else p.resolve(e.m as In);
      return;
    }
    if (e.m === undefined) return;
    const id = e.id;
    const reply: Reply<Out> | undefined =
      id === undefined
        ? undefined
        : (m) => {
            if (!this.disposed) this.send({ m, re: id });
          };
    let result: unknown;
    try {
      result = this.onMessage(e.m, reply);
    } catch (err) {
      this.fail(id, err);
      return;
    }
    if (result instanceof Promise) result.catch((err: unknown) => this.fail(id, err));
  }

  /** Rejects every pending request with `reason`; later posts and requests do nothing / reject. */
  dispose(reason = 'the view was closed'): void {
    if (this.disposed) return;
    this.disposed = reason;
    for (const p of this.pending.values()) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(new ChannelError(reason));
    }
    this.pending.clear();
  }

  private fail(id: number | undefined, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    if (id !== undefined && !this.disposed) this.send({ re: id, error: message });
    else this.onError(err);
  }
}

/**
 * The default branch of a switch over a view's message union: the compiler rejects the switch when a
 * message type has no case (pass `m.type` where the union has a single member: only that narrows to
 * never); at run time a message of no known type fails its request (or is logged).
 */
export function unhandled(m: never): never {
  const type: unknown = typeof m === 'object' && m !== null ? (m as { type?: unknown }).type : m;
  throw new ChannelError(`unexpected message type ${JSON.stringify(type)}`);
}
