/**
 * The scan report as a read-only virtual Markdown document (`cnn-lens-scan:` scheme) shown in
 * the Markdown preview: per layer dead / dying / alive counts, the firing-rate histogram and
 * the dead filters' tiles (PNG data URIs). Updates when the store changes.
 *
 * URI: `cnn-lens-scan:/<model file name> scan.md?<model file URI>`.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { reportMarkdown } from './markdown';
import type { ScanResultsStore } from './scanResultsStore';

export const REPORT_SCHEME = 'cnn-lens-scan';
export const SHOW_REPORT_COMMAND = 'cnnLens.showScanReport';

export function reportUri(model: vscode.Uri): vscode.Uri {
  const name = `${path.basename(path.dirname(model.fsPath))}-${path.basename(model.fsPath)} dead filters.md`;
  return vscode.Uri.from({ scheme: REPORT_SCHEME, path: `/${name}`, query: model.toString() });
}

export function modelOfReport(uri: vscode.Uri): vscode.Uri {
  return vscode.Uri.parse(uri.query);
}

export class ScanReportDocumentProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;
  private readonly listener: vscode.Disposable;
  private readonly open = new Set<string>();

  constructor(private readonly store: ScanResultsStore) {
    this.listener = store.onDidChange(() => {
      for (const u of this.open) this.emitter.fire(vscode.Uri.parse(u));
    });
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    this.open.add(uri.toString());
    const model = modelOfReport(uri);
    const stored = this.store.get(model);
    const label = vscode.workspace.asRelativePath(model);
    if (!stored) {
      return `# Dead-filter scan: ${label}\n\nNo valid scan of this model (not scanned yet, or the model, its cnnlens.json or the dataset changed since).\n\nRun **CNN Lens: Scan for Dead Filters**.\n`;
    }
    return reportMarkdown(stored, this.store.summary(model), label, vscode.workspace.asRelativePath(stored.report.dataset.path));
  }

  dispose(): void {
    this.listener.dispose();
    this.emitter.dispose();
  }
}

/** Opens the report of `model` in the Markdown preview. Returns the report's URI. */
export async function showScanReport(model: vscode.Uri): Promise<vscode.Uri> {
  const uri = reportUri(model);
  await vscode.workspace.openTextDocument(uri); // registers the content with the provider
  await vscode.commands.executeCommand('markdown.showPreview', uri);
  return uri;
}
