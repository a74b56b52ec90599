/**
 * Scan settings of a model: `cnnLens.dataset` (relative to the model's workspace folder), else
 * `dataset` in the `cnnlens.json` beside the model; `cnnLens.sampleCount`; `cnnLens.dyingThreshold`
 * when the user set it, else the model's `cnnlens.json`, else 0.01.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { loadCnnLensConfig } from '../engine/config/cnnlensConfig';

export interface ResolvedScanSettings {
  dataset?: string;
  /** Where `dataset` came from, for messages. */
  datasetSource?: 'setting' | 'cnnlens.json' | 'picked';
  sampleCount: number;
  /** Undefined: let the engine use the model's cnnlens.json (default 0.01). */
  dyingThreshold?: number;
}

/** Datasets picked in the file dialog this session, per model file. */
const picked = new Map<string, string>();

export function rememberPickedDataset(modelFile: string, dataset: string): void {
  picked.set(modelFile, dataset);
}

/** Resolves without prompting. Throws a `CnnLensConfigError` when the model's cnnlens.json is invalid. */
export async function resolveScanSettings(modelFile: string): Promise<ResolvedScanSettings> {
  const uri = vscode.Uri.file(modelFile);
  const cfg = vscode.workspace.getConfiguration('cnnLens', uri);
  const sampleCount = Math.max(0, Math.floor(cfg.get<number>('sampleCount', 0) || 0));
  const t = cfg.inspect<number>('dyingThreshold');
  const explicit = t?.workspaceFolderValue ?? t?.workspaceValue ?? t?.globalValue;
  const dyingThreshold = typeof explicit === 'number' && explicit >= 0 && explicit <= 1 ? explicit : undefined;

  const setting = (cfg.get<string>('dataset', '') ?? '').trim();
  if (setting) {
    const folder = vscode.workspace.getWorkspaceFolder(uri) ?? vscode.workspace.workspaceFolders?.[0];
    const base = folder?.uri.scheme === 'file' ? folder.uri.fsPath : path.dirname(modelFile);
    return { dataset: path.resolve(base, setting), datasetSource: 'setting', sampleCount, dyingThreshold };
  }
  const config = await loadCnnLensConfig(modelFile);
  if (config.dataset) return { dataset: config.dataset, datasetSource: 'cnnlens.json', sampleCount, dyingThreshold };
  const p = picked.get(modelFile);
  if (p) return { dataset: p, datasetSource: 'picked', sampleCount, dyingThreshold };
  return { sampleCount, dyingThreshold };
}
