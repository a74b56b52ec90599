/**
 * Accuracy and confusion matrix (src/engine/analyses/evaluate.ts) against a hand-worked example:
 * a model whose prediction is the arg-max of the input pixel's three values.
 */
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  accumulateEval,
  createEvalAccumulator,
  evaluate,
  finishEval,
  mergeEvalAccumulators,
} from '../../src/engine/analyses/evaluate';
import { approx, assertNoLeak, batchOf, batchesOf, iterate, setWeights, useWasm, wrap } from './analysisFixtures';

before(useWasm);

function argmaxModel(units: number, activation: 'linear' | 'sigmoid' | 'softmax') {
  const input = tf.input({ shape: [1, 1, units === 1 ? 1 : 3] });
  const dense = tf.layers.dense({ units, activation, useBias: false, name: 'out' });
  const model = tf.model({ inputs: input, outputs: dense.apply(tf.layers.flatten().apply(input)) as tf.SymbolicTensor });
  const eye = units === 1 ? [1] : [1, 0, 0, 0, 1, 0, 0, 0, 1];
  setWeights(dense, [{ data: eye, shape: [units === 1 ? 1 : 3, units] }]);
  return wrap(model, 'eval-model');
}

// pixel values → predicted = arg-max; labels chosen so that 4 of 7 are right.
const PIXELS = [
  [0.9, 0.1, 0], // label 0 → 0
  [0.2, 0.7, 0.1], // label 1 → 1
  [0.1, 0.2, 0.8], // label 2 → 2
  [0.6, 0.3, 0.1], // label 1 → 0
  [0.1, 0.1, 0.9], // label 0 → 2
  [0.2, 0.5, 0.3], // label 2 → 1
  [0.3, 0.6, 0.1], // label 1 → 1
];
const LABELS = [0, 1, 2, 1, 0, 2, 1];
const IMAGES = Float32Array.from(PIXELS.flat());

test('confusion matrix, accuracy and per-class metrics by hand', async () => {
  const model = argmaxModel(3, 'softmax');
  const baseline = tf.memory().numTensors;
  const r = await evaluate(model, iterate(batchesOf(IMAGES, 3, 7, 3, LABELS)), { classNames: ['cat', 'dog', 'eel'] });
  assertNoLeak(baseline, 'evaluate');
  assert.equal(r.images, 7);
  approx(r.accuracy, 4 / 7, 1e-12);
  assert.deepEqual(r.confusion, [
    [1, 0, 1],
    [1, 2, 0],
    [0, 1, 1],
  ]);
  assert.deepEqual(r.classNames, ['cat', 'dog', 'eel']);
  assert.deepEqual(
    r.perClass.map((c) => c.support),
    [2, 3, 2],
  );
  approx(r.perClass[1].recall, 2 / 3, 1e-12);
  approx(r.perClass[1].precision, 2 / 3, 1e-12);
  approx(r.perClass[0].precision, 1 / 2, 1e-12);
  approx(r.perClass[2].recall, 1 / 2, 1e-12);
  model.dispose();
});

test('merging shard accumulators equals evaluating the whole', async () => {
  const model = argmaxModel(3, 'linear');
  const baseline = tf.memory().numTensors;
  const a = createEvalAccumulator(model, 3); // dataset class count, as the job runner passes it
  await accumulateEval(a, model, batchOf(IMAGES.slice(0, 12), 4, LABELS.slice(0, 4)));
  const b = createEvalAccumulator(model);
  await accumulateEval(b, model, batchOf(IMAGES.slice(12), 3, LABELS.slice(4), 4));
  assertNoLeak(baseline, 'accumulate');
  const merged = finishEval(mergeEvalAccumulators(structuredClone(a), structuredClone(b)), ['a', 'b', 'c']);
  assert.deepEqual(merged.confusion, [
    [1, 0, 1],
    [1, 2, 0],
    [0, 1, 1],
  ]);
  approx(merged.accuracy, 4 / 7, 1e-12);
  assert.deepEqual(merged.classNames, ['a', 'b', 'c']);
  assert.equal(finishEval(a).images, 4);
  model.dispose();
});

test('single sigmoid output is a binary classifier (threshold 0.5)', async () => {
  const model = argmaxModel(1, 'sigmoid');
  const baseline = tf.memory().numTensors;
  const r = await evaluate(model, iterate([batchOf(Float32Array.from([-1, 2, 3, -0.5]), 4, [0, 1, 0, 1])]));
  assertNoLeak(baseline, 'evaluate');
  // predictions [0, 1, 1, 0]
  assert.deepEqual(r.confusion, [
    [1, 1],
    [1, 1],
  ]);
  approx(r.accuracy, 0.5, 0);
  model.dispose();
});

test('labels are required and must be within the model classes', async () => {
  const model = argmaxModel(3, 'softmax');
  const baseline = tf.memory().numTensors;
  const acc = createEvalAccumulator(model);
  await assert.rejects(accumulateEval(acc, model, batchOf(IMAGES.slice(0, 3), 1)), /needs a label/);
  await assert.rejects(accumulateEval(acc, model, batchOf(IMAGES.slice(0, 3), 1, [3])), /label 3 of img0 is outside/);
  assert.equal(acc.images, 0);
  assertNoLeak(baseline, 'failed accumulate');
  assert.throws(() => createEvalAccumulator(model, 5), /dataset has 5 classes but the model predicts only 3/);
  const empty = finishEval(acc);
  assert.ok(Number.isNaN(empty.accuracy));
  model.dispose();
});
