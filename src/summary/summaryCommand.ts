/**
 * "CNN Lens: Show Model Summary": runs the engine's summary on a model file (from the Explorer's
 * context menu or the active editor) and prints the layer table to the CNN Lens output channel.
 * The command returns the summary (`SummaryJobResult`), or `undefined` when it showed an error,
 * so `vscode.commands.executeCommand('cnnLens.showSummary', uri)` callers and tests can use it.
 */
import * as vscode from 'vscode';
import type { EngineHost } from '../engineHost';
import { formatSummaryText } from '../engine/report/summaryText';
import type { SummaryJobResult } from '../engine/jobs';

export function registerSummaryCommand(engine: EngineHost, log: vscode.LogOutputChannel): vscode.Disposable {
  return vscode.commands.registerCommand('cnnLens.showSummary', async (uri?: vscode.Uri): Promise<SummaryJobResult | undefined> => {
    const target = uri ?? vscode.window.activeTextEditor?.document.uri;
    if (!target || target.scheme !== 'file') {
      void vscode.window.showErrorMessage('CNN Lens: open or select a model file (model.json, .h5 or .keras) first.');
      return undefined;
    }
    try {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'CNN Lens: loading model…', cancellable: true },
        (_progress, token) => {
          const controller = new AbortController();
          token.onCancellationRequested(() => controller.abort());
          return engine.get().summary(target.fsPath, { signal: controller.signal });
        },
      );
      log.info(`\n${formatSummaryText(result)}`);
      log.show(true);
      return result;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      log.error(message);
      void vscode.window.showErrorMessage(`CNN Lens: ${message}`);
      return undefined;
    }
  });
}
