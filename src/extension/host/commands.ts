import * as vscode from 'vscode';
import { CancelledError, InputError } from '../../core/errors';

/** User errors become one message; anything else also keeps its stack in the Feature Lens log. */
export function reportError(where: string, log: vscode.LogOutputChannel, e: unknown): void {
  if (e instanceof CancelledError) {
    log.info(`${where}: cancelled`);
    void vscode.window.showInformationMessage('Feature Lens: cancelled.');
  } else if (e instanceof InputError) {
    log.error(`${where}: ${e.message}`);
    void vscode.window.showErrorMessage(`Feature Lens: ${e.message}`);
  } else {
    log.error(`${where}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    void vscode.window.showErrorMessage(
      `Feature Lens: ${e instanceof Error ? e.message : String(e)} (details in the Feature Lens output)`,
    );
  }
}

/** Registers a command whose failures are reported by reportError (the command then resolves to undefined). */
export function registerReportingCommand<A extends unknown[], R>(
  id: string,
  log: vscode.LogOutputChannel,
  fn: (...args: A) => Promise<R>,
): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (...args: A) => {
    try {
      return await fn(...args);
    } catch (e) {
      reportError(id, log, e);
      return undefined;
    }
  });
}
