/**
 * An error caused by the user's input (a file, a flag, an option), carrying a message that names the
 * file, the row/column or field, and what was expected. The CLI prints only the message; the
 * extension shows it as an error notification. Anything else is a bug and keeps its stack.
 */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** Raised when the user cancels a long computation (VS Code progress cancel, Ctrl-C). */
export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

export interface CancelToken {
  readonly cancelled: boolean;
}

export function throwIfCancelled(token: CancelToken | undefined): void {
  if (token?.cancelled) throw new CancelledError();
}

export type BackendName = 'cpu' | 'webgpu';

/** Raised by a backend when its device fails (lost, out of memory, shader error); the placement policy (compute.ts) moves the work to the next placement. */
export class BackendError extends Error {
  constructor(
    readonly backend: BackendName,
    message: string,
    override readonly cause?: unknown,
  ) {
    super(`${backend} backend: ${message}`);
    this.name = 'BackendError';
  }
}
