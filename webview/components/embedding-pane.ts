/**
 * `<embedding-pane>`: one embedding — heading (model, layer), quality numbers, the scatter plot
 * with its hover tooltip (thumbnail from the host, file, true vs predicted class) and the legend.
 * While a t-SNE runs it shows the streamed frames and a progress bar.
 *
 * Properties: `pane`, `info` (model, layers), `embedding` (the finished result), `frame` (latest
 * streamed positions), `progress` ({ iteration, iterations }), `running`, `error`, `pointInfo`
 * (the host's answer for the hovered point), `selected` (linked selection from the other pane),
 * `hidden`, `highlight`.
 * Events (all with `pane`): `point-hover` ({ index }), `point-open` ({ index }), `class-toggle`
 * ({ index }), `show-all`, `highlight-toggle` ({ on }), `pane-rendered` ({ points, final, renderer }).
 */
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import type { EmbeddingPaneInfo, PaneIndex, WireEmbedding } from '../../src/protocol';
import './scatter-plot';
import './embedding-legend';
import type { ScatterPlot } from './scatter-plot';
import { classColour, type Rgb } from '../shared/palette';
import { formatInt, formatPercent } from '../shared/format';
import { baseStyles } from '../shared/styles';

export interface PointInfo {
  index: number;
  thumbnail: string;
  title: string;
  note?: string;
}

const METHOD_LABELS = { tsne: 't-SNE', pca: 'PCA', umap: 'UMAP' } as const;

/** Per-class counts and the misclassified mask of an embedding. */
export function classStats(e: WireEmbedding): { colourBy: Int32Array; counts: number[]; wrong: Uint8Array | null; wrongCount: number | null } {
  const colourBy = e.labels ?? e.predicted;
  let top = (e.classNames?.length ?? 0) - 1;
  for (const c of colourBy) if (c > top) top = c;
  const counts = new Array<number>(top + 1).fill(0);
  for (const c of colourBy) if (c >= 0) counts[c]++;
  if (!e.labels) return { colourBy, counts, wrong: null, wrongCount: null };
  const wrong = new Uint8Array(colourBy.length);
  let wrongCount = 0;
  for (let i = 0; i < wrong.length; i++) {
    if (e.labels[i] >= 0 && e.labels[i] !== e.predicted[i]) {
      wrong[i] = 1;
      wrongCount++;
    }
  }
  return { colourBy, counts, wrong, wrongCount };
}

@customElement('embedding-pane')
export class EmbeddingPane extends LitElement {
  @property({ type: Number }) pane: PaneIndex = 0;
  @property({ attribute: false }) info: EmbeddingPaneInfo | undefined;
  @property({ attribute: false }) embedding: WireEmbedding | undefined;
  @property({ attribute: false }) frame: Float32Array | undefined;
  @property({ attribute: false }) progress: { iteration: number; iterations: number } | undefined;
  @property({ type: Boolean }) running = false;
  @property() error: string | undefined;
  @property({ attribute: false }) pointInfo: PointInfo | undefined;
  @property({ type: Number }) selected = -1;
  @property({ attribute: false }) hiddenClasses: ReadonlySet<number> = new Set();
  @property({ type: Boolean }) highlight = false;

  @state() private hover: { index: number; x: number; y: number } | undefined;
  @query('scatter-plot') private plot!: ScatterPlot;
  private stats: { source?: WireEmbedding; value?: ReturnType<typeof classStats> } = {};

