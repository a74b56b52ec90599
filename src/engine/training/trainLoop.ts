/**
 * The epoch loop shared by head training and fine-tuning: a custom loop around
 * `optimizer.minimize` rather than `model.fit`, because
 *  - the caller chooses the forward pass: fine-tuning runs Dropout in training mode but keeps
 *    frozen BatchNormalization layers on their moving statistics, never updated (Keras'
 *    transfer-learning guide; `fit` would put them in training mode), see fineTunePredict.ts;
 *  - the trained variables are exactly the unfrozen layers' (passed explicitly), so no other
 *    model loaded in the same worker can be touched;
 *  - it stops at a batch boundary when asked, keeps the best weights (lowest validation loss)
 *    and stops early after `patience` epochs without improvement;
 *  - on wasm it is as fast as `trainOnBatch` (bench/training.ts measures both).
 *
 * Loss: categorical cross-entropy on the softmax output (clipped to [1e-7, 1 − 1e-7], as Keras).
 * Optimizer: Adam, the update of `tf.train.adam` in fewer TF.js calls (adamOptimizer.ts).
 * Every tensor made here is disposed; the caller's inputs are disposed after each step.
 */
import * as tf from '@tensorflow/tfjs';
import { deriveSeed, uniformRandom, shuffleInPlace } from '../random';
import type { EpochReport } from './types';
import type { BatchGradients } from './batchGradients';
import { AdamOptimizer } from './adamOptimizer';

/** Samples (features or images) by position 0..count-1, with their labels. */
export interface Samples {
  readonly count: number;
  readonly labels: Int32Array;
  /** The model input for these positions; the loop disposes it. `training`: augment if enabled. */
  input(positions: Int32Array, training: boolean): tf.Tensor;
}

export interface LoopSpec {
  /** Softmax probabilities for an input batch, for validation (inference mode). */
  predict(x: tf.Tensor): tf.Tensor;
  /**
   * Softmax probabilities for a training batch (called inside the gradient tape); default
   * `predict`. Fine-tuning runs Dropout here (fineTunePredict.ts).
   */
  trainingPredict?(x: tf.Tensor): tf.Tensor;
  variables: tf.Variable[];
  classes: number;
  train: Samples;
  validation: Samples;
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  /** 0 = no early stopping. */
  patience: number;
  /** Hard cancel: throw at the next batch, keep nothing. */
  signal?: AbortSignal;
  /** Cooperative stop: finish at the next batch boundary with the best weights so far. */
  stop?: AbortSignal;
  /** Dead units per layer, computed after each epoch (on the validation data). */
  deadUnits(): Promise<Record<string, number>>;
  onBatch?(epoch: number, batch: number, batches: number): void;
  onEpoch?(report: EpochReport): void;
  /**
   * Optional: computes a training batch's gradients (one per variable, in `variables` order) with
   * its mean loss and hits, instead of `optimizer.minimize` doing it here; the loop then applies
   * them with the same Adam optimizer. Data-parallel fine-tuning (dataParallel.ts) computes half
   * of the batch in another worker; head training writes the head's gradients out in closed form
   * (headGradients.ts). `x` is the augmented batch (the loop disposes it); the hook
   * must not dispose it.
   */
  gradients?(x: tf.Tensor, labels: Int32Array): Promise<BatchGradients>;
}

export interface LoopResult {
  epochs: EpochReport[];
  best: { epoch: number; valLoss: number; valAcc: number };
  stoppedEarly: boolean;
  cancelled: boolean;
}

export class CancelledTraining extends Error {
  constructor() {
    super('Cancelled');
    this.name = 'CancelledTraining';
  }
}

export function crossEntropy(probs: tf.Tensor, labels: tf.Tensor1D, classes: number): tf.Scalar {
  return tf.tidy(() => {
    const y = tf.oneHot(labels, classes);
    const p = tf.clipByValue(probs, 1e-7, 1 - 1e-7);
    return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.log(p)), -1))) as tf.Scalar;
  });
}

export function correct(probs: tf.Tensor, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(probs, -1), labels), 'float32')) as tf.Scalar);
}

function positions(from: number, to: number): Int32Array {
  const out = new Int32Array(to - from);
  for (let i = 0; i < out.length; i++) out[i] = from + i;
  return out;
}

/** Mean loss and accuracy of `predict` over all `samples` (no gradients). */
export function evaluate(predict: (x: tf.Tensor) => tf.Tensor, samples: Samples, classes: number, batchSize: number): { loss: number; acc: number } {
  if (samples.count === 0) return { loss: NaN, acc: NaN };
  let loss = 0;
  let hits = 0;
  const step = Math.max(batchSize, 128);
  for (let s = 0; s < samples.count; s += step) {
    const pos = positions(s, Math.min(samples.count, s + step));
    const x = samples.input(pos, false);
    try {
      const [l, c] = tf.tidy(() => {
        const y = tf.tensor1d(samples.labels.subarray(pos[0], pos[0] + pos.length), 'int32');
        const p = predict(x);
        return [tf.mul(crossEntropy(p, y, classes), pos.length), correct(p, y)];
      });
      loss += l.dataSync()[0];
      hits += c.dataSync()[0];
      tf.dispose([l, c]);
    } finally {
      x.dispose();
    }
  }
  return { loss: loss / samples.count, acc: hits / samples.count };
}

