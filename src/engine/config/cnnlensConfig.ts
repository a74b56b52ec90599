/**
 * `cnnlens.json`: optional per-model settings that cannot be read from the model file itself
 * (how its training pipeline scaled pixels, what its classes are called, which data to analyse).
 * It sits next to the model so it travels with it. Validation is strict (unknown keys are errors)
 * because a misspelt key such as "offest" would otherwise be silently ignored and every analysis
 * would run on wrongly scaled inputs.
 *
 * `schemas/cnnlens.schema.json` describes the same fields for editor completion; keep both in step.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_PREPROCESSING } from '../io/datasets/imageGeometry';
import type { Preprocessing } from '../io/datasets/types';
import { AUGMENT_KEYS, TRAINING_OPTION_KEYS, trainingValueProblem } from '../training/options';
import type { TrainedFrom, TrainingDefaults } from '../training/types';
import { jsonErrorLocation } from '../io/jsonSyntax';

export const CNNLENS_CONFIG_FILE = 'cnnlens.json';
export const DEFAULT_DYING_THRESHOLD = 0.01;

/** The settings with every default filled in and paths made absolute. */
export interface CnnLensConfig {
  /** Absolute path of the `cnnlens.json` read, or undefined when there is none (all defaults). */
  file?: string;
  preprocessing: Preprocessing;
  /** Class names in the order of the model's outputs. */
  classNames?: string[];
  /** Absolute dataset path (written relative to the config file). */
  dataset?: string;
  /** A unit firing on some images but on fewer than this fraction of them is "dying" (see analyses/scan.ts). */
  dyingThreshold: number;
  /** Layer whose input is fed the images, when the model has several inputs. */
  inputLayer?: string;
  /** Layer whose output is the embedding (the layer before the classifier). */
  penultimateLayer?: string;
  /** Remembered training options (`training` section; `data` made absolute). */
  training?: TrainingDefaults;
  /** For a model made by transfer learning: its source, frozen layers and metrics (paths absolute). */
  trainedFrom?: TrainedFrom;
}

/** Error in a `cnnlens.json`; the message names the file and, when known, the key. */
export class CnnLensConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
    readonly key?: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'CnnLensConfigError';
  }
}

/** Keys accepted at the top level (exported so tests can check the JSON schema lists the same). */
export const CNNLENS_CONFIG_KEYS = [
  '$schema',
  'preprocessing',
  'classNames',
  'dataset',
  'dyingThreshold',
  'inputLayer',
  'penultimateLayer',
  'training',
  'trainedFrom',
] as const;
export { TRAINING_OPTION_KEYS as CNNLENS_TRAINING_KEYS } from '../training/options';
export const CNNLENS_TRAINED_FROM_KEYS = [
  'mode',
  'model',
  'date',
  'backend',
  'cutAt',
  'frozenLayers',
  'trainableLayers',
  'trainImages',
  'validationImages',
  'metrics',
] as const;
export const CNNLENS_TRAINED_FROM_METRICS_KEYS = ['best', 'final', 'before', 'epochs', 'stoppedEarly', 'cancelled'] as const;
export const CNNLENS_PREPROCESSING_KEYS = ['scale', 'offset', 'channelOrder', 'resize'] as const;

export function defaultCnnLensConfig(): CnnLensConfig {
  return { preprocessing: { ...DEFAULT_PREPROCESSING }, dyingThreshold: DEFAULT_DYING_THRESHOLD };
}

/**
 * Finds `cnnlens.json` in the model's folder (or in the folder itself when `modelFile` is one),
 * validates it and fills defaults. No file → defaults, not an error.
 */
export async function loadCnnLensConfig(modelFile: string): Promise<CnnLensConfig> {
  const model = path.resolve(modelFile);
  let dir = path.dirname(model);
  try {
    if ((await fs.promises.stat(model)).isDirectory()) dir = model;
  } catch {
    // The model may not exist yet (or is reported elsewhere); look beside the given path anyway.
  }
  const file = path.join(dir, CNNLENS_CONFIG_FILE);
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return defaultCnnLensConfig();
    throw new CnnLensConfigError(file, `cannot read (${(e as Error).message})`);
  }
  return parseCnnLensConfig(text, file);
}

