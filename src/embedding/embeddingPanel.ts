/**
 * The Embedding view: one webview panel per model with a 2-D map (t-SNE, PCA or UMAP) of one
 * layer's features over N dataset images (spread evenly), coloured by class, with quality
 * numbers; a second pane compares another layer or another model. The engine computes (`embed`, in a
 * worker, cancellable); t-SNE frames are forwarded as they stream, one in flight at a time so a
 * slow webview only skips frames.
 *
 * The webview names panes, point indices and layers the host listed; thumbnails, titles and the
 * files opened on click come from the engine's item ids, which the host keeps. State for restore
 * (panes, settings) is kept by the host under an opaque panel id; finished results are also
 * written to a file per panel (`embeddingResultStore.ts`), so a panel restored after a window
 * reload shows its last result again, without recomputing, while its inputs are unchanged.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { EngineHost } from '../engineHost';
import type { DatasetInfo } from '../engine/jobs';
import type { EmbedReport } from '../engine/client';
import type { EmbeddingFrame, EmbedPhase } from '../engine/embedding/embedData';
import {
  DEFAULT_EMBEDDING_SETTINGS,
  validateEmbeddingMessage,
  validateEmbeddingSettings,
  type EmbeddingHostMessage,
  type EmbeddingLayerInfo,
  type EmbeddingPaneInfo,
  type EmbeddingSettings,
  type EmbeddingWebviewMessage,
  type PaneIndex,
} from '../protocol';
import { Disposable } from '../webviewHost/dispose';
import { webviewHtml, webviewOptions } from '../webviewHost/html';
import { WebviewMessenger } from '../webviewHost/messenger';
import { PanelStateStore } from '../webviewHost/panelState';
import { pickWorkspaceModel } from '../webviewHost/models';
import { errorMessage } from '../webviewHost/wire';
import { parseIdxId } from '../engine/render/thumbnails';
import { embeddingJob, linkedPanes, toWireEmbedding } from './embeddingWire';
import { embeddingResultKey, keyMismatch, type EmbeddingResultFiles, type EmbeddingResultKey, type StoredEmbedding } from './embeddingResultStore';

export const EMBEDDING_VIEW_TYPE = 'cnnLens.embedding';

/** What a pane embeds: a model file and a layer (undefined: the engine's default). */
export interface PaneSource {
  model: string;
  layer?: string;
}

/** Host-side record of a panel, for restore after reload. */
export interface EmbeddingRecord {
  panes: PaneSource[];
  settings: EmbeddingSettings;
}

/** What `cnnLens.showEmbedding` returns: the panel's state. */
export interface EmbeddingPanelSummary {
  settings: EmbeddingSettings;
  backend?: string;
  /** Both panes hold the same images in the same order (hover is linked). */
  linked: boolean;
  panes: {
    model: string;
    layer?: string;
    method?: string;
    /** Points in the result (0 until it is done). */
    points: number;
    /** Points the webview reported drawing for the finished result (0 until it has). */
    drawnPoints: number;
    /** t-SNE frames forwarded to the webview. */
    frames: number;
    knnAccuracy: number | null;
    trustworthiness?: number;
    classNames: string[] | null;
    running: boolean;
    error?: string;
  }[];
}

export interface EmbeddingDeps {
  extensionUri: vscode.Uri;
  engine: EngineHost;
  log: vscode.LogOutputChannel;
  store: PanelStateStore<EmbeddingRecord>;
  /** Where finished results are kept for restore (undefined: no file storage, e.g. a virtual workspace). */
  results?: EmbeddingResultFiles;
}

interface Pane {
  source: PaneSource;
  layers?: EmbeddingLayerInfo[];
  dataset?: DatasetInfo;
  result?: EmbedReport;
  backend?: string;
  error?: string;
  frames: number;
  drawn: number;
  running: boolean;
  lastFrame?: EmbeddingFrame;
  /** What `result` was computed from (its validity key), when it may be stored for restore. */
  stored?: { source: PaneSource; settings: EmbeddingSettings; key: EmbeddingResultKey };
}

