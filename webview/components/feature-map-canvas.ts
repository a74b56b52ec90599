/**
 * `<feature-map-canvas>`: one feature map (one channel of an HWC tensor, viridis over [lo, hi])
 * or an input image (`mode="image"`: RGB or grey), drawn on a canvas at one canvas pixel per
 * value and scaled up by CSS with crisp pixels. Properties in; no events.
 */
import { LitElement, css, html } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import { drawChannel, drawImage } from '../shared/colormap';

@customElement('feature-map-canvas')
export class FeatureMapCanvas extends LitElement {
  @property({ attribute: false }) values: Float32Array = new Float32Array(0);
  @property({ type: Number }) height = 0;
  @property({ type: Number }) width = 0;
  @property({ type: Number }) channels = 1;
  @property({ type: Number }) channel = 0;
  @property({ type: Number }) lo = 0;
  @property({ type: Number }) hi = 1;
  @property() mode: 'map' | 'image' = 'map';
  @property() label = '';
  /** Displayed size in CSS pixels (longer side). */
  @property({ type: Number }) size = 256;

  @query('canvas') private canvas!: HTMLCanvasElement;

  static override styles = css`
    :host {
      display: inline-block;
    }
    canvas {
      image-rendering: pixelated;
      display: block;
      border: 1px solid var(--vscode-editorWidget-border, var(--vscode-contrastBorder, transparent));
    }
  `;

  override render() {
    return html`<canvas role="img" aria-label=${this.label}></canvas>`;
  }

  protected override updated(): void {
    if (!this.values.length || !this.height || !this.width) return;
    if (this.mode === 'image') drawImage(this.canvas, this.values, this.height, this.width, this.channels);
    else drawChannel(this.canvas, this.values, this.height, this.width, this.channels, this.channel, this.lo, this.hi);
    const scale = this.size / Math.max(this.height, this.width);
    this.canvas.style.width = `${Math.round(this.width * scale)}px`;
    this.canvas.style.height = `${Math.round(this.height * scale)}px`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'feature-map-canvas': FeatureMapCanvas;
  }
}
