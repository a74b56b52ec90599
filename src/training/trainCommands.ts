/**
 * "CNN Lens: Train New Classifier Head" (`cnnLens.trainHead`) and "CNN Lens: Fine-tune Model"
 * (`cnnLens.fineTune`).
 *
 * Arguments: none (palette: the model in the CNN Lens editor or the active model file, else a
 * pick), a model `Uri` (Explorer / editor title), or an options object `TrainCommandArgs`. With
 * `data` in the options the command runs without any input (scripts, tests): the options given,
 * then the `training` section of the model's `cnnlens.json`, then the built-in defaults. Without
 * it, the multi-step input (`trainingInputFlow.ts`) asks, starting from the remembered choices.
 *
 * A run: the engine's plan (classes, images, trainable vs frozen parameters) → the Training view
 * and a cancellable progress notification → the engine trains in a worker (Cancel stops at a
 * batch boundary; the best checkpoint so far is kept; early stopping on validation loss is the
 * engine's) and writes the new TF.js model folder atomically → the model opens in the CNN Lens
 * editor. Training writes files, so it is refused in untrusted workspaces. Returns
 * `TrainCommandResult` (also after an error, with `error` set to the message shown).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { EngineHost } from '../engineHost';
import type { EpochReport, TrainingMode, TrainingOptions, TrainingPlan, TrainingProgress, TrainingResult } from '../engine/training/types';
import { loadCnnLensConfig } from '../engine/config/cnnlensConfig';
import type { TrainingStatus } from '../protocol';
import { contextModel, isModelUri, pickWorkspaceModel, type ActiveModelTracker } from '../webviewHost/models';
import { errorMessage } from '../webviewHost/wire';
import { MODE_TITLES, runTrainingFlow } from './trainingInputFlow';
import { TRAINING_OPTION_KEYS } from '../engine/training/options';
import {
  defaultOutputFolder,
  describeOptions,
  initialChoices,
  outputFolderProblem,
  rememberChoices,
  sanitizeChoices,
  toTrainingOptions,
  type TrainingChoices,
} from './trainingChoices';
import { TrainingPanel, type TrainingPanelDeps, type TrainingViewSummary } from './trainingPanel';
import { toWireEpoch, toWireOutcome, toWirePlan } from './trainingWire';

export const TRAIN_HEAD_COMMAND = 'cnnLens.trainHead';
export const FINE_TUNE_COMMAND = 'cnnLens.fineTune';

/** The options object the commands accept (every field optional except `data` for the non-interactive path). */
export interface TrainCommandArgs {
  model?: vscode.Uri | string;
  /** Labelled image folder; giving it skips every input. */
  data?: vscode.Uri | string;
  /** Output folder (default: a new sibling of the model's folder). */
  out?: vscode.Uri | string;
  cutAt?: string;
  hidden?: number;
  unfreeze?: number;
  fromLayer?: string;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  validationSplit?: number;
  augment?: boolean;
  seed?: number;
  patience?: number;
  /** Open the saved model in the CNN Lens editor (default true). */
  openResult?: boolean;
  /** Before returning, wait up to this many ms for the view to draw every epoch (tests). */
  waitForRenderMs?: number;
}

export interface TrainCommandResult {
  mode: TrainingMode;
  status: TrainingStatus | 'refused' | 'dismissed';
  model?: string;
  data?: string;
  out?: string;
  plan?: TrainingPlan;
  epochs: EpochReport[];
  result?: TrainingResult;
  /** `model.json` of the saved model. */
  savedModel?: string;
  openedInEditor: boolean;
  view?: TrainingViewSummary;
  /** The message shown to the user when the run could not start or failed. */
  error?: string;
}

export interface TrainDeps {
  context: vscode.ExtensionContext;
  engine: EngineHost;
  log: vscode.LogOutputChannel;
  tracker: ActiveModelTracker;
  panelDeps: TrainingPanelDeps;
}

const PROGRESS_INTERVAL_MS = 200;

/** One run at a time: training takes the engine's workers for minutes. */
let current: { label: string; panel: TrainingPanel } | undefined;

function runningLabel(): string | undefined {
  return current?.label;
}

