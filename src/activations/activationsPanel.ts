/**
 * The Activations view: one webview panel per model showing every channel's feature map of one
 * layer for one image. The host runs the engine once per image (every activation point), keeps
 * the result, and sends the webview one layer at a time (typed arrays, no JSON of numbers).
 *
 * The webview names only layers the host listed and dataset indices within the dataset's size;
 * image files come from the host's own open dialog or the command's argument, never the webview.
 * State for restore (model, image, layer) is kept by the host under an opaque panel id.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { EngineHost } from '../engineHost';
import type { ActivationsJobResult, DatasetInfo } from '../engine/jobs';
import {
  validateActivationsMessage,
  type ActivationLayerInfo,
  type ActivationImageInfo,
  type ActivationsHostMessage,
  type ActivationsWebviewMessage,
  type DeadUnits,
} from '../protocol';
import { Disposable } from '../webviewHost/dispose';
import { webviewHtml, webviewOptions } from '../webviewHost/html';
import { WebviewMessenger } from '../webviewHost/messenger';
import { PanelStateStore } from '../webviewHost/panelState';
import { errorMessage, toWireActivations } from '../webviewHost/wire';
import { erfJobArgs, overlaySummary, toWireErf, type ReceptiveFieldOverlaySummary, type UnitSelection } from './unitReceptiveField';

export const ACTIVATIONS_VIEW_TYPE = 'cnnLens.activations';

export type ImageSource = { kind: 'file'; file: string } | { kind: 'dataset'; index: number };

/** Host-side record of a panel, for restore after reload. */
export interface ActivationsRecord {
  model: string;
  image?: ImageSource;
  layer?: string;
}

/** What `cnnLens.inspectActivations` returns: the panel's state. */
export interface ActivationsPanelSummary {
  model: string;
  image?: string;
  imageSource?: 'file' | 'dataset';
  layer?: string;
  layers: string[];
  channels: number;
  shape: number[];
  backend?: string;
  /** Canvases the webview reported drawing for `layer` (0 until it has). */
  renderedCanvases: number;
  /** Channels of `layer` marked dead in the view (the model's last dead-filter scan); [] when none. */
  deadChannels: number[];
  /** The receptive-field overlay of the selected unit, once computed. */
  receptiveField?: ReceptiveFieldOverlaySummary;
  receptiveFieldError?: string;
  error?: string;
}

export interface ActivationsDeps {
  extensionUri: vscode.Uri;
  engine: EngineHost;
  log: vscode.LogOutputChannel;
  store: PanelStateStore<ActivationsRecord>;
  getDeadUnits?: (model: vscode.Uri) => DeadUnits | undefined;
  onDidChangeDeadUnits?: vscode.Event<vscode.Uri | undefined>;
}

export class ActivationsPanel extends Disposable {
  private static readonly panels = new Map<string, ActivationsPanel>();

  private result: ActivationsJobResult | undefined;
  private source: ImageSource | undefined;
  private layer: string | undefined;
  private error: string | undefined;
  private requestId = 0;
  private rendered = { layer: '', canvases: 0 };
  private renderWaiters: (() => void)[] = [];
  private dataset: Promise<DatasetInfo | undefined> | undefined;
  private readonly messenger: WebviewMessenger<ActivationsHostMessage, ActivationsWebviewMessage>;
  private cancel: AbortController | undefined;
  private erfCancel: AbortController | undefined;
  private erf: { summary?: ReceptiveFieldOverlaySummary; error?: string; running?: Promise<void>; pinned?: boolean } = {};
  private overlayWaiters: (() => void)[] = [];

