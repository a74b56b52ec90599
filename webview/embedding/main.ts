/**
 * The Embedding view's webview: controls (layer, method and its parameters, image limit, Run /
 * Cancel, Compare…) above one pane, or two side by side when comparing two layers or two models.
 * The host computes; this side draws streamed t-SNE frames and results, asks the host for a
 * hovered point's thumbnail, and links hover between panes that hold the same images.
 *
 * Class visibility and "highlight misclassified" live in `vscode.setState`; the data is re-sent
 * by the host on `ready`.
 */
import { LitElement, css, html, nothing } from 'lit';
import { customElement, queryAll, state } from 'lit/decorators.js';
import {
  DEFAULT_EMBEDDING_SETTINGS,
  EMBEDDING_LIMITS,
  asFloat32Array,
  type EmbeddingHostMessage,
  type EmbeddingPaneInfo,
  type EmbeddingSettings,
  type EmbeddingWebviewMessage,
  type EmbeddingWebviewState,
  type PaneIndex,
  type WireEmbedMethod,
  type WireEmbedding,
} from '../../src/protocol';
import '../shared/elements';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import '../components/embedding-pane';
import type { EmbeddingPane, PointInfo } from '../components/embedding-pane';
import { HostChannel } from '../shared/host';
import { ViewStatus } from '../shared/viewStatus';
import { formatShape } from '../shared/format';
import { baseStyles } from '../shared/styles';

interface PaneState {
  info?: EmbeddingPaneInfo;
  embedding?: WireEmbedding;
  frame?: Float32Array;
  progress?: { iteration: number; iterations: number };
  running: boolean;
  error?: string;
  pointInfo?: PointInfo;
  /** Layer chosen in the controls (null: the engine's default). */
  layer: string | null;
  renderer?: string;
}

const METHODS: { value: WireEmbedMethod; label: string }[] = [
  { value: 'tsne', label: 't-SNE' },
  { value: 'pca', label: 'PCA' },
  { value: 'umap', label: 'UMAP' },
];

/** Typed arrays may arrive as plain objects from an older serializer. */
function asInt32(v: unknown): Int32Array {
  if (v instanceof Int32Array) return v;
  return Int32Array.from(asFloat32Array(v));
}

function normaliseEmbedding(e: WireEmbedding): WireEmbedding {
  return { ...e, points: asFloat32Array(e.points), labels: e.labels ? asInt32(e.labels) : null, predicted: asInt32(e.predicted) };
}

const HOVER_DELAY_MS = 60;

@customElement('cnn-lens-embedding-app')
export class EmbeddingApp extends LitElement {
  private readonly host = new HostChannel<EmbeddingWebviewMessage, EmbeddingHostMessage, EmbeddingWebviewState>();

  private readonly status = new ViewStatus(this);
  /** A hint while nothing runs and nothing is shown ("Press Run…"). */
  @state() private idle: string | undefined;
  @state() private backend: string | undefined;
  @state() private settings: EmbeddingSettings = { ...DEFAULT_EMBEDDING_SETTINGS };
  @state() private panes: PaneState[] = [{ running: false, layer: null }];
  @state() private linked = false;
  @state() private hovered: { pane: PaneIndex; index: number } | undefined;
  @state() private hiddenClasses: Set<number>[] = [new Set(), new Set()];
  @state() private highlight = false;
  @queryAll('embedding-pane') private paneElements!: NodeListOf<EmbeddingPane>;
  private requestId = 0;
  private hoverTimer: ReturnType<typeof setTimeout> | undefined;

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
      .toolbar {
        display: flex;
        flex-wrap: wrap;
        gap: 8px 16px;
        align-items: flex-end;
        margin-bottom: 8px;
      }
      label.field {
        display: flex;
        flex-direction: column;
        gap: 2px;
        font-size: 0.9em;
      }
      vscode-single-select {
        min-width: 9em;
      }
      vscode-textfield {
        width: 6.5em;
      }
      .buttons {
        display: flex;
        gap: 8px;
      }
      .panes {
        flex: 1;
        min-height: 0;
        display: grid;
        grid-template-columns: 1fr;
        gap: 16px;
      }
      .panes.two {
        grid-template-columns: 1fr 1fr;
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    const s = this.host.state;
    this.hiddenClasses = [new Set(s.hidden?.[0] ?? []), new Set(s.hidden?.[1] ?? [])];
    this.highlight = s.highlightMisclassified ?? false;
    this.host.onMessage((m) => this.onMessage(m));
    this.host.post({ type: 'ready' });
  }

  private patchPane(pane: PaneIndex, patch: Partial<PaneState>): void {
    const panes = [...this.panes];
    panes[pane] = { ...(panes[pane] ?? { running: false, layer: null }), ...patch };
    this.panes = panes;
  }

