/**
 * `<receptive-field-overlay>`: the input image (`<feature-map-canvas mode="image">`) with one
 * unit's receptive field on top — the theoretical field as a box clipped to the image (a dashed
 * edge where the field reaches beyond it, i.e. into the padding), and the effective receptive
 * field's heat map (|∂unit/∂pixel|, max 1) drawn with transparency — and a legend: size, stride,
 * ERF radii at 50% / 90% of the gradient mass.
 *
 * Properties: `input`, `height`, `width`, `channels` (the HWC input image), `size` (CSS pixels of
 * the longer side), `label`, `caption` (shown under the image), `erf` (the result, or undefined),
 * `showHeatmap`, `loading`.
 * Events: `overlay-rendered` ({ layer, channel, unit, box, heatmap }) after drawing a result.
 */
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import type { WireEffectiveReceptiveField } from '../../src/protocol';
import './feature-map-canvas';
import { baseStyles } from '../shared/styles';

/** The heat map's colour at t ∈ [0, 1]: transparent → red → yellow → white, alpha rising with √t. */
export function heatRgba(t: number): [number, number, number, number] {
  const v = Math.min(1, Math.max(0, t));
  return [255, Math.round(255 * Math.min(1, 1.5 * v)), Math.round(255 * Math.max(0, 2 * v - 1)), Math.round(255 * 0.8 * Math.sqrt(v))];
}

function heatCss(t: number): string {
  const [r, g, b, a] = heatRgba(t);
  return `rgba(${r}, ${g}, ${b}, ${(a / 255).toFixed(2)})`;
}

@customElement('receptive-field-overlay')
export class ReceptiveFieldOverlay extends LitElement {
  @property({ attribute: false }) input: Float32Array = new Float32Array(0);
  @property({ type: Number }) height = 0;
  @property({ type: Number }) width = 0;
  @property({ type: Number }) channels = 1;
  @property({ type: Number }) size = 224;
  @property() label = '';
  @property() caption = '';
  @property({ attribute: false }) erf: WireEffectiveReceptiveField | undefined;
  @property({ type: Boolean }) showHeatmap = true;
  @property({ type: Boolean }) loading = false;

