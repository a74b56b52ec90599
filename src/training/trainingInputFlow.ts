/**
 * The interactive part of "Train New Classifier Head" and "Fine-tune Model": a multi-step input
 * with Back buttons (`MultiStepInput`) —
 *   1. the model, when the command was not given one;
 *   2. the labelled image folder: workspace folders whose sub-folders hold images, or Browse…;
 *   3. head: the layer to cut at (default: the input of the last Dense layer, i.e. drop it);
 *      fine-tune: how many top layers to unfreeze, or "from layer X on";
 *   4. the settings as a list, each editable (epochs, batch size, learning rate, validation split,
 *      hidden Dense units or augmentation, output folder); Enter on "Continue" accepts them;
 *   5. the engine's plan — trainable vs frozen parameters, classes, images — and "Start training".
 * Every step starts from the remembered / configured defaults (`trainingChoices.ts`), so a
 * repeated run is Enter, Enter, Enter.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { EngineHost } from '../engineHost';
import type { LayerSummary } from '../engine/analyses/summary';
import type { TrainingMode, TrainingPlan } from '../engine/training/types';
import { findWorkspaceModels } from '../webviewHost/models';
import { errorMessage } from '../webviewHost/wire';
import { describeClassFolder, findClassFolders, type ClassFolder } from './classFolders';
import { AGAIN, MultiStepInput, RETURN, type InputStep } from './multiStepInput';
import {
  defaultOutputFolder,
  formatLearningRate,
  formatSplit,
  outputFolderProblem,
  parseLearningRate,
  parseSplit,
  toTrainingOptions,
  type TrainingChoices,
} from './trainingChoices';

export const MODE_TITLES: Record<TrainingMode, string> = {
  head: 'Train New Classifier Head',
  'fine-tune': 'Fine-tune Model',
};

export interface FlowDeps {
  engine: EngineHost;
  log: vscode.LogOutputChannel;
  /** The defaults for `model` (built-in ← cnnlens.json ← remembered). */
  initialChoices: (model: vscode.Uri) => Promise<TrainingChoices>;
}

export interface FlowResult {
  model: vscode.Uri;
  choices: TrainingChoices;
  out: string;
  plan: TrainingPlan;
}

interface FlowState {
  model?: vscode.Uri;
  choices?: TrainingChoices;
  out?: string;
  layers?: Promise<LayerSummary[]>;
  plan?: { key: string; result: Promise<TrainingPlan> };
}

type Item<T = undefined> = vscode.QuickPickItem & { value?: T };

const int = (lo: number, hi: number, what: string) => (text: string) => {
  const t = text.trim();
  return /^\d+$/.test(t) && Number(t) >= lo && Number(t) <= hi ? undefined : `${what}: a whole number from ${lo} to ${hi}`;
};

function relative(p: string): string {
  return vscode.workspace.asRelativePath(p);
}

function resolveInWorkspace(text: string, model: vscode.Uri): string {
  const t = text.trim();
  if (path.isAbsolute(t)) return path.normalize(t);
  const folder = vscode.workspace.getWorkspaceFolder(model) ?? vscode.workspace.workspaceFolders?.[0];
  // asRelativePath prefixes the folder name in multi-root workspaces ("samples/foo").
  const roots = vscode.workspace.workspaceFolders ?? [];
  for (const r of roots) {
    if (roots.length > 1 && (t === r.name || t.startsWith(r.name + '/'))) return path.join(r.uri.fsPath, t.slice(r.name.length));
  }
  return path.resolve(folder?.uri.fsPath ?? path.dirname(model.fsPath), t);
}

/** Layers of the model (for the cut / unfreeze pickers), loaded once per flow. */
function layersOf(state: FlowState, deps: FlowDeps): Promise<LayerSummary[]> {
  state.layers ??= deps.engine
    .get()
    .summary(state.model!.fsPath)
    .then((r) => r.summary.layers);
  return state.layers;
}

/** The default cut: the layer feeding the last Dense layer, whose output the new head reads. */
export function defaultCut(layers: readonly LayerSummary[]): { cut?: string; dropped?: string } {
  for (let i = layers.length - 1; i >= 0; i--) {
    if (layers[i].className === 'Dense') return { cut: layers[i].inbound[0] ?? layers[i - 1]?.name, dropped: layers[i].name };
  }
  return {};
}

