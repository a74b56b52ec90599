/**
 * Markdown for the layer hover and the scan report (pure; no `vscode` import). Images are PNG
 * data URIs produced by `charts.ts` when the scan is stored.
 */
import type { ScanReport } from '../engine/client';
import type { ScanLayerResult } from '../engine/analyses/scan';
import type { LayerSummary, ModelSummary } from '../engine/analyses/summary';
import { formatInt, formatPercent, unitNoun } from './logic';

/** What the store keeps per model file (plain JSON: persisted in workspaceState). */
export interface StoredScan {
  /** Absolute model file path. */
  model: string;
  /** Invalidation key at scan time (inputs' stamps + scan settings). */
  key: string;
  /** Epoch ms. */
  scannedAt: number;
  report: ScanReport;
  /** Layer name → firing-rate histogram PNG data URI. */
  histograms: Record<string, string>;
  /** Layer name → tiles of its dead filters, PNG data URI (conv layers only). */
  deadTiles: Record<string, string>;
}

function escapeMd(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}

export function formatShape(shape: readonly (number | null)[] | undefined): string {
  if (!shape) return '?';
  return `[${shape.map((d) => (d == null ? 'None' : String(d))).join(', ')}]`;
}

function unitList(units: readonly number[], max = 24): string {
  const shown = units.slice(0, max).map((u) => `#${u}`).join(', ');
  return units.length > max ? `${shown}, … (${units.length - max} more)` : shown;
}

export interface HoverInput {
  layerName: string;
  /** Workspace-relative (or absolute) model path for the heading. */
  modelLabel: string;
  summary?: LayerSummary;
  scan?: { layer: ScanLayerResult; images: number; dyingThreshold: number; histogram?: string; deadTiles?: string; scannedAt?: number };
  /** Command URI (trusted in the hover) opening the full report, when a scan exists. */
  reportCommand?: string;
  /** Plain-text line about the layer's receptive field ("Receptive field: 5×5, stride 2 …"). */
  receptiveField?: string;
}

/** The hover for one layer of one model. */
export function hoverMarkdown(input: HoverInput): string {
  const { summary, scan } = input;
  const className = summary?.className ?? scan?.layer.className;
  const lines: string[] = [];
  lines.push(`**${escapeMd(input.layerName)}**${className ? ` · ${escapeMd(className)}` : ''} — _${escapeMd(input.modelLabel)}_`);
  lines.push('');
  if (summary) {
    lines.push('| Output shape | Parameters | Activation |');
    lines.push('|---|---:|---|');
    lines.push(`| \`${formatShape(summary.outputShape)}\` | ${formatInt(summary.params)} | ${escapeMd(summary.activation ?? scan?.layer.activation ?? '—')} |`);
    lines.push('');
  }
  if (input.receptiveField) {
    lines.push(escapeMd(input.receptiveField));
    lines.push('');
  }
  if (scan) {
    const l = scan.layer;
    const noun = unitNoun(l.className, l.units);
    if (!l.deadApplicable) {
      lines.push(`Dead ${noun}: not applicable — ${escapeMd(l.reason)}`);
    } else {
      const alive = l.units - l.dead.length - l.dying.length;
      lines.push(
        `**${formatInt(l.dead.length)} dead** · ${formatInt(l.dying.length)} dying · ${formatInt(alive)} alive of ${formatInt(l.units)} ${noun} ` +
          `(${formatInt(scan.images)} images; dying = fires on fewer than ${formatPercent(scan.dyingThreshold)})`,
      );
    }
    lines.push('');
    if (scan.histogram) {
      lines.push(`Firing rate per ${unitNoun(l.className, 1)} (red: dead, amber: dying):`);
      lines.push('');
      lines.push(`![firing-rate histogram](${scan.histogram})`);
      lines.push('');
    }
    if (l.dead.length) {
      lines.push(`Dead: ${unitList(l.dead)}`);
      lines.push('');
      if (scan.deadTiles) {
        lines.push(`![dead filter tiles](${scan.deadTiles})`);
        lines.push('');
      }
    }
    if (l.dying.length) {
      lines.push(`Dying: ${unitList(l.dying)}`);
      lines.push('');
    }
    if (input.reportCommand) lines.push(`[Open scan report](${input.reportCommand})`);
  } else {
    lines.push('_Not scanned yet: run "CNN Lens: Scan for Dead Filters"._');
  }
  return lines.join('\n');
}