/** Frames closer together than this are coalesced (the latest wins). */
const FRAME_INTERVAL_MS = 40;

export class EmbeddingPanel extends Disposable {
  private static readonly panels = new Map<string, EmbeddingPanel>();
  /**
   * Set while the extension deactivates (window reload or close): panels are disposed then but
   * VS Code restores them, so their record and stored result must stay.
   */
  private static shuttingDown = false;

  private panes: Pane[];
  private settings: EmbeddingSettings;
  private readonly messenger: WebviewMessenger<EmbeddingHostMessage, EmbeddingWebviewMessage>;
  private cancel: AbortController | undefined;
  private running: Promise<void> | undefined;
  private renderWaiters: (() => void)[] = [];
  private webviewReady = false;
  /** Reading the stored result of a restored panel (resolved at once for a new panel). */
  private restoring: Promise<void> = Promise.resolve();
  /** Why the stored result was not shown (it was out of date or unreadable). */
  private restoreNote: string | undefined;
  /** Result writes in order (a later one must not be overtaken by an earlier one). */
  private writing: Promise<void> = Promise.resolve();

  static forModel(model: vscode.Uri, deps: EmbeddingDeps): EmbeddingPanel {
    const existing = EmbeddingPanel.panels.get(model.fsPath);
    if (existing) {
      existing.panel.reveal(undefined, false);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(
      EMBEDDING_VIEW_TYPE,
      `Embedding: ${path.basename(path.dirname(model.fsPath))}/${path.basename(model.fsPath)}`,
      { viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
      { ...webviewOptions(deps.extensionUri), retainContextWhenHidden: false },
    );
    return new EmbeddingPanel(panel, PanelStateStore.newId(), { panes: [{ model: model.fsPath }], settings: { ...DEFAULT_EMBEDDING_SETTINGS } }, deps);
  }

  /**
   * Restores a panel VS Code kept across a reload. Its last result comes back from the stored
   * file when the inputs it was computed from are unchanged; otherwise the user presses Run.
   */
  static restore(panel: vscode.WebviewPanel, panelId: string, record: EmbeddingRecord, deps: EmbeddingDeps): EmbeddingPanel {
    const p = new EmbeddingPanel(panel, panelId, record, deps);
    p.restoring = p.loadStoredResult();
    return p;
  }

  /** Disposes every panel as the extension deactivates (their records and stored results stay). */
  static disposeAll(): void {
    EmbeddingPanel.shuttingDown = true;
    try {
      for (const p of [...EmbeddingPanel.panels.values()]) p.panel.dispose();
    } finally {
      EmbeddingPanel.shuttingDown = false;
    }
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly panelId: string,
    record: EmbeddingRecord,
    private readonly deps: EmbeddingDeps,
  ) {
    super();
    this.panes = record.panes.slice(0, 2).map((source) => ({ source, frames: 0, drawn: 0, running: false }));
    this.settings = validateEmbeddingSettings(record.settings) ?? { ...DEFAULT_EMBEDDING_SETTINGS };
    this.model = vscode.Uri.file(this.panes[0].source.model);
    EmbeddingPanel.panels.set(this.model.fsPath, this);
    panel.webview.options = webviewOptions(deps.extensionUri);
    this.messenger = this.register(new WebviewMessenger(panel.webview, validateEmbeddingMessage, (m) => this.onMessage(m), deps.log, 'Embedding view'));
    panel.webview.html = webviewHtml(panel.webview, deps.extensionUri, 'embedding', panel.title);
    this.register(panel.onDidDispose(() => this.dispose()));
    // Without retainContextWhenHidden a hidden webview's document is discarded: nothing is drawn
    // until the recreated one reports `rendered` again.
    this.register(
      panel.onDidChangeViewState(() => {
        if (!panel.visible) for (const p of this.panes) p.drawn = 0;
      }),
    );
  }

  readonly model: vscode.Uri;

  override dispose(): void {
    if (this.isDisposed) return;
    this.cancel?.abort();
    if (EmbeddingPanel.panels.get(this.model.fsPath) === this) EmbeddingPanel.panels.delete(this.model.fsPath);
    if (!EmbeddingPanel.shuttingDown) {
      // Closed by the user: forget the panel and its stored result (after a write in flight).
      void this.deps.store.delete(this.panelId);
      const files = this.deps.results;
      if (files) {
        void this.writing
          .then(() => files.delete(this.panelId))
          .catch((err) => this.deps.log.warn(`Embedding: could not delete the stored result ${files.fileFor(this.panelId)}: ${errorMessage(err)}`));
      }
    }
    for (const w of this.renderWaiters.splice(0)) w();
    super.dispose();
  }

  summary(): EmbeddingPanelSummary {
    return {
      settings: { ...this.settings },
      backend: this.panes.find((p) => p.backend)?.backend,
      linked: linkedPanes(this.panes.map((p) => p.result)),
      panes: this.panes.map((p) => ({
        model: p.source.model,
        layer: p.result?.layer ?? p.source.layer,
        method: p.result?.method,
        points: p.result ? p.result.points.length / 2 : 0,
        drawnPoints: p.drawn,
        frames: p.frames,
        knnAccuracy: p.result?.knnAccuracy ?? null,
        trustworthiness: p.result?.trustworthiness,
        classNames: p.result?.classNames ?? null,
        running: p.running,
        error: p.error,
      })),
    };
  }

  private record(): EmbeddingRecord {
    return { panes: this.panes.map((p) => ({ ...p.source })), settings: { ...this.settings } };
  }

  /** Resolves when every finished pane has been drawn by the webview (or after `timeoutMs`). */
  whenRendered(timeoutMs: number): Promise<void> {
    const done = () => this.panes.every((p) => !p.result || p.drawn > 0);
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      const check = () => {
        if (done() || this.isDisposed) {
          clearTimeout(t);
          resolve();
        } else this.renderWaiters.push(check);
      };
      this.renderWaiters.push(check);
    });
  }