  @query('canvas.heat') private heat!: HTMLCanvasElement;
  @query('.box') private box!: HTMLDivElement;
  private reported: unknown;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: inline-flex;
        flex-direction: column;
        gap: 4px;
      }
      .stack {
        position: relative;
        display: inline-block;
        line-height: 0;
      }
      canvas.heat {
        position: absolute;
        left: 1px;
        top: 1px;
        image-rendering: pixelated;
        pointer-events: none;
      }
      .box {
        position: absolute;
        box-sizing: border-box;
        border: 2px solid var(--vscode-charts-yellow, var(--vscode-focusBorder));
        /* a rim in the editor background keeps the box apart from the image's pixels (the
           theme's yellow is dark in light themes and bright in dark ones) */
        box-shadow:
          0 0 0 1px var(--vscode-editor-background),
          inset 0 0 0 1px var(--vscode-editor-background);
        pointer-events: none;
        display: none;
      }
      .box.on {
        display: block;
      }
      .box.cut-top {
        border-top-style: dashed;
      }
      .box.cut-bottom {
        border-bottom-style: dashed;
      }
      .box.cut-left {
        border-left-style: dashed;
      }
      .box.cut-right {
        border-right-style: dashed;
      }
      .caption {
        font-size: 0.9em;
      }
      .legend {
        font-size: 0.85em;
        line-height: 1.4;
        max-width: 240px;
      }
      .ramp {
        display: inline-flex;
        vertical-align: middle;
        height: 8px;
        width: 64px;
        margin: 0 4px;
        border: 1px solid var(--vscode-editorWidget-border, transparent);
      }
      .ramp span {
        flex: 1;
      }
      .swatch-box {
        display: inline-block;
        width: 10px;
        height: 8px;
        border: 2px solid var(--vscode-charts-yellow, var(--vscode-focusBorder));
        vertical-align: middle;
        margin-right: 4px;
      }
      .note {
        color: var(--vscode-editorWarning-foreground, var(--vscode-descriptionForeground));
      }
    `,
  ];

  private radius(fraction: number): string {
    const r = this.erf?.radii.find((x) => Math.abs(x.fraction - fraction) < 1e-6)?.radius;
    return r === undefined || !Number.isFinite(r) ? '—' : `${r.toFixed(1)} px`;
  }

  private renderLegend() {
    const e = this.erf;
    if (this.loading) return html`<div class="legend muted" role="status">Computing the receptive field…</div>`;
    if (!e) return html`<div class="legend muted">Click a cell of the feature map (or focus it and use the arrow keys) to see its receptive field here.</div>`;
    const t = e.theoretical;
    const axes = (p: [number, number]) => (p[0] === p[1] ? String(p[0]) : `${p[0]}×${p[1]}`);
    const clipped = t && (t.box[0] < 0 || t.box[1] < 0 || t.box[2] >= e.inputSize[0] || t.box[3] >= e.inputSize[1]);
    return html`<div class="legend" data-unit="${e.unit[0]},${e.unit[1]}">
      <div><strong>Unit (${e.unit[0]}, ${e.unit[1]})</strong> of ${e.layer}${e.channel !== null ? ` #${e.channel}` : ''}</div>
      ${t
        ? html`<div>
            <span class="swatch-box" aria-hidden="true"></span>Receptive field ${t.size[0]}×${t.size[1]} · stride ${axes(t.stride)}${clipped ? ' · dashed: beyond the image (padding)' : ''}
          </div>`
        : nothing}
      <div>
        <span class="ramp" aria-hidden="true">${Array.from({ length: 8 }, (_, i) => html`<span data-t=${(i + 0.5) / 8}></span>`)}</span>ERF r50 ${this.radius(0.5)} · r90 ${this.radius(0.9)}
        <span class="muted">(${e.images} image${e.images === 1 ? '' : 's'})</span>
      </div>
      ${e.note ? html`<div class="note">${e.note}</div>` : nothing}
    </div>`;
  }

  override render() {
    return html`<div class="stack">
        <feature-map-canvas mode="image" .values=${this.input} height=${this.height} width=${this.width} channels=${this.channels} size=${this.size} label=${this.label}></feature-map-canvas>
        <canvas class="heat" aria-hidden="true"></canvas>
        <div class="box" aria-hidden="true"></div>
      </div>
      ${this.caption ? html`<div class="caption">${this.caption}</div>` : nothing}
      ${this.renderLegend()}`;
  }

  protected override updated(): void {
    for (const el of this.renderRoot.querySelectorAll<HTMLElement>('.ramp span[data-t]')) el.style.background = heatCss(Number(el.dataset.t));
    const e = this.erf;
    const [h, w] = [this.height, this.width];
    const scale = this.size / Math.max(h, w, 1);
    const cssW = Math.round(w * scale);
    const cssH = Math.round(h * scale);
    // Heat map: one canvas pixel per input pixel, scaled like the image beneath it.
    const heatOn = !!e && this.showHeatmap && e.inputSize[0] === h && e.inputSize[1] === w;
    this.heat.style.display = heatOn ? 'block' : 'none';
    if (heatOn) {
      this.heat.width = w;
      this.heat.height = h;
      this.heat.style.width = `${cssW}px`;
      this.heat.style.height = `${cssH}px`;
      const ctx = this.heat.getContext('2d');
      if (ctx) {
        const img = ctx.createImageData(w, h);
        for (let i = 0; i < w * h; i++) img.data.set(heatRgba(e.heatmap[i] ?? 0), 4 * i);
        ctx.putImageData(img, 0, 0);
      }
    }
    // Theoretical box, clipped to the image; dashed sides where the field reaches beyond it.
    const t = e?.theoretical;
    const boxOn = !!t && e!.inputSize[0] === h && e!.inputSize[1] === w;
    this.box.classList.toggle('on', boxOn);
    if (boxOn) {
      const [top, left, bottom, right] = t.box;
      const ct = Math.max(0, top);
      const cl = Math.max(0, left);
      const cb = Math.min(h - 1, bottom);
      const cr = Math.min(w - 1, right);
      this.box.classList.toggle('cut-top', top < 0);
      this.box.classList.toggle('cut-left', left < 0);
      this.box.classList.toggle('cut-bottom', bottom > h - 1);
      this.box.classList.toggle('cut-right', right > w - 1);
      this.box.style.left = `${1 + cl * scale}px`;
      this.box.style.top = `${1 + ct * scale}px`;
      this.box.style.width = `${Math.max(2, (cr - cl + 1) * scale)}px`;
      this.box.style.height = `${Math.max(2, (cb - ct + 1) * scale)}px`;
    }
    if (e && this.reported !== e) {
      this.reported = e;
      this.dispatchEvent(
        new CustomEvent('overlay-rendered', { detail: { layer: e.layer, channel: e.channel ?? 0, unit: e.unit, box: boxOn, heatmap: heatOn }, bubbles: true, composed: true }),
      );
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'receptive-field-overlay': ReceptiveFieldOverlay;
  }
}
