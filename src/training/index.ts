/**
 * Transfer learning in VS Code: "Train New Classifier Head" and "Fine-tune Model" (commands and
 * their input flow), the Training view, and its restore-after-reload serializer.
 */
import * as vscode from 'vscode';
import type { EngineHost } from '../engineHost';
import { PanelStateStore, registerPanelSerializer } from '../webviewHost/panelState';
import type { ActiveModelTracker } from '../webviewHost/models';
import { openInModelEditor, registerTrainCommands } from './trainCommands';
import { TRAINING_VIEW_TYPE, TrainingPanel, type TrainingPanelDeps, type TrainingRecord } from './trainingPanel';

export { FINE_TUNE_COMMAND, TRAIN_HEAD_COMMAND, type TrainCommandArgs, type TrainCommandResult } from './trainCommands';
export { TRAINING_VIEW_TYPE, type TrainingViewSummary } from './trainingPanel';

/** The embedding view's command; its compare mode shows the base and the trained model side by side. */
const SHOW_EMBEDDING_COMMAND = 'cnnLens.showEmbedding';

export interface RegisterTrainingOptions {
  context: vscode.ExtensionContext;
  engine: EngineHost;
  log: vscode.LogOutputChannel;
  tracker: ActiveModelTracker;
}

export function registerTraining(options: RegisterTrainingOptions): vscode.Disposable {
  const { context, engine, log, tracker } = options;
  const store = new PanelStateStore<TrainingRecord>(context.workspaceState, 'training');
  const panelDeps: TrainingPanelDeps = {
    extensionUri: context.extensionUri,
    log,
    store,
    openModel: (modelJson) => openInModelEditor(modelJson, false),
    canCompare: async () => (await vscode.commands.getCommands(true)).includes(SHOW_EMBEDDING_COMMAND),
    compareEmbeddings: (base, trained) => vscode.commands.executeCommand(SHOW_EMBEDDING_COMMAND, { model: base, compare: { model: trained } }),
  };
  const serializer = registerPanelSerializer(TRAINING_VIEW_TYPE, store, (panel, id, record) => TrainingPanel.restore(panel, id, record, panelDeps));
  return vscode.Disposable.from(
    registerTrainCommands({ context, engine, log, tracker, panelDeps }),
    serializer,
    { dispose: () => TrainingPanel.disposeAll() },
  );
}
