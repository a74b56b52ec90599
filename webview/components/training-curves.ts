/**
 * `<training-curves>`: loss and accuracy per epoch, training and validation, as two SVG line
 * charts in the theme's chart colours. Validation is dashed with hollow markers, so the two
 * series differ without colour too; the best epoch (lowest validation loss) is marked. The x axis
 * spans `totalEpochs` (at least the epochs given), so the curves can grow to the right as
 * training runs.
 *
 * Properties: `epochs` (finished epochs), `totalEpochs` (x axis span), `bestEpoch`. Fires `curves-rendered`
 * (`detail.epochs`) after drawing, so the view can tell the host what is on screen.
 */
import { LitElement, css, html, svg, nothing, type SVGTemplateResult } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { WireEpochReport } from '../../src/protocol';
import { formatPercent, formatValue } from '../shared/format';
import { baseStyles } from '../shared/styles';

const W = 360;
const H = 190;
const M = { left: 46, right: 12, top: 12, bottom: 30 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;

interface Series {
  name: string;
  kind: 'train' | 'val';
  values: number[];
}

interface ChartSpec {
  title: string;
  series: Series[];
  /** Fixed y range (accuracy), else from the data with a zero baseline (loss). */
  yRange?: [number, number];
  format: (v: number) => string;
  /** Axis labels (short). */
  tick: (v: number) => string;
}

/** Up to ~5 "nice" ticks covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Epoch ticks: every epoch up to 10, then a nice step. */
function epochTicks(total: number): number[] {
  if (total <= 10) return Array.from({ length: total }, (_, i) => i + 1);
  return niceTicks(1, total, 6).filter((t) => Number.isInteger(t) && t >= 1);
}

@customElement('training-curves')
export class TrainingCurves extends LitElement {
  @property({ attribute: false }) epochs: WireEpochReport[] = [];
  @property({ type: Number }) totalEpochs = 1;
  @property({ type: Number }) bestEpoch = 0;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: flex;
        flex-wrap: wrap;
        gap: 12px 24px;
      }
      figure {
        margin: 0;
        flex: 1 1 320px;
        max-width: 520px;
      }
      figcaption {
        font-weight: 600;
        margin-bottom: 2px;
      }
      svg {
        display: block;
        width: 100%;
        height: auto;
        overflow: visible;
      }
      .axis line,
      .grid line {
        stroke: var(--vscode-editorWidget-border, var(--vscode-panel-border, currentColor));
        shape-rendering: crispEdges;
      }
      .grid line {
        opacity: 0.45;
      }
      text {
        fill: var(--vscode-descriptionForeground);
        font-size: 10px;
        font-family: var(--vscode-font-family);
      }
      path.line {
        fill: none;
        stroke-width: 2;
        stroke-linejoin: round;
      }
      .train {
        stroke: var(--vscode-charts-blue, var(--vscode-foreground));
        fill: var(--vscode-charts-blue, var(--vscode-foreground));
      }
      .val {
        stroke: var(--vscode-charts-orange, var(--vscode-foreground));
      }
      path.val {
        stroke-dasharray: 6 3;
      }
      circle.val {
        fill: var(--vscode-editor-background);
        stroke-width: 2;
      }
      line.best {
        stroke: var(--vscode-charts-green, var(--vscode-foreground));
        stroke-dasharray: 2 3;
      }
      .legend {
        display: flex;
        gap: 16px;
        font-size: 0.9em;
        align-items: center;
      }
      .legend svg {
        width: 28px;
        height: 10px;
        display: inline-block;
        vertical-align: middle;
      }
    `,
  ];

  override updated(): void {
    this.dispatchEvent(new CustomEvent('curves-rendered', { detail: { epochs: this.epochs.length }, bubbles: true, composed: true }));
  }

  override render() {
    const e = this.epochs;
    const specs: ChartSpec[] = [
      {
        title: 'Loss',
        series: [
          { name: 'training', kind: 'train', values: e.map((r) => r.loss) },
          { name: 'validation', kind: 'val', values: e.map((r) => r.valLoss) },
        ],
        format: formatValue,
        tick: (v) => String(Number(v.toPrecision(3))),
      },
      {
        title: 'Accuracy',
        series: [
          { name: 'training', kind: 'train', values: e.map((r) => r.acc) },
          { name: 'validation', kind: 'val', values: e.map((r) => r.valAcc) },
        ],
        yRange: [0, 1],
        format: formatPercent,
        tick: (v) => `${Math.round(v * 100)}%`,
      },
    ];
    return html`${specs.map((s) => this.chart(s))}`;
  }

  private chart(spec: ChartSpec) {
    const total = Math.max(1, this.totalEpochs, this.epochs.length);
    const finite = spec.series.flatMap((s) => s.values).filter((v) => Number.isFinite(v));
    let [lo, hi] = spec.yRange ?? [0, finite.length ? Math.max(...finite) : 1];
    if (!spec.yRange) hi = hi > 0 ? hi * 1.08 : 1;
    if (!(hi > lo)) hi = lo + 1;
    const x = (epoch: number) => M.left + (total === 1 ? PW / 2 : ((epoch - 1) / (total - 1)) * PW);
    const y = (v: number) => M.top + PH - ((Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)) * PH;
    const yTicks = niceTicks(lo, hi, 4);
    const xTicks = epochTicks(total);
    const last = this.epochs.length ? this.epochs[this.epochs.length - 1] : undefined;
    const summary = last
      ? `${spec.title} after ${this.epochs.length} of ${total} epochs: ` +
        spec.series.map((s) => `${s.name} ${spec.format(s.values[s.values.length - 1])}`).join(', ')
      : `${spec.title}: no epoch finished yet`;

    const lines: SVGTemplateResult[] = [];
    for (const s of spec.series) {
      const pts = s.values.map((v, i) => [x(this.epochs[i].epoch), v] as const).filter(([, v]) => Number.isFinite(v));
      if (pts.length > 1) {
        const d = pts.map(([px, v], i) => `${i ? 'L' : 'M'}${px.toFixed(1)},${y(v).toFixed(1)}`).join('');
        lines.push(svg`<path class="line ${s.kind}" d=${d}></path>`);
      }
      for (const [i, [px, v]] of pts.entries()) {
        lines.push(
          svg`<circle class="point ${s.kind}" data-epoch=${this.epochs[i].epoch} cx=${px.toFixed(1)} cy=${y(v).toFixed(1)} r="3"><title>Epoch ${this.epochs[i].epoch}, ${s.name}: ${spec.format(v)}</title></circle>`,
        );
      }
    }
    const best = this.bestEpoch > 0 && this.bestEpoch <= total ? this.bestEpoch : 0;
    return html`
      <figure data-chart=${spec.title.toLowerCase()}>
        <figcaption>${spec.title}</figcaption>
        <svg viewBox="0 0 ${W} ${H}" role="img" aria-label=${summary}>
          <g class="grid">${yTicks.map((t) => svg`<line x1=${M.left} x2=${W - M.right} y1=${y(t)} y2=${y(t)}></line>`)}</g>
          <g class="axis">
            <line x1=${M.left} x2=${M.left} y1=${M.top} y2=${M.top + PH}></line>
            <line x1=${M.left} x2=${W - M.right} y1=${M.top + PH} y2=${M.top + PH}></line>
          </g>
          ${yTicks.map((t) => svg`<text x=${M.left - 5} y=${y(t) + 3} text-anchor="end">${spec.tick(t)}</text>`)}
          ${xTicks.map((t) => svg`<text x=${x(t)} y=${M.top + PH + 13} text-anchor="middle">${t}</text>`)}
          <text x=${M.left + PW / 2} y=${H - 3} text-anchor="middle">epoch</text>
          ${best ? svg`<line class="best" x1=${x(best)} x2=${x(best)} y1=${M.top} y2=${M.top + PH}><title>Best epoch (lowest validation loss): ${best}</title></line>` : nothing}
          ${lines}
        </svg>
        <div class="legend">
          <span><svg viewBox="0 0 28 10"><path class="line train" d="M0,5L28,5"></path></svg>training</span>
          <span><svg viewBox="0 0 28 10"><path class="line val" d="M0,5L28,5"></path></svg>validation</span>
          ${best ? html`<span class="muted">dotted line: best epoch (${best})</span>` : nothing}
        </div>
      </figure>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'training-curves': TrainingCurves;
  }
}