  static override styles = [
    baseStyles,
    css`
      :host {
        display: flex;
        flex-direction: column;
        gap: 6px;
        min-width: 0;
      }
      h2 {
        margin: 0;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .quality {
        display: flex;
        flex-wrap: wrap;
        gap: 2px 16px;
        margin: 0;
        font-variant-numeric: tabular-nums;
      }
      .quality div {
        display: flex;
        gap: 6px;
      }
      .quality dt {
        color: var(--vscode-descriptionForeground);
      }
      .quality dd {
        margin: 0;
      }
      .plot-box {
        position: relative;
        flex: 1;
        min-height: 320px;
      }
      scatter-plot {
        position: absolute;
        inset: 0;
      }
      .tooltip {
        position: absolute;
        z-index: 2;
        pointer-events: none;
        display: flex;
        gap: 8px;
        align-items: flex-start;
        max-width: 320px;
        padding: 6px 8px;
        color: var(--vscode-editorHoverWidget-foreground, var(--vscode-foreground));
        background: var(--vscode-editorHoverWidget-background, var(--vscode-editorWidget-background));
        border: 1px solid var(--vscode-editorHoverWidget-border, var(--vscode-widget-border, transparent));
        box-shadow: 0 2px 8px var(--vscode-widget-shadow, transparent);
      }
      .tooltip img {
        width: 64px;
        height: 64px;
        image-rendering: pixelated;
        flex: none;
        border: 1px solid var(--vscode-editorWidget-border, transparent);
      }
      .tooltip .title {
        font-weight: 600;
        word-break: break-all;
      }
      .wrong {
        color: var(--vscode-editorError-foreground, var(--vscode-errorForeground));
        font-weight: 600;
      }
      .status {
        display: flex;
        gap: 8px;
        align-items: center;
      }
      vscode-progress-bar {
        flex: 1;
      }
    `,
  ];

  private emit(name: string, detail: Record<string, unknown> = {}): void {
    this.dispatchEvent(new CustomEvent(name, { detail: { pane: this.pane, ...detail }, bubbles: true, composed: true }));
  }

  private classStats(): ReturnType<typeof classStats> | undefined {
    const e = this.embedding;
    if (!e) return undefined;
    if (this.stats.source !== e) this.stats = { source: e, value: classStats(e) };
    return this.stats.value;
  }

  /** Fits the plot to the cloud again (a new run starts). */
  resetView(): void {
    this.plot?.resetView();
  }

  private nameOf(i: number): string {
    const names = this.embedding?.classNames;
    return names?.[i] ?? String(i);
  }

  private palette: Rgb[] = [];

  /** One colour per class; the same array while the class count stays (the plot redraws on a new one). */
  private colours(): Rgb[] {
    const n = this.classStats()?.counts.length ?? 0;
    if (this.palette.length !== n) this.palette = Array.from({ length: n }, (_, i) => classColour(i));
    return this.palette;
  }

  private renderTooltip() {
    const h = this.hover;
    const e = this.embedding;
    if (!h || h.index < 0 || !e || this.frame) return nothing;
    const info = this.pointInfo?.index === h.index ? this.pointInfo : undefined;
    const truth = e.labels?.[h.index];
    const predicted = e.predicted[h.index];
    const wrong = truth !== undefined && truth >= 0 && truth !== predicted;
    return html`<div class="tooltip" role="tooltip" data-index=${h.index}>
      ${info?.thumbnail ? html`<img src=${info.thumbnail} alt="Image of point ${h.index}" />` : nothing}
      <div>
        <div class="title">${info?.title ?? `Point ${h.index}`}</div>
        ${info?.note ? html`<div class="muted">${info.note}</div>` : nothing}
        ${truth !== undefined && truth >= 0 ? html`<div>True: ${this.nameOf(truth)}</div>` : nothing}
        <div class=${wrong ? 'wrong' : ''}>Predicted: ${this.nameOf(predicted)}${wrong ? ' ✗' : ''}</div>
        <div class="muted">Click to open</div>
      </div>
    </div>`;
  }

  protected override updated(): void {
    // Tooltip placement through the CSSOM (no inline style attributes under the CSP): beside the
    // point, flipped to stay inside the plot.
    const tip = this.renderRoot.querySelector<HTMLElement>('.tooltip');
    const box = this.renderRoot.querySelector<HTMLElement>('.plot-box');
    if (tip && box && this.hover) {
      const left = this.hover.x + 14 + tip.offsetWidth > box.clientWidth ? this.hover.x - 14 - tip.offsetWidth : this.hover.x + 14;
      const top = Math.min(Math.max(0, this.hover.y - tip.offsetHeight / 2), Math.max(0, box.clientHeight - tip.offsetHeight));
      tip.style.left = `${Math.max(0, left)}px`;
      tip.style.top = `${top}px`;
    }
  }

