/**
 * `<epoch-time-chart>`: seconds per epoch as SVG bars (the first epoch often includes warm-up),
 * with the total and the mean. Property in: `epochs`; no events.
 */
import { LitElement, css, html, svg } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { WireEpochReport } from '../../src/protocol';
import { baseStyles } from '../shared/styles';

const W = 360;
const H = 90;

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '—';
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 120) return `${Math.round(s)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

@customElement('epoch-time-chart')
export class EpochTimeChart extends LitElement {
  @property({ attribute: false }) epochs: WireEpochReport[] = [];
  @property({ type: Number }) totalEpochs = 1;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
        max-width: 520px;
      }
      svg {
        display: block;
        width: 100%;
        height: auto;
        border-bottom: 1px solid var(--vscode-editorWidget-border, var(--vscode-panel-border, currentColor));
      }
      rect {
        fill: var(--vscode-charts-purple, var(--vscode-foreground));
      }
      text {
        fill: var(--vscode-descriptionForeground);
        font-size: 10px;
        font-family: var(--vscode-font-family);
      }
    `,
  ];

  override render() {
    const e = this.epochs;
    if (e.length === 0) return html`<span class="muted">No epoch finished yet.</span>`;
    const slots = Math.max(this.totalEpochs, e.length);
    const peak = Math.max(...e.map((r) => r.seconds), 1e-3);
    const bw = W / slots;
    const total = e.reduce((a, r) => a + r.seconds, 0);
    const label = `Seconds per epoch: ${e.map((r) => `epoch ${r.epoch} ${formatSeconds(r.seconds)}`).join(', ')}`;
    return html`
      <svg viewBox="0 0 ${W} ${H}" role="img" aria-label=${label}>
        ${e.map((r, i) => {
          const h = (r.seconds / peak) * (H - 14);
          return svg`<rect x=${i * bw + 1} y=${H - h} width=${Math.max(1, bw - 2)} height=${h}><title>Epoch ${r.epoch}: ${formatSeconds(r.seconds)}</title></rect>
            ${bw >= 24 ? svg`<text x=${i * bw + bw / 2} y=${H - h - 3} text-anchor="middle">${formatSeconds(r.seconds)}</text>` : ''}`;
        })}
      </svg>
      <div class="muted">${e.length} ${e.length === 1 ? 'epoch' : 'epochs'} in ${formatSeconds(total)}, ${formatSeconds(total / e.length)} per epoch on average</div>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'epoch-time-chart': EpochTimeChart;
  }
}
