/**
 * The "CNN Lens" model editor's webview: header with totals, backend and dataset, entry points to
 * the other views, and the virtualised layer table. Data comes from the host after `ready`; the
 * table's scroll position and active row live in `vscode.setState`, so hiding or reloading the
 * editor brings it back where it was.
 */
import { LitElement, css, html } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import type {
  DeadUnits,
  ModelEditorHostMessage,
  ModelEditorWebviewMessage,
  ModelEditorWebviewState,
  WireDatasetInfo,
  WireLayerReceptiveField,
  WireModelSummary,
} from '../../src/protocol';
import '../shared/elements';
import '../components/layer-table';
import { HostChannel } from '../shared/host';
import { formatCompact, formatInt, formatShape } from '../shared/format';
import { baseStyles } from '../shared/styles';

type Status = { kind: 'loading'; message: string } | { kind: 'error'; message: string } | { kind: 'ready' };

@customElement('cnn-lens-model-editor-app')
export class ModelEditorApp extends LitElement {
  private readonly host = new HostChannel<ModelEditorWebviewMessage, ModelEditorHostMessage, ModelEditorWebviewState>();
  @state() private status: Status = { kind: 'loading', message: 'Loading the model…' };
  @state() private model: { fileName: string; backend: string; summary: WireModelSummary } | undefined;
  @state() private datasetInfo: WireDatasetInfo | null | undefined;
  @state() private datasetNote: string | undefined;
  @state() private deadUnits: DeadUnits | null = null;
  @state() private receptiveFields: { layers: ReadonlyMap<string, WireLayerReceptiveField>; erf: 'none' | 'computing' | 'done'; note?: string } | undefined;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: flex;
        flex-direction: column;
        height: 100vh;
        box-sizing: border-box;
        padding: 8px 16px 12px;
      }
      header {
        flex: none;
      }
      .facts {
        display: flex;
        flex-wrap: wrap;
        gap: 4px 20px;
        margin: 4px 0 8px;
      }
      .facts div {
        display: flex;
        gap: 6px;
        align-items: baseline;
      }
      .facts dt {
        color: var(--vscode-descriptionForeground);
      }
      .facts dd {
        margin: 0;
        font-variant-numeric: tabular-nums;
      }
      .actions {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 8px;
        margin: 8px 0 12px;
      }
      layer-table {
        flex: 1;
        min-height: 160px;
      }
      .status {
        display: flex;
        gap: 8px;
        align-items: center;
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    this.host.onMessage((m) => this.onMessage(m));
    this.host.post({ type: 'ready' });
  }

  private onMessage(m: ModelEditorHostMessage): void {
    switch (m.type) {
      case 'loading':
        if (!this.model) this.status = { kind: 'loading', message: m.message };
        break;
      case 'error':
        this.status = { kind: 'error', message: m.message };
        this.model = undefined;
        break;
      case 'model':
        this.model = { fileName: m.fileName, backend: m.backend, summary: m.summary };
        this.status = { kind: 'ready' };
        break;
      case 'dataset':
        this.datasetInfo = m.dataset;
        this.datasetNote = m.note;
        break;
      case 'deadUnits':
        this.deadUnits = m.deadUnits;
        break;
      case 'receptiveFields':
        this.receptiveFields = { layers: new Map(m.layers.map((l) => [l.name, l])), erf: m.erf, note: m.note };
        break;
    }
  }

  private datasetText() {
    if (this.datasetInfo === undefined) return html`<span class="muted">…</span>`;
    if (this.datasetInfo === null) return html`<span class="muted" title=${this.datasetNote ?? ''}>none configured</span>`;
    const d = this.datasetInfo;
    return html`<span title=${d.label}>${d.label} (${formatInt(d.size)} images${d.classNames ? `, ${d.classNames.length} classes` : ''})</span>`;
  }

  override render() {
    if (this.status.kind === 'error') {
      return html`<h1>CNN Lens</h1>
        <div class="error" role="alert">Cannot show this model.\n${this.status.message}</div>
        <div class="actions"><vscode-button secondary @click=${() => this.host.post({ type: 'reload' })}>Try again</vscode-button></div>`;
    }
    if (this.status.kind === 'loading' || !this.model) {
      const message = this.status.kind === 'loading' ? this.status.message : 'Loading…';
      return html`<div class="status" role="status"><vscode-progress-ring></vscode-progress-ring><span>${message}</span></div>`;
    }
    const { summary, backend, fileName } = this.model;
    const deadTotal = this.deadUnits ? Object.values(this.deadUnits).reduce((a, d) => a + d.length, 0) : undefined;
    const state = this.host.state;
    return html`
      <header>
        <h1>${summary.name} <span class="muted">— ${fileName}</span></h1>
        <dl class="facts" aria-label="Model facts">
          <div><dt>Format</dt><dd>${summary.format}</dd></div>
          <div><dt>Input</dt><dd>${formatShape([summary.input.height, summary.input.width, summary.input.channels])}</dd></div>
          <div><dt>Layers</dt><dd>${formatInt(summary.layers.length)}</dd></div>
          <div><dt>Parameters</dt><dd title="${formatInt(summary.totals.trainableParams)} trainable, ${formatInt(summary.totals.nonTrainableParams)} non-trainable">${formatInt(summary.totals.params)}</dd></div>
          <div>
            <dt>FLOPs</dt>
            <dd title=${summary.flopsConvention}>${formatCompact(summary.totals.flops)}${summary.totals.uncountedLayers.length ? ' (lower bound)' : ''}</dd>
          </div>
          <div><dt>Backend</dt><dd><vscode-badge>${backend}</vscode-badge></dd></div>
          <div><dt>Dataset</dt><dd>${this.datasetText()}</dd></div>
          ${deadTotal !== undefined ? html`<div><dt>Dead filters</dt><dd><vscode-badge variant="counter">${deadTotal}</vscode-badge></dd></div>` : ''}
        </dl>
        <div class="actions">
          <vscode-button @click=${() => this.openActivations()}>Inspect Activations</vscode-button>
          <vscode-button secondary @click=${() => this.host.post({ type: 'openFilters' })}>Show Filters</vscode-button>
          <vscode-button secondary @click=${() => this.host.post({ type: 'scanDeadFilters' })}>Scan for Dead Filters</vscode-button>
          <vscode-button secondary @click=${() => this.host.post({ type: 'openEmbedding' })}>Show Embedding</vscode-button>
          <vscode-button
            secondary
            title="Effective receptive field radii of every spatial layer over the first dataset images (gradients; takes a while)"
            ?disabled=${!this.receptiveFields || this.receptiveFields.erf === 'computing' || !this.datasetInfo}
            @click=${() => this.host.post({ type: 'computeEffectiveRf' })}
            >Compute effective RF</vscode-button
          >
          ${this.receptiveFields?.note ? html`<span class="muted rf-note" role="status">${this.receptiveFields.note}</span>` : ''}
        </div>
      </header>
      <layer-table
        .layers=${summary.layers}
        .deadUnits=${this.deadUnits}
        .receptiveFields=${this.receptiveFields?.layers ?? null}
        .activeRow=${state.activeRow ?? 0}
        .initialScrollTop=${state.scrollTop ?? 0}
        @table-state=${(e: CustomEvent<{ scrollTop: number; activeRow: number }>) => this.host.patchState(e.detail)}
        @layer-activate=${(e: CustomEvent<{ layer: string }>) => this.host.post({ type: 'openActivations', layer: e.detail.layer })}
      ></layer-table>
    `;
  }

  private openActivations(): void {
    const row = this.host.state.activeRow;
    const layer = row !== undefined ? this.model?.summary.layers[row]?.name : undefined;
    this.host.post(layer ? { type: 'openActivations', layer } : { type: 'openActivations' });
  }
}