/** The full scan report as Markdown (shown in the Markdown preview). */
export function reportMarkdown(stored: StoredScan, summary?: ModelSummary, modelLabel = stored.model, datasetLabel = stored.report.dataset.path): string {
  const r = stored.report;
  const lines: string[] = [];
  lines.push(`# Dead-filter scan: ${escapeMd(modelLabel)}`);
  lines.push('');
  lines.push(
    `${formatInt(r.images)} images from \`${datasetLabel}\` · backend ${r.backend} · ${r.seconds.toFixed(1)} s · ` +
      `dying threshold ${formatPercent(r.dyingThreshold)} · ${new Date(stored.scannedAt).toLocaleString('en-US')}`,
  );
  lines.push('');
  const totalDead = r.layers.reduce((a, l) => a + l.dead.length, 0);
  const totalDying = r.layers.reduce((a, l) => a + l.dying.length, 0);
  const totalUnits = r.layers.reduce((a, l) => a + l.units, 0);
  lines.push(`**${formatInt(totalDead)} dead** and ${formatInt(totalDying)} dying of ${formatInt(totalUnits)} units in ${r.layers.length} layers.`);
  lines.push('');
  lines.push('| Layer | Class | Activation | Units | Dead | Dying | Alive |');
  lines.push('|---|---|---|---:|---:|---:|---:|');
  for (const l of r.layers) {
    const na = !l.deadApplicable;
    lines.push(
      `| ${escapeMd(l.name)} | ${escapeMd(l.className)} | ${escapeMd(l.activation)} | ${formatInt(l.units)} | ${na ? '—' : formatInt(l.dead.length)} | ${na ? '—' : formatInt(l.dying.length)} | ${
        na ? '—' : formatInt(l.units - l.dead.length - l.dying.length)
      } |`,
    );
  }
  lines.push('');
  for (const l of r.layers) {
    const s = summary?.layers.find((x) => x.name === l.name);
    lines.push(`## ${escapeMd(l.name)}`);
    lines.push('');
    lines.push(
      `${escapeMd(l.className)}${s ? ` · output \`${formatShape(s.outputShape)}\` · ${formatInt(s.params)} parameters` : ''} · activation ${escapeMd(l.activation)}`,
    );
    lines.push('');
    if (!l.deadApplicable) {
      lines.push(`Dead/dying not applicable: ${escapeMd(l.reason)}`);
      lines.push('');
    } else {
      lines.push(`Dead: ${formatInt(l.dead.length)} · dying: ${formatInt(l.dying.length)} · alive: ${formatInt(l.units - l.dead.length - l.dying.length)} of ${formatInt(l.units)}`);
      lines.push('');
    }
    const h = stored.histograms[l.name];
    if (h) {
      lines.push(`![firing-rate histogram of ${l.name}](${h})`);
      lines.push('');
      lines.push('_Firing rate (share of images on which a unit fires), 0 → 100%; red: never fires (dead), amber: dying._');
      lines.push('');
    }
    if (l.dead.length) {
      lines.push(`Dead ${unitNoun(l.className)}: ${unitList(l.dead, 64)}`);
      lines.push('');
      const t = stored.deadTiles[l.name];
      if (t) {
        lines.push(`![dead filters of ${l.name}](${t})`);
        lines.push('');
      }
    }
    if (l.dying.length) {
      lines.push(`Dying ${unitNoun(l.className)}: ${unitList(l.dying, 64)}`);
      lines.push('');
    }
  }
  if (r.skipped.length) {
    lines.push('## Skipped files');
    lines.push('');
    for (const s of r.skipped.slice(0, 50)) lines.push(`- \`${s.file}\`: ${escapeMd(s.reason)}`);
    if (r.skipped.length > 50) lines.push(`- … ${r.skipped.length - 50} more`);
    lines.push('');
  }
  return lines.join('\n');
}
