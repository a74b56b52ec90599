/**
 * Closed-form head gradients (headGradients.ts) against TF.js's gradient tape (batchGradients.ts,
 * what `optimizer.minimize` computes): the same loss, hits and gradients for the head shapes
 * head training builds, the same training run through trainLoop, and the one documented
 * difference, a clipped probability.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { headGradients } from '../../src/engine/training/headGradients';
import { batchGradients } from '../../src/engine/training/batchGradients';
import { applyHead, buildHeadLayers, disposeLayerWeights } from '../../src/engine/training/headModel';
import { describeHead } from '../../src/engine/training/headSpec';
import { gatherRows } from '../../src/engine/training/featureCache';
import { trainLoop, type Samples } from '../../src/engine/training/trainLoop';
import { assertNoLeak, gaussian, maxRelativeError, useWasm } from './analysisFixtures';

before(useWasm);

const CLASSES = 5;

function headVariables(head: tf.layers.Layer[]): tf.Variable[] {
  return head.flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable));
}

/** Features with some structure (ReLU-like: non-negative, a third zero) and labels from a random linear teacher. */
function data(count: number, featureShape: number[], seed: number): { features: Float32Array; labels: Int32Array } {
  const size = featureShape.reduce((a, b) => a * b, 1);
  const g = gaussian(seed);
  const teacher = Float32Array.from({ length: size * CLASSES }, g);
  const features = Float32Array.from({ length: count * size }, () => Math.max(0, g() + 0.3));
  const labels = new Int32Array(count);
  for (let r = 0; r < count; r++) {
    let best = -Infinity;
    for (let c = 0; c < CLASSES; c++) {
      let s = 0;
      for (let k = 0; k < size; k++) s += features[r * size + k] * teacher[k * CLASSES + c];
      if (s > best) [best, labels[r]] = [s, c];
    }
  }
  return { features, labels };
}

for (const [featureShape, hidden] of [
  [[24], 0],
  [[24], 16],
  [[3, 3, 4], 8],
] as const) {
  test(`features ${featureShape.join('×')}, hidden ${hidden}: loss, hits and gradients equal the tape's`, () => {
    const head = buildHeadLayers(describeHead([...featureShape], hidden, CLASSES, []), 7, [...featureShape]);
    const { features, labels } = data(32, [...featureShape], 11);
    const x = tf.tensor(features, [32, ...featureShape]);
    const baseline = tf.memory().numTensors;
    const closed = headGradients(head, x, labels);
    const tape = batchGradients((t) => applyHead(head, t), headVariables(head), CLASSES, x, labels);
    try {
      assert.ok(Math.abs(closed.loss - tape.loss) <= 1e-6 * tape.loss, `loss ${closed.loss} vs ${tape.loss}`);
      assert.equal(closed.hits, tape.hits);
      assert.equal(closed.grads.length, tape.grads.length);
      closed.grads.forEach((g, i) => {
        assert.deepEqual(g.shape, tape.grads[i].shape);
        const d = maxRelativeError(g.dataSync(), tape.grads[i].dataSync());
        assert.ok(d <= 1e-5, `gradient ${i} (${headVariables(head)[i].name}) differs by ${d} relative`);
      });
    } finally {
      tf.dispose([...closed.grads, ...tape.grads]);
    }
    assertNoLeak(baseline, 'headGradients + batchGradients');
    x.dispose();
    disposeLayerWeights(head);
  });
}

