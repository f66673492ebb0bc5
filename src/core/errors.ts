/**
 * An error caused by the user's input (a file, a flag, an option), carrying a message that names the
 * file, the row/column or field, and what was expected. The CLI prints only the message; the
 * extension shows it as an error notification. Anything else is a bug and keeps its stack.
 */
export class InputError extends Error {
  /** The message with its option references ({option:impute}) unphrased: see phrased(). */
  readonly template: string;
  constructor(message: string) {
    super(phraseOptions(message, neutralOption));
    this.template = message;
    this.name = 'InputError';
  }

  /** The message with each option reference phrased by the front end (CLI: --impute; extension: its setting or choice). */
  phrased(phrase: (key: string) => string): string {
    return phraseOptions(this.template, phrase);
  }
}

/**
 * A way out that names an option, in core's messages: `try a larger ${option('reg')}`. Core does not
 * know whether the user typed a flag or picked a setting, so the front end phrases the reference
 * (InputError.phrased); `message` itself reads "the reg option".
 */
export const option = (key: string): string => `{option:${key}}`;

const OPTION_REF = /\{option:([A-Za-z]+)\}/g;
const neutralOption = (key: string) => `the ${key} option`;

export function phraseOptions(text: string, phrase: (key: string) => string): string {
  return text.replace(OPTION_REF, (_, key: string) => phrase(key));
}

/** The CLI's phrase of an option: its flag (agopSamples -> --agop-samples). */
export const cliOption = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

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