function toPath(v: unknown, base?: string): string | undefined {
  if (v instanceof vscode.Uri) return v.scheme === 'file' ? v.fsPath : undefined;
  if (typeof v !== 'string' || !v) return undefined;
  if (path.isAbsolute(v)) return path.normalize(v);
  const root = base ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  return root ? path.resolve(root, v) : undefined;
}

function label(p: string): string {
  return vscode.workspace.asRelativePath(p);
}

/**
 * The engine options of the non-interactive path: the fields given, passed on as they are (the
 * engine checks them and merges the model's `cnnlens.json` `training` section and its defaults,
 * so a bad value is reported in the same words as from the CLI).
 */
function optionsFromArgs(a: Record<string, unknown>, data: string, out: string): TrainingOptions {
  const options: Record<string, unknown> = { data, out };
  for (const k of TRAINING_OPTION_KEYS) if (k !== 'data' && a[k] !== undefined) options[k] = a[k];
  return options as unknown as TrainingOptions;
}

async function configuredChoices(model: string): Promise<Partial<TrainingChoices>> {
  const config = await loadCnnLensConfig(model);
  return sanitizeChoices(config.training);
}

export async function openInModelEditor(modelJson: vscode.Uri, beside = true): Promise<boolean> {
  try {
    await vscode.commands.executeCommand('vscode.openWith', modelJson, 'cnnLens.modelEditor', beside ? { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true } : undefined);
    return true;
  } catch {
    return false;
  }
}

export function registerTrainCommands(deps: TrainDeps): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.commands.registerCommand(TRAIN_HEAD_COMMAND, (arg?: unknown) => train('head', deps, arg)),
    vscode.commands.registerCommand(FINE_TUNE_COMMAND, (arg?: unknown) => train('fine-tune', deps, arg)),
  );
}

export async function train(mode: TrainingMode, deps: TrainDeps, arg?: unknown): Promise<TrainCommandResult> {
  const { log, engine, context } = deps;
  const title = MODE_TITLES[mode];
  const base: TrainCommandResult = { mode, status: 'dismissed', epochs: [], openedInEditor: false };
  const refuse = (status: 'refused' | 'failed', message: string): TrainCommandResult => {
    log.error(`${title}: ${message}`);
    void vscode.window.showErrorMessage(`CNN Lens: ${message}`);
    return { ...base, status, error: message };
  };

  if (!vscode.workspace.isTrusted) {
    return refuse('refused', `${title} writes a new model to disk and is disabled in untrusted workspaces. Trust the workspace to use it.`);
  }
  if (current) {
    current.panel.reveal();
    return refuse('refused', `a training run is already in progress (${current.label}); cancel it or wait for it to finish.`);
  }

  const args = arg && typeof arg === 'object' && !(arg instanceof vscode.Uri) ? (arg as Record<string, unknown>) : {};
  // A Uri (Explorer, editor title), a node of the models tree (`modelUri`), or `{ model }`.
  let model = arg instanceof vscode.Uri ? (isModelUri(arg) ? arg : undefined) : args.modelUri instanceof vscode.Uri ? args.modelUri : undefined;
  const modelArg = toPath(args.model);
  if (modelArg) model = vscode.Uri.file(modelArg);
  const interactive = args.data === undefined;

  let options: TrainingOptions;
  let plan: TrainingPlan;
  if (interactive) {
    const flow = await runTrainingFlow(mode, {
      engine,
      log,
      initialChoices: async (m) => initialChoices(mode, m.fsPath, await configuredChoices(m.fsPath).catch(() => ({})), context.workspaceState),
    }, model ?? contextModel(deps.tracker));
    if (!flow) return base;
    model = flow.model;
    plan = flow.plan;
    options = toTrainingOptions(mode, flow.choices, flow.out);
    await rememberChoices(context.workspaceState, mode, model.fsPath, flow.choices);
  } else {
    model ??= contextModel(deps.tracker) ?? (await pickWorkspaceModel(`Model to ${mode === 'head' ? 'train a new head for' : 'fine-tune'}`));
    if (!model) return base;
    const data = toPath(args.data);
    if (!data) return refuse('failed', `${title}: "data" must be a folder path or a file URI (got ${JSON.stringify(args.data)})`);
    const out = toPath(args.out) ?? defaultOutputFolder(model.fsPath, mode);
    const problem = outputFolderProblem(out);
    if (problem) return refuse('failed', `${title}: ${problem}`);
    options = optionsFromArgs(args, data, out);
    try {
      plan = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `CNN Lens: planning (${label(data)})` },
        () => engine.get().planTraining(model!.fsPath, mode, options),
      );
    } catch (err) {
      return { ...refuse('failed', `cannot train ${label(model.fsPath)} on ${label(data)}: ${errorMessage(err)}`), model: model.fsPath, data, out };
    }
  }
  // Another run may have started while this one's questions were open.
  const busy = runningLabel(); // another call may have started a run during the awaits above
  if (busy) return refuse('refused', `a training run is already in progress (${busy}); cancel it or wait for it to finish.`);
  return run(mode, deps, model, options, plan, args);
}

