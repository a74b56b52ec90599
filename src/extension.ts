/**
 * Extension entry point: wires commands and disposables only. The engine (TF.js in worker
 * threads) starts lazily on the first command, so activation costs no model loading.
 */
import * as vscode from 'vscode';
import { EngineHost } from './engineHost';
import { registerSummaryCommand } from './summary/summaryCommand';

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('CNN Lens', { log: true });
  const engine = new EngineHost(log);
  context.subscriptions.push(log, engine, registerSummaryCommand(engine, log));
}

export function deactivate(): void {
  // Disposables registered in activate() stop the engine's workers.
}
