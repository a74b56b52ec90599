/**
 * Pure logic of the dead-filter features (no `vscode` import, so node:test covers it):
 * locating a layer in model.json text, the string under the cursor, diagnostic messages,
 * firing-rate histograms and the Markdown of hovers and of the scan report.
 */
import type { ScanLayerResult } from '../engine/analyses/scan';
import type { LayerSummary } from '../engine/analyses/summary';

/** A zero-based position range on one line. */
export interface LineRange {
  line: number;
  start: number;
  end: number;
}

/** Line and character (zero-based) of a character offset in `text`. */
export function offsetToPosition(text: string, offset: number): { line: number; character: number } {
  let line = 0;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, character: end - lineStart };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Regex source matching the JSON string literal of `value`, with `\/` and `\uXXXX` escapes tolerated. */
function jsonStringPattern(value: string): string {
  let out = '"';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    const hex = code <= 0xffff ? `\\\\u${code.toString(16).padStart(4, '0')}` : '';
    const literal = JSON.stringify(ch).slice(1, -1);
    const alternatives = [escapeRegExp(literal)];
    if (ch === '/') alternatives.push('\\\\/');
    if (hex) alternatives.push(hex.replace(/[0-9a-f]{4}$/, (h) => `(?:${h}|${h.toUpperCase()})`));
    out += alternatives.length === 1 ? alternatives[0] : `(?:${alternatives.join('|')})`;
  }
  return out + '"';
}

/**
 * Where layer `layerName` is declared in a TF.js model.json: the value of its `"name": "..."`
 * key inside `modelTopology` (Layers: `model_config.config.layers[].config.name`; Graph:
 * `node[].name`). Robust to formatting (minified or pretty-printed, any whitespace, escapes).
 * Names in `inbound_nodes` (arrays) and in `weightsManifest` (`"conv2/kernel"`) do not match.
 * Returns the range of the string literal (quotes included), or undefined.
 */
export function findLayerRange(text: string, layerName: string): LineRange | undefined {
  const topo = /"modelTopology"\s*:/.exec(text);
  const from = topo ? topo.index : 0;
  const re = new RegExp(`"name"\\s*:\\s*(${jsonStringPattern(layerName)})`, 'g');
  re.lastIndex = from;
  let m = re.exec(text);
  if (!m && from > 0) {
    re.lastIndex = 0;
    m = re.exec(text);
  }
  if (!m) return undefined;
  const start = m.index + m[0].length - m[1].length;
  return rangeOf(text, start, m[1].length);
}

/** The first occurrence of `value` as a JSON string literal anywhere in `text` (e.g. in cnnlens.json). */
export function findJsonString(text: string, value: string): LineRange | undefined {
  const m = new RegExp(jsonStringPattern(value)).exec(text);
  return m ? rangeOf(text, m.index, m[0].length) : undefined;
}

function rangeOf(text: string, offset: number, length: number): LineRange {
  const p = offsetToPosition(text, offset);
  return { line: p.line, start: p.character, end: p.character + length };
}

/** Every layer name declared in a TF.js Layers/Graph model.json (cheap: text only, no engine). */
export function layerNamesInModelJson(text: string): { name: string; className?: string }[] {
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    return [];
  }
  const out: { name: string; className?: string }[] = [];
  const topo = (json as { modelTopology?: unknown })?.modelTopology as Record<string, unknown> | undefined;
  if (!topo || typeof topo !== 'object') return out;
  const walk = (layers: unknown): void => {
    if (!Array.isArray(layers)) return;
    for (const l of layers) {
      if (!l || typeof l !== 'object') continue;
      const layer = l as { class_name?: unknown; name?: unknown; config?: { name?: unknown; layers?: unknown } };
      const name = typeof layer.config?.name === 'string' ? layer.config.name : typeof layer.name === 'string' ? layer.name : undefined;
      if (name) out.push({ name, className: typeof layer.class_name === 'string' ? layer.class_name : undefined });
      if (layer.config?.layers) walk(layer.config.layers);
    }
  };
  const config = (topo.model_config ?? topo) as { config?: { layers?: unknown }; class_name?: unknown };
  if (config.config?.layers) walk(config.config.layers);
  if (Array.isArray(topo.node)) {
    for (const n of topo.node as { name?: unknown; op?: unknown }[]) {
      if (n && typeof n.name === 'string') out.push({ name: n.name, className: typeof n.op === 'string' ? n.op : undefined });
    }
  }
  return out;
}

