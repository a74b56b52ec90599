/**
 * Extension entry point: wires commands and disposables only. The engine (TF.js in worker
 * threads) starts lazily on the first command, so activation costs no model loading.
 */
import * as vscode from 'vscode';
import { EngineHost } from './engineHost';
import { registerSummaryCommand } from './summary/summaryCommand';
import { registerDeadFilters } from './deadFilters';
import { ActiveModelTracker } from './webviewHost/models';
import { registerModelEditor } from './modelEditor';
import { registerActivations } from './activations';
import { registerFilters } from './filters';
import { registerTraining } from './training';
import { registerEmbedding } from './embedding';
import { registerReceptiveFields } from './receptiveField';

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('CNN Lens', { log: true });
  const engine = new EngineHost(log);
  context.subscriptions.push(log, engine, registerSummaryCommand(engine, log));
  // Dead-filter scan, diagnostics, hovers, Explorer view; `deadUnitsFor` is exported from './deadFilters'.
  // Receptive fields per model (model editor table, hovers); filled when a model editor loads.
  const receptiveFields = registerReceptiveFields(context, engine, log);
  const deadFilters = registerDeadFilters(context, engine, log, (model, layer) => receptiveFields.hoverLine(model, layer));
  // Webview views: the model editor (custom editor), Activations and Filters panels.
  const tracker = new ActiveModelTracker();
  const getDeadUnits = (model: vscode.Uri) => deadFilters.store.deadUnitsFor(model);
  const onDidChangeDeadUnits = deadFilters.store.onDidChange;
  context.subscriptions.push(
    registerModelEditor({
      extensionUri: context.extensionUri,
      engine,
      log,
      tracker,
      getDeadUnits,
      onDidChangeDeadUnits,
      onSummary: (model, summary) => void deadFilters.noteModelSummary(model, summary),
      receptiveFields,
    }),
    registerActivations({ context, engine, log, tracker, getDeadUnits, onDidChangeDeadUnits }),
    registerFilters({ context, engine, log, tracker }),
    // Transfer learning: train a new head / fine-tune, and the Training view.
    registerTraining({ context, engine, log, tracker }),
    registerEmbedding({ context, engine, log, tracker }),
  );
}

export function deactivate(): void {
  // Disposables registered in activate() stop the engine's workers.
}
