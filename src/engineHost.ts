/**
 * Owns the engine client for the extension host: created on first use with the current
 * `cnnLens.*` settings, recreated when they change, shut down with the extension.
 */
import * as vscode from 'vscode';
import { EngineClient } from './engine/client';
import { isBackendPreference } from './engine/backendNames';

export class EngineHost implements vscode.Disposable {
  private client: EngineClient | undefined;
  private readonly configListener: vscode.Disposable;

  constructor(private readonly log: vscode.LogOutputChannel) {
    this.configListener = vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('cnnLens.backend') || e.affectsConfiguration('cnnLens.workers')) {
        void this.client?.dispose();
        this.client = undefined;
      }
    });
  }

  get(): EngineClient {
    if (!this.client) {
      const config = vscode.workspace.getConfiguration('cnnLens');
      const backend = config.get<string>('backend', 'auto');
      const workers = config.get<number>('workers', 0);
      this.client = new EngineClient({
        backend: isBackendPreference(backend) ? backend : 'auto',
        workers: workers > 0 ? workers : undefined,
        onLog: (level, message) => (level === 'warn' ? this.log.warn(message) : this.log.info(message)),
      });
      this.log.info(`Engine started (backend preference: ${backend})`);
    }
    return this.client;
  }

  dispose(): void {
    this.configListener.dispose();
    void this.client?.dispose();
    this.client = undefined;
  }
}
