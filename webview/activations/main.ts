/**
 * The Activations view's webview: toolbar (layer, sorting, colour scale, image source), the grid
 * of every channel's feature map, and the enlarged channel beside the input image.
 *
 * Keyboard: ←/→/↑/↓ and PageUp/PageDown step through layers (outside text fields and selects),
 * Tab reaches each channel, Enter enlarges it, Escape closes the enlarged view. In the enlarged
 * feature map a click (or the arrow keys while it has focus) selects a unit: the host computes its
 * receptive field, drawn over the input image (theoretical box and effective heat map).
 * Sorting, the layer and the enlarged channel live in `vscode.setState`; the data is re-sent by
 * the host on `ready`.
 */
import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import {
  asFloat32Array,
  type ActivationImageInfo,
  type ActivationLayerInfo,
  type ActivationsHostMessage,
  type ActivationsWebviewMessage,
  type ActivationsWebviewState,
  type ChannelSortKey,
  type DeadUnits,
  type WireEffectiveReceptiveField,
  type WireLayerActivations,
} from '../../src/protocol';
import '../shared/elements';
import '../components/feature-map-grid';
import '../components/feature-map-canvas';
import '../components/unit-select-map';
import '../components/receptive-field-overlay';
import { channelRange, mapSize } from '../components/feature-map-grid';
import { HostChannel } from '../shared/host';
import { ViewStatus } from '../shared/viewStatus';
import { viridisCss } from '../shared/colormap';
import { formatPercent, formatShape, formatValue } from '../shared/format';
import { baseStyles } from '../shared/styles';

const SORT_LABELS: Record<ChannelSortKey, string> = { index: 'Channel', mean: 'Mean', max: 'Max', zeros: '% zeros' };

function normaliseActivations(a: WireLayerActivations): WireLayerActivations {
  const s = a.stats;
  return {
    ...a,
    values: asFloat32Array(a.values),
    stats: s && {
      mean: asFloat32Array(s.mean),
      max: asFloat32Array(s.max),
      min: asFloat32Array(s.min),
      zeroFraction: asFloat32Array(s.zeroFraction),
      nonPositiveFraction: asFloat32Array(s.nonPositiveFraction),
    },
  };
}

