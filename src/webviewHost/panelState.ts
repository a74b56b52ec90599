/**
 * What the host needs to restore a panel after a reload, kept by the host (workspaceState) under
 * an opaque panel id. The webview only stores that id in its own state; on restore the host looks
 * the record up, so the paths it reopens are ones it chose itself, never ones a webview supplied.
 */
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { isPanelId } from '../protocol';

const KEY = 'cnnLens.panels';
const MAX_RECORDS = 50;

export class PanelStateStore<R> {
  constructor(
    private readonly memento: vscode.Memento,
    private readonly kind: string,
  ) {}

  static newId(): string {
    return randomBytes(16).toString('hex');
  }

  private all(): Record<string, { kind: string; at: number; record: R }> {
    return this.memento.get(KEY, {});
  }

  get(id: unknown): R | undefined {
    if (!isPanelId(id)) return undefined;
    const hit = this.all()[id];
    return hit && hit.kind === this.kind ? hit.record : undefined;
  }

  async set(id: string, record: R): Promise<void> {
    const all = { ...this.all(), [id]: { kind: this.kind, at: Date.now(), record } };
    const ids = Object.keys(all).sort((a, b) => all[b].at - all[a].at);
    for (const old of ids.slice(MAX_RECORDS)) delete all[old];
    await this.memento.update(KEY, all);
  }

  async delete(id: string): Promise<void> {
    const all = { ...this.all() };
    delete all[id];
    await this.memento.update(KEY, all);
  }
}

/**
 * Restores a view type's panels after a reload: the webview's state holds only its panel id; the
 * record comes from the host's store, and a panel whose record is gone is closed.
 */
export function registerPanelSerializer<R>(
  viewType: string,
  store: PanelStateStore<R>,
  restore: (panel: vscode.WebviewPanel, id: string, record: R) => void,
): vscode.Disposable {
  return vscode.window.registerWebviewPanelSerializer(viewType, {
    async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown) {
      const id = (state as { panelId?: unknown } | undefined)?.panelId;
      const record = isPanelId(id) ? store.get(id) : undefined;
      if (!record || !isPanelId(id)) {
        panel.dispose();
        return;
      }
      restore(panel, id, record);
    },
  });
}