/** Weight shard file names listed in a model.json's `weightsManifest` (relative to its folder). */
export function weightShardPaths(text: string): string[] {
  try {
    const json = JSON.parse(text.replace(/^\uFEFF/, '')) as { weightsManifest?: { paths?: unknown }[] };
    if (!Array.isArray(json.weightsManifest)) return [];
    return json.weightsManifest.flatMap((g) => (Array.isArray(g?.paths) ? g.paths.filter((p): p is string => typeof p === 'string') : []));
  } catch {
    return [];
  }
}

/**
 * The quoted string literal (`"…"`, `'…'` or `` `…` ``) that contains `character` on `line`,
 * without its quotes, and the range of its contents. Escaped quotes are skipped.
 */
export function stringAtPosition(line: string, character: number): { value: string; start: number; end: number } | undefined {
  let i = 0;
  while (i < line.length) {
    const q = line[i];
    if (q !== '"' && q !== "'" && q !== '`') {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < line.length && line[j] !== q) j += line[j] === '\\' ? 2 : 1;
    if (j >= line.length) return undefined; // unterminated on this line
    if (character > i && character <= j) {
      const raw = line.slice(i + 1, j);
      let value = raw;
      if (q === '"' && raw.includes('\\')) {
        try {
          value = JSON.parse(`"${raw}"`) as string;
        } catch {
          // keep the raw text
        }
      }
      return { value, start: i + 1, end: j };
    }
    i = j + 1;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Model files

export { MODEL_FILE_EXTENSIONS, MODEL_FILE_GLOB, isModelFileName } from '../engine/io/models/modelFiles';

// ---------------------------------------------------------------------------------------------
// Messages

export function formatInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function formatPercent(fraction: number): string {
  const p = fraction * 100;
  return `${p >= 10 || p === 0 ? Math.round(p) : Number(p.toPrecision(2))}%`;
}

/** "filters" for convolutions, "units" for dense layers (and others). */
export function unitNoun(className: string, count = 2): string {
  const conv = /conv/i.test(className);
  const noun = conv ? 'filter' : 'unit';
  return count === 1 ? noun : `${noun}s`;
}

/** `conv2d_1: 7 of 32 filters never fire on 1,000 images (dead)` */
export function deadMessage(layer: Pick<ScanLayerResult, 'name' | 'className' | 'units' | 'dead'>, images: number): string {
  const n = layer.dead.length;
  const verb = n === 1 ? 'never fires' : 'never fire';
  return `${layer.name}: ${formatInt(n)} of ${formatInt(layer.units)} ${unitNoun(layer.className, layer.units)} ${verb} on ${formatInt(images)} ${images === 1 ? 'image' : 'images'} (dead)`;
}

/** `conv2d_1: 3 of 32 filters fire on fewer than 1% of 1,000 images (dying)` */
export function dyingMessage(
  layer: Pick<ScanLayerResult, 'name' | 'className' | 'units' | 'dying'>,
  images: number,
  dyingThreshold: number,
): string {
  const n = layer.dying.length;
  const verb = n === 1 ? 'fires' : 'fire';
  return `${layer.name}: ${formatInt(n)} of ${formatInt(layer.units)} ${unitNoun(layer.className, layer.units)} ${verb} on fewer than ${formatPercent(dyingThreshold)} of ${formatInt(images)} ${images === 1 ? 'image' : 'images'} (dying)`;
}

export interface LayerProblem {
  layer: string;
  severity: 'dead' | 'dying';
  message: string;
  units: number[];
}

/** The diagnostics a scan yields: one per layer with dead units, one per layer with dying units. */
export function layerProblems(scan: { images: number; dyingThreshold: number; layers: ScanLayerResult[] }): LayerProblem[] {
  const out: LayerProblem[] = [];
  for (const l of scan.layers) {
    if (l.dead.length) out.push({ layer: l.name, severity: 'dead', message: deadMessage(l, scan.images), units: l.dead });
    if (l.dying.length) out.push({ layer: l.name, severity: 'dying', message: dyingMessage(l, scan.images, scan.dyingThreshold), units: l.dying });
  }
  return out;
}

/** Dead units per layer (layers without dead units omitted): what the activations view marks. */
export function deadUnitsByLayer(scan: { layers: Pick<ScanLayerResult, 'name' | 'dead'>[] }): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const l of scan.layers) if (l.dead.length) out[l.name] = l.dead.slice();
  return out;
}