export async function runTrainingFlow(mode: TrainingMode, deps: FlowDeps, given?: vscode.Uri): Promise<FlowResult | undefined> {
  const title = `CNN Lens: ${MODE_TITLES[mode]}`;
  const state: FlowState = { model: given };
  const offset = given ? 0 : 1;
  const total = 4 + offset;

  const prepare = async (model: vscode.Uri) => {
    if (state.model?.fsPath !== model.fsPath || !state.choices) {
      state.model = model;
      state.layers = undefined;
      state.plan = undefined;
      state.choices = await deps.initialChoices(model);
      state.out = defaultOutputFolder(model.fsPath, mode);
    }
  };

  const pickModel: InputStep = async (input) => {
    const items = findWorkspaceModels().then((models) =>
      models.map<Item<vscode.Uri>>((uri) => ({ label: relative(uri.fsPath), value: uri })),
    );
    const pick = await input.showQuickPick({
      title,
      step: 1,
      totalSteps: total,
      placeholder: 'Model to start from',
      items,
      activeLabel: state.model ? relative(state.model.fsPath) : undefined,
    });
    if (!pick.value) return AGAIN;
    await prepare(pick.value);
    return pickData;
  };

  const pickData: InputStep = async (input) => {
    const choices = state.choices!;
    const describe = (f: ClassFolder): Item<string> => ({
      label: relative(f.folder),
      description: `${f.classes.length} classes · ${f.images.toLocaleString('en-US')} images`,
      detail: f.classes.slice(0, 12).join(', ') + (f.classes.length > 12 ? ', …' : ''),
      value: f.folder,
    });
    const items = findClassFolders().then(async (found) => {
      const list = found.map(describe);
      // A remembered or configured folder outside the search (or with few images) still comes first.
      if (choices.data && !found.some((f) => f.folder === choices.data)) {
        const f = await describeClassFolder(choices.data).catch(() => undefined);
        if (f) list.unshift(describe(f));
      }
      const browse: Item<string> = { label: '$(folder-opened) Browse…', description: 'a folder with one sub-folder of images per class', alwaysShow: true };
      return [...list, { label: '', kind: vscode.QuickPickItemKind.Separator }, browse];
    });
    const pick = await input.showQuickPick({
      title,
      step: 1 + offset,
      totalSteps: total,
      placeholder: 'Labelled images: a folder with one sub-folder per class',
      items,
      activeLabel: choices.data ? relative(choices.data) : undefined,
      matchOnDescription: true,
    });
    let folder = pick.value;
    if (!folder) {
      const chosen = await vscode.window.showOpenDialog({
        title: `${title}: labelled image folder (one sub-folder per class)`,
        openLabel: 'Use this folder',
        canSelectFiles: false,
        canSelectFolders: true,
        canSelectMany: false,
        defaultUri: state.model ? vscode.Uri.file(path.dirname(state.model.fsPath)) : undefined,
      });
      if (!chosen?.[0]) return AGAIN;
      folder = chosen[0].fsPath;
    }
    if (folder !== choices.data) state.plan = undefined;
    choices.data = folder;
    return pickLayers;
  };

  const pickLayers: InputStep = async (input) => (mode === 'head' ? pickCut(input) : pickUnfreeze(input));

  const pickCut = async (input: MultiStepInput) => {
    const choices = state.choices!;
    const items = layersOf(state, deps).then((layers) => {
      const { cut, dropped } = defaultCut(layers);
      const candidates = layers.filter((l, i) => i < layers.length - 1 && l.className !== 'InputLayer').reverse();
      return candidates.map<Item<string>>((l) => ({
        label: l.name,
        description: `${l.className} · output ${JSON.stringify(l.outputShape).replace(/null/g, 'None')}`,
        detail: l.name === cut ? `Default: keep the model up to here and replace ${dropped} with a new classifier` : undefined,
        value: l.name,
      }));
    });
    const defaultName = layersOf(state, deps).then((l) => defaultCut(l).cut);
    const pick = await input.showQuickPick({
      title,
      step: 2 + offset,
      totalSteps: total,
      placeholder: 'Cut the model after this layer; a new classifier head is trained on its output',
      items,
      activeLabel: choices.cutAt ?? defaultName,
      matchOnDescription: true,
    });
    const chosen = pick.value === (await defaultName) ? undefined : pick.value;
    if (chosen !== choices.cutAt) state.plan = undefined;
    choices.cutAt = chosen;
    return editSettings;
  };

  const pickUnfreeze = async (input: MultiStepInput) => {
    const choices = state.choices!;
    // What the engine may unfreeze: layers with weights, BatchNormalization excepted (it stays frozen).
    const weighted = layersOf(state, deps).then((layers) => layers.filter((l) => l.params > 0 && l.className !== 'BatchNormalization'));
    const items = weighted.then((w) => {
      const list: Item<number | 'from'>[] = [];
      for (let n = 1; n <= w.length; n++) {
        const top = w.slice(w.length - n).map((l) => l.name);
        list.push({
          label: n === w.length ? `All ${n} layers with weights` : `Top ${n} ${n === 1 ? 'layer' : 'layers'} with weights`,
          description: top.length > 4 ? `${top[0]} … ${top[top.length - 1]}` : top.join(', '),
          value: n,
        });
      }
      list.push({ label: '$(list-ordered) From a layer on…', description: 'unfreeze a chosen layer and every layer after it', value: 'from', alwaysShow: true });
      return list;
    });
    const current = Promise.all([items, weighted]).then(([list, w]) =>
      choices.fromLayer ? list[list.length - 1].label : list[Math.min(w.length, choices.unfreeze ?? 2) - 1]?.label,
    );
    const pick = await input.showQuickPick({
      title,
      step: 2 + offset,
      totalSteps: total,
      placeholder: 'Layers to train (the others stay frozen)',
      items,
      activeLabel: current,
      matchOnDescription: true,
    });
    if (pick.value === 'from') return pickFromLayer;
    state.plan = undefined;
    choices.unfreeze = pick.value as number;
    choices.fromLayer = undefined;
    return editSettings;
  };

  const pickFromLayer: InputStep = async (input) => {
    const choices = state.choices!;
    const items = layersOf(state, deps).then((layers) =>
      layers
        .filter((l) => l.className !== 'InputLayer')
        .map<Item<string>>((l) => ({ label: l.name, description: `${l.className} · ${l.params.toLocaleString('en-US')} parameters`, value: l.name })),
    );
    const pick = await input.showQuickPick({
      title,
      step: 2 + offset,
      totalSteps: total,
      placeholder: 'Train this layer and every layer after it',
      items,
      activeLabel: choices.fromLayer,
    });
    state.plan = undefined;
    choices.fromLayer = pick.value;
    choices.unfreeze = undefined;
    return editSettings;
  };

  const editSettings: InputStep = async (input) => {
    const c = state.choices!;
    type Key = 'continue' | 'epochs' | 'batchSize' | 'learningRate' | 'validationSplit' | 'hidden' | 'augment' | 'out';
    const items: Item<Key>[] = [
      { label: '$(arrow-right) Continue', description: 'review the plan before training starts', value: 'continue', alwaysShow: true },
      { label: '', kind: vscode.QuickPickItemKind.Separator },
      { label: 'Epochs', description: String(c.epochs), detail: 'Training stops earlier when the validation loss stops improving', value: 'epochs' },
      { label: 'Batch size', description: String(c.batchSize), value: 'batchSize' },
      { label: 'Learning rate', description: formatLearningRate(c.learningRate), value: 'learningRate' },
      { label: 'Validation split', description: formatSplit(c.validationSplit), detail: 'Images held out to measure accuracy and stop early', value: 'validationSplit' },
      mode === 'head'
        ? { label: 'Hidden Dense layer', description: c.hidden ? `${c.hidden} units` : 'none', value: 'hidden' }
        : { label: 'Augmentation', description: c.augment ? 'flips and shifts' : 'off', detail: 'Random horizontal flips and small shifts of the training images', value: 'augment' },
      { label: 'Output folder', description: relative(state.out!), detail: 'A new TF.js model folder', value: 'out' },
    ];
    const pick = await input.showQuickPick({
      title,
      step: 3 + offset,
      totalSteps: total,
      placeholder: 'Settings: Enter on Continue to accept them, or choose one to change it',
      items,
      activeLabel: '$(arrow-right) Continue',
    });
    const key = pick.value;
    if (!key || key === 'continue') {
      const problem = outputFolderProblem(state.out!);
      if (problem) {
        void vscode.window.showWarningMessage(`CNN Lens: ${problem}`);
        return AGAIN;
      }
      return confirmPlan;
    }
    if (key === 'augment') {
      c.augment = !c.augment;
      state.plan = undefined;
      return AGAIN;
    }
    return editValue(key);
  };

  const editValue = (key: 'epochs' | 'batchSize' | 'learningRate' | 'validationSplit' | 'hidden' | 'out'): InputStep => async (input) => {
    const c = state.choices!;
    const common = { title, step: 3 + offset, totalSteps: total };
    let text: string;
    switch (key) {
      case 'epochs':
        text = await input.showInputBox({ ...common, prompt: 'Epochs (at most; early stopping may end training sooner)', value: String(c.epochs), validate: int(1, 1000, 'Epochs') });
        c.epochs = Number(text.trim());
        break;
      case 'batchSize':
        text = await input.showInputBox({ ...common, prompt: 'Images per batch', value: String(c.batchSize), validate: int(1, 4096, 'Batch size') });
        c.batchSize = Number(text.trim());
        break;
      case 'learningRate':
        text = await input.showInputBox({
          ...common,
          prompt: 'Learning rate (Adam), e.g. 0.001 or 1e-4',
          value: formatLearningRate(c.learningRate),
          validate: (t) => (parseLearningRate(t) === undefined ? 'A positive number below 10, e.g. 0.001 or 1e-4' : undefined),
        });
        c.learningRate = parseLearningRate(text)!;
        break;
      case 'validationSplit':
        text = await input.showInputBox({
          ...common,
          prompt: 'Share of the images held out for validation, e.g. 15%',
          value: formatSplit(c.validationSplit),
          validate: (t) => (parseSplit(t) === undefined ? 'A percentage from 1% to 50%, e.g. 15%' : undefined),
        });
        c.validationSplit = parseSplit(text)!;
        break;
      case 'hidden':
        text = await input.showInputBox({
          ...common,
          prompt: 'Units of a hidden Dense layer (ReLU) before the new classifier; empty or 0 for none',
          value: c.hidden ? String(c.hidden) : '',
          validate: (t) => (t.trim() === '' ? undefined : int(0, 65536, 'Units')(t)),
        });
        c.hidden = Number(text.trim()) > 0 ? Number(text.trim()) : undefined;
        break;
      case 'out':
        text = await input.showInputBox({
          ...common,
          prompt: 'New folder for the trained model (relative to the workspace folder, or absolute); it must not exist yet',
          value: relative(state.out!),
          validate: (t) => (t.trim() === '' ? 'Enter a folder name' : outputFolderProblem(resolveInWorkspace(t, state.model!))),
        });
        state.out = resolveInWorkspace(text, state.model!);
        break;
    }
    state.plan = undefined;
    return RETURN;
  };

  const confirmPlan: InputStep = async (input) => {
    const c = state.choices!;
    const model = state.model!;
    const options = toTrainingOptions(mode, c, state.out!);
    const key = JSON.stringify(options);
    if (state.plan?.key !== key) state.plan = { key, result: deps.engine.get().planTraining(model.fsPath, mode, options) };
    const planned = state.plan.result;
    type Action = 'start' | 'back' | 'info';
    const items = planned.then(
      (plan): Item<Action>[] => {
        const totalParams = plan.trainableParams + plan.frozenParams;
        const share = totalParams > 0 ? ` (${((plan.trainableParams / totalParams) * 100).toFixed(plan.trainableParams / totalParams < 0.01 ? 2 : 1)}%)` : '';
        const trainable = plan.layers.filter((l) => l.trainable && l.params > 0).map((l) => l.name);
        return [
          { label: '$(play) Start training', description: `${c.epochs} epochs at most`, value: 'start', alwaysShow: true },
          { label: 'Plan', kind: vscode.QuickPickItemKind.Separator },
          { label: `$(unlock) ${plan.trainableParams.toLocaleString('en-US')} trainable parameters${share}`, description: trainable.join(', '), value: 'info' },
          { label: `$(lock) ${plan.frozenParams.toLocaleString('en-US')} frozen parameters`, value: 'info' },
          { label: `$(symbol-enum) ${plan.classNames.length} classes`, description: plan.classNames.join(', '), value: 'info' },
          {
            label: `$(file-media) ${plan.trainImages.toLocaleString('en-US')} training · ${plan.validationImages.toLocaleString('en-US')} validation images`,
            value: 'info',
          },
          ...(plan.cutAt ? [{ label: `$(split-horizontal) Cut after ${plan.cutAt}`, value: 'info' as const }] : []),
          { label: `$(folder) ${relative(state.out!)}`, description: 'output folder', value: 'info' },
        ];
      },
      (err: unknown): Item<Action>[] => {
        deps.log.warn(`Training plan for ${model.fsPath} failed: ${errorMessage(err)}`);
        return [
          { label: `$(error) ${errorMessage(err)}`, value: 'info', alwaysShow: true },
          { label: '$(arrow-left) Back to the settings', value: 'back', alwaysShow: true },
        ];
      },
    );
    const placeholder = planned.then(
      (p) => `${p.trainableParams.toLocaleString('en-US')} trainable vs ${p.frozenParams.toLocaleString('en-US')} frozen parameters: start training?`,
      () => 'The plan failed: go back and change the settings',
    );
    const pick = await input.showQuickPick({ title, step: 4 + offset, totalSteps: total, placeholder, items, activeLabel: '$(play) Start training' });
    if (pick.value === 'back') return RETURN;
    if (pick.value !== 'start') return AGAIN;
    return undefined;
  };

  if (given) await prepare(given);
  const done = await MultiStepInput.run(given ? pickData : pickModel);
  if (!done || !state.model || !state.choices || !state.out || !state.plan) return undefined;
  const plan = await state.plan.result;
  return { model: state.model, choices: state.choices, out: state.out, plan };
}