  override render() {
    const e = this.embedding;
    const info = this.info;
    const stats = this.classStats();
    const points = this.frame ?? e?.points;
    const layer = e?.layer ?? info?.layer;
    return html`
      <h2 title=${info?.modelName ?? ''}>
        ${info?.modelName ?? '…'}
        <span class="muted">${layer ? `· ${layer}` : '· default layer'}${e ? ` · ${METHOD_LABELS[e.method]}` : ''}</span>
      </h2>
      ${e && !this.frame
        ? html`<dl class="quality" aria-label="Embedding quality">
            <div><dt title="Share of points whose 10 nearest neighbours in the map mostly have the same true class">10-NN accuracy</dt><dd data-metric="knn">${e.knnAccuracy === null ? '— (no labels)' : formatPercent(e.knnAccuracy)}</dd></div>
            <div>
              <dt title="How well neighbourhoods in the map are neighbourhoods in the layer's features (1 = all of them)">Trustworthiness</dt>
              <dd data-metric="trustworthiness">${e.trustworthiness.toFixed(3)}${e.trustworthinessSample < e.points.length / 2 ? html` <span class="muted">(${formatInt(e.trustworthinessSample)} sampled)</span>` : nothing}</dd>
            </div>
            <div><dt>Points</dt><dd>${formatInt(e.points.length / 2)}</dd></div>
            <div><dt>Features</dt><dd>${formatInt(e.dims)}-d</dd></div>
            ${stats?.wrongCount != null ? html`<div><dt>Misclassified</dt><dd>${formatInt(stats.wrongCount)}</dd></div>` : nothing}
            <div><dt>Time</dt><dd>${e.seconds.toFixed(1)} s</dd></div>
          </dl>`
        : nothing}
      ${this.running
        ? html`<div class="status" role="status">
            <span>${this.progress?.iterations ? `Iteration ${formatInt(this.progress.iteration)} of ${formatInt(this.progress.iterations)}` : 'Computing…'}</span>
            <vscode-progress-bar .value=${this.progress?.iterations ? this.progress.iteration : undefined} .max=${this.progress?.iterations || 1} aria-label="Embedding progress"></vscode-progress-bar>
          </div>`
        : nothing}
      ${this.error ? html`<div class="error" role="alert">${this.error}</div>` : nothing}
      <div class="plot-box">
        <scatter-plot
          .points=${points ?? new Float32Array(0)}
          .classes=${stats?.colourBy ?? null}
          .colours=${this.colours()}
          .hiddenClasses=${this.hiddenClasses}
          .emphasis=${stats?.wrong ?? null}
          .highlight=${this.highlight && !this.frame}
          .selected=${this.selected}
          label="Embedding of ${layer ?? 'the default layer'}"
          @point-hover=${(ev: CustomEvent<{ index: number; x: number; y: number }>) => {
            ev.stopPropagation();
            this.hover = ev.detail.index >= 0 ? ev.detail : undefined;
            this.emit('point-hover', { index: ev.detail.index });
          }}
          @point-click=${(ev: CustomEvent<{ index: number }>) => {
            ev.stopPropagation();
            this.emit('point-open', { index: ev.detail.index });
          }}
          @plot-rendered=${(ev: CustomEvent<{ points: number; renderer: string }>) => {
            ev.stopPropagation();
            this.emit('pane-rendered', { points: ev.detail.points, renderer: ev.detail.renderer, final: !this.frame && !!e });
          }}
        ></scatter-plot>
        ${this.renderTooltip()}
      </div>
      ${e && stats
        ? html`<embedding-legend
            .classNames=${stats.counts.map((_, i) => this.nameOf(i))}
            .colours=${this.colours()}
            .counts=${stats.counts}
            .hiddenClasses=${this.hiddenClasses}
            .misclassified=${stats.wrongCount}
            .highlight=${this.highlight}
            @class-toggle=${(ev: CustomEvent<{ index: number }>) => {
              ev.stopPropagation();
              this.emit('class-toggle', { index: ev.detail.index });
            }}
            @show-all=${(ev: Event) => {
              ev.stopPropagation();
              this.emit('show-all');
            }}
            @highlight-toggle=${(ev: CustomEvent<{ on: boolean }>) => {
              ev.stopPropagation();
              this.emit('highlight-toggle', { on: ev.detail.on });
            }}
          ></embedding-legend>`
        : nothing}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'embedding-pane': EmbeddingPane;
  }
}
