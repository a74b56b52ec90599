/**
 * The answers of a training flow ("choices") and where their defaults come from, in order:
 * the engine's defaults ← the `training` section of the model's `cnnlens.json` ← what the user
 * chose last time in this workspace (`workspaceState`; the layer choices per model, since layer names
 * belong to one model). Also the default output folder: a sibling of the model's folder, named
 * after the mode, that does not exist yet.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as vscode from 'vscode';
import type { ResolvedTrainingOptions, TrainingMode, TrainingOptions } from '../engine/training/types';
import { TRAINING_DEFAULTS } from '../engine/training/options';

export interface TrainingChoices {
  /** Labelled image folder (absolute). */
  data?: string;
  /** Head: the last layer of the base model kept (undefined: the engine's default, before the last Dense layer). */
  cutAt?: string;
  /** Head: units of an extra hidden Dense layer (undefined: none). */
  hidden?: number;
  /** Fine-tune: unfreeze this many top layers with weights … */
  unfreeze?: number;
  /** … or every layer from this one on. */
  fromLayer?: string;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Fraction of the images held out for validation (early stopping watches their loss). */
  validationSplit: number;
  /** Fine-tune: random flips and shifts of the training images. */
  augment: boolean;
}

/** The engine's defaults per mode (it applies the same ones to options left out). */
export function builtInChoices(mode: TrainingMode): TrainingChoices {
  const d = TRAINING_DEFAULTS;
  const common = { validationSplit: d.validationSplit, augment: false };
  return mode === 'head'
    ? { ...common, epochs: d.head.epochs, batchSize: d.head.batchSize, learningRate: d.head.learningRate }
    : { ...common, epochs: d['fine-tune'].epochs, batchSize: d['fine-tune'].batchSize, learningRate: d['fine-tune'].learningRate, unfreeze: d['fine-tune'].unfreeze };
}

const MEMENTO_KEY = 'cnnLens.training.choices';

interface Remembered {
  /** Per mode: choices that do not depend on the model. */
  common?: Partial<Record<TrainingMode, Partial<TrainingChoices>>>;
  /** Per mode and model file: layer choices. */
  layers?: Partial<Record<TrainingMode, Record<string, Pick<TrainingChoices, 'cutAt' | 'unfreeze' | 'fromLayer'>>>>;
}

const LAYER_KEYS = ['cutAt', 'unfreeze', 'fromLayer'] as const;

/** Keeps only the fields of `raw` that are valid choices (remembered or configured values may be stale or hand-written). */
export function sanitizeChoices(raw: unknown): Partial<TrainingChoices> {
  if (!raw || typeof raw !== 'object') return {};
  const r = raw as Record<string, unknown>;
  const out: Partial<TrainingChoices> = {};
  const posInt = (v: unknown, max: number) => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= max;
  if (typeof r.data === 'string' && r.data) out.data = r.data;
  if (typeof r.cutAt === 'string' && r.cutAt) out.cutAt = r.cutAt;
  if (typeof r.fromLayer === 'string' && r.fromLayer) out.fromLayer = r.fromLayer;
  if (posInt(r.hidden, 1 << 16)) out.hidden = r.hidden as number;
  if (posInt(r.unfreeze, 10_000)) out.unfreeze = r.unfreeze as number;
  if (posInt(r.epochs, 1000)) out.epochs = r.epochs as number;
  if (posInt(r.batchSize, 4096)) out.batchSize = r.batchSize as number;
  if (typeof r.learningRate === 'number' && r.learningRate > 0 && r.learningRate < 10) out.learningRate = r.learningRate;
  if (typeof r.validationSplit === 'number' && r.validationSplit > 0 && r.validationSplit < 1) out.validationSplit = r.validationSplit;
  if (typeof r.augment === 'boolean') out.augment = r.augment;
  else if (r.augment && typeof r.augment === 'object') out.augment = true;
  return out;
}

/** Merges defaults, the configured `training` section and the remembered choices for `model`. */
export function initialChoices(
  mode: TrainingMode,
  model: string,
  configured: Partial<TrainingChoices>,
  memento: vscode.Memento | undefined,
): TrainingChoices {
  const remembered = memento?.get<Remembered>(MEMENTO_KEY) ?? {};
  const common = sanitizeChoices(remembered.common?.[mode]);
  const layers = sanitizeChoices(remembered.layers?.[mode]?.[model]);
  for (const k of LAYER_KEYS) delete common[k];
  const merged = { ...builtInChoices(mode), ...configured, ...common, ...layers };
  if (mode === 'fine-tune' && merged.fromLayer) delete merged.unfreeze;
  return merged;
}

