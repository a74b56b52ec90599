/**
 * `<layer-table>`: the model's layers as a virtualised ARIA grid. Only the rows in view (plus a
 * few above and below) are in the DOM, so 300+ layer models scroll as fast as small ones.
 *
 * Properties: `layers`, `deadUnits`, `receptiveFields` (per layer: theoretical size / stride /
 * padding, ERF radii when computed), `activeRow`, `initialScrollTop`.
 * Events: `layer-activate` ({ layer }) on Enter / double-click; `table-state` ({ scrollTop, activeRow })
 * when the view scrolls or the active row moves (the app keeps it in `vscode.setState`).
 * Keyboard: ↑/↓, PageUp/PageDown, Home/End move the active row; Enter activates it.
 */
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import type { DeadUnits, WireLayerReceptiveField, WireLayerSummary } from '../../src/protocol';
import { formatCompact, formatInt, formatShape } from '../shared/format';
import { baseStyles } from '../shared/styles';

const ROW_HEIGHT = 24;
const OVERSCAN = 8;

@customElement('layer-table')
export class LayerTable extends LitElement {
  @property({ attribute: false }) layers: WireLayerSummary[] = [];
  @property({ attribute: false }) deadUnits: DeadUnits | null = null;
  @property({ attribute: false }) receptiveFields: ReadonlyMap<string, WireLayerReceptiveField> | null = null;
  @property({ type: Number }) activeRow = 0;
  @property({ type: Number }) initialScrollTop = 0;

