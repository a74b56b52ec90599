/**
 * The Training view's webview: one transfer-learning run (new classifier head, or fine-tuning).
 * Header with the run's status, live progress and a Cancel button; the plan (classes, images,
 * trainable vs frozen parameters, the settings, the layers); curves of loss and accuracy per
 * epoch, seconds per epoch, dead units per layer per epoch; and, when done, the outcome with the
 * validation accuracy before and after and buttons to open the new model or compare embeddings.
 *
 * Everything comes from the host (re-sent after `ready`, so hiding or reloading the view loses
 * nothing); the webview keeps only its panel id in `vscode.setState`.
 */
import { LitElement, css, html, nothing, svg } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import type {
  TrainingHostMessage,
  TrainingStatus,
  TrainingWebviewMessage,
  TrainingWebviewState,
  WireEpochReport,
  WireTrainingOutcome,
  WireTrainingPlan,
} from '../../src/protocol';
import '../shared/elements';
import '../components/training-curves';
import '../components/epoch-time-chart';
import '../components/dead-filters-chart';
import { HostChannel } from '../shared/host';
import { formatInt, formatPercent } from '../shared/format';
import { baseStyles } from '../shared/styles';
import { formatSeconds } from '../components/epoch-time-chart';

type Context = Extract<TrainingHostMessage, { type: 'context' }>;

const STATUS_LABEL: Record<TrainingStatus, string> = {
  starting: 'Starting',
  running: 'Training',
  finished: 'Finished',
  cancelled: 'Cancelled',
  failed: 'Failed',
  interrupted: 'Interrupted',
};

@customElement('cnn-lens-training-app')
export class TrainingApp extends LitElement {
  private readonly host = new HostChannel<TrainingWebviewMessage, TrainingHostMessage, TrainingWebviewState>();