@customElement('cnn-lens-activations-app')
export class ActivationsApp extends LitElement {
  private readonly host = new HostChannel<ActivationsWebviewMessage, ActivationsHostMessage, ActivationsWebviewState>();
  private readonly status = new ViewStatus(this);
  @state() private modelName = '';
  @state() private datasetInfo: { size: number; classNames?: string[] } | null = null;
  @state() private image: { info: ActivationImageInfo; input: Float32Array; shape: [number, number, number] } | undefined;
  @state() private layers: ActivationLayerInfo[] = [];
  @state() private activations: WireLayerActivations | undefined;
  @state() private dead: number[] = [];
  @state() private deadUnits: DeadUnits | null = null;
  @state() private sort: ChannelSortKey = 'index';
  @state() private descending = false;
  @state() private perChannelScale = false;
  @state() private selected = -1;
  @state() private pendingLayer: string | undefined;
  /** Receptive-field overlay: the selected unit of the enlarged channel and its result. */
  @state() private selectedUnit: [number, number] | undefined;
  @state() private erf: WireEffectiveReceptiveField | undefined;
  @state() private erfLoading = false;
  @state() private erfError: string | undefined;
  @state() private erfImages = 0;
  @state() private showHeatmap = true;
  private imageRequestId = -1;
  /** The last selection sent for the image on show (not sent twice). */
  private erfRequested = '';
  private datasetIndex = 0;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
        padding: 8px 16px 16px;
      }
      .toolbar {
        display: flex;
        flex-wrap: wrap;
        gap: 8px 16px;
        align-items: center;
        margin-bottom: 8px;
      }
      .group {
        display: flex;
        gap: 6px;
        align-items: center;
      }
      vscode-single-select {
        min-width: 10em;
      }
      vscode-textfield {
        width: 7em;
      }
      .layout {
        display: flex;
        gap: 16px;
        align-items: flex-start;
      }
      feature-map-grid {
        flex: 1;
        min-width: 0;
      }
      aside {
        flex: none;
        position: sticky;
        top: 8px;
        display: flex;
        flex-direction: column;
        gap: 8px;
        padding: 8px;
        border: 1px solid var(--vscode-editorWidget-border, var(--vscode-panel-border, transparent));
        background: var(--vscode-editorWidget-background, transparent);
      }
      .pair {
        display: flex;
        gap: 12px;
        flex-wrap: wrap;
      }
      figure {
        margin: 0;
      }
      figcaption {
        font-size: 0.9em;
        margin-top: 2px;
      }
      .legend {
        display: flex;
        align-items: center;
        gap: 6px;
        font-size: 0.85em;
      }
      .legend .bar {
        display: flex;
        height: 10px;
        width: 160px;
      }
      .legend .bar span {
        flex: 1;
      }
      .erf-controls {
        display: flex;
        flex-wrap: wrap;
        gap: 6px 12px;
        align-items: center;
        font-size: 0.9em;
        max-width: 470px;
      }
      .erf-controls vscode-single-select {
        min-width: 9em;
      }
      .dead-note {
        color: var(--vscode-editorError-foreground, var(--vscode-errorForeground));
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    const s = this.host.state;
    this.sort = s.sort ?? 'index';
    this.descending = s.descending ?? false;
    this.selected = s.selectedChannel ?? -1;
    this.selectedUnit = s.selectedUnit;
    this.erfImages = s.erfImages ?? 0;
    this.showHeatmap = s.showHeatmap ?? true;
    this.host.onMessage((m) => this.onMessage(m));
    window.addEventListener('keydown', this.onKeyDown);
    this.host.post({ type: 'ready' });
  }

  override disconnectedCallback(): void {
    window.removeEventListener('keydown', this.onKeyDown);
    super.disconnectedCallback();
  }

  private onMessage(m: ActivationsHostMessage): void {
    if (this.status.handle(m)) return;
    switch (m.type) {
      case 'context':
        this.modelName = m.modelName;
        this.datasetInfo = m.dataset;
        this.host.patchState({ panelId: m.panelId });
        if (!this.image) this.status.loading = undefined;
        break;
      case 'image':
        this.image = { info: m.image, input: asFloat32Array(m.input), shape: m.inputShape };
        // The overlay belonged to the previous image; the selected unit stays and is computed again.
        this.imageRequestId = m.requestId;
        this.erf = undefined;
        this.erfRequested = '';
        if (m.image.index !== undefined) this.datasetIndex = m.image.index;
        this.layers = m.layers;
        this.status.clear();
        break;
      case 'layer': {
        const a = normaliseActivations(m.activations);
        if (this.activations?.layer !== a.layer) this.selected = this.host.state.layer === a.layer ? this.selected : -1;
        this.activations = a;
        this.dead = m.dead;
        this.pendingLayer = undefined;
        if (this.selected >= a.channels) this.selected = -1;
        const [h, w] = mapSize(a);
        if (this.selected < 0 || !this.selectedUnit || this.selectedUnit[0] >= h || this.selectedUnit[1] >= w || a.shape.length !== 3) this.clearUnit();
        this.host.patchState({ layer: a.layer, selectedChannel: this.selected, selectedUnit: this.selectedUnit });
        this.requestReceptiveField();
        break;
      }
      case 'receptiveFieldLoading':
        this.erfLoading = true;
        this.erfError = undefined;
        break;
      case 'receptiveField': {
        const e = { ...m.erf, heatmap: asFloat32Array(m.erf.heatmap) };
        if (m.requestId !== this.imageRequestId || e.layer !== this.activations?.layer) break;
        // The host may choose the unit (a command argument): show that channel and unit.
        if (e.channel !== null) this.selected = e.channel;
        this.selectedUnit = [e.unit[0], e.unit[1]];
        this.erfRequested = this.erfKey();
        this.erf = e;
        this.erfLoading = false;
        this.erfError = undefined;
        this.host.patchState({ selectedChannel: this.selected, selectedUnit: this.selectedUnit });
        break;
      }
      case 'receptiveFieldError':
        this.erfLoading = false;
        this.erfError = m.message;
        break;
      case 'deadUnits':
        this.deadUnits = m.deadUnits;
        if (this.activations && m.deadUnits) this.dead = m.deadUnits[this.activations.layer] ?? [];
        else if (!m.deadUnits) this.dead = [];
        break;
    }
  }

  private readonly onKeyDown = (e: KeyboardEvent): void => {
    if (e.defaultPrevented) return;
    const path = e.composedPath();
    const inField = path.some((el) => el instanceof HTMLElement && /^(INPUT|TEXTAREA|SELECT|VSCODE-SINGLE-SELECT|VSCODE-TEXTFIELD)$/.test(el.tagName));
    if (inField) return;
    if (e.key === 'Escape' && this.selected >= 0) {
      this.selectChannel(-1);
      e.preventDefault();
      return;
    }
    const step = { ArrowRight: 1, ArrowDown: 1, PageDown: 1, ArrowLeft: -1, ArrowUp: -1, PageUp: -1 }[e.key];
    if (step === undefined || !this.layers.length) return;
    this.stepLayer(step);
    e.preventDefault();
  };

  private currentLayerIndex(): number {
    const name = this.pendingLayer ?? this.activations?.layer;
    return this.layers.findIndex((l) => l.name === name);
  }

  private stepLayer(step: number): void {
    const i = this.currentLayerIndex();
    const next = Math.max(0, Math.min(this.layers.length - 1, i + step));
    if (next !== i) this.selectLayer(this.layers[next].name);
  }

  private selectLayer(layer: string): void {
    if (layer === this.activations?.layer && !this.pendingLayer) return;
    this.pendingLayer = layer;
    this.host.post({ type: 'selectLayer', layer });
  }

  private selectChannel(channel: number): void {
    this.selected = channel === this.selected ? -1 : channel;
    this.clearUnit();
    this.host.patchState({ selectedChannel: this.selected, selectedUnit: undefined });
  }

  private clearUnit(): void {
    this.selectedUnit = undefined;
    this.erf = undefined;
    this.erfLoading = false;
    this.erfError = undefined;
    this.erfRequested = '';
  }

  private erfKey(): string {
    const u = this.selectedUnit;
    return u ? `${this.imageRequestId}|${this.activations?.layer}|${this.selected}|${u[0]}|${u[1]}|${this.erfImages}` : '';
  }

  private selectUnit(unit: [number, number]): void {
    this.selectedUnit = unit;
    this.host.patchState({ selectedUnit: unit });
    this.requestReceptiveField();
  }

  /** Asks the host for the selected unit's receptive field (once per image, unit and setting). */
  private requestReceptiveField(): void {
    const a = this.activations;
    const u = this.selectedUnit;
    if (!a || !u || this.selected < 0 || a.shape.length !== 3) return;
    const key = this.erfKey();
    if (key === this.erfRequested) return;
    this.erfRequested = key;
    this.erfLoading = true;
    this.erfError = undefined;
    this.host.post({ type: 'selectUnit', layer: a.layer, channel: this.selected, unit: [u[0], u[1]], images: this.erfImages });
  }

  private setSort(sort: ChannelSortKey, descending: boolean): void {
    this.sort = sort;
    this.descending = descending;
    this.host.patchState({ sort, descending });
  }

  private loadDatasetImage(): void {
    if (this.datasetInfo && Number.isInteger(this.datasetIndex) && this.datasetIndex >= 0 && this.datasetIndex < this.datasetInfo.size) {
      this.host.post({ type: 'selectDatasetImage', index: this.datasetIndex });
    }
  }

  private renderToolbar() {
    const current = this.pendingLayer ?? this.activations?.layer ?? '';
    const i = this.currentLayerIndex();
    return html`<div class="toolbar" role="toolbar" aria-label="Activations controls">
      <div class="group">
        <vscode-button secondary aria-label="Previous layer" title="Previous layer (←, PageUp)" ?disabled=${i <= 0} @click=${() => this.stepLayer(-1)}>◀</vscode-button>
        <vscode-single-select
          aria-label="Layer"
          .value=${current}
          @change=${(e: Event) => this.selectLayer((e.target as HTMLInputElement).value)}
        >
          ${this.layers.map((l) => html`<vscode-option value=${l.name} ?selected=${l.name === current} description="${l.className} ${formatShape(l.shape)}">${l.name}</vscode-option>`)}
        </vscode-single-select>
        <vscode-button secondary aria-label="Next layer" title="Next layer (→, PageDown)" ?disabled=${i < 0 || i >= this.layers.length - 1} @click=${() => this.stepLayer(1)}>▶</vscode-button>
      </div>
      <div class="group">
        <span>Sort by</span>
        <vscode-single-select aria-label="Sort channels by" .value=${this.sort} @change=${(e: Event) => this.setSort((e.target as HTMLInputElement).value as ChannelSortKey, this.descending)}>
          ${(Object.keys(SORT_LABELS) as ChannelSortKey[]).map((k) => html`<vscode-option value=${k} ?selected=${k === this.sort}>${SORT_LABELS[k]}</vscode-option>`)}
        </vscode-single-select>
        <vscode-checkbox label="Descending" ?checked=${this.descending} @change=${(e: Event) => this.setSort(this.sort, (e.target as HTMLInputElement).checked)}></vscode-checkbox>
        <vscode-checkbox label="Scale each channel" ?checked=${this.perChannelScale} @change=${(e: Event) => (this.perChannelScale = (e.target as HTMLInputElement).checked)}></vscode-checkbox>
      </div>
      <div class="group">
        ${this.datasetInfo
          ? html`<vscode-textfield
                type="number"
                aria-label="Dataset image number (0 to ${this.datasetInfo.size - 1})"
                min="0"
                max=${this.datasetInfo.size - 1}
                .value=${String(this.datasetIndex)}
                @change=${(e: Event) => (this.datasetIndex = Number((e.target as HTMLInputElement).value))}
                @keydown=${(e: KeyboardEvent) => e.key === 'Enter' && this.loadDatasetImage()}
              ></vscode-textfield>
              <vscode-button secondary @click=${() => this.loadDatasetImage()}>Load dataset image</vscode-button>`
          : nothing}
        <vscode-button secondary @click=${() => this.host.post({ type: 'pickImageFile' })}>Open image…</vscode-button>
      </div>
    </div>`;
  }

  private renderEnlarged(a: WireLayerActivations) {
    const c = this.selected;
    if (c < 0 || c >= a.channels || !this.image) return nothing;
    const [h, w] = mapSize(a);
    const [lo, hi] = this.perChannelScale ? channelRange(a, c) : channelRange(a, undefined);
    const [ih, iw, ic] = this.image.shape;
    const dead = this.dead.includes(c);
    const spatial = a.shape.length === 3;
    const erf = this.erf && this.erf.layer === a.layer && this.erf.channel === c ? this.erf : undefined;
    return html`<aside aria-label="Channel ${c} enlarged">
      <div class="pair">
        <figure>
          <receptive-field-overlay
            .input=${this.image.input}
            height=${ih}
            width=${iw}
            channels=${ic}
            size="224"
            label="Input image ${this.image.info.title}"
            caption="Input"
            .erf=${erf}
            .showHeatmap=${this.showHeatmap}
            .loading=${this.erfLoading}
            @overlay-rendered=${(e: CustomEvent<{ layer: string; channel: number; unit: [number, number]; box: boolean; heatmap: boolean }>) =>
              this.host.post({ type: 'overlayRendered', ...e.detail })}
          ></receptive-field-overlay>
        </figure>
        <figure>
          ${spatial
            ? html`<unit-select-map
                .values=${a.values}
                height=${h}
                width=${w}
                channels=${a.channels}
                channel=${c}
                lo=${lo}
                hi=${hi}
                size="224"
                label="Feature map of channel ${c} of ${a.layer}"
                .unit=${this.selectedUnit}
                @unit-select=${(e: CustomEvent<{ unit: [number, number] }>) => this.selectUnit(e.detail.unit)}
              ></unit-select-map>`
            : html`<feature-map-canvas
                .values=${a.values}
                height=${h}
                width=${w}
                channels=${a.channels}
                channel=${c}
                lo=${lo}
                hi=${hi}
                size="224"
                label="Feature map of channel ${c} of ${a.layer}"
              ></feature-map-canvas>`}
          <figcaption>${a.layer} #${c} ${dead ? html`<span class="dead-note">(dead in the last scan)</span>` : ''}</figcaption>
        </figure>
      </div>
      ${spatial ? this.renderErfControls() : nothing}
      <div class="legend" aria-label="Colour scale from ${formatValue(lo)} to ${formatValue(hi)}">
        <span>${formatValue(lo)}</span>
        <span class="bar" aria-hidden="true">${Array.from({ length: 16 }, (_, i) => html`<span data-t=${i / 15}></span>`)}</span>
        <span>${formatValue(hi)}</span>
      </div>
      <div>mean ${formatValue(a.stats?.mean[c] ?? NaN)} · max ${formatValue(a.stats?.max[c] ?? NaN)} · ${formatPercent(a.stats?.zeroFraction[c] ?? NaN)} zeros</div>
      <vscode-button secondary @click=${() => this.selectChannel(-1)}>Close (Esc)</vscode-button>
    </aside>`;
  }

  private renderErfControls() {
    const sizes = [0, 16, 64, 256].filter((n) => n === 0 || (this.datasetInfo && n <= this.datasetInfo.size));
    return html`<div class="erf-controls">
      ${sizes.length > 1
        ? html`<label
            >Effective field over
            <vscode-single-select
              aria-label="Images the effective receptive field averages over"
              .value=${String(this.erfImages)}
              @change=${(e: Event) => {
                this.erfImages = Number((e.target as HTMLInputElement).value) || 0;
                this.host.patchState({ erfImages: this.erfImages });
                this.requestReceptiveField();
              }}
            >
              ${sizes.map((n) => html`<vscode-option value=${String(n)} ?selected=${n === this.erfImages}>${n === 0 ? 'this image' : `${n} dataset images`}</vscode-option>`)}
            </vscode-single-select></label
          >`
        : nothing}
      <vscode-checkbox
        label="Heat map"
        ?checked=${this.showHeatmap}
        @change=${(e: Event) => {
          this.showHeatmap = (e.target as HTMLInputElement).checked;
          this.host.patchState({ showHeatmap: this.showHeatmap });
        }}
      ></vscode-checkbox>
      ${this.erfError ? html`<div class="error" role="alert">${this.erfError}</div>` : nothing}
    </div>`;
  }

  protected override updated(): void {
    // Legend swatches coloured through the CSSOM (no inline style attributes under the CSP).
    for (const el of this.renderRoot.querySelectorAll<HTMLElement>('.legend .bar span[data-t]')) el.style.background = viridisCss(Number(el.dataset.t));
  }

  override render() {
    const a = this.activations;
    const img = this.image?.info;
    return html`
      <h1>Activations <span class="muted">— ${this.modelName}</span></h1>
      ${this.renderToolbar()}
      ${this.status.render()}
      ${this.status.idle && !a
        ? html`<p class="muted">Pick an image: ${this.datasetInfo ? 'a dataset image number, or ' : ''}“Open image…”.</p>`
        : nothing}
      ${a && img
        ? html`<h2>
              ${a.layer} <span class="muted">${a.className} · ${formatShape(a.shape)} · ${a.activation}</span>
            </h2>
            <p class="muted">
              Image: ${img.title}${img.className ? ` (class ${img.className})` : img.label !== undefined ? ` (label ${img.label})` : ''} · ${a.channels} channels
              ${this.dead.length ? html` · <span class="dead-note">${this.dead.length} dead in the last scan</span>` : ''}
              ${!a.deadApplicable ? html` · ${a.reason}` : ''}
            </p>
            <div class="layout">
              <feature-map-grid
                .activations=${a}
                .dead=${this.dead}
                .sort=${this.sort}
                .descending=${this.descending}
                .selected=${this.selected}
                .perChannelScale=${this.perChannelScale}
                @channel-select=${(e: CustomEvent<{ channel: number }>) => this.selectChannel(e.detail.channel)}
                @grid-rendered=${(e: CustomEvent<{ layer: string; canvases: number }>) => this.host.post({ type: 'rendered', layer: e.detail.layer, canvases: e.detail.canvases })}
              ></feature-map-grid>
              ${this.renderEnlarged(a)}
            </div>`
        : nothing}
    `;
  }
}