  /** Resolves once a restored panel has read (or given up on) its stored result. */
  whenRestored(): Promise<void> {
    return this.restoring;
  }

  /** Waits for the run in progress, if any. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /**
   * Changes what is shown and computes it: `settings` (merged and validated), pane 0's layer, and
   * an optional comparison pane. Resolves when the run finished (or was cancelled).
   */
  async show(options: { settings?: Partial<EmbeddingSettings>; layer?: string | null; compare?: PaneSource | null; run?: boolean } = {}): Promise<EmbeddingPanelSummary> {
    if (options.settings) this.settings = validateEmbeddingSettings({ ...this.settings, ...options.settings }) ?? this.settings;
    if (options.layer !== undefined) this.panes[0].source = { ...this.panes[0].source, layer: options.layer ?? undefined };
    if (options.compare === null && this.panes.length > 1) this.closeCompare();
    if (options.compare) this.panes[1] = { source: options.compare, frames: 0, drawn: 0, running: false };
    this.restoreNote = undefined;
    await this.deps.store.set(this.panelId, this.record());
    if (this.webviewReady) await this.postContext();
    if (options.run !== false) await this.run();
    return this.summary();
  }

  private async paneInfo(i: PaneIndex): Promise<EmbeddingPaneInfo> {
    const p = this.panes[i];
    const engine = this.deps.engine.get();
    if (!p.layers) {
      try {
        const { summary } = await engine.summary(p.source.model);
        p.layers = summary.layers.filter((l) => l.inbound.length > 0).map((l) => ({ name: l.name, className: l.className, shape: l.outputShape.slice(1) }));
      } catch (err) {
        p.error = errorMessage(err);
        p.layers = [];
      }
    }
    if (!p.dataset) p.dataset = await engine.datasetInfo(p.source.model).catch(() => undefined);
    return {
      pane: i,
      modelName: vscode.workspace.asRelativePath(p.source.model, true),
      layers: p.layers,
      layer: p.source.layer,
      datasetLabel: p.dataset ? vscode.workspace.asRelativePath(p.dataset.path, true) : 'no dataset configured',
      datasetSize: p.dataset?.size ?? 0,
    };
  }

