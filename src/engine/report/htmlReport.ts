/**
 * The `report` command's HTML page: one self-contained file (inline CSS, images as data URIs, no
 * script, nothing remote) so it can be attached to a CI run or mailed, and opened anywhere.
 */
import type { SummaryJobResult, ActivationsJobResult, FiltersJobResult } from '../jobs';
import type { ScanReport } from '../client';
import { pngDataUri } from '../render/png';
import { activationGrid, filterGrid } from '../render/resultImages';
import { si, thousands } from './textTable';
import { filterNoiseVerdict } from './filterNoiseText';

export interface ReportInput {
  summary: SummaryJobResult;
  scan: ScanReport;
  filters: FiltersJobResult;
  activations: ActivationsJobResult;
}

const esc = (s: unknown): string =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const num = thousands;

/** Firing-rate histogram as inline SVG: 10 bins over [0, 1]; the first bin (dead) in red. */
function firingHistogram(rates: number[]): string {
  const bins = new Array(10).fill(0);
  for (const r of rates) bins[Math.min(9, Math.floor(r * 10))]++;
  const max = Math.max(1, ...bins);
  const bars = bins
    .map((c, i) => {
      const h = Math.round((c / max) * 36);
      return `<rect x="${i * 12}" y="${40 - h}" width="10" height="${h}" class="${i === 0 ? 'bar dead' : 'bar'}"><title>${i * 10}–${i * 10 + 10}%: ${c} units</title></rect>`;
    })
    .join('');
  return `<svg width="120" height="42" role="img" aria-label="firing-rate histogram">${bars}</svg>`;
}

