/**
 * `<unit-select-map>`: one channel's feature map (a `<feature-map-canvas>`) in which a unit (a
 * cell) can be selected: click a cell, or focus the map and move the selection with the arrow
 * keys (Home: the centre unit). The selected cell is outlined.
 *
 * Properties: those of `<feature-map-canvas>` for one channel (`values`, `height`, `width`,
 * `channels`, `channel`, `lo`, `hi`, `size`, `label`) and `unit` ([y, x] or undefined).
 * Events: `unit-select` ({ unit: [y, x] }).
 */
import { LitElement, css, html } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import './feature-map-canvas';

@customElement('unit-select-map')
export class UnitSelectMap extends LitElement {
  @property({ attribute: false }) values: Float32Array = new Float32Array(0);
  @property({ type: Number }) height = 0;
  @property({ type: Number }) width = 0;
  @property({ type: Number }) channels = 1;
  @property({ type: Number }) channel = 0;
  @property({ type: Number }) lo = 0;
  @property({ type: Number }) hi = 1;
  @property({ type: Number }) size = 224;
  @property() label = '';
  @property({ attribute: false }) unit: [number, number] | undefined;

  @query('.map') private map!: HTMLDivElement;
  @query('.cell') private cell!: HTMLDivElement;

  static override styles = css`
    :host {
      display: inline-block;
    }
    .map {
      position: relative;
      display: inline-block;
      cursor: crosshair;
      line-height: 0;
    }
    .map:focus-visible {
      outline: 2px solid var(--vscode-focusBorder);
      outline-offset: 1px;
    }
    .cell {
      position: absolute;
      box-sizing: border-box;
      border: 2px solid var(--vscode-focusBorder);
      box-shadow: 0 0 0 1px var(--vscode-editor-background);
      pointer-events: none;
      display: none;
    }
    .cell.on {
      display: block;
    }
  `;

  private scale(): number {
    return this.size / Math.max(this.height, this.width, 1);
  }

  private select(unit: [number, number]): void {
    const y = Math.min(this.height - 1, Math.max(0, unit[0]));
    const x = Math.min(this.width - 1, Math.max(0, unit[1]));
    this.dispatchEvent(new CustomEvent('unit-select', { detail: { unit: [y, x] }, bubbles: true, composed: true }));
  }

  private onClick(e: MouseEvent): void {
    // The drawn canvas inside <feature-map-canvas>, without its 1px border.
    const canvas = this.renderRoot.querySelector('feature-map-canvas')?.shadowRoot?.querySelector('canvas');
    if (!canvas) return;
    const rect = canvas.getBoundingClientRect();
    const border = canvas.clientLeft;
    const s = (rect.width - 2 * border) / this.width;
    const y = Math.floor((e.clientY - rect.top - border) / s);
    const x = Math.floor((e.clientX - rect.left - border) / s);
    if (y < 0 || x < 0 || y >= this.height || x >= this.width) return;
    this.map.focus();
    this.select([y, x]);
  }

  private onKeyDown(e: KeyboardEvent): void {
    const moves: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    const centre: [number, number] = [Math.floor(this.height / 2), Math.floor(this.width / 2)];
    if (e.key in moves) {
      const [dy, dx] = moves[e.key];
      this.select(this.unit ? [this.unit[0] + dy, this.unit[1] + dx] : centre);
    } else if (e.key === 'Home' || ((e.key === 'Enter' || e.key === ' ') && !this.unit)) {
      this.select(centre);
    } else return;
    // The view steps through layers on arrow keys: not while the map has focus.
    e.preventDefault();
    e.stopPropagation();
  }

  override render() {
    const u = this.unit;
    const aria = `${this.label}. ${u ? `Unit (${u[0]}, ${u[1]}) selected.` : 'No unit selected.'} Click a cell or use the arrow keys to show its receptive field on the input.`;
    return html`<div class="map" tabindex="0" role="img" aria-label=${aria} aria-keyshortcuts="ArrowUp ArrowDown ArrowLeft ArrowRight Home" @click=${this.onClick} @keydown=${this.onKeyDown}>
      <feature-map-canvas
        .values=${this.values}
        height=${this.height}
        width=${this.width}
        channels=${this.channels}
        channel=${this.channel}
        lo=${this.lo}
        hi=${this.hi}
        size=${this.size}
        label=${this.label}
      ></feature-map-canvas>
      <div class="cell"></div>
    </div>`;
  }

  protected override updated(): void {
    // The outline is placed through the CSSOM (no inline style attributes under the CSP). The
    // canvas has a 1px border, hence the offset.
    const u = this.unit;
    this.cell.classList.toggle('on', !!u);
    if (!u) return;
    const s = this.scale();
    this.cell.style.left = `${1 + u[1] * s}px`;
    this.cell.style.top = `${1 + u[0] * s}px`;
    this.cell.style.width = `${Math.max(4, s)}px`;
    this.cell.style.height = `${Math.max(4, s)}px`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'unit-select-map': UnitSelectMap;
  }
}
