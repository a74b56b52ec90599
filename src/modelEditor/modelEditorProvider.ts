/**
 * "CNN Lens" model editor: a read-only custom editor for model.json / .h5 / .keras files showing
 * the layer table, totals, backend and dataset, with entry points to the other views.
 *
 * The document is only the file's URI: the engine (worker threads) loads the model. The webview
 * asks for its data with `ready` each time it (re)loads, so it survives hiding and reloads
 * without `retainContextWhenHidden`; the editor reloads when the file changes on disk.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { EngineHost } from '../engineHost';
import type { ModelSummary } from '../engine/analyses/summary';
import {
  validateModelEditorMessage,
  type DeadUnits,
  type ModelEditorHostMessage,
  type ModelEditorWebviewMessage,
} from '../protocol';
import { Disposable } from '../webviewHost/dispose';
import { webviewHtml, webviewOptions } from '../webviewHost/html';
import { WebviewMessenger } from '../webviewHost/messenger';
import type { ActiveModelTracker } from '../webviewHost/models';
import type { ReceptiveFieldStore } from '../receptiveField/receptiveFieldStore';
import { computeEffectiveReceptiveFields } from '../receptiveField/effectiveRadii';
import { errorMessage, toWireDataset, toWireSummary } from '../webviewHost/wire';

export const MODEL_EDITOR_VIEW_TYPE = 'cnnLens.modelEditor';

export interface ModelEditorDeps {
  extensionUri: vscode.Uri;
  engine: EngineHost;
  log: vscode.LogOutputChannel;
  tracker: ActiveModelTracker;
  getDeadUnits?: (model: vscode.Uri) => DeadUnits | undefined;
  onDidChangeDeadUnits?: vscode.Event<vscode.Uri | undefined>;
  /** Called with each summary the editor loads (e.g. to share it with hovers). */
  onSummary?: (model: vscode.Uri, summary: ModelSummary) => void;
  /** Receptive fields per model: the editor's RF columns (and, through the store, hovers). */
  receptiveFields?: ReceptiveFieldStore;
}

/** What an open model editor shows, for tests (`cnnLens._modelEditorState`). */
export interface ModelEditorStateSummary {
  model: string;
  status: 'loading' | 'ready' | 'error';
  layers: number;
  backend?: string;
  error?: string;
  /** The webview has asked for its data at least once. */
  webviewReady: boolean;
  /** Layers with a theoretical receptive field sent to the table; with ERF radii. */
  receptiveFields: { layers: number; withErf: number; erf: 'none' | 'computing' | 'done'; error?: string };
}

class ModelDocument implements vscode.CustomDocument {
  constructor(readonly uri: vscode.Uri) {}
  dispose(): void {}
}

type Loaded = { ok: true; backend: string; summary: ModelSummary } | { ok: false; error: string };

class ModelEditorSession extends Disposable {
  private loaded: Promise<Loaded> | undefined;
  private state: ModelEditorStateSummary;
  private readonly messenger: WebviewMessenger<ModelEditorHostMessage, ModelEditorWebviewMessage>;

