/**
 * The forward passes fine-tuning runs, in one place because two workers run them: the
 * fine-tuning job (its loop and validation) and, with data-parallel steps, the peer worker that
 * computes the gradients of the other half of each batch on a replica of the model, so the two
 * halves of a batch always see the same network.
 *
 * Training batches run the model in training mode, so Dropout (and GaussianNoise and the like)
 * regularise as in Keras' `fit`, except BatchNormalization, which stays in inference mode: it
 * normalises with its moving statistics and never updates them. That is Keras' rule for a
 * frozen BatchNormalization layer (its transfer-learning guide: unfrozen layers on top must not
 * see the statistics of a small new dataset, or the pretrained features they were trained on
 * are destroyed). TF.js has no such rule (its BatchNormalization follows `training` only), so
 * the model's BatchNormalization layers are made to ignore `training`.
 */
import * as tf from '@tensorflow/tfjs';

type CallFn = (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

/** Layers whose `call` has been made to ignore `training`. */
const inferenceOnly = new WeakSet<object>();

/** Every BatchNormalization layer of `model`, nested models included, always in inference mode. */
export function keepBatchNormInInference(model: tf.LayersModel): void {
  for (const layer of model.layers) {
    if (layer instanceof tf.LayersModel) keepBatchNormInInference(layer);
    else if (layer.getClassName() === 'BatchNormalization' && !inferenceOnly.has(layer)) {
      const target = layer as unknown as { call: CallFn };
      const call = target.call.bind(layer);
      target.call = (inputs, kwargs) => call(inputs, { ...kwargs, training: false });
      inferenceOnly.add(layer);
    }
  }
}

/** Softmax probabilities of `lm` for validation and evaluation (every layer in inference mode). */
export function fineTunePredict(lm: tf.LayersModel): (x: tf.Tensor) => tf.Tensor {
  return (x) => lm.apply(x) as tf.Tensor;
}

/** Softmax probabilities of `lm` for a training batch: Dropout active, BatchNormalization frozen. */
export function fineTuneTrainingPredict(lm: tf.LayersModel): (x: tf.Tensor) => tf.Tensor {
  keepBatchNormInInference(lm);
  return (x) => lm.apply(x, { training: true }) as tf.Tensor;
}