const nextTick = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * The loop yields to the event loop (so a stop or cancel message can arrive) after a batch once
 * this long has passed since it last did. Per batch would cost a head step on cached features,
 * ~0.35 ms, another 4 %; a fine-tuning batch takes longer than this anyway.
 */
const YIELD_EVERY_MS = 4;

export async function trainLoop(spec: LoopSpec): Promise<LoopResult> {
  const { train, validation, classes, batchSize } = spec;
  if (train.count === 0) throw new Error('no training images left after the validation split');
  const optimizer = new AdamOptimizer(spec.learningRate);
  const batches = Math.ceil(train.count / batchSize);
  const epochs: EpochReport[] = [];
  let best: { epoch: number; valLoss: number; valAcc: number } | undefined;
  let bestWeights: tf.Tensor[] | undefined;
  let sinceBest = 0;
  let stoppedEarly = false;
  let cancelled = false;
  // Across epochs: tiny epochs (a few batches of a head) must still yield now and then.
  let lastYield = performance.now();
  try {
    for (let epoch = 1; epoch <= spec.epochs && !cancelled && !stoppedEarly; epoch++) {
      const started = performance.now();
      const order = shuffleInPlace(positions(0, train.count), uniformRandom(deriveSeed(spec.seed, epoch)));
      let lossSum = 0;
      let hitSum = 0;
      for (let b = 0; b < batches; b++) {
        if (spec.signal?.aborted) throw new CancelledTraining();
        if (spec.stop?.aborted) {
          cancelled = true;
          break;
        }
        const pos = order.subarray(b * batchSize, Math.min(train.count, (b + 1) * batchSize));
        const labels = new Int32Array(pos.length);
        for (let i = 0; i < pos.length; i++) labels[i] = train.labels[pos[i]];
        const x = train.input(pos, true);
        const y = tf.tensor1d(labels, 'int32');
        let probs: tf.Tensor | undefined;
        try {
          if (spec.gradients) {
            const g = await spec.gradients(x, labels);
            try {
              optimizer.applyGradients(g.grads.map((tensor, i) => ({ name: spec.variables[i].name, tensor })));
            } finally {
              tf.dispose(g.grads);
            }
            lossSum += g.loss * pos.length;
            hitSum += g.hits;
          } else {
            const cost = optimizer.minimize(
              () => {
                const p = (spec.trainingPredict ?? spec.predict)(x);
                probs = tf.keep(p);
                return crossEntropy(p, y, classes);
              },
              true,
              spec.variables,
            );
            // Accuracy from the same forward pass, counted outside the gradient tape.
            const hits = correct(probs!, y);
            lossSum += cost!.dataSync()[0] * pos.length;
            hitSum += hits.dataSync()[0];
            tf.dispose([cost!, hits]);
          }
        } finally {
          tf.dispose([x, y]);
          probs?.dispose();
        }
        spec.onBatch?.(epoch, b + 1, batches);
        // Lets a stop or cancel message reach the worker between batches.
        if (performance.now() - lastYield >= YIELD_EVERY_MS) {
          await nextTick();
          lastYield = performance.now();
        }
      }
      if (cancelled) break;
      const val = evaluate(spec.predict, validation, classes, batchSize);
      const dead = await spec.deadUnits();
      const report: EpochReport = {
        epoch,
        loss: lossSum / train.count,
        acc: hitSum / train.count,
        valLoss: val.loss,
        valAcc: val.acc,
        seconds: (performance.now() - started) / 1000,
        dead,
      };
      epochs.push(report);
      const improved = !best || report.valLoss < best.valLoss || (!Number.isFinite(best.valLoss) && Number.isFinite(report.valLoss));
      if (improved) {
        best = { epoch, valLoss: report.valLoss, valAcc: report.valAcc };
        tf.dispose(bestWeights ?? []);
        bestWeights = spec.variables.map((v) => tf.clone(v));
        sinceBest = 0;
      } else if (spec.patience > 0 && ++sinceBest >= spec.patience) {
        stoppedEarly = epoch < spec.epochs;
      }
      spec.onEpoch?.(report);
      if (!Number.isFinite(report.loss)) break;
    }
    if (!best || !Number.isFinite(best.valLoss)) {
      if (epochs.length === 0) throw new CancelledTraining();
      throw new Error(`training diverged: the validation loss is ${epochs[epochs.length - 1].valLoss} after epoch ${epochs.length}; try a lower learning rate`);
    }
    // The saved model is the best epoch's, not the last one's.
    spec.variables.forEach((v, i) => v.assign(bestWeights![i]));
    return { epochs, best, stoppedEarly, cancelled };
  } finally {
    tf.dispose(bestWeights ?? []);
    optimizer.dispose();
  }
}