  private async postContext(): Promise<void> {
    const panes = await Promise.all(this.panes.map((_, i) => this.paneInfo(i as PaneIndex)));
    if (this.isDisposed) return;
    void this.messenger.post({ type: 'context', panelId: this.panelId, backend: this.panes.find((p) => p.backend)?.backend, settings: this.settings, panes });
  }

  private postResult(i: PaneIndex): void {
    const p = this.panes[i];
    if (!p.result) return;
    void this.messenger.post({ type: 'embedding', pane: i, embedding: toWireEmbedding(p.result), linked: linkedPanes(this.panes.map((x) => x.result)) });
  }

  /** Computes every pane with the current settings (one after the other: the machine's cores go to one job). */
  private run(): Promise<void> {
    this.cancel?.abort();
    const controller = (this.cancel = new AbortController());
    const previous = this.running;
    const run = (async () => {
      await previous?.catch(() => undefined);
      if (controller.signal.aborted) return;
      const method = { tsne: 't-SNE', pca: 'PCA', umap: 'UMAP' }[this.settings.method];
      await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `CNN Lens: ${method} embedding`, cancellable: true },
        async (progress, token) => {
          token.onCancellationRequested(() => controller.abort());
          for (let i = 0; i < this.panes.length && !controller.signal.aborted; i++) {
            await this.runPane(i as PaneIndex, controller.signal, (message) => progress.report({ message }));
          }
        },
      );
    })();
    this.running = run;
    void run.finally(() => {
      if (this.running === run) this.running = undefined;
    });
    return run;
  }

  private async runPane(i: PaneIndex, signal: AbortSignal, report: (message: string) => void): Promise<void> {
    const p = this.panes[i];
    const settings = this.settings;
    const source = p.source;
    // The model's stamps as the run starts: a result is stored only if they still hold at its end.
    const keyBefore = this.deps.results ? embeddingResultKey(source, undefined, settings).catch(() => undefined) : undefined;
    const label = `${path.basename(path.dirname(p.source.model))}${p.source.layer ? ` · ${p.source.layer}` : ''}`;
    p.running = true;
    p.error = undefined;
    p.frames = 0;
    p.drawn = 0;
    p.lastFrame = undefined;
    const iterations = settings.method === 'pca' ? 0 : settings.iterations;
    void this.messenger.post({ type: 'running', pane: i, method: settings.method, layer: p.source.layer, iterations });
    const frames = new FrameForwarder((f) => {
      p.frames++;
      p.lastFrame = f;
      return this.messenger.post({ type: 'frame', pane: i, iteration: f.iteration, iterations: f.iterations, points: f.points });
    });
    const started = Date.now();
    try {
      const result = await this.deps.engine.get().embed(p.source.model, embeddingJob(settings, p.source.layer), {
        signal,
        onPhase: (phase, done, total) => report(`${label}: ${phaseText(phase, done, total)}`),
        onFrame: (f) => frames.push(f),
      });
      frames.stop();
      if (this.isDisposed || signal.aborted) return;
      p.result = result;
      p.backend = result.backend;
      p.dataset = result.dataset;
      p.lastFrame = undefined;
      this.deps.log.info(
        `Embedding: ${result.method} of ${p.source.model} layer ${result.layer} (${result.points.length / 2} points, ${result.dims}-d) in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
          `10-NN accuracy ${result.knnAccuracy === null ? 'n/a' : result.knnAccuracy.toFixed(3)}, trustworthiness ${result.trustworthiness.toFixed(3)}; ${p.frames} frames shown`,
      );
      this.postResult(i);
      if (i === 0 || this.panes[0].result) this.postResult(0); // the `linked` flag may have changed
      p.stored = undefined;
      if (this.deps.results) await this.keepForRestore(p, source, settings, await keyBefore);
    } catch (err) {
      frames.stop();
      if (this.isDisposed) return;
      if (signal.aborted) {
        void this.messenger.post({ type: 'cancelled', pane: i });
        return;
      }
      p.error = errorMessage(err);
      this.deps.log.error(`Embedding: ${p.error}`);
      void this.messenger.post({ type: 'paneError', pane: i, message: p.error });
      void vscode.window.showErrorMessage(`CNN Lens: ${p.error}`);
    } finally {
      p.running = false;
    }
  }

  private closeCompare(): void {
    if (this.panes.length < 2) return;
    if (this.panes[1].running) this.cancel?.abort();
    this.panes = this.panes.slice(0, 1);
    void this.messenger.post({ type: 'paneClosed', pane: 1 });
    this.postResult(0);
    void this.persistResults();
  }

  // -------------------------------------------------------------------------------------------
  // Results kept across a window reload

  /** Keys a pane's fresh result by its inputs and writes the panel's results for restore. */
  private async keepForRestore(p: Pane, source: PaneSource, settings: EmbeddingSettings, before: EmbeddingResultKey | undefined): Promise<void> {
    const result = p.result;
    if (!result) return;
    try {
      const key = await embeddingResultKey(source, result.dataset.path, settings);
      if (!before || before.model !== key.model) {
        this.deps.log.info(`Embedding: ${source.model} changed while the embedding was computed; its result is not kept for restore`);
      } else if (p.result === result) p.stored = { source: { ...source }, settings: { ...settings }, key };
    } catch (err) {
      this.deps.log.warn(`Embedding: could not stamp the inputs of ${source.model}: ${errorMessage(err)}`);
    }
    await this.persistResults();
  }

  /** Writes the panes' keyed results to the panel's file (deletes it when none is left); never throws. */
  private persistResults(): Promise<void> {
    const files = this.deps.results;
    if (!files || this.isDisposed) return this.writing;
    const stored: StoredEmbedding = {
      savedAt: Date.now(),
      panes: this.panes.map((p) => (p.result && p.stored ? { ...p.stored, result: p.result } : null)),
    };
    const file = files.fileFor(this.panelId);
    this.writing = this.writing
      .then(async () => {
        if (stored.panes.every((x) => !x)) return files.delete(this.panelId);
        const t0 = performance.now();
        const bytes = await files.write(this.panelId, stored);
        this.deps.log.debug(`Embedding: result kept for restore in ${file} (${(bytes / 1e6).toFixed(2)} MB, ${(performance.now() - t0).toFixed(0)} ms)`);
      })
      .catch((err) => this.deps.log.warn(`Embedding: could not keep the result for restore in ${file}: ${errorMessage(err)}`));
    return this.writing;
  }

  /**
   * Reads a restored panel's stored result and shows each pane whose inputs (model files,
   * dataset, settings and layer) are unchanged. A missing file means no result; an unreadable
   * one is logged and removed, never shown as an error.
   */
  private async loadStoredResult(): Promise<void> {
    const files = this.deps.results;
    if (!files) return;
    const log = this.deps.log;
    const t0 = performance.now();
    let stored: StoredEmbedding | undefined;
    try {
      stored = await files.read(this.panelId);
    } catch (err) {
      log.warn(`Embedding: the stored result could not be read, so none is shown: ${errorMessage(err)}`);
      await files.delete(this.panelId).catch(() => undefined);
      return;
    }
    if (!stored) return;
    const readMs = performance.now() - t0;
    const stale: string[] = [];
    await Promise.all(
      stored.panes.map(async (sp, i) => {
        const p = this.panes[i];
        if (!sp || !p) return;
        let why: string | undefined;
        if (p.source.model !== sp.source.model) why = 'the panes changed';
        else {
          try {
            why = keyMismatch(sp.key, await embeddingResultKey(p.source, sp.result.dataset.path, this.settings));
          } catch (err) {
            why = `its inputs could not be checked (${errorMessage(err)})`;
          }
        }
        if (why) {
          stale.push(why);
          log.info(`Embedding: the stored result of ${sp.source.model}${sp.source.layer ? ` layer ${sp.source.layer}` : ''} is out of date (${why}); press Run to compute it again`);
          return;
        }
        if (this.panes[i] !== p || p.result || p.running) return; // a run started meanwhile
        const r = sp.result;
        p.result = r;
        p.backend = r.backend;
        p.dataset = r.dataset;
        p.stored = { source: sp.source, settings: sp.settings, key: sp.key };
        log.info(
          `Embedding: restored the ${r.method} of ${sp.source.model} layer ${r.layer} (${r.points.length / 2} points) stored ${new Date(stored.savedAt).toISOString()}, ` +
            `read in ${readMs.toFixed(0)} ms; not recomputed`,
        );
      }),
    );
    if (stale.length) {
      this.restoreNote = `The stored result was out of date: ${stale[0]}.`;
      await this.persistResults(); // drops what can no longer be shown
    }
  }

  /** Asks which layer or model to compare with; adds the pane and computes it. */
  private async chooseComparison(): Promise<void> {
    const first = this.panes[0];
    const choice = await vscode.window.showQuickPick(
      [
        { label: '$(layers) Another layer of this model…', target: 'layer' as const },
        { label: '$(file-binary) Another model…', description: 'e.g. before / after fine-tuning', target: 'model' as const },
      ],
      { placeHolder: 'Compare the embedding with…' },
    );
    if (!choice) return;
    let source: PaneSource | undefined;
    if (choice.target === 'layer') {
      const layers = first.layers ?? (await this.paneInfo(0)).layers;
      const pick = await vscode.window.showQuickPick(
        layers.filter((l) => l.name !== first.source.layer).map((l) => ({ label: l.name, description: `${l.className} ${JSON.stringify(l.shape)}` })),
        { placeHolder: 'Layer to compare with' },
      );
      if (pick) source = { model: first.source.model, layer: pick.label };
    } else {
      const model = await pickWorkspaceModel('Model to compare with');
      if (model) source = { model: model.fsPath, layer: first.source.model === model.fsPath ? undefined : first.source.layer };
    }
    if (source && !this.isDisposed) await this.show({ compare: source });
  }

  private async openPoint(i: PaneIndex, index: number): Promise<void> {
    const p = this.panes[i];
    const id = p?.result?.ids[index];
    if (!id) return;
    const record = parseIdxId(id);
    if (record && p.dataset?.kind === 'idx') {
      // An IDX record has no file of its own: show it in the Activations view instead.
      await vscode.commands.executeCommand('cnnLens.inspectActivations', { model: vscode.Uri.file(p.source.model), index: record.index });
      return;
    }
    await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(id), { preview: true, viewColumn: vscode.ViewColumn.Beside });
  }

  private async pointInfo(i: PaneIndex, index: number, requestId: number): Promise<void> {
    const p = this.panes[i];
    const id = p?.result?.ids[index];
    if (!id) return;
    const record = p.dataset?.kind === 'idx' ? parseIdxId(id) : undefined;
    const title = record ? `Dataset image #${record.index}` : vscode.workspace.asRelativePath(id, true);
    let thumbnail = '';
    let note: string | undefined;
    try {
      thumbnail = await this.deps.engine.get().thumbnail(id);
    } catch (err) {
      note = errorMessage(err);
    }
    if (!this.isDisposed) void this.messenger.post({ type: 'pointInfo', pane: i, index, requestId, thumbnail, title, note });
  }

  private async onMessage(msg: EmbeddingWebviewMessage): Promise<void> {
    switch (msg.type) {
      case 'ready':
        await this.restoring;
        if (this.isDisposed) return;
        this.webviewReady = true;
        for (const p of this.panes) p.drawn = 0;
        await this.postContext();
        this.panes.forEach((p, i) => {
          if (p.result) this.postResult(i as PaneIndex);
          else if (p.error) void this.messenger.post({ type: 'paneError', pane: i as PaneIndex, message: p.error });
          if (p.running) {
            void this.messenger.post({ type: 'running', pane: i as PaneIndex, method: this.settings.method, layer: p.source.layer, iterations: this.settings.method === 'pca' ? 0 : this.settings.iterations });
            if (p.lastFrame) void this.messenger.post({ type: 'frame', pane: i as PaneIndex, iteration: p.lastFrame.iteration, iterations: p.lastFrame.iterations, points: p.lastFrame.points.slice() });
          }
        });
        if (!this.running && this.panes.every((p) => !p.result && !p.error)) {
          void this.messenger.post({ type: 'idle', message: `Press Run to compute the embedding.${this.restoreNote ? ` ${this.restoreNote}` : ''}` });
        }
        break;
      case 'run': {
        // Layer names are used only when the host listed them for that pane.
        msg.layers.forEach((layer, i) => {
          const p = this.panes[i];
          if (!p) return;
          if (layer === null) p.source = { ...p.source, layer: undefined };
          else if (p.layers?.some((l) => l.name === layer)) p.source = { ...p.source, layer };
        });
        await this.show({ settings: msg.settings });
        break;
      }
      case 'cancel':
        this.cancel?.abort();
        break;
      case 'compare':
        await this.chooseComparison();
        break;
      case 'closeCompare':
        this.closeCompare();
        await this.deps.store.set(this.panelId, this.record());
        break;
      case 'hoverPoint':
        await this.pointInfo(msg.pane, msg.index, msg.requestId);
        break;
      case 'openPoint':
        await this.openPoint(msg.pane, msg.index);
        break;
      case 'rendered': {
        const p = this.panes[msg.pane];
        if (p && msg.final && p.result) {
          p.drawn = msg.points;
          for (const w of this.renderWaiters.splice(0)) w();
        }
        break;
      }
      case 'cspViolation':
        break;
    }
  }
}

function phaseText(phase: EmbedPhase, done: number, total: number): string {
  const n = (v: number) => v.toLocaleString('en-US');
  switch (phase) {
    case 'codes':
      return `features of ${n(done)} / ${n(total)} images`;
    case 'neighbors':
      return `nearest neighbours ${Math.round((100 * done) / Math.max(1, total))}%`;
    case 'affinities':
      return 'affinities';
    case 'optimize':
      return `iteration ${n(done)} / ${n(total)}`;
    case 'quality':
      return 'quality figures';
  }
}

/**
 * Forwards streamed frames with back-pressure: at most one post in flight and at most one every
 * `FRAME_INTERVAL_MS`; frames arriving meanwhile replace each other, so the newest is shown next.
 */
class FrameForwarder {
  private pending: EmbeddingFrame | undefined;
  private busy = false;
  private stopped = false;
  private last = 0;

  constructor(private readonly post: (f: EmbeddingFrame) => Thenable<boolean>) {}

  push(frame: EmbeddingFrame): void {
    if (this.stopped) return;
    this.pending = frame;
    this.pump();
  }

  stop(): void {
    this.stopped = true;
    this.pending = undefined;
  }

  private pump(): void {
    if (this.busy || !this.pending || this.stopped) return;
    const wait = this.last + FRAME_INTERVAL_MS - Date.now();
    this.busy = true;
    const send = () => {
      const frame = this.pending;
      this.pending = undefined;
      if (!frame || this.stopped) {
        this.busy = false;
        return;
      }
      this.last = Date.now();
      Promise.resolve(this.post(frame)).finally(() => {
        this.busy = false;
        this.pump();
      });
    };
    if (wait > 0) setTimeout(send, wait);
    else send();
  }
}
