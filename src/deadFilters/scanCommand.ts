/**
 * "CNN Lens: Scan for Dead Filters": runs the engine's scan of a model over its dataset with a
 * cancellable progress notification, stores the result (diagnostics, hovers, tree and report
 * follow from the store) and returns the `ScanReport` — or undefined after an error, a cancel,
 * or when no dataset was chosen — so tests and other commands can use it.
 *
 * Target: a URI argument (Explorer context menu, tests), a tree item, the active text editor or
 * custom editor, else a pick among the workspace's models.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { EngineHost } from '../engineHost';
import type { ScanReport } from '../engine/client';
import type { FilterTiles } from '../engine/analyses/filters';
import { filterTilesDataUri, histogramDataUri } from './charts';
import { formatInt, isModelFileName, totalDead } from './logic';
import type { ScanResultsStore } from './scanResultsStore';
import { rememberPickedDataset, resolveScanSettings } from './settings';

export const SCAN_COMMAND = 'cnnLens.scanDeadFilters';

/** Anything a command may be invoked with that names a model file. */
export function modelUriFromArg(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string' && arg) {
    if (/^[a-z][a-z0-9+.-]+:/i.test(arg) && !/^[a-z]:[\\/]/i.test(arg)) return vscode.Uri.parse(arg);
    if (path.isAbsolute(arg)) return vscode.Uri.file(arg);
    const folder = vscode.workspace.workspaceFolders?.[0];
    return folder ? vscode.Uri.joinPath(folder.uri, arg) : undefined;
  }
  if (arg && typeof arg === 'object') {
    const o = arg as { resourceUri?: unknown; uri?: unknown; modelUri?: unknown };
    for (const v of [o.modelUri, o.resourceUri, o.uri]) if (v instanceof vscode.Uri) return v;
  }
  return undefined;
}

/** The model in the active editor (text or custom editor tab). */
export function activeModelUri(): vscode.Uri | undefined {
  const text = vscode.window.activeTextEditor?.document.uri;
  if (text && isModelFileName(text.fsPath)) return text;
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText) {
    if (isModelFileName(input.uri.fsPath)) return input.uri;
  }
  return undefined;
}

export interface ScanDeps {
  engine: EngineHost;
  store: ScanResultsStore;
  log: vscode.LogOutputChannel;
  /** Lists the workspace's model files (from the tree view). */
  findModels: () => Promise<vscode.Uri[]>;
  showReport: (model: vscode.Uri) => Thenable<unknown>;
}

const running = new Set<string>();

export function registerScanCommand(deps: ScanDeps): vscode.Disposable {
  return vscode.commands.registerCommand(SCAN_COMMAND, (arg?: unknown) => scanDeadFilters(deps, arg));
}

