// What every feature of the extension gets from activate(): the log, the settings, the run store and one
// way to register commands. Features export register(ctx) and keep no globals. The host's GPU lease
// (core/node.ts) is released when the extension deactivates.
import * as vscode from 'vscode';
import { parseBackendChoice, type BackendChoice } from '../core/compute';
import { hostGpuLease } from '../core/node';
import { reportError } from './host/commands';
import { RunStore } from './host/runStore';

/** A command's implementation: resolves to what executeCommand returns (tests and other extensions use it). */
export type CommandHandler = (...args: never[]) => Promise<unknown>;

export class Ctx {
  readonly log: vscode.LogOutputChannel;
  readonly store: RunStore;
  readonly extensionUri: vscode.Uri;
  /** Workspace state: small copies of view inputs kept across reloads. */
  readonly memory: vscode.Memento;
  /** The extension's own storage folder (runs, the lab's kept network). */
  readonly storage: vscode.Uri;

  constructor(readonly context: vscode.ExtensionContext) {
    this.log = vscode.window.createOutputChannel('Feature Lens', { log: true });
    this.storage = context.storageUri ?? context.globalStorageUri;
    this.store = new RunStore(this.storage);
    this.extensionUri = context.extensionUri;
    this.memory = context.workspaceState;
    context.subscriptions.push(this.log, this.store, { dispose: () => hostGpuLease().dispose() });
  }

  /** `given` (a command argument) or the `featureLens.backend` setting, checked. */
  backend(given?: unknown, where = 'featureLens.backend'): BackendChoice {
    const v = given ?? vscode.workspace.getConfiguration('featureLens').get<unknown>('backend', 'auto');
    return parseBackendChoice(v, given === undefined ? 'setting featureLens.backend' : where);
  }

  /** Registers a command; any failure is reported once, the same way for every command (see reportError). */
  command(id: string, handler: CommandHandler): void {
    this.context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: never[]) => {
        try {
          return await handler(...args);
        } catch (e) {
          reportError(id, this.log, e);
          return undefined;
        }
      }),
    );
  }

  /** A feature's command table: id → handler. */
  commands(table: Record<string, CommandHandler>): void {
    for (const [id, handler] of Object.entries(table)) this.command(id, handler);
  }

  subscribe(...disposables: vscode.Disposable[]): void {
    this.context.subscriptions.push(...disposables);
  }
}
