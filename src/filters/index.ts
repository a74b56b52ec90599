/**
 * "CNN Lens: Show Filters" (`cnnLens.showFilters`) and the Filters view's serializer.
 * Argument: a model `Uri`, or `{ model?: Uri, layer?: string }`; without one, the model open in
 * the CNN Lens editor, the active model file, or a QuickPick. Returns `FiltersPanelSummary`.
 */
import * as vscode from 'vscode';
import type { EngineHost } from '../engineHost';
import { PanelStateStore, registerPanelSerializer } from '../webviewHost/panelState';
import { contextModel, isModelUri, pickWorkspaceModel, type ActiveModelTracker } from '../webviewHost/models';
import { FILTERS_VIEW_TYPE, FiltersPanel, type FiltersDeps, type FiltersPanelSummary, type FiltersRecord } from './filtersPanel';

export { FILTERS_VIEW_TYPE, type FiltersPanelSummary } from './filtersPanel';
export const SHOW_FILTERS_COMMAND = 'cnnLens.showFilters';

export interface FiltersOptions {
  context: vscode.ExtensionContext;
  engine: EngineHost;
  log: vscode.LogOutputChannel;
  tracker: ActiveModelTracker;
}

export function registerFilters(options: FiltersOptions): vscode.Disposable {
  const { context, engine, log, tracker } = options;
  const store = new PanelStateStore<FiltersRecord>(context.workspaceState, 'filters');
  const deps: FiltersDeps = { extensionUri: context.extensionUri, engine, log, store };

  const command = vscode.commands.registerCommand(SHOW_FILTERS_COMMAND, async (arg?: unknown): Promise<FiltersPanelSummary | undefined> => {
    let model: vscode.Uri | undefined;
    let layer: string | undefined;
    if (arg instanceof vscode.Uri) model = isModelUri(arg) ? arg : undefined;
    else if (arg && typeof arg === 'object') {
      const a = arg as Record<string, unknown>;
      model = a.model instanceof vscode.Uri ? a.model : undefined;
      layer = typeof a.layer === 'string' ? a.layer : undefined;
    }
    model ??= contextModel(tracker) ?? (await pickWorkspaceModel('Select the model whose filters to show'));
    if (!model) return undefined;
    return FiltersPanel.forModel(model, deps).show(layer);
  });

  const serializer = registerPanelSerializer(FILTERS_VIEW_TYPE, store, (panel, id, record) => FiltersPanel.restore(panel, id, record, deps));

  return vscode.Disposable.from(command, serializer, { dispose: () => FiltersPanel.disposeAll() });
}
