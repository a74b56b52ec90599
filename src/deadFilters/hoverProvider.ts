/**
 * Hovers on layer names: in model.json, cnnlens.json, and Python / TypeScript / JavaScript
 * files, a string literal that exactly equals a layer name of a scanned (or loaded) model shows
 * that layer's class, output shape, parameters, dead / dying counts, a firing-rate chart and the
 * dead filters' tiles. Works from the store only: a hover never starts the engine.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CNNLENS_CONFIG_FILE } from '../engine/config/cnnlensConfig';
import { modelKey, stringAtPosition } from './logic';
import { hoverMarkdown } from './markdown';
import type { ScanResultsStore } from './scanResultsStore';

export const HOVER_SELECTOR: vscode.DocumentSelector = [
  { language: 'json' },
  { language: 'jsonc' },
  { language: 'python' },
  { language: 'typescript' },
  { language: 'typescriptreact' },
  { language: 'javascript' },
  { language: 'javascriptreact' },
];

/** At most this many models are described in one hover when several share a layer name. */
const MAX_MODELS = 3;

export class LayerHoverProvider implements vscode.HoverProvider {
  constructor(
    private readonly store: ScanResultsStore,
    private readonly reportCommand: string,
    /** More about a layer from other features (the receptive-field line), when known. */
    private readonly receptiveFieldLine?: (model: string, layer: string) => string | undefined,
  ) {}

  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const scans = this.store.all();
    const summaries = this.store.allSummaries();
    if (scans.length === 0 && summaries.length === 0) return undefined; // cheap path
    const line = document.lineAt(position.line).text;
    if (line.length > 20_000) return undefined; // minified files: do not scan huge lines
    const str = stringAtPosition(line, position.character);
    if (!str || !str.value) return undefined;

    // Which models can this document's strings refer to?
    const models = new Set<string>([...scans.map((s) => s.model), ...summaries.map((s) => s.model)]);
    let candidates = [...models];
    if (document.uri.scheme === 'file') {
      const file = document.uri.fsPath;
      const own = candidates.filter((m) => modelKey(m) === modelKey(file));
      if (own.length) candidates = own;
      else if (path.basename(file).toLowerCase() === CNNLENS_CONFIG_FILE) {
        const beside = candidates.filter((m) => modelKey(path.dirname(m)) === modelKey(path.dirname(file)));
        if (beside.length) candidates = beside;
      }
    }

    const parts: string[] = [];
    for (const model of candidates) {
      const stored = this.store.get(model);
      const layerSummary = this.store.summary(model)?.layers.find((l) => l.name === str.value);
      const scanLayer = stored?.report.layers.find((l) => l.name === str.value);
      if (!layerSummary && !scanLayer) continue;
      const args = encodeURIComponent(JSON.stringify([vscode.Uri.file(model).toString()]));
      parts.push(
        hoverMarkdown({
          layerName: str.value,
          modelLabel: vscode.workspace.asRelativePath(model),
          summary: layerSummary,
          scan:
            stored && scanLayer
              ? {
                  layer: scanLayer,
                  images: stored.report.images,
                  dyingThreshold: stored.report.dyingThreshold,
                  histogram: stored.histograms[scanLayer.name],
                  deadTiles: stored.deadTiles[scanLayer.name],
                  scannedAt: stored.scannedAt,
                }
              : undefined,
          reportCommand: stored ? `command:${this.reportCommand}?${args}` : undefined,
          receptiveField: this.receptiveFieldLine?.(model, str.value),
        }),
      );
      if (parts.length >= MAX_MODELS) break;
    }
    if (!parts.length) return undefined;
    const md = new vscode.MarkdownString(parts.join('\n\n---\n\n'));
    md.isTrusted = { enabledCommands: [this.reportCommand] };
    md.supportHtml = false;
    const range = new vscode.Range(position.line, str.start, position.line, str.end);
    return new vscode.Hover(md, range);
  }
}