export async function scanDeadFilters(deps: ScanDeps, arg?: unknown): Promise<ScanReport | undefined> {
  const { engine, store, log } = deps;
  let target = modelUriFromArg(arg) ?? activeModelUri();
  if (!target) {
    const models = await deps.findModels();
    if (models.length === 0) {
      void vscode.window.showErrorMessage('CNN Lens: open or select a model file (model.json, .h5 or .keras) to scan for dead filters.');
      return undefined;
    }
    const pick = models.length === 1 ? { uri: models[0] } : await vscode.window.showQuickPick(
      models.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri })),
      { title: 'CNN Lens: Scan for Dead Filters', placeHolder: 'Model to scan' },
    );
    if (!pick) return undefined;
    target = pick.uri;
  }
  if (target.scheme !== 'file') {
    void vscode.window.showErrorMessage(`CNN Lens: can only scan models on disk (got ${target.toString()}).`);
    return undefined;
  }
  const model = target.fsPath;
  const label = vscode.workspace.asRelativePath(target);
  if (running.has(model)) {
    void vscode.window.showInformationMessage(`CNN Lens: a scan of ${label} is already running.`);
    return undefined;
  }

  let settings;
  try {
    settings = await resolveScanSettings(model);
  } catch (err) {
    return fail(log, err);
  }
  if (!settings.dataset) {
    const folder = vscode.workspace.getWorkspaceFolder(target)?.uri ?? vscode.Uri.file(path.dirname(model));
    const chosen = await vscode.window.showOpenDialog({
      title: `CNN Lens: dataset to scan ${label} with (image folder, or IDX file)`,
      openLabel: 'Scan with this dataset',
      canSelectFiles: true,
      canSelectFolders: true,
      canSelectMany: false,
      defaultUri: folder,
    });
    if (!chosen?.length) return undefined;
    settings.dataset = chosen[0].fsPath;
    settings.datasetSource = 'picked';
    rememberPickedDataset(model, settings.dataset);
  }

  running.add(model);
  const started = Date.now();
  const controller = new AbortController();
  try {
    const client = engine.get();
    const report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `CNN Lens: scanning ${label} for dead filters`, cancellable: true },
      async (progress, token) => {
        token.onCancellationRequested(() => controller.abort());
        let reported = 0;
        progress.report({ message: 'loading model and dataset…' });
        return client.scan(
          model,
          { data: settings.dataset, limit: settings.sampleCount > 0 ? settings.sampleCount : undefined, dyingThreshold: settings.dyingThreshold },
          {
            signal: controller.signal,
            onProgress: (done, total) => {
              const pct = total > 0 ? Math.min(100, (done / total) * 100) : 0;
              progress.report({ increment: Math.max(0, pct - reported), message: `${formatInt(done)} / ${formatInt(total)} images` });
              reported = Math.max(reported, pct);
            },
          },
        );
      },
    );
    const scanSeconds = (Date.now() - started) / 1000;
    const stored = await enrichAndStore(deps, model, report, settings);
    const dead = totalDead(report);
    const dying = report.layers.reduce((a, l) => a + l.dying.length, 0);
    log.info(
      `Scan of ${label}: ${formatInt(report.images)} images from ${report.dataset.path} in ${report.seconds.toFixed(2)} s ` +
        `(backend ${report.backend}, ${client.workers} workers; ${scanSeconds.toFixed(2)} s with extras): ` +
        `${dead} dead, ${dying} dying in ${report.layers.length} layers` +
        (report.skipped.length ? `; ${report.skipped.length} files skipped` : ''),
    );
    const layersWithDead = report.layers.filter((l) => l.dead.length).length;
    const summary =
      dead > 0
        ? `CNN Lens: ${formatInt(dead)} dead filters in ${layersWithDead} ${layersWithDead === 1 ? 'layer' : 'layers'} of ${label} (${formatInt(report.images)} images).`
        : `CNN Lens: no dead filters in ${label} (${formatInt(report.images)} images${dying ? `; ${dying} dying` : ''}).`;
    void vscode.window.showInformationMessage(summary, 'Show Report', 'Show Problems').then((choice) => {
      if (choice === 'Show Report') void deps.showReport(vscode.Uri.file(stored.model));
      if (choice === 'Show Problems') void vscode.commands.executeCommand('workbench.actions.view.problems');
    });
    return report;
  } catch (err) {
    if (controller.signal.aborted || (err instanceof Error && err.name === 'CancelledError')) {
      log.info(`Scan of ${label} cancelled after ${((Date.now() - started) / 1000).toFixed(1)} s`);
      void vscode.window.showInformationMessage(`CNN Lens: scan of ${label} cancelled.`);
      return undefined;
    }
    return fail(log, err);
  } finally {
    running.delete(model);
  }
}

function fail(log: vscode.LogOutputChannel, err: unknown): undefined {
  const message = err instanceof Error ? err.message : String(err);
  log.error(`Scan failed: ${message}`);
  void vscode.window.showErrorMessage(`CNN Lens: scan failed: ${message}`);
  return undefined;
}

/** Adds the summary (for hovers), histograms and dead-filter tiles, then stores the scan. */
async function enrichAndStore(
  deps: ScanDeps,
  model: string,
  report: ScanReport,
  settings: { dataset?: string; sampleCount: number },
) {
  const client = deps.engine.get();
  try {
    const { summary } = await client.summary(model);
    await deps.store.setSummary(model, summary);
  } catch (err) {
    deps.log.warn(`Summary of ${model} for hovers failed: ${err instanceof Error ? err.message : err}`);
  }
  const histograms: Record<string, string> = {};
  for (const l of report.layers) histograms[l.name] = histogramDataUri(l.firingRate, report.dyingThreshold);
  const deadTiles: Record<string, string> = {};
  const convWithDead = report.layers.filter((l) => l.dead.length && /conv/i.test(l.className)).map((l) => l.name);
  if (convWithDead.length) {
    let tiles: FilterTiles[] = [];
    try {
      tiles = (await client.filters(model, convWithDead)).layers;
    } catch (err) {
      deps.log.warn(`Filter tiles of ${model} failed: ${err instanceof Error ? err.message : err}`);
    }
    for (const t of tiles) {
      const layer = report.layers.find((l) => l.name === t.layer);
      const uri = layer ? filterTilesDataUri(t, layer.dead) : undefined;
      if (uri) deadTiles[t.layer] = uri;
    }
  }
  return deps.store.setScan({ model, scannedAt: Date.now(), report, histograms, deadTiles }, settings);
}
