/**
 * Fine-tuning's forward passes (fineTunePredict.ts): training batches run Dropout, while
 * BatchNormalization — also inside a nested model — keeps normalising with its moving statistics
 * and never updates them, through a real optimizer step; validation runs everything in inference
 * mode.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/engine/backend';
import { fineTunePredict, fineTuneTrainingPredict } from '../../src/engine/training/fineTunePredict';
import { crossEntropy } from '../../src/engine/training/trainLoop';

before(async () => {
  await initBackend('wasm');
});

/** conv → BN → relu → [nested: dense → BN] → dropout → softmax, with non-trivial BN statistics. */
function buildModel(dropout: number): tf.LayersModel {
  const inner = tf.sequential({
    name: 'inner',
    layers: [tf.layers.dense({ inputShape: [72], units: 12, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }), tf.layers.batchNormalization({ name: 'inner_bn' })],
  });
  const input = tf.input({ shape: [5, 5, 2] });
  let h = tf.layers.conv2d({ filters: 8, kernelSize: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization({ name: 'bn' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.activation({ activation: 'relu' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
  h = inner.apply(h) as tf.SymbolicTensor;
  h = tf.layers.dropout({ rate: dropout, seed: 3 }).apply(h) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }).apply(h) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  // Moving statistics far from the batch's own, so a BN layer in training mode would show.
  for (const layer of [model.getLayer('bn'), inner.getLayer('inner_bn')]) {
    // getWeights() returns the variables' own tensors: they must not be disposed here.
    const [gamma, beta, mean] = layer.getWeights();
    const n = mean.shape[0];
    const stats = [tf.fill([n], 0.5), tf.fill([n], 4)];
    layer.setWeights([gamma, beta, ...stats]);
    tf.dispose(stats);
  }
  return model;
}

function batch(): tf.Tensor {
  return tf.randomNormal([16, 5, 5, 2], 0, 1, 'float32', 7);
}

function bnStatistics(model: tf.LayersModel): Float32Array[] {
  const inner = model.getLayer('inner') as tf.LayersModel;
  return [model.getLayer('bn'), inner.getLayer('inner_bn')].flatMap((l) => l.getWeights().slice(2).map((w) => w.dataSync() as Float32Array));
}

test('without dropout, the training forward pass equals inference: BatchNormalization uses its moving statistics', () => {
  const model = buildModel(0);
  const x = batch();
  const infer = fineTunePredict(model);
  // Plain training mode (before the patch) normalises with the batch's statistics: different.
  const plain = tf.tidy(() => tf.max(tf.abs(tf.sub(model.apply(x, { training: true }) as tf.Tensor, infer(x)))).dataSync()[0]);
  assert.ok(plain > 1e-3, `plain training mode differs by ${plain}`);
  const baseline = tf.memory().numTensors;
  const train = fineTuneTrainingPredict(model);
  const [a, b] = [infer(x), train(x)];
  assert.deepEqual(Array.from(b.dataSync()), Array.from(a.dataSync()));
  tf.dispose([a, b]);
  assert.equal(tf.memory().numTensors, baseline);
  tf.dispose(x);
  model.dispose();
});

test('training batches run Dropout; a real optimizer step leaves the BatchNormalization statistics untouched', () => {
  const model = buildModel(0.5);
  const x = batch();
  const labels = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0], 'int32');
  const before = bnStatistics(model);
  const infer = fineTunePredict(model);
  const train = fineTuneTrainingPredict(model);
  const baseline = tf.memory().numTensors;
  const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(train(x), infer(x)))).dataSync()[0]);
  assert.ok(diff > 1e-3, `dropout is active: training output differs from inference by ${diff}`);
  // Inference is deterministic (dropout off).
  const again = tf.tidy(() => tf.max(tf.abs(tf.sub(infer(x), infer(x)))).dataSync()[0]);
  assert.equal(again, 0);

  const optimizer = tf.train.adam(0.01);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const kernelBefore = variables[0].dataSync().slice();
  for (let step = 0; step < 3; step++) {
    const cost = optimizer.minimize(() => crossEntropy(train(x), labels, 3), true, variables);
    cost?.dispose();
  }
  assert.notDeepEqual(Array.from(variables[0].dataSync()), Array.from(kernelBefore), 'the step trained the conv kernel');
  const after = bnStatistics(model);
  after.forEach((a, i) => assert.deepEqual(Array.from(a), Array.from(before[i]), `BN statistics ${i} changed`));
  optimizer.dispose();
  assert.equal(tf.memory().numTensors, baseline);
  tf.dispose([x, labels]);
  model.dispose();
});
