/**
 * `<dead-filters-chart>`: dead units per layer after each epoch, as a table (layers × epochs)
 * whose cells are shaded by the count relative to the largest one, so a layer whose units die
 * during training stands out; the numbers are always written, so shading is never the only cue.
 * Properties: `epochs`, `layers` (display order; layers never reported are left out). No events.
 */
import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { WireEpochReport } from '../../src/protocol';
import { formatInt } from '../shared/format';
import { baseStyles } from '../shared/styles';

@customElement('dead-filters-chart')
export class DeadFiltersChart extends LitElement {
  @property({ attribute: false }) epochs: WireEpochReport[] = [];
  @property({ attribute: false }) layers: string[] = [];

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
        overflow-x: auto;
      }
      table {
        border-collapse: collapse;
        font-variant-numeric: tabular-nums;
      }
      th,
      td {
        padding: 2px 8px;
        text-align: right;
        border: 1px solid var(--vscode-editorWidget-border, var(--vscode-panel-border, transparent));
      }
      th[scope='row'] {
        text-align: left;
        font-weight: normal;
        font-family: var(--vscode-editor-font-family, monospace);
      }
      thead th {
        color: var(--vscode-descriptionForeground);
        font-weight: normal;
      }
      td {
        min-width: 2.5em;
        /* --f: share of the largest count, set per cell through the CSSOM (see updated()) */
        background: color-mix(in srgb, var(--vscode-charts-red, #c33) calc(var(--f, 0) * 55%), transparent);
      }
      td.zero {
        color: var(--vscode-descriptionForeground);
      }
    `,
  ];

  /** Inline `style="…"` attributes would need 'unsafe-inline' in the CSP; the CSSOM is allowed. */
  protected override updated(): void {
    for (const td of (this.renderRoot as ShadowRoot).querySelectorAll<HTMLElement>('td[data-f]')) td.style.setProperty('--f', td.dataset.f ?? '0');
  }

  override render() {
    const e = this.epochs;
    if (e.length === 0) return html`<span class="muted">No epoch finished yet.</span>`;
    const reported = new Set(e.flatMap((r) => Object.keys(r.dead)));
    const rows = [...this.layers.filter((l) => reported.has(l)), ...[...reported].filter((l) => !this.layers.includes(l)).sort()];
    if (rows.length === 0) return html`<span class="muted">The engine reported no layer whose units can die (ReLU-like activations).</span>`;
    const peak = Math.max(1, ...e.flatMap((r) => Object.values(r.dead)));
    return html`
      <table aria-label="Dead units per layer after each epoch">
        <thead>
          <tr>
            <th scope="col">layer</th>
            ${e.map((r) => html`<th scope="col">epoch ${r.epoch}</th>`)}
          </tr>
        </thead>
        <tbody>
          ${rows.map(
            (layer) => html`<tr data-layer=${layer}>
              <th scope="row">${layer}</th>
              ${e.map((r) => {
                const n = r.dead[layer];
                if (n === undefined) return html`<td class="zero">—</td>`;
                return html`<td class=${n === 0 ? 'zero' : ''} data-f=${(n / peak).toFixed(3)} title="${layer} after epoch ${r.epoch}: ${formatInt(n)} dead">${formatInt(n)}</td>`;
              })}
            </tr>`,
          )}
        </tbody>
      </table>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dead-filters-chart': DeadFiltersChart;
  }
}
