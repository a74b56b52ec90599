/**
 * The Training view: one webview panel per training run, fed by the command that runs it
 * (`trainCommands.ts`): the plan once, every finished epoch, progress within an epoch, and the
 * outcome. The host keeps the whole run in a record (a few numbers per epoch) and re-sends it
 * when the webview (re)loads; the record is also stored under the panel's opaque id, so after a
 * window reload the view comes back with its curves (a run that was still going is shown as
 * interrupted: training stops with the extension host).
 *
 * The webview can ask to cancel, to open the trained model, or to compare embeddings; it never
 * names a file — the host acts on the paths in its own record.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  validateTrainingMessage,
  type TrainingHostMessage,
  type TrainingStatus,
  type TrainingWebviewMessage,
  type WireEpochReport,
  type WireTrainingMode,
  type WireTrainingOutcome,
  type WireTrainingPlan,
} from '../protocol';
import { Disposable } from '../webviewHost/dispose';
import { webviewHtml, webviewOptions } from '../webviewHost/html';
import { WebviewMessenger } from '../webviewHost/messenger';
import { PanelStateStore } from '../webviewHost/panelState';

export const TRAINING_VIEW_TYPE = 'cnnLens.training';

/** Everything the view shows about one run (host-side; paths never go to the webview). */
export interface TrainingRecord {
  mode: WireTrainingMode;
  title: string;
  /** Base model file. */
  model: string;
  data: string;
  /** Output folder chosen for the new model. */
  out: string;
  settings: { name: string; value: string }[];
  plan: WireTrainingPlan;
  totalEpochs: number;
  epochs: WireEpochReport[];
  status: TrainingStatus;
  statusMessage?: string;
  outcome?: WireTrainingOutcome;
  /** The saved model's `model.json`, once written. */
  savedModel?: string;
}

/** The view's state as tests and the command see it. */
export interface TrainingViewSummary {
  status: TrainingStatus;
  epochs: number;
  /** Epochs the webview reported drawing in the curves. */
  renderedEpochs: number;
  visible: boolean;
}

export interface TrainingPanelDeps {
  extensionUri: vscode.Uri;
  log: vscode.LogOutputChannel;
  store: PanelStateStore<TrainingRecord>;
  openModel: (modelJson: vscode.Uri) => Thenable<unknown>;
  /** Shows both models' embeddings; offered only while `canCompare` says the embedding view exists. */
  compareEmbeddings: (base: vscode.Uri, trained: vscode.Uri) => Thenable<unknown>;
  canCompare: () => Promise<boolean>;
}

function label(p: string): string {
  return vscode.workspace.asRelativePath(p);
}

export class TrainingPanel extends Disposable {
  private static readonly panels = new Set<TrainingPanel>();
  private readonly messenger: WebviewMessenger<TrainingHostMessage, TrainingWebviewMessage>;
  private readonly cancelEmitter = new vscode.EventEmitter<void>();
  /** Fires when the user presses Cancel in the view. */
  readonly onDidRequestCancel = this.cancelEmitter.event;
  private progressState: { message: string; fraction: number } | undefined;
  private renderedEpochs = 0;
  private renderWaiters: { epochs: number; resolve: () => void }[] = [];

