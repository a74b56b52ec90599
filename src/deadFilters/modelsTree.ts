/**
 * The "CNN Lens" view in the Explorer (`cnnLens.models`): the workspace's model files, their
 * layers as children with dead / dying counts as descriptions, and the total dead count as the
 * view's badge. Clicking a layer reveals its line in model.json.
 *
 * Layers come from the store (scan / summary) or, for model.json, from the file's text; a binary
 * model (.h5 / .keras) not yet loaded is summarised by the engine when the user expands it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { EngineHost } from '../engineHost';
import { MODEL_FILE_GLOB, findLayerRange, layerBadge, layerNamesInModelJson, totalDead } from './logic';
import type { ScanResultsStore } from './scanResultsStore';

export const VIEW_ID = 'cnnLens.models';
export const REVEAL_LAYER_COMMAND = 'cnnLens.revealLayer';
export const REFRESH_MODELS_COMMAND = 'cnnLens.refreshModels';

const EXCLUDE = '{**/node_modules/**,**/.git/**,**/.venv/**,**/venv/**,**/out/**,**/dist/**}';
const NOT_MODELS = new Set(['package.json', 'package-lock.json', 'tsconfig.json', 'jsconfig.json', 'cnnlens.json', 'settings.json', 'launch.json', 'tasks.json']);

export class ModelNode {
  readonly kind = 'model';
  constructor(readonly modelUri: vscode.Uri) {}
}

export class LayerNode {
  readonly kind = 'layer';
  constructor(
    readonly modelUri: vscode.Uri,
    readonly name: string,
    readonly className: string | undefined,
  ) {}
}

class MessageNode {
  readonly kind = 'message';
  constructor(
    readonly text: string,
    readonly command?: vscode.Command,
  ) {}
}

type Node = ModelNode | LayerNode | MessageNode;

/** Whether a .json file is a TF.js model (reads its first 64 KiB). */
async function isTfjsModelJson(file: string): Promise<boolean> {
  if (NOT_MODELS.has(path.basename(file).toLowerCase())) return false;
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(file, 'r');
    const buf = Buffer.alloc(65536);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    const head = buf.subarray(0, bytesRead).toString('utf8');
    return /"modelTopology"\s*:/.test(head) || /"format"\s*:\s*"(layers|graph)-model"/.test(head);
  } catch {
    return false;
  } finally {
    await handle?.close();
  }
}