  static forModel(model: vscode.Uri, deps: ActivationsDeps): ActivationsPanel {
    const existing = ActivationsPanel.panels.get(model.fsPath);
    if (existing) {
      existing.panel.reveal(undefined, false);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(
      ACTIVATIONS_VIEW_TYPE,
      `Activations: ${path.basename(path.dirname(model.fsPath))}/${path.basename(model.fsPath)}`,
      { viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
      { ...webviewOptions(deps.extensionUri), retainContextWhenHidden: false },
    );
    return new ActivationsPanel(panel, PanelStateStore.newId(), { model: model.fsPath }, deps);
  }

  /** Restores a panel VS Code kept across a reload, from the host's own record. */
  static restore(panel: vscode.WebviewPanel, panelId: string, record: ActivationsRecord, deps: ActivationsDeps): ActivationsPanel {
    const p = new ActivationsPanel(panel, panelId, record, deps);
    if (record.image) void p.show(record.image, record.layer).catch(() => undefined);
    return p;
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly panelId: string,
    record: ActivationsRecord,
    private readonly deps: ActivationsDeps,
  ) {
    super();
    this.model = vscode.Uri.file(record.model);
    this.layer = record.layer;
    ActivationsPanel.panels.set(this.model.fsPath, this);
    panel.webview.options = webviewOptions(deps.extensionUri);
    this.messenger = this.register(
      new WebviewMessenger(panel.webview, validateActivationsMessage, (m) => this.onMessage(m), deps.log, 'Activations view'),
    );
    panel.webview.html = webviewHtml(panel.webview, deps.extensionUri, 'activations', panel.title);
    this.register(panel.onDidDispose(() => this.dispose()));
    // Without retainContextWhenHidden a hidden webview's document is discarded: nothing is drawn
    // until the recreated one reports `rendered` again.
    this.register(panel.onDidChangeViewState(() => {
      if (!panel.visible) this.rendered = { layer: '', canvases: 0 };
    }));
    if (deps.onDidChangeDeadUnits) {
      this.register(
        deps.onDidChangeDeadUnits((changed) => {
          if (!changed || changed.fsPath === this.model.fsPath) void this.messenger.post({ type: 'deadUnits', deadUnits: this.deadUnits() ?? null });
        }),
      );
    }
  }

  readonly model: vscode.Uri;

  override dispose(): void {
    if (this.isDisposed) return;
    this.cancel?.abort();
    this.erfCancel?.abort();
    for (const w of this.overlayWaiters.splice(0)) w();
    if (ActivationsPanel.panels.get(this.model.fsPath) === this) ActivationsPanel.panels.delete(this.model.fsPath);
    void this.deps.store.delete(this.panelId);
    for (const w of this.renderWaiters.splice(0)) w();
    super.dispose();
  }

  static disposeAll(): void {
    for (const p of [...ActivationsPanel.panels.values()]) p.panel.dispose();
  }

  datasetInfo(): Promise<DatasetInfo | undefined> {
    this.dataset ??= this.deps.engine
      .get()
      .datasetInfo(this.model.fsPath)
      .catch(() => undefined);
    return this.dataset;
  }

  private deadUnits(): DeadUnits | undefined {
    try {
      return this.deps.getDeadUnits?.(this.model);
    } catch {
      return undefined;
    }
  }

  summary(): ActivationsPanelSummary {
    const layer = this.result?.layers.find((l) => l.layer === this.layer);
    return {
      model: this.model.fsPath,
      image: this.result?.image,
      imageSource: this.source?.kind,
      layer: this.layer,
      layers: this.result?.layers.map((l) => l.layer) ?? [],
      channels: layer?.channels ?? 0,
      shape: layer?.shape ?? [],
      backend: this.result?.backend,
      renderedCanvases: this.rendered.layer === this.layer ? this.rendered.canvases : 0,
      deadChannels: layer ? [...(this.deadUnits()?.[layer.layer] ?? [])] : [],
      receptiveField: this.erf.summary && { ...this.erf.summary },
      receptiveFieldError: this.erf.error,
      error: this.error,
    };
  }

  /**
   * Computes the receptive field of one unit of the channel on show and sends it to the webview
   * (the webview's `selectUnit`, or the command's `unit` argument). A newer selection cancels an
   * unfinished one.
   */
  async selectUnit(selection: UnitSelection, from: 'webview' | 'command' = 'command'): Promise<void> {
    // A unit the command chose wins over the one a webview remembers from before, while it runs.
    if (from === 'webview' && this.erf.pinned) return;
    const info = await this.datasetInfo();
    const request = erfJobArgs(this.model.fsPath, this.result, this.source, selection, info?.size);
    if ('error' in request) {
      this.erf = { error: request.error };
      void this.messenger.post({ type: 'receptiveFieldError', message: request.error });
      return;
    }
    this.erfCancel?.abort();
    const controller = (this.erfCancel = new AbortController());
    const requestId = this.requestId;
    const { args } = request;
    void this.messenger.post({ type: 'receptiveFieldLoading', layer: args.layer, channel: selection.channel, unit: selection.unit, images: selection.images });
    const running = (async () => {
      try {
        const many = (args.limit ?? 1) > 1;
        const result = await vscode.window.withProgress(
          {
            location: many ? vscode.ProgressLocation.Notification : vscode.ProgressLocation.Window,
            title: `CNN Lens: receptive field of ${args.layer} #${selection.channel} (${selection.unit[0]}, ${selection.unit[1]})${many ? ` over ${args.limit} images` : ''}`,
            cancellable: many,
          },
          (progress, token) => {
            token.onCancellationRequested(() => controller.abort());
            let last = 0;
            return this.deps.engine.get().effectiveReceptiveField(args, {
              signal: controller.signal,
              onProgress: (done, total) => {
                const pct = total > 0 ? (100 * done) / total : 0;
                progress.report({ increment: pct - last });
                last = pct;
              },
            });
          },
        );
        if (this.isDisposed || controller.signal.aborted) return;
        this.erf = { summary: overlaySummary(result) };
        void this.messenger.post({ type: 'receptiveField', requestId, erf: toWireErf(result) });
      } catch (err) {
        if (this.isDisposed || controller.signal.aborted) return;
        const message = errorMessage(err);
        this.erf = { error: message };
        this.deps.log.error(`Activations: receptive field: ${message}`);
        void this.messenger.post({ type: 'receptiveFieldError', message });
      }
    })();
    this.erf.running = running;
    this.erf.pinned = from === 'command';
    await running;
    if (this.erf.running === running) this.erf.pinned = false;
  }

  /** Resolves when the webview reports the overlay of the last computed unit drawn (or after `timeoutMs`). */
  whenOverlayDrawn(timeoutMs: number): Promise<void> {
    if (!this.erf.summary || this.erf.summary.drawn) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.overlayWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** Resolves when the webview reports it drew the current layer (or after `timeoutMs`). */
  whenRendered(timeoutMs: number): Promise<void> {
    if (this.rendered.layer === this.layer && this.rendered.canvases > 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.renderWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** Runs the engine on `source` (when given) and shows `layer` (default: kept, else the first spatial one). */
  async show(source: ImageSource | undefined, layer?: string): Promise<ActivationsPanelSummary> {
    if (source) {
      this.cancel?.abort();
      const controller = (this.cancel = new AbortController());
      const title = source.kind === 'file' ? path.basename(source.file) : `dataset image #${source.index}`;
      void this.messenger.post({ type: 'loading', message: `Running the model on ${title}…` });
      try {
        const result = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: `CNN Lens: activations of ${title}`, cancellable: true },
          (_p, token) => {
            token.onCancellationRequested(() => controller.abort());
            return this.deps.engine.get().activations(
              { model: this.model.fsPath, ...(source.kind === 'file' ? { image: source.file } : { index: source.index }) },
              { signal: controller.signal },
            );
          },
        );
        if (this.isDisposed) return this.summary();
        this.result = result;
        this.source = source;
        this.error = undefined;
        this.erf = {};
        // A new image: nothing of it is drawn until the webview says so.
        this.rendered = { layer: '', canvases: 0 };
      } catch (err) {
        if (controller.signal.aborted) return this.summary();
        this.error = errorMessage(err);
        this.deps.log.error(`Activations: ${this.error}`);
        void this.messenger.post({ type: 'error', message: this.error });
        void vscode.window.showErrorMessage(`CNN Lens: ${this.error}`);
        return this.summary();
      }
    }
    const result = this.result;
    if (!result) return this.summary();
    const names = result.layers.map((l) => l.layer);
    const wanted = [layer, this.layer].find((l) => l !== undefined && names.includes(l));
    const next = wanted ?? result.layers.find((l) => l.shape.length === 3)?.layer ?? names[0];
    if (next !== this.layer) this.erf = {};
    this.layer = next;
    await this.deps.store.set(this.panelId, { model: this.model.fsPath, image: this.source, layer: this.layer });
    await this.postImage();
    await this.postLayer();
    return this.summary();
  }

  private async postContext(): Promise<void> {
    const info = await this.datasetInfo();
    void this.messenger.post({
      type: 'context',
      panelId: this.panelId,
      modelName: vscode.workspace.asRelativePath(this.model, true),
      backend: this.result?.backend,
      dataset: info ? { size: info.size, classNames: info.classNames } : null,
    });
    void this.messenger.post({ type: 'deadUnits', deadUnits: this.deadUnits() ?? null });
  }

  private async postImage(): Promise<void> {
    const result = this.result;
    if (!result) return;
    const info = await this.datasetInfo();
    const image: ActivationImageInfo =
      this.source?.kind === 'dataset'
        ? {
            title: `Dataset image #${this.source.index}`,
            source: 'dataset',
            index: this.source.index,
            label: result.label,
            className: result.label !== undefined ? info?.classNames?.[result.label] : undefined,
          }
        : { title: vscode.workspace.asRelativePath(result.image, true), source: 'file' };
    const layers: ActivationLayerInfo[] = result.layers.map((l) => ({ name: l.layer, className: l.className, shape: l.shape, channels: l.channels }));
    this.requestId++;
    void this.messenger.post({ type: 'image', requestId: this.requestId, image, input: result.input, inputShape: result.inputShape, layers });
  }

  private async postLayer(): Promise<void> {
    const layer = this.result?.layers.find((l) => l.layer === this.layer);
    if (!layer) return;
    const dead = this.deadUnits()?.[layer.layer] ?? [];
    void this.messenger.post({ type: 'layer', requestId: this.requestId, activations: toWireActivations(layer), dead });
  }

  private async onMessage(msg: ActivationsWebviewMessage): Promise<void> {
    switch (msg.type) {
      case 'ready':
        this.rendered = { layer: '', canvases: 0 };
        await this.postContext();
        if (this.result) {
          await this.postImage();
          await this.postLayer();
        } else if (this.error) {
          void this.messenger.post({ type: 'error', message: this.error });
        }
        break;
      case 'selectLayer':
        if (this.result?.layers.some((l) => l.layer === msg.layer)) await this.show(undefined, msg.layer);
        break;
      case 'selectDatasetImage': {
        const info = await this.datasetInfo();
        if (info && msg.index < info.size) await this.show({ kind: 'dataset', index: msg.index });
        else void this.messenger.post({ type: 'error', message: info ? `The dataset has ${info.size} images (0–${info.size - 1}).` : 'This model has no dataset configured.' });
        break;
      }
      case 'pickImageFile': {
        const file = await pickImageFile(this.model);
        if (file) await this.show({ kind: 'file', file: file.fsPath });
        break;
      }
      case 'rendered':
        this.rendered = { layer: msg.layer, canvases: msg.canvases };
        if (msg.layer === this.layer) for (const w of this.renderWaiters.splice(0)) w();
        break;
      case 'selectUnit':
        await this.selectUnit({ layer: msg.layer, channel: msg.channel, unit: msg.unit, images: msg.images }, 'webview');
        break;
      case 'overlayRendered': {
        const s = this.erf.summary;
        if (s && s.layer === msg.layer && s.channel === msg.channel && s.unit[0] === msg.unit[0] && s.unit[1] === msg.unit[1]) {
          s.drawn = { box: msg.box, heatmap: msg.heatmap };
          for (const w of this.overlayWaiters.splice(0)) w();
        }
        break;
      }
      case 'cspViolation':
        break;
    }
  }
}

export async function pickImageFile(near?: vscode.Uri): Promise<vscode.Uri | undefined> {
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false,
    openLabel: 'Inspect Activations',
    defaultUri: near ? vscode.Uri.file(path.dirname(near.fsPath)) : vscode.workspace.workspaceFolders?.[0]?.uri,
    filters: { Images: ['png', 'jpg', 'jpeg'] },
  });
  return picked?.[0];
}