  static create(record: TrainingRecord, deps: TrainingPanelDeps): TrainingPanel {
    const panel = vscode.window.createWebviewPanel(
      TRAINING_VIEW_TYPE,
      `Training: ${path.basename(record.out)}`,
      { viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
      { ...webviewOptions(deps.extensionUri), retainContextWhenHidden: false },
    );
    return new TrainingPanel(panel, PanelStateStore.newId(), record, deps);
  }

  /** A panel VS Code kept across a window reload: the run it showed ended with the old extension host. */
  static restore(panel: vscode.WebviewPanel, panelId: string, record: TrainingRecord, deps: TrainingPanelDeps): TrainingPanel {
    const restored =
      record.status === 'running' || record.status === 'starting'
        ? { ...record, status: 'interrupted' as const, statusMessage: 'Training stopped when the window was reloaded; nothing was saved.' }
        : record;
    return new TrainingPanel(panel, panelId, restored, deps);
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly panelId: string,
    private record: TrainingRecord,
    private readonly deps: TrainingPanelDeps,
  ) {
    super();
    TrainingPanel.panels.add(this);
    panel.webview.options = webviewOptions(deps.extensionUri);
    this.register(this.cancelEmitter);
    this.messenger = this.register(
      new WebviewMessenger(panel.webview, validateTrainingMessage, (m) => this.onMessage(m), deps.log, 'Training view'),
    );
    panel.webview.html = webviewHtml(panel.webview, deps.extensionUri, 'training', panel.title);
    this.register(panel.onDidDispose(() => this.dispose()));
    this.register(
      panel.onDidChangeViewState(() => {
        // A hidden webview's document is discarded: nothing is drawn until the new one reports.
        if (!panel.visible) this.renderedEpochs = 0;
      }),
    );
    void this.save();
  }

  override dispose(): void {
    if (this.isDisposed) return;
    TrainingPanel.panels.delete(this);
    void this.deps.store.delete(this.panelId);
    for (const w of this.renderWaiters.splice(0)) w.resolve();
    super.dispose();
  }

  static disposeAll(): void {
    for (const p of [...TrainingPanel.panels]) p.panel.dispose();
  }

  get status(): TrainingStatus {
    return this.record.status;
  }

  summary(): TrainingViewSummary {
    return { status: this.record.status, epochs: this.record.epochs.length, renderedEpochs: this.renderedEpochs, visible: this.panel.visible };
  }

  /** Resolves once the webview reports curves with at least `epochs` epochs (or after `timeoutMs`). */
  whenRendered(epochs: number, timeoutMs: number): Promise<void> {
    if (this.renderedEpochs >= epochs) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.renderWaiters.push({
        epochs,
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
      });
    });
  }

  reveal(): void {
    this.panel.reveal(undefined, true);
  }

  private save(): Promise<void> {
    return this.deps.store.set(this.panelId, this.record);
  }

  setStatus(status: TrainingStatus, message?: string): void {
    this.record = { ...this.record, status, statusMessage: message };
    void this.postStatus();
    void this.save();
  }

  progress(message: string, fraction: number): void {
    this.progressState = { message, fraction: Math.max(0, Math.min(1, fraction)) };
    if (!this.isDisposed) void this.messenger.post({ type: 'progress', ...this.progressState });
  }

  addEpoch(report: WireEpochReport): void {
    this.record = { ...this.record, epochs: [...this.record.epochs.filter((e) => e.epoch !== report.epoch), report] };
    if (!this.isDisposed) void this.messenger.post({ type: 'epochs', epochs: this.record.epochs });
    void this.save();
  }

  /** The run ended: its final epochs (the engine's list is authoritative), outcome and saved model. */
  finish(status: TrainingStatus, epochs: WireEpochReport[], outcome: WireTrainingOutcome | undefined, savedModel: string | undefined, message?: string): void {
    this.record = { ...this.record, status, epochs, outcome, savedModel, statusMessage: message };
    this.progressState = undefined;
    if (!this.isDisposed) void this.messenger.post({ type: 'epochs', epochs });
    void this.postStatus();
    void this.save();
  }

  private async postStatus(): Promise<void> {
    if (this.isDisposed) return;
    const outcome = this.record.outcome ? { ...this.record.outcome, canCompare: await this.deps.canCompare() } : undefined;
    void this.messenger.post({ type: 'status', status: this.record.status, message: this.record.statusMessage, outcome });
  }

  private async onMessage(msg: TrainingWebviewMessage): Promise<void> {
    const r = this.record;
    switch (msg.type) {
      case 'ready':
        this.renderedEpochs = 0;
        void this.messenger.post({
          type: 'context',
          panelId: this.panelId,
          title: r.title,
          mode: r.mode,
          modelLabel: label(r.model),
          dataLabel: label(r.data),
          outLabel: label(r.out),
          settings: r.settings,
          plan: r.plan,
          totalEpochs: r.totalEpochs,
        });
        void this.messenger.post({ type: 'epochs', epochs: r.epochs });
        if (this.progressState) void this.messenger.post({ type: 'progress', ...this.progressState });
        await this.postStatus();
        break;
      case 'cancel':
        if (r.status === 'running' || r.status === 'starting') this.cancelEmitter.fire();
        break;
      case 'openModel':
        if (r.savedModel) await this.deps.openModel(vscode.Uri.file(r.savedModel));
        break;
      case 'compareEmbeddings':
        if (r.savedModel && (await this.deps.canCompare())) {
          await this.deps.compareEmbeddings(vscode.Uri.file(r.model), vscode.Uri.file(r.savedModel));
        }
        break;
      case 'rendered':
        this.renderedEpochs = msg.epochs;
        for (const w of this.renderWaiters.filter((x) => x.epochs <= msg.epochs)) {
          this.renderWaiters.splice(this.renderWaiters.indexOf(w), 1);
          w.resolve();
        }
        break;
      case 'cspViolation':
        break;
    }
  }
}
