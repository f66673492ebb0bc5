// Globals that every runtime Feature Lens runs in provides: Node 20 (extension host, CLI, tests) and
// Chromium (webview pages). The core and protocol projects get neither the DOM's nor Node's types, so
// these few are declared here, with only the members used; anything else is a type error there on purpose.

declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  readonly encoding: string;
  decode(input?: ArrayBufferView | ArrayBufferLike, options?: { stream?: boolean }): string;
}

declare class TextEncoder {
  encode(input?: string): Uint8Array<ArrayBuffer>;
}

declare const performance: { now(): number };

/** Opaque: a number in pages, an object in Node. */
interface TimerHandle {
  readonly __timerHandle: unique symbol;
}
declare function setTimeout(handler: () => void, timeout?: number): TimerHandle;
declare function clearTimeout(handle: TimerHandle | undefined): void;

declare const console: {
  log(...data: unknown[]): void;
  info(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  error(...data: unknown[]): void;
};

declare function atob(data: string): string;

/** The WebAssembly members linalg/hostSymv.ts uses (compile a module, one memory, one instance). */
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Memory {
    constructor(descriptor: { initial: number; maximum?: number });
    readonly buffer: ArrayBuffer;
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
  function validate(bytes: Uint8Array): boolean;
}