  @state() private ctx: Context | undefined;
  @state() private epochs: WireEpochReport[] = [];
  @state() private status: TrainingStatus = 'starting';
  @state() private statusMessage: string | undefined;
  @state() private progress: { message: string; fraction: number } | undefined;
  @state() private outcome: WireTrainingOutcome | undefined;
  @state() private error: string | undefined;
  @state() private cancelling = false;
  private reportedEpochs = -1;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
        padding: 8px 16px 24px;
      }
      .status-line {
        display: flex;
        flex-wrap: wrap;
        gap: 8px 12px;
        align-items: center;
        margin-bottom: 8px;
      }
      .bar {
        flex: 1 1 200px;
        max-width: 420px;
        height: 6px;
        background: var(--vscode-editorWidget-background, var(--vscode-input-background, transparent));
        border: 1px solid var(--vscode-editorWidget-border, var(--vscode-panel-border, transparent));
      }
      .bar rect {
        fill: var(--vscode-progressBar-background, var(--vscode-charts-blue));
      }
      .facts {
        display: grid;
        grid-template-columns: max-content 1fr;
        gap: 2px 16px;
        margin: 4px 0 8px;
      }
      .facts dt {
        color: var(--vscode-descriptionForeground);
      }
      .facts dd {
        margin: 0;
        font-variant-numeric: tabular-nums;
      }
      .params rect.trainable {
        fill: var(--vscode-charts-green, var(--vscode-foreground));
      }
      .params rect.frozen {
        fill: var(--vscode-descriptionForeground);
        opacity: 0.35;
      }
      .params {
        display: block;
        width: 320px;
        height: 8px;
        margin-top: 2px;
      }
      section {
        margin-top: 12px;
      }
      .outcome {
        border: 1px solid var(--vscode-editorWidget-border, var(--vscode-panel-border, transparent));
        background: var(--vscode-editorWidget-background, transparent);
        padding: 8px 12px;
        max-width: 760px;
      }
      .outcome .big {
        font-size: 1.25em;
        font-variant-numeric: tabular-nums;
      }
      .actions {
        display: flex;
        flex-wrap: wrap;
        gap: 8px;
        margin-top: 8px;
      }
      table.layers {
        border-collapse: collapse;
        font-variant-numeric: tabular-nums;
      }
      table.layers th,
      table.layers td {
        padding: 1px 10px 1px 0;
        text-align: left;
      }
      table.layers td.num {
        text-align: right;
      }
      .frozen-cell {
        color: var(--vscode-descriptionForeground);
      }
      .settings {
        display: flex;
        flex-wrap: wrap;
        gap: 2px 16px;
      }
      .settings span b {
        font-weight: normal;
        color: var(--vscode-descriptionForeground);
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    this.host.onMessage((m) => this.onMessage(m));
    this.host.post({ type: 'ready' });
  }

  private onMessage(m: TrainingHostMessage): void {
    switch (m.type) {
      case 'loading':
        this.statusMessage = m.message;
        break;
      case 'error':
        this.error = m.message;
        break;
      case 'context':
        this.ctx = m;
        this.host.patchState({ panelId: m.panelId });
        break;
      case 'epochs':
        this.epochs = m.epochs;
        break;
      case 'progress':
        this.progress = { message: m.message, fraction: m.fraction };
        break;
      case 'status':
        this.status = m.status;
        this.statusMessage = m.message;
        this.outcome = m.outcome;
        if (m.status !== 'running' && m.status !== 'starting') this.cancelling = false;
        break;
    }
  }

  private onCurvesRendered(e: CustomEvent<{ epochs: number }>): void {
    if (e.detail.epochs === this.reportedEpochs) return;
    this.reportedEpochs = e.detail.epochs;
    this.host.post({ type: 'rendered', epochs: e.detail.epochs });
  }

  private cancel(): void {
    this.cancelling = true;
    this.host.post({ type: 'cancel' });
  }

  override render() {
    if (this.error && !this.ctx) return html`<h1>CNN Lens training</h1><div class="error" role="alert">${this.error}</div>`;
    const ctx = this.ctx;
    if (!ctx) {
      return html`<div class="status-line" role="status"><vscode-progress-ring></vscode-progress-ring><span>${this.statusMessage ?? 'Waiting for the extension…'}</span></div>`;
    }
    const best = this.outcome?.best.epoch ?? this.bestSoFar();
    const running = this.status === 'running' || this.status === 'starting';
    // Epochs on the x axis: the planned ones while few (the curves grow into them), else the ones
    // run, so 200 planned epochs do not squeeze the first points into a corner; all run when done.
    const span = Math.max(1, this.epochs.length, running ? Math.min(ctx.totalEpochs, 10) : 0);
    return html`
      <h1>${ctx.title} <span class="muted">— ${ctx.modelLabel}</span></h1>
      ${this.renderStatus()}
      ${this.outcome ? this.renderOutcome(this.outcome, ctx) : nothing}
      ${this.status === 'failed' && this.statusMessage ? html`<div class="error" role="alert">${this.statusMessage}</div>` : nothing}
      <section aria-label="Curves">
        <h2>Loss and accuracy</h2>
        <training-curves
          .epochs=${this.epochs}
          .totalEpochs=${span}
          .bestEpoch=${best}
          @curves-rendered=${(e: CustomEvent<{ epochs: number }>) => this.onCurvesRendered(e)}
        ></training-curves>
      </section>
      <section aria-label="Time per epoch">
        <h2>Time per epoch</h2>
        <epoch-time-chart .epochs=${this.epochs} .totalEpochs=${span}></epoch-time-chart>
      </section>
      <section aria-label="Dead units">
        <h2>Dead units per layer</h2>
        <dead-filters-chart .epochs=${this.epochs} .layers=${ctx.plan.layers.map((l) => l.name)}></dead-filters-chart>
      </section>
      ${this.renderPlan(ctx.plan, ctx)}
    `;
  }

  /** Lowest validation loss so far (the engine keeps that checkpoint). */
  private bestSoFar(): number {
    let best = 0;
    let loss = Infinity;
    for (const r of this.epochs) if (r.valLoss < loss) [best, loss] = [r.epoch, r.valLoss];
    return best;
  }

  private renderStatus() {
    const running = this.status === 'running' || this.status === 'starting';
    const fraction = running ? (this.progress?.fraction ?? 0) : this.status === 'finished' ? 1 : (this.progress?.fraction ?? 0);
    // Once finished, the outcome box says what the status message would.
    const message = running ? (this.progress?.message ?? this.statusMessage ?? '') : this.outcome || this.status === 'failed' ? '' : (this.statusMessage ?? '');
    return html`
      <div class="status-line" role="status" aria-live="polite">
        <vscode-badge class="status" data-status=${this.status}>${STATUS_LABEL[this.status]}</vscode-badge>
        ${running ? html`<vscode-progress-ring></vscode-progress-ring>` : nothing}
        <svg class="bar" viewBox="0 0 100 6" preserveAspectRatio="none" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=${Math.round(fraction * 100)}>
          <rect x="0" y="0" height="6" width=${Math.max(0, Math.min(1, fraction)) * 100}></rect>
        </svg>
        <span class="message">${message}</span>
        ${running
          ? html`<vscode-button secondary ?disabled=${this.cancelling} @click=${() => this.cancel()}>${this.cancelling ? 'Cancelling…' : 'Cancel'}</vscode-button>`
          : nothing}
      </div>
    `;
  }

  private renderOutcome(o: WireTrainingOutcome, ctx: Context) {
    const acc = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '—' : formatPercent(v));
    const notes = [
      o.cancelled ? `Cancelled; the best checkpoint so far (epoch ${o.best.epoch}) was kept.` : '',
      o.stoppedEarly ? `Stopped early: the validation loss stopped improving; the weights of epoch ${o.best.epoch} were kept.` : '',
    ].filter(Boolean);
    return html`
      <section class="outcome" aria-label="Outcome">
        <div class="big" data-role="accuracy">
          Validation accuracy:
          ${o.before ? html`<span data-role="before">${acc(o.before.valAcc)}</span> before →` : nothing}
          <strong data-role="after">${acc(o.best.valAcc)}</strong>${o.before ? ' after' : ''}
          <span class="muted">(best epoch ${o.best.epoch}, validation loss ${o.best.valLoss.toFixed(4)})</span>
        </div>
        ${o.before === undefined
          ? html`<div class="muted">${ctx.mode === 'head' ? 'The base model has no output for these classes, so there is no "before" accuracy.' : 'No accuracy before training was measured.'}</div>`
          : nothing}
        ${notes.map((n) => html`<div>${n}</div>`)}
        <div class="muted">
          ${o.outLabel ? html`Saved as <span data-role="out">${o.outLabel}</span>` : 'Nothing was saved.'} · ${formatSeconds(o.seconds)} in total
        </div>
        <div class="actions">
          ${o.outLabel ? html`<vscode-button @click=${() => this.host.post({ type: 'openModel' })}>Open Model</vscode-button>` : nothing}
          ${o.outLabel && o.canCompare
            ? html`<vscode-button secondary @click=${() => this.host.post({ type: 'compareEmbeddings' })}>Compare Embeddings</vscode-button>`
            : nothing}
        </div>
      </section>
    `;
  }

  private renderPlan(plan: WireTrainingPlan, ctx: Context) {
    const total = plan.trainableParams + plan.frozenParams;
    const share = total > 0 ? plan.trainableParams / total : 0;
    const classes = plan.classNames.length;
    return html`
      <section aria-label="Plan">
        <h2>Plan</h2>
        <dl class="facts">
          <dt>Data</dt>
          <dd>${ctx.dataLabel} — ${classes} classes: ${plan.classNames.join(', ')}</dd>
          <dt>Images</dt>
          <dd>${formatInt(plan.trainImages)} training · ${formatInt(plan.validationImages)} validation</dd>
          <dt>Parameters</dt>
          <dd>
            <span data-role="trainable">${formatInt(plan.trainableParams)}</span> trainable (${formatPercent(share)}) ·
            <span data-role="frozen">${formatInt(plan.frozenParams)}</span> frozen
            <svg class="params" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true">
              ${svg`<rect class="frozen" x="0" y="0" width="100" height="8"></rect><rect class="trainable" x="0" y="0" width=${Math.max(share * 100, share > 0 ? 0.5 : 0)} height="8"></rect>`}
            </svg>
          </dd>
          ${plan.cutAt ? html`<dt>Cut at</dt><dd>${plan.cutAt} (layers after it are replaced by the new head)</dd>` : nothing}
          <dt>Output</dt>
          <dd>${ctx.outLabel}</dd>
        </dl>
        <div class="settings">${ctx.settings.map((s) => html`<span><b>${s.name}</b> ${s.value}</span>`)}</div>
        <details>
          <summary>Layers (${plan.layers.filter((l) => l.trainable).length} trainable of ${plan.layers.length})</summary>
          <table class="layers">
            <thead><tr><th>Layer</th><th>Class</th><th>Parameters</th><th>Training</th></tr></thead>
            <tbody>
              ${plan.layers.map(
                (l) => html`<tr data-layer=${l.name}>
                  <td>${l.name}</td>
                  <td>${l.className}</td>
                  <td class="num">${formatInt(l.params)}</td>
                  <td class=${l.trainable ? '' : 'frozen-cell'}>${l.trainable ? 'trainable' : l.params > 0 ? 'frozen' : '—'}</td>
                </tr>`,
              )}
            </tbody>
          </table>
        </details>
      </section>
    `;
  }
}
