/**
 * Accuracy and confusion matrix over labelled batches, as a mergeable accumulator (same pattern
 * as `scan.ts`: each worker accumulates a shard, the lead merges and finishes).
 *
 * The prediction is the arg-max of the model's (first) output `[N, classes]`. A single-unit
 * output is a binary classifier: class 1 when the output is > 0.5 after a sigmoid, > 0 otherwise
 * (logits). `confusion[t][p]` counts images of true class `t` predicted as `p`.
 */
import * as tf from '@tensorflow/tfjs';
import type { InspectableModel } from '../model/inspectableModel';
import { findLayer } from '../model/inspectableModel';
import type { Batch } from '../io/datasets/types';
import { batchTensor } from './common';
import { nodeActivation } from './activationPoints';

export interface EvalOptions {
  /** Class names in label order (e.g. the dataset's; at most the model's class count), reported back in the result. */
  classNames?: readonly string[];
}

export interface EvalAccumulator {
  kind: 'eval';
  model: string;
  numClasses: number;
  /** Binary single-output model: threshold applied to the output. */
  binaryThreshold?: number;
  images: number;
  correct: number;
  /** Row-major `numClasses × numClasses`, `[true * numClasses + predicted]`. */
  confusion: Float64Array;
  classNames?: string[];
}

export interface ClassMetrics {
  /** Images of this class. */
  support: number;
  /** Correct / images of this class (NaN when none). */
  recall: number;
  /** Correct / images predicted as this class (NaN when none). */
  precision: number;
}

export interface EvalResult {
  images: number;
  /** Fraction correct (NaN when no images). */
  accuracy: number;
  /** `confusion[true][predicted]`. */
  confusion: number[][];
  perClass: ClassMetrics[];
  classNames?: string[];
}

function outputClasses(model: InspectableModel): { numClasses: number; binaryThreshold?: number } {
  const out = findLayer(model, model.outputLayer);
  const shape = out.outputShape;
  const units = shape[shape.length - 1];
  if (shape.length !== 2 || units == null) {
    throw new Error(`${model.path}: the output "${out.name}" has shape [${shape.join(', ')}]; evaluation needs [batch, classes]`);
  }
  if (units === 1) return { numClasses: 2, binaryThreshold: nodeActivation(out) === 'sigmoid' ? 0.5 : 0 };
  return { numClasses: units };
}

/**
 * A new, empty accumulator. `options` may be the dataset's class count instead of options: it
 * must not exceed the classes the model predicts (labels index the model's outputs).
 */
export function createEvalAccumulator(model: InspectableModel, options: EvalOptions | number = {}): EvalAccumulator {
  const { numClasses, binaryThreshold } = outputClasses(model);
  const opts: EvalOptions = typeof options === 'number' ? {} : options;
  const datasetClasses = typeof options === 'number' ? options : opts.classNames?.length;
  if (datasetClasses != null && datasetClasses > numClasses) {
    throw new Error(`${model.path}: the dataset has ${datasetClasses} classes but the model predicts only ${numClasses}`);
  }
  return {
    kind: 'eval',
    model: model.path,
    numClasses,
    ...(binaryThreshold != null ? { binaryThreshold } : {}),
    images: 0,
    correct: 0,
    confusion: new Float64Array(numClasses * numClasses),
    ...(opts.classNames ? { classNames: [...opts.classNames] } : {}),
  };
}

function checkLabels(acc: EvalAccumulator, model: InspectableModel, batch: Batch): Int32Array {
  if (!batch.labels || batch.labels.length !== batch.count) {
    throw new Error(
      `${model.path}: evaluation needs a label for every image (batch starting at ${batch.ids[0] ?? '?'} has ` +
        `${batch.labels ? batch.labels.length : 'no'} labels for ${batch.count} images)`,
    );
  }
  const k = acc.numClasses;
  for (let i = 0; i < batch.count; i++) {
    const t = batch.labels[i];
    if (!(t >= 0 && t < k)) {
      throw new Error(`${model.path}: label ${t} of ${batch.ids[i] ?? `image ${i}`} is outside the model's ${k} classes (0..${k - 1})`);
    }
  }
  return batch.labels;
}