/** Parses and validates the text of a `cnnlens.json`; `file` names it in errors and anchors paths. */
export function parseCnnLensConfig(text: string, file: string): CnnLensConfig {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // editors may write a BOM
  let raw: unknown;
  try {
    raw = JSON.parse(source);
  } catch (e) {
    const { line, column } = jsonErrorLocation(source, (e as Error).message);
    throw new CnnLensConfigError(
      file,
      `invalid JSON at line ${line}, column ${column} (${conciseJsonMessage((e as Error).message)})`,
    );
  }
  return validateCnnLensConfig(raw, file);
}

/** Checks an already parsed value; exported for callers holding JSON from elsewhere. */
export function validateCnnLensConfig(raw: unknown, file: string): CnnLensConfig {
  const fail = (key: string, problem: string): never => {
    throw new CnnLensConfigError(file, `"${key}" ${problem}`, key);
  };
  if (!isPlainObject(raw)) throw new CnnLensConfigError(file, `must contain a JSON object (got ${typeName(raw)})`);
  checkKeys(file, raw, CNNLENS_CONFIG_KEYS, '');
  const config = defaultCnnLensConfig();
  config.file = path.resolve(file);

  if (raw.$schema !== undefined && typeof raw.$schema !== 'string') fail('$schema', `must be a string (got ${typeName(raw.$schema)})`);

  if (raw.preprocessing !== undefined) {
    const p = raw.preprocessing;
    if (!isPlainObject(p)) fail('preprocessing', `must be an object (got ${typeName(p)})`);
    const pre = p as Record<string, unknown>;
    checkKeys(file, pre, CNNLENS_PREPROCESSING_KEYS, 'preprocessing.');
    if (pre.scale !== undefined) config.preprocessing.scale = numberOrArray(pre.scale, 'preprocessing.scale', fail);
    if (pre.offset !== undefined) config.preprocessing.offset = numberOrArray(pre.offset, 'preprocessing.offset', fail);
    if (pre.channelOrder !== undefined) {
      if (pre.channelOrder !== 'rgb' && pre.channelOrder !== 'bgr') {
        fail('preprocessing.channelOrder', `must be "rgb" or "bgr" (got ${show(pre.channelOrder)})`);
      }
      config.preprocessing.channelOrder = pre.channelOrder as 'rgb' | 'bgr';
    }
    if (pre.resize !== undefined) {
      if (pre.resize !== 'bilinear' && pre.resize !== 'nearest') {
        fail('preprocessing.resize', `must be "bilinear" or "nearest" (got ${show(pre.resize)})`);
      }
      config.preprocessing.resize = pre.resize as 'bilinear' | 'nearest';
    }
  }

  if (raw.classNames !== undefined) {
    const names = raw.classNames;
    if (!Array.isArray(names) || names.length === 0) fail('classNames', `must be a non-empty array of strings (got ${typeName(names)})`);
    const list = names as unknown[];
    list.forEach((n, i) => {
      if (typeof n !== 'string') fail(`classNames[${i}]`, `must be a string (got ${typeName(n)})`);
    });
    const seen = new Set<string>();
    for (const n of list as string[]) {
      if (seen.has(n)) fail('classNames', `lists "${n}" twice`);
      seen.add(n);
    }
    config.classNames = (list as string[]).slice();
  }

  if (raw.dataset !== undefined) {
    if (typeof raw.dataset !== 'string' || raw.dataset.trim() === '') fail('dataset', `must be a non-empty path string (got ${show(raw.dataset)})`);
    // Relative to the config file, not the working directory: the file must mean the same
    // thing whether the CLI runs from the repo root or VS Code from elsewhere.
    config.dataset = path.resolve(path.dirname(path.resolve(file)), raw.dataset as string);
  }

  if (raw.dyingThreshold !== undefined) {
    const t = raw.dyingThreshold;
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 0 || t > 1) {
      fail('dyingThreshold', `must be a number between 0 and 1 (got ${show(t)})`);
    }
    config.dyingThreshold = t as number;
  }

  for (const key of ['inputLayer', 'penultimateLayer'] as const) {
    const v = raw[key];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v === '') fail(key, `must be a non-empty layer name string (got ${show(v)})`);
    config[key] = v as string;
  }

  if (raw.training !== undefined) config.training = validateTrainingSection(raw.training, file, fail);
  if (raw.trainedFrom !== undefined) config.trainedFrom = validateTrainedFrom(raw.trainedFrom, file, fail);
  return config;
}

type Fail = (key: string, problem: string) => never;

