/**
 * Training options: the value rules (shared with the `training` section of `cnnlens.json`, so a
 * bad value is reported the same way wherever it was written) and the merge of explicit options,
 * the model's remembered options and the defaults. No TF.js: the config loader imports this.
 */
import * as path from 'node:path';
import type { TrainingDefaults, TrainingMode, TrainingOptions } from './types';

/**
 * Defaults per mode. A head is small and sees few images (a few steps per epoch), so it gets a
 * higher learning rate and more epochs than Keras' 1e-3 (measured: 1e-3 left a head on 150 images
 * at 70 % after 40 epochs, 0.01 reached 83 %; early stopping ends it when it stops improving).
 * Fine-tuning must not wreck the pretrained weights: 1e-4, as the Keras transfer-learning guide.
 */
export const TRAINING_DEFAULTS = {
  head: { epochs: 50, batchSize: 32, learningRate: 0.01 },
  'fine-tune': { epochs: 10, batchSize: 32, learningRate: 1e-4, unfreeze: 2 },
  hidden: 0,
  validationSplit: 0.15,
  seed: 1,
  patience: 3,
  /** `augment: true` means flips and shifts of up to this fraction. */
  shift: 0.1,
} as const;

/** Keys of the `training` section (every option except `out`). */
export const TRAINING_OPTION_KEYS = [
  'data',
  'cutAt',
  'hidden',
  'epochs',
  'batchSize',
  'learningRate',
  'validationSplit',
  'seed',
  'patience',
  'unfreeze',
  'fromLayer',
  'augment',
] as const;
export const AUGMENT_KEYS = ['flip', 'shift'] as const;

const HEAD_ONLY = ['cutAt', 'hidden'] as const;
const FINE_TUNE_ONLY = ['unfreeze', 'fromLayer', 'augment'] as const;

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? s.slice(0, 37) + '...' : s;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/**
 * Checks one option value; returns a problem ("must be ...") or undefined. Used for explicit
 * options and for `cnnlens.json`, which each prefix the problem with where the value came from.
 */
export function trainingValueProblem(key: string, v: unknown): string | undefined {
  switch (key) {
    case 'data':
    case 'cutAt':
    case 'fromLayer':
      return typeof v === 'string' && v.trim() !== '' ? undefined : `must be a non-empty string (got ${show(v)})`;
    case 'hidden':
      return isInt(v) && v >= 0 && v <= 65536 ? undefined : `must be a whole number of units ≥ 0, 0 = no hidden layer (got ${show(v)})`;
    case 'epochs':
      return isInt(v) && v >= 1 && v <= 100000 ? undefined : `must be a whole number ≥ 1 (got ${show(v)})`;
    case 'batchSize':
      return isInt(v) && v >= 1 && v <= 65536 ? undefined : `must be a whole number ≥ 1 (got ${show(v)})`;
    case 'learningRate':
      return typeof v === 'number' && Number.isFinite(v) && v > 0 && v < 10 ? undefined : `must be a number > 0, e.g. 0.001 (got ${show(v)})`;
    case 'validationSplit':
      return typeof v === 'number' && v > 0 && v < 1 ? undefined : `must be a fraction between 0 and 1, e.g. 0.15 (got ${show(v)})`;
    case 'seed':
      return isInt(v) && v >= 0 && v <= 0xffffffff ? undefined : `must be a whole number ≥ 0 (got ${show(v)})`;
    case 'patience':
      return isInt(v) && v >= 0 ? undefined : `must be a whole number of epochs ≥ 0, 0 = no early stopping (got ${show(v)})`;
    case 'unfreeze':
      return isInt(v) && v >= 1 ? undefined : `must be a whole number of layers ≥ 1 (got ${show(v)})`;
    case 'augment': {
      if (typeof v === 'boolean') return undefined;
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return `must be true, false or {"flip": boolean, "shift": fraction} (got ${show(v)})`;
      const o = v as Record<string, unknown>;
      const unknown = Object.keys(o).find((k) => !(AUGMENT_KEYS as readonly string[]).includes(k));
      if (unknown) return `has an unknown key "${unknown}" (allowed: ${AUGMENT_KEYS.join(', ')})`;
      if (o.flip !== undefined && typeof o.flip !== 'boolean') return `.flip must be true or false (got ${show(o.flip)})`;
      if (o.shift !== undefined && !(typeof o.shift === 'number' && o.shift >= 0 && o.shift <= 0.5)) {
        return `.shift must be a fraction of the image size between 0 and 0.5 (got ${show(o.shift)})`;
      }
      return undefined;
    }
    default:
      return `is not a training option (allowed: ${['out', ...TRAINING_OPTION_KEYS].join(', ')})`;
  }
}

