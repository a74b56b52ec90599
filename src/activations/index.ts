/**
 * "CNN Lens: Inspect Activations" (`cnnLens.inspectActivations`) and the Activations view's
 * restore-after-reload serializer.
 *
 * Arguments: a `Uri` (an image from the Explorer's context menu or the image preview's title bar,
 * or a model file), or `{ model?: Uri, image?: Uri, index?: number, layer?: string, channel?: number,
 * unit?: [y, x], erfImages?: number, waitForRenderMs?: number }` (model editor, tests; `unit`
 * shows that unit's receptive field over the input). Without a model it uses the model open in the CNN Lens editor, else the active
 * model file, else asks with a QuickPick of the workspace's models; without an image it uses the
 * image in the active editor, else asks (dataset index or image file). Returns the panel's state
 * (`ActivationsPanelSummary`), or undefined when the user cancelled.
 */
import * as vscode from 'vscode';
import type { DeadUnits } from '../protocol';
import type { EngineHost } from '../engineHost';
import { PanelStateStore, registerPanelSerializer } from '../webviewHost/panelState';
import { contextModel, isImageUri, isModelUri, pickWorkspaceModel, type ActiveModelTracker } from '../webviewHost/models';
import { ACTIVATIONS_VIEW_TYPE, ActivationsPanel, pickImageFile, type ActivationsDeps, type ActivationsPanelSummary, type ActivationsRecord, type ImageSource } from './activationsPanel';

export { ACTIVATIONS_VIEW_TYPE, type ActivationsPanelSummary } from './activationsPanel';
export const INSPECT_ACTIVATIONS_COMMAND = 'cnnLens.inspectActivations';

export interface ActivationsOptions {
  context: vscode.ExtensionContext;
  engine: EngineHost;
  log: vscode.LogOutputChannel;
  tracker: ActiveModelTracker;
  /** Dead units of a model's last scan (the lead wires the dead-filter store here). */
  getDeadUnits?: (model: vscode.Uri) => DeadUnits | undefined;
  onDidChangeDeadUnits?: vscode.Event<vscode.Uri | undefined>;
}

export interface InspectActivationsArgs {
  model?: vscode.Uri;
  image?: vscode.Uri;
  index?: number;
  layer?: string;
  /** Wait up to this many ms for the webview to report the grid drawn before returning (tests). */
  waitForRenderMs?: number;
  /** With `unit`: enlarge this channel of `layer` and show the receptive field of unit [y, x]. */
  channel?: number;
  unit?: [number, number];
  /** The ERF averages over the first N dataset images (default 0: the image on show). */
  erfImages?: number;
}

function parseArgs(arg: unknown): InspectActivationsArgs {
  if (arg instanceof vscode.Uri) {
    if (isImageUri(arg)) return { image: arg };
    if (isModelUri(arg)) return { model: arg };
    return {};
  }
  if (!arg || typeof arg !== 'object') return {};
  const a = arg as Record<string, unknown>;
  return {
    model: a.model instanceof vscode.Uri ? a.model : undefined,
    image: a.image instanceof vscode.Uri ? a.image : undefined,
    index: typeof a.index === 'number' && Number.isInteger(a.index) && a.index >= 0 ? a.index : undefined,
    layer: typeof a.layer === 'string' ? a.layer : undefined,
    waitForRenderMs: typeof a.waitForRenderMs === 'number' ? a.waitForRenderMs : undefined,
    channel: isIndex(a.channel) ? a.channel : undefined,
    unit: Array.isArray(a.unit) && a.unit.length === 2 && a.unit.every(isIndex) ? [a.unit[0] as number, a.unit[1] as number] : undefined,
    erfImages: isIndex(a.erfImages) ? a.erfImages : undefined,
  };
}

function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

function activeImage(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  const uri = input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText ? input.uri : undefined;
  return uri && isImageUri(uri) ? uri : undefined;
}

async function chooseImage(panel: ActivationsPanel): Promise<ImageSource | undefined> {
  const info = await panel.datasetInfo();
  let useFile = !info;
  if (info) {
    const pick = await vscode.window.showQuickPick(
      [
        { label: '$(database) Image from the model\'s dataset…', description: `${info.size.toLocaleString('en-US')} images`, file: false },
        { label: '$(file-media) Image file…', description: 'PNG or JPEG', file: true },
      ],
      { placeHolder: 'Which image should the model look at?' },
    );
    if (!pick) return undefined;
    useFile = pick.file;
  }
  if (useFile) {
    const file = await pickImageFile(panel.model);
    return file ? { kind: 'file', file: file.fsPath } : undefined;
  }
  const size = info!.size;
  const value = await vscode.window.showInputBox({
    prompt: `Dataset image number (0–${size - 1})`,
    value: '0',
    validateInput: (v) => (/^\d+$/.test(v.trim()) && Number(v) < size ? undefined : `Enter a whole number from 0 to ${size - 1}`),
  });
  return value === undefined ? undefined : { kind: 'dataset', index: Number(value.trim()) };
}

export function registerActivations(options: ActivationsOptions): vscode.Disposable {
  const { context, engine, log, tracker } = options;
  const store = new PanelStateStore<ActivationsRecord>(context.workspaceState, 'activations');
  const deps: ActivationsDeps = {
    extensionUri: context.extensionUri,
    engine,
    log,
    store,
    getDeadUnits: options.getDeadUnits,
    onDidChangeDeadUnits: options.onDidChangeDeadUnits,
  };

  const command = vscode.commands.registerCommand(INSPECT_ACTIVATIONS_COMMAND, async (arg?: unknown): Promise<ActivationsPanelSummary | undefined> => {
    const args = parseArgs(arg);
    const image = args.image ?? (args.index === undefined ? activeImage() : undefined);
    if (image && image.scheme !== 'file') {
      void vscode.window.showErrorMessage('CNN Lens: only images on disk can be inspected.');
      return undefined;
    }
    const model = args.model ?? contextModel(tracker) ?? (await pickWorkspaceModel('Select the model whose activations to inspect'));
    if (!model) return undefined;
    const panel = ActivationsPanel.forModel(model, deps);
    let source: ImageSource | undefined = image ? { kind: 'file', file: image.fsPath } : args.index !== undefined ? { kind: 'dataset', index: args.index } : undefined;
    if (!source && panel.summary().layers.length === 0) {
      source = await chooseImage(panel);
      if (!source) return panel.summary();
    }
    const summary = await panel.show(source, args.layer);
    if (args.waitForRenderMs && !summary.error) await panel.whenRendered(args.waitForRenderMs);
    if (args.unit && summary.layer && !summary.error) {
      await panel.selectUnit({ layer: summary.layer, channel: args.channel ?? 0, unit: args.unit, images: args.erfImages ?? 0 });
      if (args.waitForRenderMs) await panel.whenOverlayDrawn(args.waitForRenderMs);
    }
    return panel.summary();
  });

  const serializer = registerPanelSerializer(ACTIVATIONS_VIEW_TYPE, store, (panel, id, record) => ActivationsPanel.restore(panel, id, record, deps));

  return vscode.Disposable.from(command, serializer, { dispose: () => ActivationsPanel.disposeAll() });
}
