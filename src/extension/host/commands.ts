import * as vscode from 'vscode';
import { CancelledError, InputError } from '../../core/errors';
import { RFM_OPTION_SPECS } from '../../core/rfm/options';

/** Choices of the Fit command's advanced options (src/extension/host/prompts.ts) that a message may point to. */
const ADVANCED: Record<string, string> = {
  impute: "'Fill missing feature values' in the fit's advanced options",
  task: "the task in the fit's advanced options",
  target: 'the target column',
};

/** The extension's phrase of an option a core message points to (the CLI says --impute). */
export function extensionOption(key: string): string {
  if (key in ADVANCED) return ADVANCED[key];
  if (key === 'backend') return 'the setting featureLens.backend';
  return key in RFM_OPTION_SPECS ? `the setting featureLens.rfm.${key}` : `the ${key} option`;
}

/** User errors become one message; anything else also keeps its stack in the Feature Lens log. */
export function reportError(where: string, log: vscode.LogOutputChannel, e: unknown): void {
  if (e instanceof CancelledError) {
    log.info(`${where}: cancelled`);
    void vscode.window.showInformationMessage('Feature Lens: cancelled.');
  } else if (e instanceof InputError) {
    const message = e.phrased(extensionOption);
    log.error(`${where}: ${message}`);
    void vscode.window.showErrorMessage(`Feature Lens: ${message}`);
  } else {
    log.error(`${where}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    void vscode.window.showErrorMessage(
      `Feature Lens: ${e instanceof Error ? e.message : String(e)} (details in the Feature Lens output)`,
    );
  }
}