  @state() private scrollPos = 0;
  @state() private viewportHeight = 400;
  @query('.viewport') private viewport!: HTMLDivElement;
  private resizeObserver?: ResizeObserver;
  private restored = false;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: flex;
        flex-direction: column;
        min-height: 0;
        border: 1px solid var(--vscode-editorWidget-border, var(--vscode-panel-border, transparent));
      }
      .row {
        display: grid;
        grid-template-columns: 3.5em minmax(8em, 2fr) minmax(7em, 1.3fr) minmax(8em, 1.3fr) 6em 6em minmax(5em, 1fr) 5em 4.5em 4.5em 3.5em 7.5em;
        align-items: center;
        height: ${ROW_HEIGHT}px;
        box-sizing: border-box;
        padding: 0 6px;
        white-space: nowrap;
      }
      .row > span {
        overflow: hidden;
        text-overflow: ellipsis;
        padding-right: 8px;
      }
      .num {
        text-align: right;
        font-variant-numeric: tabular-nums;
      }
      .header {
        font-weight: 600;
        border-bottom: 1px solid var(--vscode-editorWidget-border, var(--vscode-panel-border, transparent));
        background: var(--vscode-editorWidget-background, var(--vscode-editor-background));
      }
      .viewport {
        flex: 1;
        min-height: 120px;
        overflow-y: auto;
        position: relative;
      }
      .grid {
        display: flex;
        flex-direction: column;
        flex: 1;
        min-height: 0;
      }
      .grid:focus {
        outline: 1px solid var(--vscode-focusBorder);
        outline-offset: -1px;
      }
      .spacer {
        position: relative;
        width: 100%;
      }
      .body-row {
        position: absolute;
        left: 0;
        right: 0;
        cursor: default;
      }
      .body-row:hover {
        background: var(--vscode-list-hoverBackground);
      }
      .body-row.active {
        background: var(--vscode-list-inactiveSelectionBackground);
        color: var(--vscode-list-inactiveSelectionForeground, inherit);
        outline: 1px dotted var(--vscode-contrastActiveBorder, transparent);
      }
      .grid:focus .body-row.active {
        background: var(--vscode-list-activeSelectionBackground);
        color: var(--vscode-list-activeSelectionForeground);
        outline: 1px solid var(--vscode-list-focusOutline, var(--vscode-focusBorder));
        outline-offset: -1px;
      }
      .dead {
        color: var(--vscode-editorError-foreground, var(--vscode-errorForeground));
        font-weight: 600;
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    this.resizeObserver = new ResizeObserver(() => {
      if (this.viewport) this.viewportHeight = this.viewport.clientHeight || this.viewportHeight;
    });
  }

  override disconnectedCallback(): void {
    this.resizeObserver?.disconnect();
    super.disconnectedCallback();
  }

  protected override firstUpdated(): void {
    this.resizeObserver?.observe(this.viewport);
    this.viewportHeight = this.viewport.clientHeight || this.viewportHeight;
  }

  private onScroll(): void {
    this.scrollPos = this.viewport.scrollTop;
    this.emitState();
  }

  private emitState(): void {
    this.dispatchEvent(new CustomEvent('table-state', { detail: { scrollTop: this.scrollPos, activeRow: this.activeRow }, bubbles: true, composed: true }));
  }

  private setActive(row: number): void {
    const n = this.layers.length;
    if (n === 0) return;
    this.activeRow = Math.max(0, Math.min(n - 1, row));
    // Keep the active row in view.
    const top = this.activeRow * ROW_HEIGHT;
    const vp = this.viewport;
    if (top < vp.scrollTop) vp.scrollTop = top;
    else if (top + ROW_HEIGHT > vp.scrollTop + vp.clientHeight) vp.scrollTop = top + ROW_HEIGHT - vp.clientHeight;
    this.emitState();
  }

  private activate(row: number): void {
    const layer = this.layers[row];
    if (layer) this.dispatchEvent(new CustomEvent('layer-activate', { detail: { layer: layer.name }, bubbles: true, composed: true }));
  }

  private onKeyDown(e: KeyboardEvent): void {
    const page = Math.max(1, Math.floor(this.viewport.clientHeight / ROW_HEIGHT) - 1);
    const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
    if (e.key in moves) this.setActive(this.activeRow + moves[e.key]);
    else if (e.key === 'Home') this.setActive(0);
    else if (e.key === 'End') this.setActive(this.layers.length - 1);
    else if (e.key === 'Enter') this.activate(this.activeRow);
    else return;
    e.preventDefault();
  }

  private rfCells(name: string) {
    const rf = this.receptiveFields?.get(name);
    if (!rf) return html`<span role="gridcell"></span><span role="gridcell"></span><span role="gridcell"></span><span role="gridcell"></span>`;
    const r50 = rf.erfRadii?.find((r) => r.fraction === 0.5)?.radius;
    const r90 = rf.erfRadii?.find((r) => r.fraction === 0.9)?.radius;
    const radius = (r: number | undefined) => (r === undefined || !Number.isFinite(r) ? '—' : r.toFixed(1));
    const axes = ([h, w]: [number, number]) => (h === w ? String(h) : `${h}×${w}`);
    // Layers without positions (Flatten, Dense, global pooling) see one window: no stride.
    const global = !!rf.note && /^global/.test(rf.note);
    const title = `${rf.size[0]}×${rf.size[1]} input pixels, stride ${rf.stride.join('×')}, padding ${rf.padding.join('×')}${rf.aligned ? '' : ' (branches not aligned: union)'}${rf.note ? ` — ${rf.note}` : ''}`;
    return html`<span role="gridcell" class="num rf" title=${title}>${rf.size[0]}×${rf.size[1]}${rf.aligned ? '' : '*'}</span>
      <span role="gridcell" class="num">${global ? '—' : axes(rf.stride)}</span>
      <span role="gridcell" class="num">${axes(rf.padding)}</span>
      <span role="gridcell" class="num erf" title=${rf.erfRadii ? 'Radius (input pixels) around the centre unit holding 50% / 90% of the gradient mass' : 'Not computed: "Compute effective RF"'}
        >${rf.erfRadii ? `${radius(r50)} / ${radius(r90)}` : ''}</span
      >`;
  }

  private deadCount(layer: string): number | undefined {
    return this.deadUnits ? (this.deadUnits[layer]?.length ?? 0) : undefined;
  }

  override render() {
    const n = this.layers.length;
    const first = Math.max(0, Math.floor(this.scrollPos / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(n, Math.ceil((this.scrollPos + this.viewportHeight) / ROW_HEIGHT) + OVERSCAN);
    const rows = [];
    for (let i = first; i < last; i++) {
      const l = this.layers[i];
      const dead = this.deadCount(l.name);
      rows.push(html`<div
        class="row body-row ${i === this.activeRow ? 'active' : ''}"
        role="row"
        id="row-${i}"
        aria-rowindex=${i + 2}
        aria-selected=${i === this.activeRow ? 'true' : 'false'}
        data-layer=${l.name}
        data-top=${i}
        @click=${() => this.setActive(i)}
        @dblclick=${() => this.activate(i)}
      >
        <span role="gridcell" class="num muted">${i + 1}</span>
        <span role="gridcell" title=${l.name}>${l.name}</span>
        <span role="gridcell" title=${l.className}>${l.className}</span>
        <span role="gridcell">${formatShape(l.outputShape)}</span>
        <span role="gridcell" class="num" title=${`${formatInt(l.trainableParams)} trainable, ${formatInt(l.nonTrainableParams)} non-trainable`}>${formatInt(l.params)}</span>
        <span role="gridcell" class="num">${formatCompact(l.flops)}</span>
        <span role="gridcell">${l.activation ?? ''}</span>
        <span role="gridcell" class="num ${dead ? 'dead' : ''}">${dead === undefined ? '' : dead}</span>
        ${this.rfCells(l.name)}
      </div>`);
    }
    return html`
      <div
        class="grid"
        role="grid"
        tabindex="0"
        aria-label="Layers (${n}); arrow keys move, Enter opens the layer's activations"
        aria-rowcount=${n + 1}
        aria-colcount="12"
        aria-activedescendant=${n ? `row-${this.activeRow}` : nothing}
        @keydown=${this.onKeyDown}
      >
        <div class="row header" role="row" aria-rowindex="1">
          <span role="columnheader" class="num">#</span>
          <span role="columnheader">Layer</span>
          <span role="columnheader">Class</span>
          <span role="columnheader">Output shape</span>
          <span role="columnheader" class="num">Params</span>
          <span role="columnheader" class="num">FLOPs</span>
          <span role="columnheader">Activation</span>
          <span role="columnheader" class="num" title="Dead filters from the last scan">Dead</span>
          <span role="columnheader" class="num" title="Theoretical receptive field: input pixels one unit can see">RF</span>
          <span role="columnheader" class="num" title="Input pixels between neighbouring units' fields">Stride</span>
          <span role="columnheader" class="num" title="Input pixels the field reaches beyond the top / left edge">Pad</span>
          <span role="columnheader" class="num" title="Effective receptive field radius (input pixels) holding 50% / 90% of the gradient mass (centre unit)">ERF r50/90</span>
        </div>
        <div class="viewport" role="rowgroup" @scroll=${this.onScroll}>
          <div class="spacer" data-height=${n * ROW_HEIGHT}>${rows}</div>
        </div>
      </div>
    `;
  }

  /**
   * Row positions and the spacer height are set through the CSSOM, which the CSP allows
   * (inline `style="…"` attributes would need 'unsafe-inline').
   */
  protected override updated(): void {
    this.applyPositions();
    // Restore the saved scroll position once the rows exist.
    if (!this.restored && this.layers.length > 0 && this.viewport) {
      this.restored = true;
      if (this.initialScrollTop > 0) {
        this.viewport.scrollTop = this.initialScrollTop;
        this.scrollPos = this.viewport.scrollTop;
      }
    }
  }

  private applyPositions(): void {
    const root = this.renderRoot as ShadowRoot;
    const spacer = root.querySelector<HTMLElement>('.spacer');
    if (spacer) spacer.style.height = `${Number(spacer.dataset.height) || 0}px`;
    for (const row of root.querySelectorAll<HTMLElement>('.body-row')) row.style.top = `${Number(row.dataset.top) * ROW_HEIGHT}px`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'layer-table': LayerTable;
  }
}
