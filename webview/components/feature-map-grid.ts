/**
 * `<feature-map-grid>`: every channel of one layer's output as a small canvas with its mean, max
 * and % zeros, in the order given by `sort`. Each channel is a button (Tab reaches it, Enter or a
 * click selects it); dead channels from the last scan are marked.
 *
 * Properties: `activations`, `dead`, `sort`, `descending`, `selected`, `perChannelScale`.
 * Events: `channel-select` ({ channel }), `grid-rendered` ({ layer, canvases }) once every
 * canvas is drawn. Drawing is an `@lit/task` that paints in chunks per animation frame, so a
 * 512-channel layer never blocks input, and a newer layer cancels an unfinished paint.
 */
import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { Task } from '@lit/task';
import type { ChannelSortKey, WireLayerActivations } from '../../src/protocol';
import { drawChannel } from '../shared/colormap';
import { formatPercent, formatValue } from '../shared/format';
import { baseStyles } from '../shared/styles';

export interface ChannelRow {
  channel: number;
  mean: number;
  max: number;
  zeros: number;
  dead: boolean;
}

export function channelRows(a: WireLayerActivations, dead: readonly number[]): ChannelRow[] {
  const deadSet = new Set(dead);
  const rows: ChannelRow[] = [];
  for (let c = 0; c < a.channels; c++) {
    rows.push({
      channel: c,
      mean: a.stats?.mean[c] ?? NaN,
      max: a.stats?.max[c] ?? NaN,
      zeros: a.stats?.zeroFraction[c] ?? NaN,
      dead: deadSet.has(c),
    });
  }
  return rows;
}

export function sortRows(rows: ChannelRow[], key: ChannelSortKey, descending: boolean): ChannelRow[] {
  const k = key === 'index' ? 'channel' : key;
  const dir = descending ? -1 : 1;
  return [...rows].sort((a, b) => (a[k] - b[k]) * dir || a.channel - b.channel);
}

/** Spatial size of a layer's output: `[H, W]`, or `[1, 1]` for vectors. */
export function mapSize(a: WireLayerActivations): [number, number] {
  return a.shape.length >= 3 ? [a.shape[a.shape.length - 3], a.shape[a.shape.length - 2]] : [1, 1];
}

/** Value range for the colour scale: the whole layer's, or one channel's. */
export function channelRange(a: WireLayerActivations, channel: number | undefined): [number, number] {
  const v = a.values;
  const c = a.channels || 1;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = channel ?? 0; i < v.length; i += channel === undefined ? 1 : c) {
    if (v[i] < lo) lo = v[i];
    if (v[i] > hi) hi = v[i];
  }
  return lo <= hi ? [lo, hi] : [0, 1];
}

const nextFrame = () => new Promise<void>((r) => requestAnimationFrame(() => r()));

@customElement('feature-map-grid')
export class FeatureMapGrid extends LitElement {
  @property({ attribute: false }) activations: WireLayerActivations | undefined;
  @property({ attribute: false }) dead: number[] = [];
  @property() sort: ChannelSortKey = 'index';
  @property({ type: Boolean }) descending = false;
  @property({ type: Number }) selected = -1;
  @property({ type: Boolean }) perChannelScale = false;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      .grid {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(96px, 1fr));
        gap: 6px;
      }
      button.cell {
        all: unset;
        box-sizing: border-box;
        display: flex;
        flex-direction: column;
        align-items: center;
        gap: 2px;
        padding: 4px;
        border: 1px solid var(--vscode-editorWidget-border, var(--vscode-panel-border, transparent));
        border-radius: 2px;
        cursor: pointer;
        font-size: 0.85em;
        font-variant-numeric: tabular-nums;
      }
      button.cell:hover {
        background: var(--vscode-list-hoverBackground);
      }
      button.cell:focus-visible {
        outline: 2px solid var(--vscode-focusBorder);
        outline-offset: -1px;
      }
      button.cell.selected {
        background: var(--vscode-list-inactiveSelectionBackground);
        border-color: var(--vscode-focusBorder);
      }
      button.cell.dead {
        border: 2px dashed var(--vscode-editorError-foreground, var(--vscode-errorForeground));
      }
      canvas {
        width: 80px;
        height: 80px;
        image-rendering: pixelated;
        background: var(--vscode-editor-background);
      }
      .title {
        font-weight: 600;
      }
      .dead-label {
        color: var(--vscode-editorError-foreground, var(--vscode-errorForeground));
        font-weight: 600;
      }
    `,
  ];

  private readonly paint = new Task(this, {
    args: () => [this.activations, this.perChannelScale] as const,
    task: async ([a, perChannel], { signal }) => {
      if (!a) return 0;
      await this.updateComplete;
      const [h, w] = mapSize(a);
      const [lo, hi] = channelRange(a, undefined);
      const canvases = [...this.renderRoot.querySelectorAll<HTMLCanvasElement>('canvas[data-channel]')];
      const started = performance.now();
      for (let i = 0; i < canvases.length; i++) {
        const canvas = canvases[i];
        const c = Number(canvas.dataset.channel);
        const [l, u] = perChannel ? channelRange(a, c) : [lo, hi];
        drawChannel(canvas, a.values, h, w, a.channels, c, l, u);
        if (performance.now() - started > 12 && i % 32 === 31) {
          await nextFrame();
          signal.throwIfAborted();
        }
      }
      this.dispatchEvent(new CustomEvent('grid-rendered', { detail: { layer: a.layer, canvases: canvases.length }, bubbles: true, composed: true }));
      return canvases.length;
    },
  });

  private select(channel: number): void {
    this.dispatchEvent(new CustomEvent('channel-select', { detail: { channel }, bubbles: true, composed: true }));
  }

  override render() {
    const a = this.activations;
    if (!a) return html``;
    const rows = sortRows(channelRows(a, this.dead), this.sort, this.descending);
    return html`
      <div class="grid" role="list" aria-label="${a.channels} feature maps of ${a.layer}">
        ${repeat(
          rows,
          (r) => r.channel,
          (r) => html`<button
            class="cell ${r.dead ? 'dead' : ''} ${r.channel === this.selected ? 'selected' : ''}"
            role="listitem"
            data-channel=${r.channel}
            aria-pressed=${r.channel === this.selected ? 'true' : 'false'}
            aria-label="Channel ${r.channel}${r.dead ? ', dead' : ''}: mean ${formatValue(r.mean)}, max ${formatValue(r.max)}, ${formatPercent(r.zeros)} zeros"
            @click=${() => this.select(r.channel)}
          >
            <canvas data-channel=${r.channel} aria-hidden="true"></canvas>
            <span class="title">#${r.channel}${r.dead ? html` <span class="dead-label">dead</span>` : ''}</span>
            <span>μ ${formatValue(r.mean)}</span>
            <span>max ${formatValue(r.max)}</span>
            <span>${formatPercent(r.zeros)} zeros</span>
          </button>`,
        )}
      </div>
      ${this.paint.render({ pending: () => html`<p class="muted" role="status">Drawing ${a.channels} feature maps…</p>` })}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'feature-map-grid': FeatureMapGrid;
  }
}
