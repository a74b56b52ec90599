/**
 * `<weight-histogram>`: a layer's kernel-weight histogram as SVG bars in the theme's chart colour,
 * with min / mean / max / std. Property in: `histogram`; no events.
 */
import { LitElement, css, html, svg } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { WireWeightHistogram } from '../../src/protocol';
import { formatInt, formatValue } from '../shared/format';
import { baseStyles } from '../shared/styles';

const W = 320;
const H = 100;

@customElement('weight-histogram')
export class WeightHistogram extends LitElement {
  @property({ attribute: false }) histogram: WireWeightHistogram | undefined;
  @property() label = 'Weight histogram';

  static override styles = [
    baseStyles,
    css`
      :host {
        display: inline-block;
      }
      svg {
        display: block;
        width: ${W}px;
        height: ${H}px;
        border-bottom: 1px solid var(--vscode-foreground);
      }
      rect {
        fill: var(--vscode-charts-blue, var(--vscode-foreground));
      }
      line.zero {
        stroke: var(--vscode-charts-red, var(--vscode-errorForeground));
        stroke-dasharray: 3 2;
      }
      .axis {
        display: flex;
        justify-content: space-between;
        width: ${W}px;
        font-size: 0.85em;
      }
    `,
  ];

  override render() {
    const h = this.histogram;
    if (!h || h.counts.length === 0) return html`<span class="muted">No weights</span>`;
    const peak = Math.max(1, ...h.counts);
    const bw = W / h.counts.length;
    const lo = h.edges[0];
    const hi = h.edges[h.edges.length - 1];
    const zeroX = hi > lo && lo < 0 && hi > 0 ? ((0 - lo) / (hi - lo)) * W : undefined;
    const summary = `${this.label}: ${formatInt(h.count)} weights from ${formatValue(h.min)} to ${formatValue(h.max)}, mean ${formatValue(h.mean)}, standard deviation ${formatValue(h.std)}`;
    return html`
      <svg viewBox="0 0 ${W} ${H}" preserveAspectRatio="none" role="img" aria-label=${summary}>
        ${h.counts.map((c, i) => {
          const bh = (c / peak) * (H - 2);
          return svg`<rect x=${i * bw} y=${H - bh} width=${Math.max(0.5, bw - 0.5)} height=${bh}><title>${formatValue(h.edges[i])} … ${formatValue(h.edges[i + 1])}: ${formatInt(c)}</title></rect>`;
        })}
        ${zeroX !== undefined ? svg`<line class="zero" x1=${zeroX} x2=${zeroX} y1="0" y2=${H}></line>` : ''}
      </svg>
      <div class="axis muted"><span>${formatValue(lo)}</span><span>0</span><span>${formatValue(hi)}</span></div>
      <div class="muted">mean ${formatValue(h.mean)} · std ${formatValue(h.std)} · ${formatInt(h.count)} weights</div>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'weight-histogram': WeightHistogram;
  }
}