export function renderHtmlReport(input: ReportInput): string {
  const { summary, scan, filters, activations } = input;
  const s = summary.summary;
  const totalDead = scan.layers.reduce((a, l) => a + (l.deadApplicable ? l.dead.length : 0), 0);

  const layerRows = s.layers
    .map(
      (l) =>
        `<tr><td>${esc(l.name)}</td><td>${esc(l.className)}</td><td>${esc(JSON.stringify(l.outputShape.slice(1)))}</td>` +
        `<td class="n">${num(l.params)}</td><td>${esc(l.activation ?? '')}</td><td class="n">${l.flops == null ? '?' : si(l.flops)}</td></tr>`,
    )
    .join('\n');

  const scanRows = scan.layers
    .map((l) => {
      const dead = l.deadApplicable ? l.dead.length : '–';
      const dying = l.deadApplicable ? l.dying.length : '–';
      const list = l.deadApplicable ? esc(l.dead.join(', ')) : `<span class="muted">${esc(l.reason ?? 'not a ReLU unit')}</span>`;
      return `<tr class="${l.deadApplicable && l.dead.length ? 'bad' : ''}"><td>${esc(l.name)}</td><td>${esc(l.activation)}</td><td class="n">${l.units}</td><td class="n">${dead}</td><td class="n">${dying}</td><td>${firingHistogram(l.firingRate)}</td><td class="units">${list}</td></tr>`;
    })
    .join('\n');

  const filterSections = filters.layers
    .map((l) => {
      const noisy = l.noisy.flatMap((n, i) => (n ? [i] : []));
      const verdict = filterNoiseVerdict(l);
      const list = l.perFilterTest ? ` Noisy: ${noisy.length ? esc(noisy.join(', ')) : 'none'}.` : '';
      return `<figure><img alt="filters of ${esc(l.layer)}" src="${pngDataUri(filterGrid(l))}"><figcaption><b>${esc(l.layer)}</b> — ${l.filters} filters ${l.kernelHeight}×${l.kernelWidth}×${l.inChannels} (${esc(l.mode)}). ${esc(verdict.layer)} ${esc(verdict.filters)}${list}</figcaption></figure>`;
    })
    .join('\n');

  const inputImage = (() => {
    const [h, w, c] = activations.inputShape;
    return pngDataUri(
      activationGrid({ layer: 'input', className: 'Input', shape: [h, w, 1], channels: 1, activation: 'linear', deadApplicable: false, reason: '', values: [greyOf(activations.input, c)], deadChannels: [] }),
    );
  })();
  const activationSections = activations.layers
    .map((l) => {
      const zeros = l.stats ? (Array.from(l.stats.zeroFraction).reduce((a, b) => a + b, 0) / Math.max(1, l.channels)) * 100 : 0;
      return `<figure><img alt="activations of ${esc(l.layer)}" src="${pngDataUri(activationGrid(l))}"><figcaption><b>${esc(l.layer)}</b> ${esc(JSON.stringify(l.shape))}, ${zeros.toFixed(1)}% zeros</figcaption></figure>`;
    })
    .join('\n');

  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>CNN Lens report — ${esc(s.name)}</title>
<style>
:root { color-scheme: light dark; --fg: #1f2328; --bg: #ffffff; --muted: #59636e; --line: #d1d9e0; --bad: #cf222e; --bar: #0969da; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9198a1; --line: #3d444d; --bad: #f85149; --bar: #4493f8; } }
body { font: 14px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 2rem auto; max-width: 1100px; padding: 0 1rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid var(--line); }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid var(--line); vertical-align: middle; }
td.n { text-align: right; font-variant-numeric: tabular-nums; } .muted { color: var(--muted); } tr.bad td:nth-child(4) { color: var(--bad); font-weight: 600; }
td.units { max-width: 22rem; overflow-wrap: anywhere; } .bar { fill: var(--bar); } .bar.dead { fill: var(--bad); }
figure { display: inline-block; margin: .5rem 1rem .5rem 0; vertical-align: top; } figcaption { color: var(--muted); max-width: 32rem; }
img { image-rendering: pixelated; max-width: 100%; } dl { display: grid; grid-template-columns: max-content auto; gap: .2rem 1rem; } dt { color: var(--muted); }
</style></head>
<body>
<h1>CNN Lens report — ${esc(s.name)}</h1>
<dl>
<dt>Model</dt><dd>${esc(s.path)} (${esc(s.format)})</dd>
<dt>Input</dt><dd>${s.input.height}×${s.input.width}×${s.input.channels}</dd>
<dt>Parameters</dt><dd>${num(s.totals.params)} (trainable ${num(s.totals.trainableParams)})</dd>
<dt>FLOPs per image</dt><dd>${si(s.totals.flops)} (multiply-add = 2)</dd>
<dt>Dataset</dt><dd>${esc(scan.dataset.path)} — ${num(scan.images)} images scanned in ${scan.seconds.toFixed(1)} s</dd>
<dt>Backend</dt><dd>${esc(scan.backend)}</dd>
<dt>Dead units</dt><dd>${totalDead}</dd>
</dl>

<h2>Architecture</h2>
<table><thead><tr><th>Layer</th><th>Class</th><th>Output</th><th>Params</th><th>Activation</th><th>FLOPs</th></tr></thead>
<tbody>
${layerRows}
</tbody></table>

<h2>Dead and dying units</h2>
<p class="muted">Dead: never fires (maximum ≤ 0 on every scanned image). Dying: fires on fewer than ${(scan.dyingThreshold * 100).toFixed(2).replace(/\.?0+$/, '')}% of the images. Histogram: units per firing-rate bin, 0–10% in red.</p>
<table><thead><tr><th>Layer</th><th>Activation</th><th>Units</th><th>Dead</th><th>Dying</th><th>Firing rates</th><th>Dead units</th></tr></thead>
<tbody>
${scanRows}
</tbody></table>

<h2>Filters</h2>
${filterSections || '<p class="muted">No convolution layers.</p>'}

<h2>Activations of ${esc(activations.image)}</h2>
<figure><img alt="input image" src="${inputImage}"><figcaption>input</figcaption></figure>
${activationSections}
</body></html>
`;
}

/** The input image as one grey channel for display (RGB averaged). */
function greyOf(input: Float32Array, channels: number): Float32Array {
  if (channels === 1) return input;
  const out = new Float32Array(input.length / channels);
  for (let i = 0; i < out.length; i++) {
    let s = 0;
    for (let c = 0; c < channels; c++) s += input[i * channels + c];
    out[i] = s / channels;
  }
  return out;
}
