/**
 * Dead filters inside VS Code: the scan command, the results store, Problems-panel diagnostics,
 * layer-name hovers, the "CNN Lens" Explorer view, the Markdown scan report and the walkthrough
 * helpers. `registerDeadFilters` wires them; it costs no model loading (the engine starts on the
 * first scan, or when the user expands a binary model in the view).
 */
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { EngineHost } from '../engineHost';
import type { ModelSummary } from '../engine/analyses/summary';
import { DeadFilterDiagnostics } from './diagnostics';
import { HOVER_SELECTOR, LayerHoverProvider } from './hoverProvider';
import { ModelsTreeProvider, REFRESH_MODELS_COMMAND, REVEAL_LAYER_COMMAND, VIEW_ID, revealLayer } from './modelsTree';
import { REPORT_SCHEME, SHOW_REPORT_COMMAND, ScanReportDocumentProvider, showScanReport } from './scanReportDocument';
import { SCAN_COMMAND, activeModelUri, modelUriFromArg, registerScanCommand } from './scanCommand';
import { ScanResultsStore, setCurrentStore } from './scanResultsStore';
import { resolveScanSettings } from './settings';

export { deadUnitsFor } from './scanResultsStore';
export { SCAN_COMMAND } from './scanCommand';

export const OPEN_SAMPLE_COMMAND = 'cnnLens.openSample';
export const SCAN_SAMPLE_COMMAND = 'cnnLens.scanSample';

/** Sample locations, relative to a workspace folder or to the extension. */
const SAMPLE = 'samples/fashion-mnist-cnn/model.json';
const HIGH_LR_SAMPLE = 'samples/fashion-mnist-cnn-high-lr/model.json';

export interface DeadFiltersApi {
  store: ScanResultsStore;
  /** Lets other views (model editor) share a summary they loaded, so hovers can describe its layers. */
  noteModelSummary(model: vscode.Uri, summary: ModelSummary): Promise<void>;
}

export function registerDeadFilters(
  context: vscode.ExtensionContext,
  engine: EngineHost,
  log: vscode.LogOutputChannel,
  /** Extra hover line per layer (the receptive field), when known. */
  receptiveFieldLine?: (model: string, layer: string) => string | undefined,
): DeadFiltersApi {
  const store = new ScanResultsStore(context.workspaceState, (model) => resolveScanSettings(model), log);
  setCurrentStore(store);
  const docsUri = vscode.Uri.joinPath(context.extensionUri, 'README.md').with({ fragment: 'dead-filters' });
  const diagnostics = new DeadFilterDiagnostics(store, docsUri);
  const tree = new ModelsTreeProvider(store, engine, log);
  const view = vscode.window.createTreeView(VIEW_ID, { treeDataProvider: tree, showCollapseAll: true });
  tree.attach(view);
  const reports = new ScanReportDocumentProvider(store);

  context.subscriptions.push(
    store,
    { dispose: () => setCurrentStore(undefined) },
    diagnostics,
    tree,
    view,
    reports,
    vscode.workspace.registerTextDocumentContentProvider(REPORT_SCHEME, reports),
    vscode.languages.registerHoverProvider(HOVER_SELECTOR, new LayerHoverProvider(store, SHOW_REPORT_COMMAND, receptiveFieldLine)),
    registerScanCommand({ engine, store, log, findModels: () => tree.findModels(), showReport: showScanReport }),
    vscode.commands.registerCommand(SHOW_REPORT_COMMAND, async (arg?: unknown) => {
      const model = modelUriFromArg(arg) ?? activeModelUri() ?? (store.all().length === 1 ? vscode.Uri.file(store.all()[0].model) : undefined);
      if (!model) {
        void vscode.window.showErrorMessage('CNN Lens: select a scanned model to show its dead-filter report.');
        return undefined;
      }
      return showScanReport(model);
    }),
    vscode.commands.registerCommand(REVEAL_LAYER_COMMAND, (model: vscode.Uri, layer: string) => revealLayer(model, layer)),
    vscode.commands.registerCommand(REFRESH_MODELS_COMMAND, () => tree.refresh()),
    vscode.commands.registerCommand(OPEN_SAMPLE_COMMAND, () => openSample(context, log)),
    vscode.commands.registerCommand(SCAN_SAMPLE_COMMAND, async () => {
      const sample = await findSample(context, HIGH_LR_SAMPLE) ?? (await findSample(context, SAMPLE));
      if (!sample) {
        void vscode.window.showErrorMessage(`CNN Lens: the sample model (${HIGH_LR_SAMPLE}) was not found in the workspace or the extension.`);
        return undefined;
      }
      return vscode.commands.executeCommand(SCAN_COMMAND, sample);
    }),
  );
  void store.ready.then(() => diagnostics.refresh());
  return { store, noteModelSummary: (model, summary) => store.setSummary(model, summary) };
}

/** The sample in a workspace folder (as `samples/...` or, in a copy of samples/, without it), else bundled. */
async function findSample(context: vscode.ExtensionContext, rel: string): Promise<vscode.Uri | undefined> {
  const candidates: vscode.Uri[] = [];
  for (const f of vscode.workspace.workspaceFolders ?? []) {
    candidates.push(vscode.Uri.joinPath(f.uri, rel), vscode.Uri.joinPath(f.uri, rel.replace(/^samples\//, '')));
  }
  candidates.push(vscode.Uri.joinPath(context.extensionUri, rel));
  for (const c of candidates) if (c.scheme === 'file' && fs.existsSync(c.fsPath)) return c;
  return undefined;
}

async function openSample(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): Promise<vscode.Uri | undefined> {
  const sample = await findSample(context, SAMPLE);
  if (!sample) {
    void vscode.window.showErrorMessage(`CNN Lens: the sample model (${SAMPLE}) was not found in the workspace or the extension.`);
    return undefined;
  }
  try {
    await vscode.commands.executeCommand('vscode.openWith', sample, 'cnnLens.modelEditor');
  } catch (err) {
    log.warn(`Opening ${sample.fsPath} in the CNN Lens editor failed (${err instanceof Error ? err.message : err}); opening it as text`);
    await vscode.commands.executeCommand('vscode.open', sample);
  }
  return sample;
}
