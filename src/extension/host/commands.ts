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
