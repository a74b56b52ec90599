/**
 * `<filter-tiles>`: one conv layer's kernels as tiles (RGB for a first layer on colour input,
 * else grey), each filter with its roughness (Geary's C) and z; noisy filters are flagged. Each filter is a
 * focusable figure with a spoken summary. Properties in: `layer`; event `filter-select` ({ filter }).
 */
import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { WireFilterTiles } from '../../src/protocol';
import { drawTile } from '../shared/colormap';
import { baseStyles } from '../shared/styles';

/** At most this many input-channel tiles are drawn per filter in `per-channel` mode. */
const MAX_TILES_PER_FILTER = 16;

@customElement('filter-tiles')
export class FilterTilesElement extends LitElement {
  @property({ attribute: false }) layer: WireFilterTiles | undefined;
  /** Displayed tile size in CSS pixels. */
  @property({ type: Number }) tileSize = 48;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      .tiles {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(72px, 1fr));
        gap: 6px;
      }
      figure {
        margin: 0;
        padding: 4px;
        display: flex;
        flex-direction: column;
        align-items: center;
        gap: 2px;
        border: 1px solid var(--vscode-editorWidget-border, var(--vscode-panel-border, transparent));
        font-size: 0.85em;
        font-variant-numeric: tabular-nums;
      }
      figure:focus-visible {
        outline: 2px solid var(--vscode-focusBorder);
        outline-offset: -1px;
      }
      figure.noisy {
        border: 2px solid var(--vscode-editorWarning-foreground, var(--vscode-list-warningForeground));
      }
      .noisy-label {
        color: var(--vscode-editorWarning-foreground, var(--vscode-list-warningForeground));
        font-weight: 600;
      }
      .stack {
        display: flex;
        flex-wrap: wrap;
        gap: 1px;
        justify-content: center;
      }
      canvas {
        image-rendering: pixelated;
      }
    `,
  ];

  override render() {
    const l = this.layer;
    if (!l) return html``;
    const figures = [];
    for (let f = 0; f < l.filters; f++) {
      const score = l.roughness[f];
      const z = l.structureZ[f];
      const noisy = l.noisy[f];
      const scoreText = score == null ? 'n/a' : score.toFixed(2);
      const zText = z == null ? '' : `, z ${z.toFixed(1)}`;
      const tiles = Math.min(l.tilesPerFilter, MAX_TILES_PER_FILTER);
      figures.push(html`<figure
        class=${noisy ? 'noisy' : ''}
        tabindex="0"
        data-filter=${f}
        aria-label="Filter ${f}: roughness ${scoreText}${zText}${noisy ? ', noisy' : ''}; weights ${l.weightMin[f]?.toFixed(3)} to ${l.weightMax[f]?.toFixed(3)}"
        @keydown=${(e: KeyboardEvent) => e.key === 'Enter' && this.select(f)}
        @click=${() => this.select(f)}
      >
        <div class="stack">
          ${Array.from({ length: tiles }, (_, t) => html`<canvas data-filter=${f} data-tile=${t} aria-hidden="true"></canvas>`)}
        </div>
        <span>#${f}</span>
        <span title="Roughness (Geary's C): 0 smooth, ≈1 like white noise, >1 alternating${zText}. ${l.perFilterTest ? `Noisy when |z| < ${l.noisyZ}.` : 'Too few weights to judge one filter.'}">${scoreText}</span>
        ${noisy ? html`<span class="noisy-label">noisy</span>` : ''}
      </figure>`);
    }
    return html`<div class="tiles" role="list" aria-label="${l.filters} filters of ${l.layer}">${figures}</div>`;
  }

  private select(filter: number): void {
    this.dispatchEvent(new CustomEvent('filter-select', { detail: { filter }, bubbles: true, composed: true }));
  }

  protected override updated(): void {
    const l = this.layer;
    if (!l) return;
    const per = l.kernelHeight * l.kernelWidth * l.tileChannels;
    const tiles = Math.min(l.tilesPerFilter, MAX_TILES_PER_FILTER);
    const size = tiles > 1 ? Math.max(12, Math.floor(this.tileSize / Math.ceil(Math.sqrt(tiles)))) : this.tileSize;
    const scale = size / Math.max(l.kernelHeight, l.kernelWidth);
    for (const canvas of this.renderRoot.querySelectorAll<HTMLCanvasElement>('canvas[data-filter]')) {
      const f = Number(canvas.dataset.filter);
      const t = Number(canvas.dataset.tile);
      drawTile(canvas, l.tiles, (f * l.tilesPerFilter + t) * per, l.kernelHeight, l.kernelWidth, l.tileChannels);
      canvas.style.width = `${Math.round(l.kernelWidth * scale)}px`;
      canvas.style.height = `${Math.round(l.kernelHeight * scale)}px`;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'filter-tiles': FilterTilesElement;
  }
}