/** Progress of the whole run in [0, 1] and a line for the notification and the view. */
function describeProgress(p: TrainingProgress, epochs: number): { message: string; fraction: number } {
  switch (p.phase) {
    case 'features':
      return { message: `Computing features of the frozen layers: ${p.done.toLocaleString('en-US')} / ${p.total.toLocaleString('en-US')} images`, fraction: p.total ? p.done / p.total : 0 };
    case 'batch':
      return { message: `Epoch ${p.epoch} of ${epochs}: batch ${p.batch} / ${p.batches}`, fraction: (p.epoch - 1 + p.batch / Math.max(1, p.batches)) / epochs };
    case 'epoch': {
      const r = p.report;
      return {
        message: `Epoch ${r.epoch} of ${epochs} done: validation accuracy ${(r.valAcc * 100).toFixed(1)}%, loss ${r.valLoss.toFixed(4)}`,
        fraction: r.epoch / epochs,
      };
    }
  }
}

async function run(
  mode: TrainingMode,
  deps: TrainDeps,
  model: vscode.Uri,
  options: TrainingOptions,
  plan: TrainingPlan,
  args: Record<string, unknown>,
): Promise<TrainCommandResult> {
  const { log, engine } = deps;
  const title = MODE_TITLES[mode];
  const totalEpochs = plan.options.epochs;
  const panel = TrainingPanel.create(
    {
      mode,
      title,
      model: model.fsPath,
      data: options.data,
      out: options.out,
      settings: describeOptions(mode, plan.options),
      plan: toWirePlan(plan),
      totalEpochs,
      epochs: [],
      status: 'starting',
    },
    deps.panelDeps,
  );
  const runLabel = `${label(model.fsPath)} → ${label(options.out)}`;
  current = { label: runLabel, panel };
  const controller = new AbortController();
  const cancelFromView = panel.onDidRequestCancel(() => controller.abort());
  const epochs: EpochReport[] = [];
  const started = Date.now();
  const result: TrainCommandResult = { mode, status: 'running', model: model.fsPath, data: options.data, out: options.out, plan, epochs, openedInEditor: false };
  log.info(
    `${title}: ${runLabel} on ${label(options.data)} (${plan.classNames.length} classes, ${plan.trainImages} + ${plan.validationImages} images; ` +
      `${plan.trainableParams} trainable / ${plan.frozenParams} frozen parameters; ${JSON.stringify({ ...options, data: undefined, out: undefined })})`,
  );
  try {
    panel.setStatus('running');
    const trained = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `CNN Lens: ${title} (${path.basename(options.out)})`, cancellable: true },
      async (progress, token) => {
        token.onCancellationRequested(() => controller.abort());
        let reported = 0;
        let lastShown = 0;
        const client = engine.get();
        const call = {
          signal: controller.signal,
          onProgress: (_done: number, _total: number, detail?: unknown) => {
            const p = detail as TrainingProgress | undefined;
            if (!p || typeof p !== 'object' || !('phase' in p)) return;
            if (p.phase === 'epoch') {
              epochs.push(p.report);
              panel.addEpoch(toWireEpoch(p.report));
            } else {
              // Batches can come hundreds a second on small models: a few updates a second suffice.
              const last = p.phase === 'batch' ? p.batch === p.batches : p.done === p.total;
              if (!last && Date.now() - lastShown < PROGRESS_INTERVAL_MS) return;
            }
            lastShown = Date.now();
            const { message, fraction } = describeProgress(p, totalEpochs);
            panel.progress(message, fraction);
            const pct = p.phase === 'features' ? 0 : Math.min(100, fraction * 100);
            progress.report({ message: controller.signal.aborted ? 'cancelling at the next batch…' : message, increment: Math.max(0, pct - reported) });
            reported = Math.max(reported, pct);
          },
        };
        return mode === 'head' ? client.trainHead(model.fsPath, options, call) : client.fineTune(model.fsPath, options, call);
      },
    );
    result.result = trained;
    result.epochs = trained.epochs;
    const savedModel = trained.out ? savedModelJson(trained.out) : undefined;
    result.savedModel = savedModel;
    result.status = trained.cancelled ? 'cancelled' : 'finished';
    const summary = outcomeText(trained);
    panel.finish(result.status, trained.epochs.map(toWireEpoch), toWireOutcome(trained, savedModel ? label(path.dirname(savedModel)) : null), savedModel, summary);
    log.info(`${title}: ${runLabel} ${result.status} after ${((Date.now() - started) / 1000).toFixed(1)} s: ${summary}`);
    if (savedModel && args.openResult !== false) {
      // Let the Training view finish loading first (at most a few seconds): in code-server, two
      // webviews whose documents load at the same moment can leave the first one blank (its
      // resources go unserved: "Found unexpected service worker controller").
      await panel.whenRendered(trained.epochs.length, 5_000);
      result.openedInEditor = await openInModelEditor(vscode.Uri.file(savedModel));
    }
    void vscode.window.showInformationMessage(`CNN Lens: ${summary}`, ...(savedModel ? ['Open Model'] : [])).then((choice) => {
      if (choice === 'Open Model' && savedModel) void openInModelEditor(vscode.Uri.file(savedModel), false);
    });
  } catch (err) {
    const message = errorMessage(err);
    if (controller.signal.aborted || (err instanceof Error && err.name === 'CancelledError')) {
      result.status = 'cancelled';
      panel.finish('cancelled', epochs.map(toWireEpoch), undefined, undefined, 'Cancelled before the first epoch ended; nothing was saved.');
      log.info(`${title}: ${runLabel} cancelled after ${((Date.now() - started) / 1000).toFixed(1)} s; nothing saved`);
      void vscode.window.showInformationMessage(`CNN Lens: ${title} cancelled; nothing was saved.`);
    } else {
      result.status = 'failed';
      result.error = message;
      panel.finish('failed', epochs.map(toWireEpoch), undefined, undefined, message);
      log.error(`${title}: ${runLabel} failed: ${message}`);
      void vscode.window.showErrorMessage(`CNN Lens: ${title} failed: ${message}`);
    }
  } finally {
    cancelFromView.dispose();
    current = undefined;
  }
  if (typeof args.waitForRenderMs === 'number' && result.epochs.length > 0) await panel.whenRendered(result.epochs.length, args.waitForRenderMs);
  result.view = panel.summary();
  return result;
}

/** The engine reports the saved model's folder (or its model.json). */
function savedModelJson(out: string): string {
  return out.toLowerCase().endsWith('.json') ? out : path.join(out, 'model.json');
}

function outcomeText(r: TrainingResult): string {
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
  const acc = r.before ? `validation accuracy ${pct(r.before.valAcc)} → ${pct(r.best.valAcc)}` : `validation accuracy ${pct(r.best.valAcc)}`;
  const how = r.cancelled ? 'cancelled; kept the best epoch so far' : r.stoppedEarly ? 'stopped early' : `${r.epochs.length} epochs`;
  const where = r.out ? `saved to ${label(r.out)}` : 'nothing saved';
  return `${MODE_TITLES[r.mode]}: ${acc} (best epoch ${r.best.epoch}; ${how}); ${where}.`;
}
