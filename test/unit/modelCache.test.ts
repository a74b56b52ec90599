/**
 * The worker's model cache (modelCache.ts): a model pushed out of the cache while a job still
 * uses it stays usable until that job ends, and is disposed then; a model no job holds is
 * disposed as soon as it is evicted.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/engine/backend';
import { clearModelCache, getModel, runHoldingModels } from '../../src/engine/modelCache';

const ROOT = path.resolve(__dirname, '../../..');
const MODELS = ['fashion-mnist-cnn', 'fashion-mnist-cnn-high-lr', 'fashion-mnist-base-0-4'].map((m) => path.join(ROOT, 'samples', m, 'model.json'));
const KERAS = path.join(ROOT, 'test/fixtures/models/keras2_sequential.h5');

before(async () => {
  await initBackend('wasm');
  clearModelCache();
});

/** Runs the model on one blank image (throws if its layers were disposed). */
function runOnce(model: Awaited<ReturnType<typeof getModel>>): void {
  const { height, width, channels } = model.input;
  const x = tf.zeros([1, height, width, channels]) as tf.Tensor4D;
  try {
    tf.dispose(model.run(x, [model.outputLayer]));
  } finally {
    x.dispose();
  }
}

/** Lets the disposal scheduled on the model promise run. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

test('an evicted model stays usable while a job holds it, and is disposed when the job ends', async () => {
  const baseline = tf.memory().numTensors;
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let first: Awaited<ReturnType<typeof getModel>> | undefined;
  const job = runHoldingModels(async () => {
    first = await getModel(MODELS[0]);
    await released;
    // Three other models were loaded meanwhile (cache size 3): this one was evicted, not disposed.
    runOnce(first);
    return first.layers.length;
  });
  await settle();
  await runHoldingModels(async () => {
    for (const m of [...MODELS.slice(1), KERAS]) runOnce(await getModel(m));
  });
  await settle();
  assert.ok(first, 'the first job took its model');
  const loaded = tf.memory().numTensors;
  release();
  assert.ok((await job) > 0);
  await settle();
  assert.ok(tf.memory().numTensors < loaded, 'the evicted model was disposed once its job ended');
  assert.throws(() => runOnce(first!), /disposed/);
  clearModelCache();
  await settle();
  assert.equal(tf.memory().numTensors, baseline);
});

test('a model no job holds is disposed when it is evicted', async () => {
  const baseline = tf.memory().numTensors;
  const first = await runHoldingModels(() => getModel(MODELS[0]));
  for (const m of [...MODELS.slice(1), KERAS]) await runHoldingModels(() => getModel(m));
  await settle();
  assert.throws(() => runOnce(first), /disposed/);
  clearModelCache();
  await settle();
  assert.equal(tf.memory().numTensors, baseline);
});