export class ModelsTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private models: Promise<vscode.Uri[]> | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly loading = new Map<string, Promise<void>>();
  view: vscode.TreeView<Node> | undefined;

  constructor(
    private readonly store: ScanResultsStore,
    private readonly engine: EngineHost,
    private readonly log: vscode.LogOutputChannel,
  ) {
    const watcher = vscode.workspace.createFileSystemWatcher(MODEL_FILE_GLOB, false, true, false);
    this.disposables.push(
      this.emitter,
      watcher,
      watcher.onDidCreate(() => this.refresh()),
      watcher.onDidDelete(() => this.refresh()),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.refresh()),
      store.onDidChange(() => {
        this.emitter.fire(undefined);
        this.updateBadge();
      }),
    );
  }

  attach(view: vscode.TreeView<Node>): void {
    this.view = view;
    this.updateBadge();
  }

  refresh(): void {
    this.models = undefined;
    this.emitter.fire(undefined);
  }

  /** Model files in the workspace (TF.js model.json, .h5/.hdf5, .keras), sorted by path. */
  findModels(): Promise<vscode.Uri[]> {
    this.models ??= (async () => {
      const found = await vscode.workspace.findFiles(MODEL_FILE_GLOB, EXCLUDE, 5000);
      const checks = await Promise.all(
        found.map(async (uri) => (uri.scheme === 'file' && (!uri.fsPath.toLowerCase().endsWith('.json') || (await isTfjsModelJson(uri.fsPath))) ? uri : undefined)),
      );
      return checks.filter((u): u is vscode.Uri => !!u).sort((a, b) => a.fsPath.localeCompare(b.fsPath));
    })();
    return this.models;
  }

  private updateBadge(): void {
    if (!this.view) return;
    const scans = this.store.all();
    const dead = scans.reduce((a, s) => a + totalDead(s.report), 0);
    this.view.badge = dead > 0 ? { value: dead, tooltip: `${dead} dead filters in ${scans.filter((s) => totalDead(s.report) > 0).length} scanned model(s)` } : undefined;
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node instanceof ModelNode) {
      const stored = this.store.get(node.modelUri);
      // Label: the model's folder (model.json files all share their name); description: file name and dead count.
      const rel = vscode.workspace.asRelativePath(node.modelUri);
      const file = path.basename(node.modelUri.fsPath);
      const folder = path.dirname(rel);
      const item = new vscode.TreeItem(folder === '.' ? file : folder, vscode.TreeItemCollapsibleState.Collapsed);
      item.resourceUri = node.modelUri;
      item.id = `model:${node.modelUri.toString()}`;
      item.contextValue = stored ? 'cnnLens.model.scanned' : 'cnnLens.model';
      item.iconPath = new vscode.ThemeIcon('circuit-board');
      if (stored) {
        const dead = totalDead(stored.report);
        item.description = `${folder === '.' ? '' : `${file} · `}${dead ? `${dead} dead` : 'no dead filters'}`;
        item.tooltip = `Scanned on ${new Date(stored.scannedAt).toLocaleString('en-US')}: ${stored.report.images} images from ${stored.report.dataset.path}`;
      } else {
        item.description = folder === '.' ? undefined : file;
        item.tooltip = `${rel}: not scanned (right-click › Scan for Dead Filters)`;
      }
      return item;
    }
    if (node instanceof LayerNode) {
      const scan = this.store.get(node.modelUri)?.report.layers.find((l) => l.name === node.name);
      const summary = this.store.summary(node.modelUri)?.layers.find((l) => l.name === node.name);
      const item = new vscode.TreeItem(node.name, vscode.TreeItemCollapsibleState.None);
      item.id = `layer:${node.modelUri.toString()}#${node.name}`;
      item.description = [node.className ?? summary?.className, layerBadge(scan)].filter(Boolean).join(' · ');
      item.contextValue = 'cnnLens.layer';
      item.iconPath = new vscode.ThemeIcon(scan?.dead.length ? 'warning' : scan?.dying.length ? 'info' : 'symbol-field');
      const tip = new vscode.MarkdownString();
      tip.appendMarkdown(`**${node.name}** ${node.className ?? summary?.className ?? ''}`);
      if (summary) tip.appendMarkdown(`\n\nOutput \`[${summary.outputShape.map((d) => d ?? 'None').join(', ')}]\`, ${summary.params.toLocaleString('en-US')} parameters`);
      if (scan) tip.appendMarkdown(`\n\n${scan.dead.length} dead, ${scan.dying.length} dying of ${scan.units}`);
      item.tooltip = tip;
      item.command = { command: REVEAL_LAYER_COMMAND, title: 'Reveal Layer', arguments: [node.modelUri, node.name] };
      return item;
    }
    const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
    item.command = node.command;
    item.iconPath = new vscode.ThemeIcon('info');
    return item;
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (!node) return (await this.findModels()).map((u) => new ModelNode(u));
    if (!(node instanceof ModelNode)) return [];
    const uri = node.modelUri;
    const layers = await this.layersOf(uri);
    if (layers.length) return layers.map((l) => new LayerNode(uri, l.name, l.className));
    return [new MessageNode('Could not list the layers (see the CNN Lens log)')];
  }

  getParent(node: Node): Node | undefined {
    return node instanceof LayerNode ? new ModelNode(node.modelUri) : undefined;
  }

  private async layersOf(uri: vscode.Uri): Promise<{ name: string; className?: string }[]> {
    const summary = this.store.summary(uri);
    if (summary) return summary.layers.filter((l) => l.className !== 'InputLayer').map((l) => ({ name: l.name, className: l.className }));
    const scan = this.store.get(uri);
    if (uri.fsPath.toLowerCase().endsWith('.json')) {
      const text = await fs.promises.readFile(uri.fsPath, 'utf8').catch(() => '');
      const fromText = layerNamesInModelJson(text).filter((l) => l.className !== 'InputLayer');
      if (fromText.length) return fromText;
    }
    if (scan) return scan.report.layers.map((l) => ({ name: l.name, className: l.className }));
    // A binary model nobody loaded yet: the user expanded it, so ask the engine for its summary.
    const key = uri.fsPath;
    if (!this.loading.has(key)) {
      this.loading.set(
        key,
        this.engine
          .get()
          .summary(uri.fsPath)
          .then((r) => this.store.setSummary(uri, r.summary))
          .catch((err) => this.log.warn(`Listing the layers of ${uri.fsPath} failed: ${err instanceof Error ? err.message : err}`))
          .finally(() => this.loading.delete(key)),
      );
    }
    await this.loading.get(key);
    const loaded = this.store.summary(uri);
    return loaded ? loaded.layers.filter((l) => l.className !== 'InputLayer').map((l) => ({ name: l.name, className: l.className })) : [];
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

/** Opens the model's text at the layer's `"name"` (model.json), or the model / report for binary models. */
export async function revealLayer(modelUri: vscode.Uri, layerName: string): Promise<void> {
  if (modelUri.fsPath.toLowerCase().endsWith('.json')) {
    const doc = await vscode.workspace.openTextDocument(modelUri);
    const r = findLayerRange(doc.getText(), layerName);
    const selection = r ? new vscode.Range(r.line, r.start, r.line, r.end) : undefined;
    await vscode.window.showTextDocument(doc, { selection, preview: true });
    return;
  }
  await vscode.commands.executeCommand('vscode.open', modelUri);
}
