/**
 * The gradients of a new head's batch loss in closed form, for head training on cached features.
 *
 * Why not the gradient tape (`optimizer.minimize`, batchGradients.ts): on a head — one or two
 * Dense layers on a few hundred features — the arithmetic is tiny and TF.js's per-op cost is
 * everything. The tape ran 94 kernels per step for a Dense(10) head, most of them the
 * cross-entropy's and the clip's backward ops plus Identity/Cast/Reshape bookkeeping: 0.9 ms per
 * step on wasm. Written out, the backward pass of Dense → softmax → cross-entropy is four
 * matrix products and two sums per layer pair; with the loss and the output gradient computed in
 * JS from the probabilities (B × classes numbers, read once), an epoch of the sample's head takes
 * about a third of the time (bench/training.ts, "headEpoch"). That is what lets the cached-feature
 * epoch beat running the frozen base by the margin the feature cache is for.
 *
 * The maths, for a batch of B with labels y and softmax output p:
 *   d loss / d logits = (p − onehot(y)) / B                      (softmax + mean cross-entropy)
 *   d kernel = inputᵀ · d logits,   d bias = Σ_rows d logits
 *   d input  = d logits · kernelᵀ, masked by ReLU'(input) = [input > 0] for the layer below
 * The reported loss is the loop's (crossEntropy in trainLoop.ts: probabilities clipped to
 * [1e-7, 1 − 1e-7], as Keras reports it). The gradient is the unclipped one (as
 * softmax_cross_entropy_with_logits gives); the tape's differs only where the true class's
 * probability is clipped, where it is 0 (headGradients.test.ts compares the two).
 */
import * as tf from '@tensorflow/tfjs';
import type { BatchGradients } from './batchGradients';
import { denseParts } from './headModel';

const P_MIN = 1e-7;
const P_MAX = 1 - 1e-7;

/**
 * One batch's mean loss, hits and gradients for the head `layers` (as buildHeadLayers makes
 * them: [Flatten] → [Dense relu] → Dense softmax), in the order of their trainable weights.
 * `x` is the batch of features (not disposed here); the caller disposes the gradients.
 */
export function headGradients(layers: tf.layers.Layer[], x: tf.Tensor, labels: Int32Array): BatchGradients {
  const denseLayers = layers.filter((l) => l.getClassName() !== 'Flatten');
  const dense = denseLayers.map(denseParts);
  dense.forEach((d, i) => {
    const expected = i === dense.length - 1 ? 'softmax' : 'relu';
    if (d.activation !== expected) throw new Error(`headGradients: head layer "${denseLayers[i].name}" has activation ${d.activation}, expected ${expected}`);
  });
  const batch = labels.length;
  const classes = dense[dense.length - 1].kernel.shape[1];
  // Forward pass, keeping each Dense layer's input for the backward pass.
  const inputs: tf.Tensor2D[] = [];
  try {
    const p = tf.tidy(() => {
      let t = (x.rank === 2 ? x : tf.reshape(x, [batch, -1])) as tf.Tensor2D; // Flatten, if any
      for (let i = 0; i < dense.length; i++) {
        inputs.push(tf.keep(t));
        const last = i === dense.length - 1;
        t = tf.fused.matMul({ a: t, b: dense[i].kernel, bias: dense[i].bias, activation: last ? 'linear' : 'relu' }) as tf.Tensor2D;
      }
      return tf.softmax(t);
    });
    const probs = p.dataSync() as Float32Array;
    p.dispose();

    // Loss, hits and d loss / d logits, in JS on B × classes numbers.
    let loss = 0;
    let hits = 0;
    const dLogits = new Float32Array(probs.length);
    for (let r = 0; r < batch; r++) {
      const row = r * classes;
      let argMax = 0;
      for (let c = 0; c < classes; c++) {
        dLogits[row + c] = probs[row + c] / batch;
        if (probs[row + c] > probs[row + argMax]) argMax = c;
      }
      const y = labels[r];
      dLogits[row + y] -= 1 / batch;
      loss -= Math.log(Math.min(Math.max(probs[row + y], P_MIN), P_MAX));
      if (argMax === y) hits++;
    }

    const grads = tf.tidy(() => {
      const out: tf.Tensor[] = new Array(dense.length * 2);
      let d: tf.Tensor2D = tf.tensor2d(dLogits, [batch, classes]);
      for (let i = dense.length - 1; i >= 0; i--) {
        out[2 * i] = tf.matMul(inputs[i], d, true, false);
        out[2 * i + 1] = tf.sum(d, 0);
        if (i > 0) d = tf.mul(tf.matMul(d, dense[i].kernel, false, true), tf.step(inputs[i]));
      }
      return out;
    });
    return { loss: loss / batch, hits, grads };
  } finally {
    tf.dispose(inputs.filter((t) => t !== x)); // the first is `x` itself for vector features
  }
}
