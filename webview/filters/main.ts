/**
 * The Filters view's webview: a table of the model's conv layers (filters, kernel, noisy count),
 * and for the selected layer its kernels as tiles with roughness scores and its weight
 * histogram. ←/→ (outside the select) step through layers. The selected layer lives in
 * `vscode.setState`; the data is re-sent by the host on `ready`.
 */
import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import {
  asFloat32Array,
  filterNoiseVerdict,
  type FiltersHostMessage,
  type FiltersWebviewMessage,
  type FiltersWebviewState,
  type WireFilterTiles,
} from '../../src/protocol';
import '../shared/elements';
import '../components/filter-tiles';
import '../components/weight-histogram';
import { HostChannel } from '../shared/host';
import { ViewStatus } from '../shared/viewStatus';
import { formatInt } from '../shared/format';
import { baseStyles } from '../shared/styles';

function normalise(l: WireFilterTiles): WireFilterTiles {
  return { ...l, tiles: asFloat32Array(l.tiles), weightMin: asFloat32Array(l.weightMin), weightMax: asFloat32Array(l.weightMax) };
}

@customElement('cnn-lens-filters-app')
export class FiltersApp extends LitElement {
  private readonly host = new HostChannel<FiltersWebviewMessage, FiltersHostMessage, FiltersWebviewState>();
  private readonly status = new ViewStatus(this);
  @state() private modelName = '';
  @state() private backend = '';
  @state() private layers: WireFilterTiles[] = [];
  @state() private selected = '';

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
        padding: 8px 16px 16px;
      }
      table {
        border-collapse: collapse;
        margin-bottom: 12px;
      }
      th,
      td {
        text-align: left;
        padding: 2px 12px 2px 4px;
        font-variant-numeric: tabular-nums;
      }
      th {
        border-bottom: 1px solid var(--vscode-editorWidget-border, var(--vscode-panel-border, transparent));
      }
      tr.layer-row {
        cursor: pointer;
      }
      tr.layer-row:hover {
        background: var(--vscode-list-hoverBackground);
      }
      tr.layer-row[aria-selected='true'] {
        background: var(--vscode-list-inactiveSelectionBackground);
        outline: 1px solid var(--vscode-contrastActiveBorder, transparent);
      }
      tr.layer-row:focus-visible {
        outline: 1px solid var(--vscode-focusBorder);
      }
      .warn {
        color: var(--vscode-editorWarning-foreground, var(--vscode-list-warningForeground));
        font-weight: 600;
      }
      .detail {
        display: flex;
        flex-wrap: wrap;
        gap: 16px;
        align-items: flex-start;
      }
      filter-tiles {
        flex: 1;
        min-width: 240px;
      }
      .toolbar {
        display: flex;
        gap: 8px;
        align-items: center;
        margin: 8px 0;
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    this.selected = this.host.state.layer ?? '';
    this.host.onMessage((m) => this.onMessage(m));
    window.addEventListener('keydown', this.onKeyDown);
    this.host.post({ type: 'ready' });
  }

  override disconnectedCallback(): void {
    window.removeEventListener('keydown', this.onKeyDown);
    super.disconnectedCallback();
  }

  private onMessage(m: FiltersHostMessage): void {
    if (this.status.handle(m)) return;
    switch (m.type) {
      case 'filters': {
        this.layers = m.layers.map(normalise);
        this.modelName = m.modelName;
        this.backend = m.backend;
        this.status.clear();
        const names = this.layers.map((l) => l.layer);
        const pick = [m.selectedLayer, this.selected].find((n) => n && names.includes(n)) ?? names[0] ?? '';
        this.select(pick);
        this.host.patchState({ panelId: m.panelId });
        break;
      }
    }
  }

  private select(layer: string): void {
    this.selected = layer;
    this.host.patchState({ layer });
  }

  private readonly onKeyDown = (e: KeyboardEvent): void => {
    if (e.composedPath().some((el) => el instanceof HTMLElement && /^(INPUT|TEXTAREA|SELECT|VSCODE-SINGLE-SELECT)$/.test(el.tagName))) return;
    const step = { ArrowRight: 1, PageDown: 1, ArrowLeft: -1, PageUp: -1 }[e.key];
    if (step === undefined || !this.layers.length) return;
    const i = this.layers.findIndex((l) => l.layer === this.selected);
    const next = Math.max(0, Math.min(this.layers.length - 1, i + step));
    this.select(this.layers[next].layer);
    e.preventDefault();
  };

  private noiseCell(l: WireFilterTiles) {
    const v = filterNoiseVerdict(l);
    return html`<td class=${v.warn ? 'warn' : ''} title=${`${v.layer} ${v.filters}`}>${v.cell}</td>`;
  }

  private noiseVerdict(l: WireFilterTiles) {
    const v = filterNoiseVerdict(l);
    return html`<p class=${v.warn ? 'warn' : 'muted'} role="note">${v.layer} ${v.filters}</p>`;
  }

  override render() {
    const layer = this.layers.find((l) => l.layer === this.selected);
    return html`
      <h1>Filters <span class="muted">— ${this.modelName}</span></h1>
      ${this.backend ? html`<p class="muted">Backend: <vscode-badge>${this.backend}</vscode-badge></p>` : nothing}
      ${this.status.render()}
      ${this.status.idle && this.layers.length === 0 ? html`<p class="muted">This model has no convolution layers.</p>` : nothing}
      ${this.layers.length
        ? html`<table aria-label="Convolution layers">
            <thead>
              <tr><th>Layer</th><th>Class</th><th>Filters</th><th>Kernel</th><th>Tiles</th><th>Noisy</th></tr>
            </thead>
            <tbody>
              ${this.layers.map(
                (l) => html`<tr
                  class="layer-row"
                  tabindex="0"
                  aria-selected=${l.layer === this.selected ? 'true' : 'false'}
                  @click=${() => this.select(l.layer)}
                  @keydown=${(e: KeyboardEvent) => (e.key === 'Enter' || e.key === ' ') && this.select(l.layer)}
                >
                  <td>${l.layer}</td>
                  <td>${l.className}</td>
                  <td>${formatInt(l.filters)}</td>
                  <td>${l.kernelHeight}×${l.kernelWidth}×${l.inChannels}</td>
                  <td>${l.mode}</td>
                  ${this.noiseCell(l)}
                </tr>`,
              )}
            </tbody>
          </table>`
        : nothing}
      ${layer
        ? html`<h2>${layer.layer} <span class="muted">${layer.className} · ${layer.filters} filters · ${layer.mode === 'rgb' ? 'colour tiles' : layer.mode === 'mean' ? 'mean over input channels' : layer.mode}</span></h2>
            <div class="toolbar">
              <vscode-button secondary @click=${() => this.host.post({ type: 'openActivations', layer: layer.layer })}>Inspect this layer's activations</vscode-button>
              <span class="muted">Roughness (Geary's C): 0 = smooth, ≈1 = like white noise.</span>
            </div>
            ${this.noiseVerdict(layer)}
            <div class="detail">
              <filter-tiles .layer=${layer}></filter-tiles>
              <section aria-label="Weight histogram of ${layer.layer}">
                <h3>Weights</h3>
                <weight-histogram .histogram=${layer.histogram} label="Weights of ${layer.layer}"></weight-histogram>
              </section>
            </div>`
        : nothing}
    `;
  }
}