  private onMessage(m: EmbeddingHostMessage): void {
    // The hint goes as soon as something happens: a run, a result, progress or an error.
    if (m.type === 'running' || m.type === 'embedding' || m.type === 'loading' || m.type === 'error') this.idle = undefined;
    if (this.status.handle(m)) return;
    switch (m.type) {
      case 'idle':
        this.idle = m.message;
        this.status.loading = undefined;
        break;
      case 'context':
        this.host.patchState({ panelId: m.panelId });
        this.backend = m.backend;
        this.settings = m.settings;
        this.panes = m.panes.map((info, i) => ({ ...(this.panes[i] ?? { running: false }), info, layer: info.layer ?? null }));
        this.status.loading = undefined;
        break;
      case 'running':
        this.status.loading = undefined;
        this.patchPane(m.pane, { running: true, error: undefined, frame: undefined, progress: m.iterations ? { iteration: 0, iterations: m.iterations } : undefined });
        this.paneElements[m.pane]?.resetView();
        break;
      case 'frame':
        this.patchPane(m.pane, { frame: asFloat32Array(m.points), progress: { iteration: m.iteration, iterations: m.iterations } });
        break;
      case 'embedding':
        this.status.loading = undefined;
        this.patchPane(m.pane, { embedding: normaliseEmbedding(m.embedding), frame: undefined, running: false, progress: undefined, error: undefined });
        this.linked = m.linked;
        break;
      case 'cancelled': {
        const kept = this.panes[m.pane]?.embedding !== undefined;
        this.patchPane(m.pane, { running: false, frame: undefined, progress: undefined });
        // The plot keeps the last finished result, which the controls may no longer describe.
        if (!this.panes.some((p) => p.running)) {
          this.idle = kept ? 'Cancelled. The plot still shows the last finished run, which may not match the settings above.' : 'Cancelled. Press Run to compute the embedding.';
        }
        break;
      }
      case 'paneError':
        this.patchPane(m.pane, { running: false, frame: undefined, progress: undefined, error: m.message });
        break;
      case 'paneClosed':
        this.panes = this.panes.slice(0, m.pane);
        this.linked = false;
        break;
      case 'pointInfo':
        this.patchPane(m.pane, { pointInfo: { index: m.index, thumbnail: m.thumbnail, title: m.title, note: m.note } });
        break;
    }
  }

  private run(): void {
    this.host.post({ type: 'run', settings: this.settings, layers: this.panes.map((p) => p.layer) });
  }

  private setSetting<K extends keyof EmbeddingSettings>(key: K, raw: string): void {
    if (key === 'method') {
      this.settings = { ...this.settings, method: raw as WireEmbedMethod };
      return;
    }
    const [lo, hi] = EMBEDDING_LIMITS[key as Exclude<K, 'method'>];
    const v = Number(raw);
    if (!Number.isFinite(v)) return;
    const integer = key !== 'perplexity' && key !== 'minDist';
    this.settings = { ...this.settings, [key]: Math.min(hi, Math.max(lo, integer ? Math.round(v) : v)) };
  }

  private onHover(pane: PaneIndex, index: number): void {
    clearTimeout(this.hoverTimer);
    this.hovered = index >= 0 ? { pane, index } : undefined;
    if (index < 0) return;
    this.hoverTimer = setTimeout(() => {
      this.host.post({ type: 'hoverPoint', pane, index, requestId: ++this.requestId });
    }, HOVER_DELAY_MS);
  }

  private toggleClass(pane: PaneIndex, index: number): void {
    const hidden = [...this.hiddenClasses];
    const set = new Set(hidden[pane]);
    if (set.has(index)) set.delete(index);
    else set.add(index);
    hidden[pane] = set;
    this.setHidden(hidden);
  }

  private setHidden(hidden: Set<number>[]): void {
    this.hiddenClasses = hidden;
    this.host.patchState({ hidden: hidden.map((s) => [...s]) });
  }

  private numberField(key: 'limit' | 'perplexity' | 'iterations' | 'neighbors' | 'minDist', label: string, title: string) {
    const [lo, hi] = EMBEDDING_LIMITS[key];
    return html`<label class="field" title=${title}
      >${label}
      <vscode-textfield
        type="number"
        data-setting=${key}
        aria-label=${label}
        min=${lo}
        max=${hi}
        step=${key === 'minDist' ? '0.05' : '1'}
        .value=${String(this.settings[key])}
        @change=${(e: Event) => this.setSetting(key, (e.target as HTMLInputElement).value)}
        @keydown=${(e: KeyboardEvent) => {
          if (e.key === 'Enter') {
            this.setSetting(key, (e.target as HTMLInputElement).value);
            this.run();
          }
        }}
      ></vscode-textfield
    ></label>`;
  }

  private layerSelect(pane: PaneIndex, label: string) {
    const p = this.panes[pane];
    const layers = p?.info?.layers ?? [];
    const value = p?.layer ?? '';
    return html`<label class="field"
      >${label}
      <vscode-single-select
        aria-label=${label}
        data-pane=${pane}
        .value=${value}
        @change=${(e: Event) => {
          const v = (e.target as HTMLInputElement).value;
          this.patchPane(pane, { layer: v === '' ? null : v });
        }}
      >
        <vscode-option value="" ?selected=${value === ''} description="the layer before the classifier">Default</vscode-option>
        ${layers.map((l) => html`<vscode-option value=${l.name} ?selected=${l.name === value} description="${l.className} ${formatShape(l.shape)}">${l.name}</vscode-option>`)}
      </vscode-single-select></label
    >`;
  }

