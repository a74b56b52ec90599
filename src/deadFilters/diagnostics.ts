/**
 * Problems-panel entries for dead / dying filters: on the layer's `"name"` in model.json; for
 * binary models (.h5/.keras) on the layer name in the `cnnlens.json` beside the model (line 0
 * when it does not name the layer), or, when there is no cnnlens.json, on the model file itself.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CNNLENS_CONFIG_FILE } from '../engine/config/cnnlensConfig';
import { findJsonString, findLayerRange, layerProblems, type LineRange } from './logic';
import type { ScanResultsStore } from './scanResultsStore';

export const DIAGNOSTIC_SOURCE = 'CNN Lens';

async function readText(file: string): Promise<string | undefined> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.uri.fsPath === file);
  if (open) return open.getText();
  return fs.promises.readFile(file, 'utf8').catch(() => undefined);
}

function toRange(r: LineRange | undefined): vscode.Range {
  return r ? new vscode.Range(r.line, r.start, r.line, r.end) : new vscode.Range(0, 0, 0, 0);
}

export class DeadFilterDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('cnnLens');
  private readonly listener: vscode.Disposable;
  private generation = 0;

  constructor(
    private readonly store: ScanResultsStore,
    private readonly docsUri: vscode.Uri,
  ) {
    this.listener = store.onDidChange(() => void this.refresh());
  }

  /** Recomputes every diagnostic from the store. Resolves when the collection is updated. */
  async refresh(): Promise<void> {
    const gen = ++this.generation;
    const byFile = new Map<string, { uri: vscode.Uri; diagnostics: vscode.Diagnostic[] }>();
    for (const stored of this.store.all()) {
      const problems = layerProblems(stored.report);
      if (!problems.length) continue;
      const model = stored.model;
      const isJson = model.toLowerCase().endsWith('.json');
      let target = model;
      let text: string | undefined;
      if (isJson) {
        text = await readText(model);
      } else {
        const config = path.join(path.dirname(model), CNNLENS_CONFIG_FILE);
        if (fs.existsSync(config)) {
          target = config;
          text = await readText(config);
        }
      }
      const uri = vscode.Uri.file(target);
      const entry = byFile.get(target) ?? { uri, diagnostics: [] };
      byFile.set(target, entry);
      for (const p of problems) {
        const range = text === undefined ? undefined : isJson ? findLayerRange(text, p.layer) : findJsonString(text, p.layer);
        const d = new vscode.Diagnostic(
          toRange(range),
          // On cnnlens.json (binary models), say which model the entry is about.
          target === model ? p.message : `${p.message} [${path.basename(model)}]`,
          p.severity === 'dead' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Information,
        );
        d.source = DIAGNOSTIC_SOURCE;
        d.code = { value: p.severity === 'dead' ? 'dead-filters' : 'dying-filters', target: this.docsUri };
        entry.diagnostics.push(d);
      }
    }
    if (gen !== this.generation) return; // a newer refresh is running
    this.collection.clear();
    for (const { uri, diagnostics } of byFile.values()) this.collection.set(uri, diagnostics);
  }

  dispose(): void {
    this.listener.dispose();
    this.collection.dispose();
  }
}