  constructor(
    readonly uri: vscode.Uri,
    private readonly panel: vscode.WebviewPanel,
    private readonly deps: ModelEditorDeps,
    private readonly onDisposed: (s: ModelEditorSession) => void,
  ) {
    super();
    this.state = { model: uri.fsPath, status: 'loading', layers: 0, webviewReady: false, receptiveFields: { layers: 0, withErf: 0, erf: 'none' } };
    panel.webview.options = webviewOptions(deps.extensionUri);
    this.messenger = this.register(
      new WebviewMessenger(panel.webview, validateModelEditorMessage, (m) => this.onMessage(m), deps.log, `Model editor (${path.basename(uri.fsPath)})`),
    );
    panel.webview.html = webviewHtml(panel.webview, deps.extensionUri, 'modelEditor', `CNN Lens: ${path.basename(uri.fsPath)}`);

    deps.tracker.opened(uri);
    this.register(
      panel.onDidChangeViewState((e) => {
        if (e.webviewPanel.active) deps.tracker.activated(uri);
      }),
    );
    this.register(panel.onDidDispose(() => this.dispose()));

    const watcher = this.register(
      vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(uri.fsPath)), path.basename(uri.fsPath))),
    );
    const reload = () => {
      this.loaded = undefined;
      if (this.state.webviewReady) void this.sendAll();
    };
    this.register(watcher.onDidChange(reload));
    this.register(watcher.onDidCreate(reload));
    if (deps.onDidChangeDeadUnits) {
      this.register(
        deps.onDidChangeDeadUnits((changed) => {
          if (!changed || changed.toString() === uri.toString()) void this.sendDeadUnits();
        }),
      );
    }
    if (deps.receptiveFields) {
      this.register(
        deps.receptiveFields.onDidChange((changed) => {
          if (changed.fsPath === uri.fsPath) this.postReceptiveFields();
        }),
      );
    }
  }

  summary(): ModelEditorStateSummary {
    return { ...this.state };
  }

  override dispose(): void {
    if (this.isDisposed) return;
    this.deps.tracker.closed(this.uri);
    this.onDisposed(this);
    super.dispose();
  }

  private load(): Promise<Loaded> {
    if (!this.loaded) {
      this.state = { ...this.state, status: 'loading', error: undefined };
      this.loaded = this.deps.engine
        .get()
        .summary(this.uri.fsPath)
        .then(
          (r): Loaded => {
            this.deps.onSummary?.(this.uri, r.summary);
            return { ok: true, backend: r.backend, summary: r.summary };
          },
          (err): Loaded => ({ ok: false, error: errorMessage(err) }),
        );
    }
    return this.loaded;
  }

  private async sendAll(): Promise<void> {
    void this.messenger.post({ type: 'loading', message: `Loading ${path.basename(this.uri.fsPath)}…` });
    const loaded = await this.load();
    if (this.isDisposed) return;
    if (!loaded.ok) {
      this.state = { ...this.state, status: 'error', layers: 0, error: loaded.error };
      this.deps.log.error(`Model editor: ${loaded.error}`);
      void this.messenger.post({ type: 'error', message: loaded.error });
      return;
    }
    this.state = { ...this.state, status: 'ready', layers: loaded.summary.layers.length, backend: loaded.backend, error: undefined };
    void this.messenger.post({ type: 'model', fileName: vscode.workspace.asRelativePath(this.uri, true), backend: loaded.backend, summary: toWireSummary(loaded.summary) });
    void this.sendDeadUnits();
    void this.sendReceptiveFields();
    try {
      const info = await this.deps.engine.get().datasetInfo(this.uri.fsPath);
      if (!this.isDisposed) void this.messenger.post({ type: 'dataset', dataset: toWireDataset(info) });
    } catch (err) {
      if (!this.isDisposed) void this.messenger.post({ type: 'dataset', dataset: null, note: errorMessage(err) });
    }
  }

  private async sendDeadUnits(): Promise<void> {
    if (!this.state.webviewReady) return;
    void this.messenger.post({ type: 'deadUnits', deadUnits: this.deps.getDeadUnits?.(this.uri) ?? null });
  }

  /** Computes the theoretical fields (once per model version) and sends them to the table. */
  private async sendReceptiveFields(): Promise<void> {
    const store = this.deps.receptiveFields;
    if (!store) return;
    try {
      await store.theoretical(this.uri);
      this.postReceptiveFields();
    } catch (err) {
      const error = errorMessage(err);
      this.deps.log.warn(`Model editor: receptive fields of ${this.uri.fsPath}: ${error}`);
      this.state = { ...this.state, receptiveFields: { ...this.state.receptiveFields, error } };
      if (!this.isDisposed) void this.messenger.post({ type: 'receptiveFields', layers: [], erf: 'none', note: error });
    }
  }

  private postReceptiveFields(): void {
    const known = this.deps.receptiveFields?.peek(this.uri);
    if (!known || this.isDisposed) return;
    this.state = {
      ...this.state,
      receptiveFields: { layers: known.layers.length, withErf: known.layers.filter((l) => l.erfRadii).length, erf: known.erf, error: undefined },
    };
    if (this.state.webviewReady) void this.messenger.post({ type: 'receptiveFields', layers: known.layers, erf: known.erf, note: known.note });
  }

  /** "Compute effective RF": ERF radii of every layer over the model's dataset (cancellable). */
  private async computeEffectiveRf(): Promise<void> {
    const store = this.deps.receptiveFields;
    if (!store || store.peek(this.uri)?.erf === 'computing') return;
    await store.theoretical(this.uri).catch(() => undefined);
    await computeEffectiveReceptiveFields(this.uri, this.deps.engine, store, this.deps.log);
  }

  /** A layer name from the webview is used only if the loaded summary has it. */
  private async knownLayer(layer: string | undefined): Promise<string | undefined> {
    if (layer === undefined) return undefined;
    const loaded = await this.load();
    return loaded.ok && loaded.summary.layers.some((l) => l.name === layer) ? layer : undefined;
  }

  private async onMessage(msg: ModelEditorWebviewMessage): Promise<void> {
    switch (msg.type) {
      case 'ready':
        this.state = { ...this.state, webviewReady: true };
        await this.sendAll();
        break;
      case 'reload':
        this.loaded = undefined;
        await this.sendAll();
        break;
      case 'openActivations':
        await vscode.commands.executeCommand('cnnLens.inspectActivations', { model: this.uri, layer: await this.knownLayer(msg.layer) });
        break;
      case 'openFilters':
        await vscode.commands.executeCommand('cnnLens.showFilters', { model: this.uri, layer: await this.knownLayer(msg.layer) });
        break;
      case 'scanDeadFilters':
        await vscode.commands.executeCommand('cnnLens.scanDeadFilters', this.uri);
        break;
      case 'openEmbedding':
        await vscode.commands.executeCommand('cnnLens.showEmbedding', { model: this.uri, layer: await this.knownLayer(msg.layer) });
        break;
      case 'computeEffectiveRf':
        await this.computeEffectiveRf();
        break;
      case 'cspViolation':
        break;
    }
  }
}

export class ModelEditorProvider implements vscode.CustomReadonlyEditorProvider<ModelDocument> {
  private readonly sessions = new Set<ModelEditorSession>();

  constructor(private readonly deps: ModelEditorDeps) {}

  openCustomDocument(uri: vscode.Uri): ModelDocument {
    return new ModelDocument(uri);
  }

  resolveCustomEditor(document: ModelDocument, panel: vscode.WebviewPanel): void {
    const session = new ModelEditorSession(document.uri, panel, this.deps, (s) => this.sessions.delete(s));
    this.sessions.add(session);
  }

  states(): ModelEditorStateSummary[] {
    return [...this.sessions].map((s) => s.summary());
  }
}
