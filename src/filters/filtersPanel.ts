/**
 * The Filters view: one webview panel per model with every conv layer's kernels as tiles (first
 * layer in colour for RGB input), each filter's roughness, noisy filters flagged, and a
 * weight histogram per layer. Computed once by the engine (`filters`) and sent as typed arrays.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { EngineHost } from '../engineHost';
import type { FiltersJobResult } from '../engine/jobs';
import { validateFiltersMessage, type FiltersHostMessage, type FiltersWebviewMessage } from '../protocol';
import { Disposable } from '../webviewHost/dispose';
import { webviewHtml, webviewOptions } from '../webviewHost/html';
import { WebviewMessenger } from '../webviewHost/messenger';
import { PanelStateStore } from '../webviewHost/panelState';
import { errorMessage, toWireFilters } from '../webviewHost/wire';

export const FILTERS_VIEW_TYPE = 'cnnLens.filters';

export interface FiltersRecord {
  model: string;
  layer?: string;
}

/** What `cnnLens.showFilters` returns. */
export interface FiltersPanelSummary {
  model: string;
  layers: { name: string; filters: number; noisy: number; mode: string }[];
  backend?: string;
  error?: string;
}

export interface FiltersDeps {
  extensionUri: vscode.Uri;
  engine: EngineHost;
  log: vscode.LogOutputChannel;
  store: PanelStateStore<FiltersRecord>;
}

export class FiltersPanel extends Disposable {
  private static readonly panels = new Map<string, FiltersPanel>();
  private result: FiltersJobResult | undefined;
  private loading: Promise<void> | undefined;
  private error: string | undefined;
  private layer: string | undefined;
  private readonly messenger: WebviewMessenger<FiltersHostMessage, FiltersWebviewMessage>;
  readonly model: vscode.Uri;

  static forModel(model: vscode.Uri, deps: FiltersDeps): FiltersPanel {
    const existing = FiltersPanel.panels.get(model.fsPath);
    if (existing) {
      existing.panel.reveal(undefined, false);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(
      FILTERS_VIEW_TYPE,
      `Filters: ${path.basename(path.dirname(model.fsPath))}/${path.basename(model.fsPath)}`,
      vscode.ViewColumn.Active,
      webviewOptions(deps.extensionUri),
    );
    return new FiltersPanel(panel, PanelStateStore.newId(), { model: model.fsPath }, deps);
  }

  static restore(panel: vscode.WebviewPanel, panelId: string, record: FiltersRecord, deps: FiltersDeps): FiltersPanel {
    return new FiltersPanel(panel, panelId, record, deps);
  }

  static disposeAll(): void {
    for (const p of [...FiltersPanel.panels.values()]) p.panel.dispose();
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly panelId: string,
    record: FiltersRecord,
    private readonly deps: FiltersDeps,
  ) {
    super();
    this.model = vscode.Uri.file(record.model);
    this.layer = record.layer;
    FiltersPanel.panels.set(this.model.fsPath, this);
    panel.webview.options = webviewOptions(deps.extensionUri);
    this.messenger = this.register(new WebviewMessenger(panel.webview, validateFiltersMessage, (m) => this.onMessage(m), deps.log, 'Filters view'));
    panel.webview.html = webviewHtml(panel.webview, deps.extensionUri, 'filters', panel.title);
    this.register(panel.onDidDispose(() => this.dispose()));
  }

  override dispose(): void {
    if (this.isDisposed) return;
    if (FiltersPanel.panels.get(this.model.fsPath) === this) FiltersPanel.panels.delete(this.model.fsPath);
    void this.deps.store.delete(this.panelId);
    super.dispose();
  }

  summary(): FiltersPanelSummary {
    return {
      model: this.model.fsPath,
      layers: (this.result?.layers ?? []).map((l) => ({ name: l.layer, filters: l.filters, noisy: l.noisy.filter(Boolean).length, mode: l.mode })),
      backend: this.result?.backend,
      error: this.error,
    };
  }

  private load(): Promise<void> {
    this.loading ??= (async () => {
      void this.messenger.post({ type: 'loading', message: `Reading the kernels of ${path.basename(this.model.fsPath)}…` });
      try {
        this.result = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Window, title: 'CNN Lens: reading filters' },
          () => this.deps.engine.get().filters(this.model.fsPath),
        );
        this.error = undefined;
      } catch (err) {
        this.error = errorMessage(err);
        this.loading = undefined;
        this.deps.log.error(`Filters: ${this.error}`);
      }
    })();
    return this.loading;
  }

  async show(layer?: string): Promise<FiltersPanelSummary> {
    if (layer) this.layer = layer;
    await this.deps.store.set(this.panelId, { model: this.model.fsPath, layer: this.layer });
    await this.load();
    this.post();
    if (this.error) void vscode.window.showErrorMessage(`CNN Lens: ${this.error}`);
    return this.summary();
  }

  private post(): void {
    if (this.error) {
      void this.messenger.post({ type: 'error', message: this.error });
      return;
    }
    if (!this.result) return;
    const known = this.result.layers.some((l) => l.layer === this.layer);
    void this.messenger.post({
      type: 'filters',
      panelId: this.panelId,
      modelName: vscode.workspace.asRelativePath(this.model, true),
      backend: this.result.backend,
      layers: this.result.layers.map(toWireFilters),
      selectedLayer: known ? this.layer : undefined,
    });
  }

  private async onMessage(msg: FiltersWebviewMessage): Promise<void> {
    switch (msg.type) {
      case 'ready':
        await this.load();
        this.post();
        break;
      case 'openActivations':
        if (this.result?.layers.some((l) => l.layer === msg.layer)) {
          await vscode.commands.executeCommand('cnnLens.inspectActivations', { model: this.model, layer: msg.layer });
        }
        break;
      case 'cspViolation':
        break;
    }
  }
}