export async function rememberChoices(memento: vscode.Memento, mode: TrainingMode, model: string, choices: TrainingChoices): Promise<void> {
  const remembered = memento.get<Remembered>(MEMENTO_KEY) ?? {};
  const common: Partial<TrainingChoices> = { ...choices };
  for (const k of LAYER_KEYS) delete common[k];
  const layers = { cutAt: choices.cutAt, unfreeze: choices.unfreeze, fromLayer: choices.fromLayer };
  await memento.update(MEMENTO_KEY, {
    common: { ...remembered.common, [mode]: common },
    layers: { ...remembered.layers, [mode]: { ...remembered.layers?.[mode], [model]: layers } },
  } satisfies Remembered);
}

/** The folder a model's files sit in, and the name new folders beside it start from. */
function modelBase(model: string): { parent: string; stem: string } {
  const dir = path.dirname(model);
  if (path.basename(model).toLowerCase() === 'model.json') return { parent: path.dirname(dir), stem: path.basename(dir) };
  return { parent: dir, stem: path.basename(model, path.extname(model)) };
}

/** `<model folder>-head` / `-finetuned` beside the model's folder, with `-2`, `-3`, … until the name is free. */
export function defaultOutputFolder(model: string, mode: TrainingMode): string {
  const { parent, stem } = modelBase(model);
  const base = path.join(parent, `${stem}-${mode === 'head' ? 'head' : 'finetuned'}`);
  if (!fs.existsSync(base)) return base;
  for (let i = 2; ; i++) if (!fs.existsSync(`${base}-${i}`)) return `${base}-${i}`;
}

/** Why `folder` cannot receive a new model (the engine never overwrites), or undefined when it is free. */
export function outputFolderProblem(folder: string): string | undefined {
  return fs.existsSync(folder) ? `${folder} already exists; the new model needs a new folder` : undefined;
}

/** The engine's options for a run with these choices, writing to `out`. */
export function toTrainingOptions(mode: TrainingMode, c: TrainingChoices, out: string): TrainingOptions {
  if (!c.data) throw new Error('No labelled image folder chosen');
  const common: TrainingOptions = {
    data: c.data,
    out,
    epochs: c.epochs,
    batchSize: c.batchSize,
    learningRate: c.learningRate,
    validationSplit: c.validationSplit,
  };
  if (mode === 'head') return { ...common, ...(c.cutAt ? { cutAt: c.cutAt } : {}), ...(c.hidden ? { hidden: c.hidden } : {}) };
  return {
    ...common,
    ...(c.fromLayer ? { fromLayer: c.fromLayer } : c.unfreeze ? { unfreeze: c.unfreeze } : {}),
    augment: c.augment,
  };
}

/** "0.001", "1e-3" → 0.001 (what the learning-rate box accepts). */
export function parseLearningRate(text: string): number | undefined {
  const v = Number(text.trim());
  return text.trim() !== '' && Number.isFinite(v) && v > 0 && v < 10 ? v : undefined;
}

/** "15", "15%", "0.15" → 0.15; from 1% to 50% (what the validation-split box accepts). */
export function parseSplit(text: string): number | undefined {
  const t = text.trim();
  const m = /^(\d+(?:\.\d+)?)\s*%?$/.exec(t);
  if (!m) return undefined;
  let v = Number(m[1]);
  if (t.endsWith('%') || v >= 1) v /= 100;
  return v >= 0.01 && v <= 0.5 ? v : undefined;
}

export function formatLearningRate(lr: number): string {
  return lr >= 0.001 && lr < 1 ? String(Number(lr.toPrecision(6))) : lr.toExponential();
}

export function formatSplit(f: number): string {
  return `${Number((f * 100).toFixed(1))}%`;
}

/** The engine's resolved options as display pairs (the Training view's settings line). */
export function describeOptions(mode: TrainingMode, o: ResolvedTrainingOptions): { name: string; value: string }[] {
  const out = [
    { name: 'Epochs', value: `${o.epochs} at most` },
    { name: 'Batch size', value: String(o.batchSize) },
    { name: 'Learning rate', value: formatLearningRate(o.learningRate) },
    { name: 'Validation split', value: formatSplit(o.validationSplit) },
    { name: 'Early stopping', value: o.patience > 0 ? `after ${o.patience} epochs without a lower validation loss` : 'off' },
  ];
  if (mode === 'head') out.push({ name: 'Hidden Dense layer', value: o.hidden ? `${o.hidden} units` : 'none' });
  else {
    out.push({ name: 'Unfrozen', value: `${o.unfreeze} ${o.unfreeze === 1 ? 'layer' : 'layers'}${o.fromLayer ? ` (from ${o.fromLayer} on)` : ''}` });
    const aug = [o.augment.flip ? 'horizontal flips' : '', o.augment.shift > 0 ? `shifts up to ${formatSplit(o.augment.shift)}` : ''].filter(Boolean);
    out.push({ name: 'Augmentation', value: aug.length ? aug.join(', ') : 'off' });
  }
  out.push({ name: 'Seed', value: String(o.seed) });
  return out;
}
