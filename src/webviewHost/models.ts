/**
 * Which model a command acts on: an explicit argument, the model open in the CNN Lens editor
 * (tracked here), the active text editor's file, or the user's pick among the workspace's models.
 */
import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MODEL_FILE_GLOB, isModelFileName } from '../engine/io/models/modelFiles';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];

export function isImageUri(uri: vscode.Uri): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(uri.path).toLowerCase());
}

export function isModelUri(uri: vscode.Uri): boolean {
  return uri.scheme === 'file' && isModelFileName(uri.fsPath);
}

/** Remembers the model shown by the most recently active CNN Lens model editor. */
export class ActiveModelTracker {
  private current: vscode.Uri | undefined;
  private readonly open = new Map<string, number>();

  get(): vscode.Uri | undefined {
    if (this.current && this.open.has(this.current.toString())) return this.current;
    return undefined;
  }

  opened(uri: vscode.Uri): void {
    this.open.set(uri.toString(), (this.open.get(uri.toString()) ?? 0) + 1);
    this.current = uri;
  }

  activated(uri: vscode.Uri): void {
    this.current = uri;
  }

  closed(uri: vscode.Uri): void {
    const n = (this.open.get(uri.toString()) ?? 1) - 1;
    if (n <= 0) this.open.delete(uri.toString());
    else this.open.set(uri.toString(), n);
  }
}

/** A `.json` file is offered as a model only when it looks like a TF.js model.json. */
function looksLikeTfjsJson(file: string): boolean {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(8192);
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      const head = buf.subarray(0, n).toString('utf8');
      return head.includes('"modelTopology"') || head.includes('"weightsManifest"');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** Model files in the workspace (TF.js model.json files told apart by content). */
export async function findWorkspaceModels(token?: vscode.CancellationToken): Promise<vscode.Uri[]> {
  const found = await vscode.workspace.findFiles(MODEL_FILE_GLOB, '**/{node_modules,.git,out,dist}/**', 2000, token);
  return found
    .filter((u) => u.scheme === 'file' && (!u.fsPath.toLowerCase().endsWith('.json') || looksLikeTfjsJson(u.fsPath)))
    .sort((a, b) => a.fsPath.localeCompare(b.fsPath));
}

export async function pickWorkspaceModel(placeHolder = 'Select a model'): Promise<vscode.Uri | undefined> {
  const models = await findWorkspaceModels();
  if (models.length === 0) {
    void vscode.window.showErrorMessage('CNN Lens: no model files (model.json, .h5, .keras) found in the workspace.');
    return undefined;
  }
  if (models.length === 1) return models[0];
  const pick = await vscode.window.showQuickPick(
    models.map((uri) => ({ label: path.basename(path.dirname(uri.fsPath)) + '/' + path.basename(uri.fsPath), description: vscode.workspace.asRelativePath(uri, true), uri })),
    { placeHolder, matchOnDescription: true },
  );
  return pick?.uri;
}

/** The model a command should use when none was passed: CNN Lens editor, then text editor. */
export function contextModel(tracker: ActiveModelTracker): vscode.Uri | undefined {
  const fromEditor = tracker.get();
  if (fromEditor) return fromEditor;
  const doc = vscode.window.activeTextEditor?.document.uri;
  if (doc && isModelUri(doc)) return doc;
  const tab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (tab instanceof vscode.TabInputCustom && isModelUri(tab.uri)) return tab.uri;
  return undefined;
}
