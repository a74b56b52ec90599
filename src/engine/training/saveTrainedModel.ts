/**
 * Writes a trained model as a NEW TF.js Layers model folder, never over anything: the folder
 * (model.json, weights, cnnlens.json) is written complete into a hidden temporary sibling and
 * then renamed to the target; an existing target is refused, before and at the rename (rename
 * cannot replace a non-empty folder). A crash or a cancel leaves at most the hidden temporary
 * folder, which is removed on failure.
 *
 * The new `cnnlens.json` records how the model was made: preprocessing (unchanged: the input
 * pipeline is the source's), class names, the data as `dataset` (so scans of the new model use
 * it), the options as `training` (the defaults for training it again) and `trainedFrom` (source
 * model, frozen and trained layers, image counts, metrics). Paths are relative to the new folder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { saveLayersModel } from '../io/models/saveLayersModel';
import { CNNLENS_CONFIG_FILE, validateCnnLensConfig, type CnnLensConfig } from '../config/cnnlensConfig';
import { checkTarget } from './plan';
import type { EpochReport, TrainedFrom, TrainingPlan, TrainingResult } from './types';

/**
 * `to` relative to the folder `from` when they share a folder below the file-system root (the
 * model and its data move together), else absolute (`/tmp/x` vs `/home/...` would be `../../..`).
 */
function relative(from: string, to: string): string {
  const a = path.resolve(from).split(path.sep);
  const b = path.resolve(to).split(path.sep);
  const shared = a.findIndex((part, i) => part !== b[i]);
  if (shared >= 0 && shared <= 1) return path.resolve(to);
  return path.relative(from, to).split(path.sep).join('/') || '.';
}

/** The `cnnlens.json` object of the new model (paths relative to `out`). */
export function trainedModelConfig(
  plan: TrainingPlan,
  source: CnnLensConfig,
  result: Pick<TrainingResult, 'epochs' | 'best' | 'stoppedEarly' | 'cancelled' | 'before' | 'backend'>,
  date = new Date(),
): Record<string, unknown> {
  const out = plan.options.out;
  const o = plan.options;
  const last: EpochReport = result.epochs[result.epochs.length - 1];
  const training: Record<string, unknown> = { data: relative(out, o.data) };
  if (plan.mode === 'head') {
    training.cutAt = o.cutAt;
    training.hidden = o.hidden;
  }
  Object.assign(training, {
    epochs: o.epochs,
    batchSize: o.batchSize,
    learningRate: o.learningRate,
    validationSplit: o.validationSplit,
    seed: o.seed,
    patience: o.patience,
  });
  if (plan.mode === 'fine-tune') {
    training.unfreeze = o.unfreeze;
    training.augment = o.augment;
  }
  const trainedFrom: TrainedFrom = {
    mode: plan.mode,
    model: relative(out, plan.model),
    date: date.toISOString(),
    ...(result.backend ? { backend: result.backend } : {}),
    ...(plan.cutAt ? { cutAt: plan.cutAt } : {}),
    frozenLayers: plan.layers.filter((l) => !l.trainable).map((l) => l.name),
    trainableLayers: plan.layers.filter((l) => l.trainable).map((l) => l.name),
    trainImages: plan.trainImages,
    validationImages: plan.validationImages,
    metrics: {
      best: result.best,
      final: { epoch: last.epoch, loss: last.loss, acc: last.acc, valLoss: last.valLoss, valAcc: last.valAcc },
      ...(result.before ? { before: result.before } : {}),
      epochs: result.epochs.length,
      stoppedEarly: result.stoppedEarly,
      cancelled: result.cancelled,
    },
  };
  return {
    preprocessing: source.preprocessing,
    classNames: plan.classNames,
    dataset: relative(out, o.data),
    ...(source.inputLayer ? { inputLayer: source.inputLayer } : {}),
    training,
    trainedFrom,
  };
}

function uniqueSuffix(): string {
  return `${process.pid}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

/** Saves `model` with `config` as `cnnlens.json` into the new folder `out` (absolute). */
export async function saveTrainedModel(model: tf.LayersModel, out: string, data: string, config: Record<string, unknown>): Promise<void> {
  // What is written must read back: check it with the loader's own validation first.
  validateCnnLensConfig(JSON.parse(JSON.stringify(config)), path.join(out, CNNLENS_CONFIG_FILE));
  checkTarget(out, data);
  const tmp = path.join(path.dirname(out), `.${path.basename(out)}.training-${uniqueSuffix()}`);
  try {
    await saveLayersModel(model, tmp, { extraFiles: { [CNNLENS_CONFIG_FILE]: JSON.stringify(config, null, 2) + '\n' } });
    if (fs.existsSync(out)) throw new Error(`${out}: already exists; the new model needs a new folder (nothing is ever overwritten)`);
    try {
      await fs.promises.rename(tmp, out);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') throw new Error(`${out}: already exists; the new model needs a new folder (nothing is ever overwritten)`);
      throw e;
    }
  } catch (err) {
    await fs.promises.rm(tmp, { recursive: true, force: true });
    throw err;
  }
}