  private renderToolbar() {
    const s = this.settings;
    const running = this.panes.some((p) => p.running);
    const comparing = this.panes.length > 1;
    return html`<div class="toolbar" role="toolbar" aria-label="Embedding controls">
      ${this.layerSelect(0, comparing ? 'Layer (left)' : 'Layer')} ${comparing ? this.layerSelect(1, 'Layer (right)') : nothing}
      <label class="field"
        >Method
        <vscode-single-select aria-label="Method" .value=${s.method} @change=${(e: Event) => this.setSetting('method', (e.target as HTMLInputElement).value)}>
          ${METHODS.map((m) => html`<vscode-option value=${m.value} ?selected=${m.value === s.method}>${m.label}</vscode-option>`)}
        </vscode-single-select></label
      >
      ${s.method === 'tsne' ? this.numberField('perplexity', 'Perplexity', 'Effective number of neighbours each point keeps close (t-SNE)') : nothing}
      ${s.method !== 'pca' ? this.numberField('iterations', 'Iterations', 'Optimisation steps') : nothing}
      ${s.method === 'umap' ? this.numberField('neighbors', 'Neighbours', 'Size of the local neighbourhood (UMAP)') : nothing}
      ${s.method === 'umap' ? this.numberField('minDist', 'Min. distance', 'How tightly points may pack (UMAP)') : nothing}
      ${this.numberField('limit', 'Images', 'Use N images spread evenly over the dataset')}
      <div class="buttons">
        <vscode-button ?disabled=${running} @click=${() => this.run()}>Run</vscode-button>
        ${running ? html`<vscode-button secondary @click=${() => this.host.post({ type: 'cancel' })}>Cancel</vscode-button>` : nothing}
        ${comparing
          ? html`<vscode-button secondary @click=${() => this.host.post({ type: 'closeCompare' })}>Close comparison</vscode-button>`
          : html`<vscode-button secondary title="Another layer of this model, or another model, side by side" @click=${() => this.host.post({ type: 'compare' })}>Compare…</vscode-button>`}
      </div>
    </div>`;
  }

  override render() {
    const two = this.panes.length > 1;
    const renderers = [...new Set(this.panes.map((p) => p.renderer).filter(Boolean))];
    return html`
      <h1>Embedding ${this.backend || renderers.length ? html`<span class="muted">— ${[this.backend && `backend ${this.backend}`, renderers.length && `drawn with ${renderers.map((r) => (r === 'webgl' ? 'WebGL' : '2-D canvas')).join(', ')}`].filter(Boolean).join(' · ')}</span>` : nothing}</h1>
      ${this.renderToolbar()}
      ${this.status.render()}
      ${this.idle && !this.status.loading ? html`<p role="status" class="muted">${this.idle}</p>` : nothing}
      <div class="panes ${two ? 'two' : ''}">
        ${this.panes.map((p, i) => {
          const pane = i as PaneIndex;
          const other = this.hovered && this.hovered.pane !== pane && this.linked ? this.hovered.index : -1;
          return html`<embedding-pane
            .pane=${pane}
            .info=${p.info}
            .embedding=${p.embedding}
            .frame=${p.frame}
            .progress=${p.progress}
            .running=${p.running}
            .error=${p.error}
            .pointInfo=${p.pointInfo}
            .selected=${other}
            .hiddenClasses=${this.hiddenClasses[pane]}
            .highlight=${this.highlight}
            @point-hover=${(e: CustomEvent<{ pane: PaneIndex; index: number }>) => this.onHover(e.detail.pane, e.detail.index)}
            @point-open=${(e: CustomEvent<{ pane: PaneIndex; index: number }>) => this.host.post({ type: 'openPoint', pane: e.detail.pane, index: e.detail.index })}
            @class-toggle=${(e: CustomEvent<{ pane: PaneIndex; index: number }>) => this.toggleClass(e.detail.pane, e.detail.index)}
            @show-all=${(e: CustomEvent<{ pane: PaneIndex }>) => {
              const hidden = [...this.hiddenClasses];
              hidden[e.detail.pane] = new Set();
              this.setHidden(hidden);
            }}
            @highlight-toggle=${(e: CustomEvent<{ on: boolean }>) => {
              this.highlight = e.detail.on;
              this.host.patchState({ highlightMisclassified: e.detail.on });
            }}
            @pane-rendered=${(e: CustomEvent<{ pane: PaneIndex; points: number; final: boolean; renderer: string }>) => {
              if (this.panes[e.detail.pane]?.renderer !== e.detail.renderer) this.patchPane(e.detail.pane, { renderer: e.detail.renderer });
              this.host.post({ type: 'rendered', pane: e.detail.pane, points: e.detail.points, final: e.detail.final });
            }}
          ></embedding-pane>`;
        })}
      </div>
    `;
  }
}