/** Options after the merge, before the model is looked at (`plan.ts` resolves the layers). */
export interface MergedTrainingOptions {
  data: string;
  out: string;
  cutAt: string | null;
  hidden: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  validationSplit: number;
  seed: number;
  patience: number;
  unfreeze: number | null;
  fromLayer: string | null;
  augment: { flip: boolean; shift: number };
}

function normaliseAugment(a: TrainingOptions['augment']): { flip: boolean; shift: number } {
  if (a === undefined || a === false) return { flip: false, shift: 0 };
  if (a === true) return { flip: true, shift: TRAINING_DEFAULTS.shift };
  return { flip: a.flip ?? false, shift: a.shift ?? 0 };
}

/**
 * Explicit options over the model's remembered ones (`cnnlens.json` `training`, already checked
 * by the config loader) over the defaults. Throws on a bad explicit value or on an option that
 * does not apply to the mode. `configFile` names the remembered options' file in messages.
 */
export function mergeTrainingOptions(
  mode: TrainingMode,
  options: TrainingOptions,
  remembered: TrainingDefaults | undefined,
  configFile?: string,
): MergedTrainingOptions {
  if (options === null || typeof options !== 'object') throw new Error(`training options must be an object (got ${show(options)})`);
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Record<string, unknown>;
  for (const [key, value] of Object.entries(given)) {
    if (key === 'out') continue;
    if (key === 'data' && value === '') continue; // empty = use the remembered data
    const problem = trainingValueProblem(key, value);
    if (problem) throw new Error(`training option "${key}" ${problem}`);
  }
  const wrong = (mode === 'head' ? FINE_TUNE_ONLY : HEAD_ONLY).filter((k) => given[k] !== undefined);
  if (wrong.length) {
    throw new Error(`training option "${wrong[0]}" applies to ${mode === 'head' ? 'fine-tuning' : 'training a new head'} only, not to ${mode === 'head' ? 'training a new head' : 'fine-tuning'}`);
  }
  if (given.unfreeze !== undefined && given.fromLayer !== undefined) {
    throw new Error('give either "unfreeze" (a number of top layers) or "fromLayer" (a layer name), not both');
  }
  if (typeof options.out !== 'string' || options.out.trim() === '') {
    throw new Error('training needs "out": the folder to write the new model to (it must not exist yet)');
  }
  const r = remembered ?? {};
  const data = (given.data as string | undefined) || r.data;
  if (!data) {
    throw new Error(`no training data given (pass a folder with one sub-folder of images per class, or set "training.data" in ${configFile ?? 'cnnlens.json beside the model'})`);
  }
  const modeDefaults = TRAINING_DEFAULTS[mode];
  // unfreeze / fromLayer are one choice: an explicit one replaces both remembered ones.
  const explicitLayers = given.unfreeze !== undefined || given.fromLayer !== undefined;
  const unfreeze = explicitLayers ? (options.unfreeze ?? null) : (r.unfreeze ?? null);
  const fromLayer = explicitLayers ? (options.fromLayer ?? null) : r.fromLayer && r.unfreeze === undefined ? r.fromLayer : null;
  const pick = <K extends keyof TrainingDefaults>(key: K): TrainingDefaults[K] => (given[key] as TrainingDefaults[K]) ?? r[key];
  return {
    data: path.resolve(data),
    out: path.resolve(options.out),
    cutAt: mode === 'head' ? (pick('cutAt') ?? null) : null,
    hidden: mode === 'head' ? (pick('hidden') ?? TRAINING_DEFAULTS.hidden) : 0,
    epochs: pick('epochs') ?? modeDefaults.epochs,
    batchSize: pick('batchSize') ?? modeDefaults.batchSize,
    learningRate: pick('learningRate') ?? modeDefaults.learningRate,
    validationSplit: pick('validationSplit') ?? TRAINING_DEFAULTS.validationSplit,
    seed: pick('seed') ?? TRAINING_DEFAULTS.seed,
    patience: pick('patience') ?? TRAINING_DEFAULTS.patience,
    unfreeze: mode === 'fine-tune' ? (fromLayer ? null : (unfreeze ?? TRAINING_DEFAULTS['fine-tune'].unfreeze)) : null,
    fromLayer: mode === 'fine-tune' ? fromLayer : null,
    augment: mode === 'fine-tune' ? normaliseAugment(pick('augment')) : { flip: false, shift: 0 },
  };
}