/** The `training` section: the same value rules as options passed to a call (`training/options.ts`). */
function validateTrainingSection(t: unknown, file: string, fail: Fail): TrainingDefaults {
  if (!isPlainObject(t)) return fail('training', `must be an object (got ${typeName(t)})`);
  checkKeys(file, t, TRAINING_OPTION_KEYS, 'training.');
  for (const [key, value] of Object.entries(t)) {
    const problem = trainingValueProblem(key, value);
    if (problem) fail(`training.${key}`, problem);
  }
  if (t.unfreeze !== undefined && t.fromLayer !== undefined) fail('training', 'sets both "unfreeze" and "fromLayer"; keep one');
  const out = { ...t } as TrainingDefaults;
  if (isPlainObject(t.augment)) checkKeys(file, t.augment, AUGMENT_KEYS, 'training.augment.');
  // Relative to the config file, like "dataset".
  if (typeof t.data === 'string') out.data = path.resolve(path.dirname(path.resolve(file)), t.data);
  return out;
}

function validateTrainedFrom(t: unknown, file: string, fail: Fail): TrainedFrom {
  if (!isPlainObject(t)) return fail('trainedFrom', `must be an object (got ${typeName(t)})`);
  checkKeys(file, t, CNNLENS_TRAINED_FROM_KEYS, 'trainedFrom.');
  if (t.mode !== 'head' && t.mode !== 'fine-tune') fail('trainedFrom.mode', `must be "head" or "fine-tune" (got ${show(t.mode)})`);
  for (const key of ['model', 'date'] as const) {
    if (typeof t[key] !== 'string' || t[key] === '') fail(`trainedFrom.${key}`, `must be a non-empty string (got ${show(t[key])})`);
  }
  for (const key of ['backend', 'cutAt'] as const) {
    if (t[key] !== undefined && typeof t[key] !== 'string') fail(`trainedFrom.${key}`, `must be a string (got ${show(t[key])})`);
  }
  for (const key of ['frozenLayers', 'trainableLayers'] as const) {
    const v = t[key];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) fail(`trainedFrom.${key}`, `must be an array of layer names (got ${typeName(v)})`);
  }
  for (const key of ['trainImages', 'validationImages'] as const) {
    const v = t[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(`trainedFrom.${key}`, `must be a whole number ≥ 0 (got ${show(v)})`);
  }
  const m = t.metrics;
  if (!isPlainObject(m)) return fail('trainedFrom.metrics', `must be an object (got ${typeName(m)})`);
  checkKeys(file, m, CNNLENS_TRAINED_FROM_METRICS_KEYS, 'trainedFrom.metrics.');
  for (const key of ['best', 'final'] as const) {
    if (!isPlainObject(m[key])) fail(`trainedFrom.metrics.${key}`, `must be an object (got ${typeName(m[key])})`);
  }
  if (m.before !== undefined && !isPlainObject(m.before)) fail('trainedFrom.metrics.before', `must be an object (got ${typeName(m.before)})`);
  if (typeof m.epochs !== 'number') fail('trainedFrom.metrics.epochs', `must be a number (got ${show(m.epochs)})`);
  for (const key of ['stoppedEarly', 'cancelled'] as const) {
    if (typeof m[key] !== 'boolean') fail(`trainedFrom.metrics.${key}`, `must be true or false (got ${show(m[key])})`);
  }
  const out = { ...t } as unknown as TrainedFrom;
  out.model = path.resolve(path.dirname(path.resolve(file)), t.model as string);
  return out;
}

function checkKeys(file: string, obj: Record<string, unknown>, allowed: readonly string[], prefix: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      throw new CnnLensConfigError(
        file,
        `unknown key "${prefix}${key}" (allowed: ${allowed.join(', ')})`,
        prefix + key,
      );
    }
  }
}

function numberOrArray(value: unknown, key: string, fail: (key: string, problem: string) => never): number | number[] {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    return (value as number[]).slice();
  }
  return fail(key, `must be a number or a non-empty array of numbers, one per channel (got ${show(value)})`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? s.slice(0, 37) + '...' : s;
}

/** V8's message without the position (given as line/column instead) or its quote of the text. */
function conciseJsonMessage(message: string): string {
  return message
    .replace(/\s+(?:in JSON )?at position \d+[\s\S]*$/, '')
    .replace(/, (?:\.\.\.)?"[\s\S]*" is not valid JSON$/, '');
}