test('a training run with closed-form gradients follows the tape-based run epoch by epoch', async () => {
  const featureShape = [48];
  // One teacher for both: the first 400 rows train, the last 100 validate.
  const all = data(500, featureShape, 21);
  const train = { features: all.features.subarray(0, 400 * 48), labels: all.labels.subarray(0, 400) };
  const validation = { features: all.features.subarray(400 * 48), labels: all.labels.subarray(400) };
  const samples = (d: { features: Float32Array; labels: Int32Array }): Samples => ({
    count: d.labels.length,
    labels: d.labels,
    input: (pos) => gatherRows(d.features, 48, pos, featureShape),
  });
  const run = async (closed: boolean) => {
    const head = buildHeadLayers(describeHead(featureShape, 16, CLASSES, []), 3, featureShape);
    const result = await trainLoop({
      predict: (x) => applyHead(head, x),
      variables: headVariables(head),
      classes: CLASSES,
      train: samples(train),
      validation: samples(validation),
      epochs: 6,
      batchSize: 32,
      learningRate: 0.01,
      seed: 5,
      patience: 0,
      deadUnits: async () => ({}),
      gradients: closed ? async (x, labels) => headGradients(head, x, labels) : undefined,
    });
    const weights = headVariables(head).map((v) => v.dataSync().slice());
    disposeLayerWeights(head);
    return { result, weights };
  };
  const baseline = tf.memory().numTensors;
  const tape = await run(false);
  const closed = await run(true);
  assertNoLeak(baseline, 'two training runs');
  // It learns (the teacher is linear, so a head can), and both runs saw the same numbers.
  assert.ok(tape.result.best.valAcc > 0.6, `tape run reached ${tape.result.best.valAcc}`);
  closed.result.epochs.forEach((e, i) => {
    const t = tape.result.epochs[i];
    assert.ok(Math.abs(e.loss - t.loss) <= 1e-4 * t.loss, `epoch ${i + 1} loss ${e.loss} vs ${t.loss}`);
    assert.ok(Math.abs(e.valLoss - t.valLoss) <= 1e-4 * t.valLoss, `epoch ${i + 1} val loss ${e.valLoss} vs ${t.valLoss}`);
    assert.equal(e.acc, t.acc);
  });
  closed.weights.forEach((w, i) => {
    const d = maxRelativeError(w, tape.weights[i]);
    assert.ok(d <= 1e-4, `weights ${i} differ by ${d} relative`);
  });
});

test('where the true class is clipped (p < 1e-7) the tape gives no gradient; the closed form still pulls towards the label', () => {
  const head = buildHeadLayers(describeHead([4], 0, CLASSES, []), 1, [4]);
  const [kernel] = headVariables(head);
  // Logits 40 apart: p(label 0) ≈ e^-40, far below the clip.
  const confident = tf.tensor2d([0, 10, 0, 0, 0, 0, 10, 0, 0, 0, 0, 10, 0, 0, 0, 0, 10, 0, 0, 0], [4, CLASSES]);
  kernel.assign(confident);
  confident.dispose();
  const baseline = tf.memory().numTensors;
  const x = tf.tensor2d([[1, 1, 1, 1]]);
  const labels = Int32Array.from([0]);
  const closed = headGradients(head, x, labels);
  const tape = batchGradients((t) => applyHead(head, t), headVariables(head), CLASSES, x, labels);
  try {
    // Both report the clipped loss, −log(1e-7) (float32 on the tape, float64 here).
    assert.ok(Math.abs(closed.loss + Math.log(1e-7)) < 1e-6, `closed-form loss ${closed.loss}`);
    assert.ok(Math.abs(tape.loss + Math.log(1e-7)) < 1e-5, `tape loss ${tape.loss}`);
    assert.ok(tape.grads.every((g) => g.dataSync().every((v) => v === 0)), 'tape: the clip stops the gradient');
    const dBias = Array.from(closed.grads[1].dataSync());
    assert.ok(Math.abs(dBias[0] + 1) < 1e-6 && Math.abs(dBias[1] - 1) < 1e-6, `closed form: p − onehot = ${dBias}`);
  } finally {
    tf.dispose([...closed.grads, ...tape.grads, x]);
  }
  assertNoLeak(baseline, 'headGradients + batchGradients on a clipped probability');
  disposeLayerWeights(head);
});

test('a head that is not [Flatten] → [Dense relu] → Dense softmax is an error naming the layer', () => {
  const head = buildHeadLayers(describeHead([4], 3, CLASSES, []), 1, [4]);
  // head = [Dense(3, relu), Dense(5, softmax)]: the relu layer alone ends without a softmax.
  const x = tf.ones([2, 4]);
  const baseline = tf.memory().numTensors;
  try {
    assert.throws(() => headGradients([head[0]], x, Int32Array.from([0, 1])), new RegExp(`head layer "${head[0].name}" has activation relu, expected softmax`));
    assertNoLeak(baseline, 'a rejected head');
  } finally {
    x.dispose();
    disposeLayerWeights(head);
  }
});
