/**
 * The training plan: options resolved, data listed and checked, the split made, the layers to
 * freeze and train chosen, and the target folder checked, all before any weight is touched. The
 * plan call shows it to the user; the training jobs recompute it (it is deterministic and cheap)
 * so they never trust a stale one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { InspectableModel } from '../model/inspectableModel';
import type { CnnLensConfig } from '../config/cnnlensConfig';
import { mergeTrainingOptions } from './options';
import { openTrainingData, type TrainingData } from './trainingData';
import { stratifiedSplit, type Split } from './split';
import { classifierOutput, paramCount, resolveCut, resolveUnfrozen, type CutChoice, type UnfreezeChoice } from './layerSelection';
import { describeHead, type HeadLayerSpec } from './headSpec';
import type { PlannedLayer, TrainingMode, TrainingOptions, TrainingPlan } from './types';

export interface PreparedTraining {
  plan: TrainingPlan;
  data: TrainingData;
  split: Split;
  /** head */
  cut?: CutChoice;
  head?: HeadLayerSpec[];
  /** fine-tune */
  unfrozen?: UnfreezeChoice;
}

/** The target must be new, and not inside the data (it would become a class folder). */
export function checkTarget(out: string, data: string): void {
  if (fs.existsSync(out)) throw new Error(`${out}: already exists; the new model needs a new folder (nothing is ever overwritten)`);
  const rel = path.relative(data, out);
  if (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))) {
    throw new Error(`${out}: is inside the training data folder ${data}, where it would become a class folder; write the model elsewhere`);
  }
}

export async function prepareTraining(
  model: InspectableModel,
  config: CnnLensConfig,
  mode: TrainingMode,
  options: TrainingOptions,
): Promise<PreparedTraining> {
  if (mode !== 'head' && mode !== 'fine-tune') throw new Error(`unknown training mode "${String(mode)}" (expected "head" or "fine-tune")`);
  if (!model.layersModel) {
    throw new Error(`${model.path}: is a TF.js graph model (a frozen graph), which cannot be trained; training needs a Layers model (TF.js layers-model, Keras .h5 or .keras)`);
  }
  const merged = mergeTrainingOptions(mode, options, config.training, config.file);
  // The cheap model checks come first: a wrong layer name should not wait for a folder listing.
  const output = mode === 'fine-tune' ? classifierOutput(model) : undefined;
  const cut = mode === 'head' ? resolveCut(model, merged.cutAt) : undefined;
  const unfrozen = mode === 'fine-tune' ? resolveUnfrozen(model, merged.unfreeze, merged.fromLayer) : undefined;
  if (output && config.classNames && config.classNames.length !== output.units) {
    throw new Error(`${config.file}: lists ${config.classNames.length} classNames but the model's output "${output.layer}" has ${output.units} classes`);
  }
  checkTarget(merged.out, merged.data);

  const data = await openTrainingData(merged.data, mode === 'fine-tune' && config.classNames ? { classNames: config.classNames, classNamesSource: config.file } : {});
  if (output && !config.classNames && data.classNames.length !== output.units) {
    throw new Error(
      `${data.path}: has ${data.classNames.length} class folders but the model's output "${output.layer}" has ${output.units} classes; ` +
        `list the model's classes as "classNames" in ${config.file ?? 'a cnnlens.json beside the model'} to fine-tune on some of them`,
    );
  }
  const labels = data.items.map((i) => i.label);
  const split = stratifiedSplit(labels, data.classNames.length, merged.validationSplit, merged.seed);

  let layers: PlannedLayer[];
  let head: HeadLayerSpec[] | undefined;
  if (cut) {
    head = describeHead(cut.featureShape, merged.hidden, data.classNames.length, model.layers.map((l) => l.name));
    layers = [
      ...model.layers.filter((l) => cut.base.has(l.name) && l.className !== 'InputLayer').map((l) => ({ name: l.name, className: l.className, trainable: false, params: paramCount(l) })),
      ...head.map((h) => ({ name: h.name, className: h.className, trainable: true, params: h.params })),
    ];
  } else {
    const trainable = new Set(unfrozen!.trainable);
    layers = model.layers
      .filter((l) => l.className !== 'InputLayer')
      .map((l) => ({ name: l.name, className: l.className, trainable: trainable.has(l.name), params: paramCount(l) }));
  }
  const plan: TrainingPlan = {
    mode,
    model: path.resolve(model.path),
    classNames: data.classNames,
    trainImages: split.train.length,
    validationImages: split.validation.length,
    trainableParams: layers.filter((l) => l.trainable).reduce((a, l) => a + l.params, 0),
    frozenParams: layers.filter((l) => !l.trainable).reduce((a, l) => a + l.params, 0),
    layers,
    ...(cut ? { cutAt: cut.cutAt, featureShape: cut.featureShape } : {}),
    options: {
      ...merged,
      cutAt: cut?.cutAt ?? null,
      unfreeze: unfrozen?.unfreeze ?? 0,
      fromLayer: unfrozen?.fromLayer ?? null,
    },
    skipped: data.skipped,
  };
  return { plan, data, split, cut, head, unfrozen };
}