/** Total dead units over the scanned layers. */
export function totalDead(scan: { layers: Pick<ScanLayerResult, 'dead'>[] }): number {
  return scan.layers.reduce((a, l) => a + l.dead.length, 0);
}

/** Short badge text for a layer: "7 dead", "7 dead, 2 dying", "2 dying", or "" */
export function layerBadge(layer: Pick<ScanLayerResult, 'dead' | 'dying'> | undefined): string {
  if (!layer) return '';
  const parts: string[] = [];
  if (layer.dead.length) parts.push(`${layer.dead.length} dead`);
  if (layer.dying.length) parts.push(`${layer.dying.length} dying`);
  return parts.join(', ');
}

// ---------------------------------------------------------------------------------------------
// Invalidation keys

export interface FileStamp {
  path: string;
  /** Missing files are part of the key too (a shard that disappears invalidates). */
  exists: boolean;
  size: number;
  mtimeMs: number;
}

/** One key from the stamps of every input (model, shards, cnnlens.json, dataset); order-independent. */
export function stampsKey(stamps: readonly FileStamp[]): string {
  return stamps
    .map((s) => (s.exists ? `${s.path}|${s.size}|${Math.round(s.mtimeMs)}` : `${s.path}|missing`))
    .sort()
    .join('\n');
}

/** Key for the scan-relevant settings: a result stays valid only for the same dataset and sample count. */
export function settingsKey(settings: { dataset?: string; sampleCount?: number }): string {
  return `dataset=${settings.dataset ?? ''}|limit=${settings.sampleCount && settings.sampleCount > 0 ? settings.sampleCount : 'all'}`;
}

/** Normalised store key of a model file path (case-folded on case-insensitive platforms). */
export function modelKey(fsPath: string, platform: NodeJS.Platform = process.platform): string {
  const p = fsPath.replace(/\\/g, '/');
  return platform === 'win32' || platform === 'darwin' ? p.toLowerCase() : p;
}

// ---------------------------------------------------------------------------------------------
// Histogram

/**
 * Counts of units per firing-rate bin over [0, 1]: bin 0 holds exactly-0 rates (dead), the
 * remaining `bins` split (0, 1] evenly. Returns `bins + 1` counts.
 */
export function firingRateHistogram(rates: readonly number[], bins = 10): number[] {
  const counts = new Array<number>(bins + 1).fill(0);
  for (const r of rates) {
    if (!(r > 0)) counts[0]++;
    else counts[1 + Math.min(bins - 1, Math.floor(r * bins - 1e-9))]++;
  }
  return counts;
}

/**
 * The same scan seen with another dying threshold: firing rates do not depend on it, so changing
 * `cnnLens.dyingThreshold` re-derives the dying lists instead of asking for a rescan. Dead units
 * (never fire) stay as they are and are never listed as dying.
 */
export function withDyingThreshold<R extends { dyingThreshold: number; layers: Pick<ScanLayerResult, 'deadApplicable' | 'dead' | 'dying' | 'firingRate'>[] }>(
  report: R,
  dyingThreshold: number,
): R {
  if (!(dyingThreshold >= 0 && dyingThreshold <= 1)) throw new Error(`dyingThreshold must be between 0 and 1 (got ${dyingThreshold})`);
  return {
    ...report,
    dyingThreshold,
    layers: report.layers.map((l) => {
      if (!l.deadApplicable) return l;
      const dead = new Set(l.dead);
      const dying: number[] = [];
      l.firingRate.forEach((rate, u) => {
        if (!dead.has(u) && rate < dyingThreshold) dying.push(u);
      });
      return { ...l, dying };
    }),
  };
}