/** Predicted class per image, as an int32 tensor `[N]` (the caller downloads and disposes it). */
function predict(acc: EvalAccumulator, model: InspectableModel, batch: Batch): tf.Tensor {
  const x = batchTensor(model, batch.images, batch.count);
  try {
    return tf.tidy(() => {
      const [out] = model.run(x, [model.outputLayer]);
      if (acc.binaryThreshold != null) return tf.cast(tf.greater(tf.reshape(out, [-1]), acc.binaryThreshold), 'int32');
      return tf.argMax(out, -1);
    });
  } finally {
    x.dispose();
  }
}

function tally(acc: EvalAccumulator, labels: Int32Array, predicted: Int32Array, count: number): void {
  const k = acc.numClasses;
  for (let i = 0; i < count; i++) {
    const t = labels[i];
    const p = predicted[i];
    acc.confusion[t * k + p]++;
    if (t === p) acc.correct++;
  }
  acc.images += count;
}

/** Adds one labelled batch to `acc` (mutated and returned). The download is asynchronous. */
export async function accumulateEval(acc: EvalAccumulator, model: InspectableModel, batch: Batch): Promise<EvalAccumulator> {
  if (batch.count === 0) return acc;
  const labels = checkLabels(acc, model, batch);
  const pred = predict(acc, model, batch);
  let predicted: Int32Array;
  try {
    predicted = (await pred.data()) as Int32Array;
  } finally {
    pred.dispose();
  }
  tally(acc, labels, predicted, batch.count);
  return acc;
}

export function mergeEvalAccumulators(a: EvalAccumulator, b: EvalAccumulator): EvalAccumulator {
  if (a.numClasses !== b.numClasses) throw new Error(`Cannot merge evaluations with ${a.numClasses} and ${b.numClasses} classes`);
  const confusion = new Float64Array(a.confusion.length);
  for (let i = 0; i < confusion.length; i++) confusion[i] = a.confusion[i] + b.confusion[i];
  return { ...a, images: a.images + b.images, correct: a.correct + b.correct, confusion, classNames: a.classNames ?? b.classNames };
}

/** Final numbers; `classNames` (e.g. the dataset's) overrides those given at creation. */
export function finishEval(acc: EvalAccumulator, classNames?: readonly string[]): EvalResult {
  const k = acc.numClasses;
  const confusion: number[][] = [];
  for (let t = 0; t < k; t++) confusion.push(Array.from(acc.confusion.subarray(t * k, (t + 1) * k)));
  const perClass: ClassMetrics[] = [];
  for (let c = 0; c < k; c++) {
    const support = confusion[c].reduce((s, v) => s + v, 0);
    let predictedAs = 0;
    for (let t = 0; t < k; t++) predictedAs += confusion[t][c];
    perClass.push({ support, recall: support ? confusion[c][c] / support : NaN, precision: predictedAs ? confusion[c][c] / predictedAs : NaN });
  }
  const result: EvalResult = { images: acc.images, accuracy: acc.images ? acc.correct / acc.images : NaN, confusion, perClass };
  const names = classNames ?? acc.classNames;
  if (names) result.classNames = [...names];
  return result;
}

/** Evaluates every batch of `batches` in one go. */
export async function evaluate(
  model: InspectableModel,
  batches: AsyncIterable<Batch>,
  options: EvalOptions & { signal?: AbortSignal; onProgress?: (images: number) => void } = {},
): Promise<EvalResult> {
  const acc = createEvalAccumulator(model, options);
  for await (const batch of batches) {
    if (options.signal?.aborted) break;
    await accumulateEval(acc, model, batch);
    options.onProgress?.(acc.images);
  }
  return finishEval(acc);
}
