/**
 * "CNN Lens: Show Embedding" (`cnnLens.showEmbedding`) and the Embedding view's serializer.
 *
 * Arguments: a model `Uri`, or `{ model?: Uri, layer?: string, method?, limit?, perplexity?,
 * iterations?, neighbors?, minDist?, compare?: { model?: Uri, layer?: string } | null,
 * waitForRenderMs?: number }` (model editor, tests). Without a model it uses the model open in the
 * CNN Lens editor, else the active model file, else asks. Opens (or reveals) the model's panel and
 * computes with the given settings; a panel that already shows a result is only revealed unless
 * settings are given (a panel restored after a reload with its stored result counts as showing
 * one). Returns the panel's state (`EmbeddingPanelSummary`) once the run finished, or undefined
 * when the user cancelled the model pick.
 *
 * Finished results are kept in `<workspace storage>/embeddings/<panel id>.cnnemb` for restore;
 * files whose panel record is gone are removed at activation.
 */
import * as vscode from 'vscode';
import type { EngineHost } from '../engineHost';
import type { EmbeddingSettings } from '../protocol';
import { PanelStateStore, registerPanelSerializer } from '../webviewHost/panelState';
import { contextModel, isModelUri, pickWorkspaceModel, type ActiveModelTracker } from '../webviewHost/models';
import { EmbeddingResultFiles } from './embeddingResultStore';
import { EMBEDDING_VIEW_TYPE, EmbeddingPanel, type EmbeddingDeps, type EmbeddingPanelSummary, type EmbeddingRecord, type PaneSource } from './embeddingPanel';

export { EMBEDDING_VIEW_TYPE, type EmbeddingPanelSummary } from './embeddingPanel';
export const SHOW_EMBEDDING_COMMAND = 'cnnLens.showEmbedding';

export interface EmbeddingOptions {
  context: vscode.ExtensionContext;
  engine: EngineHost;
  log: vscode.LogOutputChannel;
  tracker: ActiveModelTracker;
}

interface ShowEmbeddingArgs {
  model?: vscode.Uri;
  layer?: string;
  settings: Partial<EmbeddingSettings>;
  compare?: { model?: vscode.Uri; layer?: string } | null;
  waitForRenderMs?: number;
}

function parseArgs(arg: unknown): ShowEmbeddingArgs {
  if (arg instanceof vscode.Uri) return { model: isModelUri(arg) ? arg : undefined, settings: {} };
  if (!arg || typeof arg !== 'object') return { settings: {} };
  const a = arg as Record<string, unknown>;
  const settings: Partial<EmbeddingSettings> = {};
  if (a.method === 'tsne' || a.method === 'pca' || a.method === 'umap') settings.method = a.method;
  for (const k of ['limit', 'perplexity', 'iterations', 'neighbors', 'minDist'] as const) if (typeof a[k] === 'number') settings[k] = a[k] as number;
  let compare: ShowEmbeddingArgs['compare'];
  if (a.compare === null) compare = null;
  else if (a.compare && typeof a.compare === 'object') {
    const c = a.compare as Record<string, unknown>;
    compare = { model: c.model instanceof vscode.Uri ? c.model : undefined, layer: typeof c.layer === 'string' ? c.layer : undefined };
  }
  return {
    model: a.model instanceof vscode.Uri ? a.model : undefined,
    layer: typeof a.layer === 'string' ? a.layer : undefined,
    settings,
    compare,
    waitForRenderMs: typeof a.waitForRenderMs === 'number' ? a.waitForRenderMs : undefined,
  };
}

export function registerEmbedding(options: EmbeddingOptions): vscode.Disposable {
  const { context, engine, log, tracker } = options;
  const store = new PanelStateStore<EmbeddingRecord>(context.workspaceState, 'embedding');
  const results = resultFiles(context, store, log);
  const deps: EmbeddingDeps = { extensionUri: context.extensionUri, engine, log, store, results };

  const command = vscode.commands.registerCommand(SHOW_EMBEDDING_COMMAND, async (arg?: unknown): Promise<EmbeddingPanelSummary | undefined> => {
    const args = parseArgs(arg);
    const model = args.model ?? contextModel(tracker) ?? (await pickWorkspaceModel('Select the model whose embedding to show'));
    if (!model) return undefined;
    const panel = EmbeddingPanel.forModel(model, deps);
    await panel.whenRestored();
    const current = panel.summary();
    const changes = Object.keys(args.settings).length > 0 || args.layer !== undefined || args.compare !== undefined;
    const hasResult = current.panes.some((p) => p.points > 0 || p.running);
    let summary: EmbeddingPanelSummary;
    if (changes || !hasResult) {
      const compare: PaneSource | null | undefined =
        args.compare === null ? null : args.compare ? { model: (args.compare.model ?? model).fsPath, layer: args.compare.layer } : undefined;
      summary = await panel.show({ settings: args.settings, layer: args.layer, compare });
    } else {
      await panel.idle();
      summary = panel.summary();
    }
    if (args.waitForRenderMs && summary.panes.some((p) => p.points > 0)) {
      await panel.whenRendered(args.waitForRenderMs);
      summary = panel.summary();
    }
    return summary;
  });

  const serializer = registerPanelSerializer(EMBEDDING_VIEW_TYPE, store, (panel, id, record) => EmbeddingPanel.restore(panel, id, record, deps));

  return vscode.Disposable.from(command, serializer, { dispose: () => EmbeddingPanel.disposeAll() });
}

/**
 * The folder of stored results (workspace storage; global storage in a window without a
 * folder), pruned of files whose panel no longer exists. Global storage is shared by every such
 * window, whose panel records this window cannot see: there only files a week old are pruned.
 */
function resultFiles(context: vscode.ExtensionContext, store: PanelStateStore<EmbeddingRecord>, log: vscode.LogOutputChannel): EmbeddingResultFiles | undefined {
  const base = context.storageUri ?? context.globalStorageUri;
  if (base.scheme !== 'file') return undefined;
  const files = new EmbeddingResultFiles(vscode.Uri.joinPath(base, 'embeddings').fsPath);
  const minAgeMs = context.storageUri ? 0 : 7 * 24 * 3600_000;
  void files.prune((id) => store.get(id) !== undefined, minAgeMs).then(
    (removed) => {
      if (removed.length) log.info(`Embedding: removed ${removed.length} stored result(s) of closed panels from ${files.dir}`);
    },
    (err) => log.warn(`Embedding: pruning ${files.dir}: ${err instanceof Error ? err.message : String(err)}`),
  );
  return files;
}
