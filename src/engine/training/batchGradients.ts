/**
 * Gradients of one batch's mean cross-entropy with respect to the trained variables, with the
 * batch's loss and correct count from the same forward pass. Used where the loop does not run
 * `optimizer.minimize` itself: data-parallel fine-tuning computes a half batch on each of two
 * workers (dataParallel.ts, gradientPeer.ts) and applies their weighted sum. `variableGrads` is
 * what `minimize` calls, so a batch computed here and applied with `applyGradients` is the same
 * step as `minimize` on it.
 */
import * as tf from '@tensorflow/tfjs';
import { correct, crossEntropy } from './trainLoop';

export interface BatchGradients {
  /** Mean loss over the batch. */
  loss: number;
  /** Correctly classified images in the batch. */
  hits: number;
  /** One gradient per variable, in the variables' order; the caller disposes them. */
  grads: tf.Tensor[];
}

export function batchGradients(
  predict: (x: tf.Tensor) => tf.Tensor,
  variables: tf.Variable[],
  classes: number,
  x: tf.Tensor,
  labels: Int32Array,
): BatchGradients {
  const y = tf.tensor1d(labels, 'int32');
  let probs: tf.Tensor | undefined;
  try {
    const { value, grads } = tf.variableGrads(() => {
      const p = predict(x);
      probs = tf.keep(p);
      return crossEntropy(p, y, classes);
    }, variables);
    const hits = correct(probs!, y);
    const result = { loss: value.dataSync()[0], hits: hits.dataSync()[0], grads: variables.map((v) => grads[v.name]) };
    tf.dispose([value, hits]);
    return result;
  } finally {
    y.dispose();
    probs?.dispose();
  }
}
