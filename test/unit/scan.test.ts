/**
 * Dead-filter scan (src/engine/analyses/scan.ts): channels forced dead by construction are found
 * exactly, a channel firing on 1 image of 200 is dying (not dead) at 1 %, units after leaky ReLU
 * are never dead, and merging accumulators over two halves equals one scan over the whole.
 */
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  accumulateBatch,
  createScanAccumulator,
  finishScan,
  mergeScanAccumulators,
  scan,
  type ScanResult,
} from '../../src/engine/analyses/scan';
import { approx, approxArray, assertNoLeak, batchesOf, iterate, seeded, setWeights, useWasm, wrap } from './analysisFixtures';

before(useWasm);

const N = 200;
const PER = 4 * 4; // 4x4x1 images
const SPECIAL = 137; // the only image with a pixel above 0.5

/** 200 images with pixels in [0.01, 0.4], except image 137 which has one pixel at 1.0. */
function dataset(): Float32Array {
  const r = seeded(11);
  const x = new Float32Array(N * PER);
  for (let i = 0; i < x.length; i++) x[i] = 0.01 + 0.39 * r();
  x[SPECIAL * PER + 5] = 1;
  return x;
}

/*
 * conv 1x1, 4 filters, relu, weight 1, biases [0, −100, −0.5, −100]:
 *   ch0 = relu(x) fires on every image; ch1, ch3 never; ch2 = relu(x − 0.5) only on image 137.
 * dense (relu) on the flattened conv output: unit 0 = sum of inputs (fires), unit 1 = −1 (dead).
 * conv 1x1, 2 filters, bias −100, then LeakyReLU: always negative, but never "dead".
 */
function buildModel() {
  const input = tf.input({ shape: [4, 4, 1], name: 'in' });
  const conv = tf.layers.conv2d({ filters: 4, kernelSize: 1, activation: 'relu', name: 'conv' });
  const c = conv.apply(input) as tf.SymbolicTensor;
  const dense = tf.layers.dense({ units: 2, activation: 'relu', name: 'fc' });
  const d = dense.apply(tf.layers.flatten({ name: 'flat' }).apply(c)) as tf.SymbolicTensor;
  const convL = tf.layers.conv2d({ filters: 2, kernelSize: 1, name: 'convL' });
  const l = tf.layers.leakyReLU({ alpha: 0.01, name: 'leaky' }).apply(convL.apply(input)) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: [d, l] });
  setWeights(conv, [
    { data: [1, 1, 1, 1], shape: [1, 1, 1, 4] },
    { data: [0, -100, -0.5, -100], shape: [4] },
  ]);
  const dk: number[] = [];
  for (let i = 0; i < 64; i++) dk.push(1, 0);
  setWeights(dense, [
    { data: dk, shape: [64, 2] },
    { data: [0, -1], shape: [2] },
  ]);
  setWeights(convL, [
    { data: [1, 1], shape: [1, 1, 1, 2] },
    { data: [-100, -100], shape: [2] },
  ]);
  return wrap(model, 'scan-model');
}

function layer(r: ScanResult, name: string) {
  const l = r.layers.find((x) => x.name === name);
  assert.ok(l, `no layer ${name} in the scan`);
  return l;
}

test('dead channels by construction, dying at 1 %, leaky never dead, stats by hand', async () => {
  const model = buildModel();
  const x = dataset();
  const baseline = tf.memory().numTensors;
  const r = await scan(model, iterate(batchesOf(x, PER, N, 32)), { dyingThreshold: 0.01 });
  assertNoLeak(baseline, 'scan');
  assert.equal(r.images, N);
  assert.deepEqual(r.layers.map((l) => l.name).sort(), ['conv', 'convL', 'fc']);

  const conv = layer(r, 'conv');
  assert.equal(conv.activation, 'relu');
  assert.equal(conv.point, 'conv');
  assert.equal(conv.deadApplicable, true);
  assert.equal(conv.units, 4);
  assert.deepEqual(conv.dead, [1, 3]);
  assert.deepEqual(conv.dying, [2]); // fires on 1 of 200 images = 0.5 % < 1 %
  assert.deepEqual(conv.firingCount, [200, 0, 1, 0]);
  assert.deepEqual(conv.firingRate, [1, 0, 0.005, 0]);
  // ch0 mean = mean of all pixels; ch2 = 0.5 at one pixel of one image.
  let total = 0;
  for (const v of x) total += v;
  approxArray(conv.mean, [total / (N * PER), 0, 0.5 / PER / N, 0], 1e-6, 'mean');
  approxArray(conv.max, [1, 0, 0.5, 0], 1e-6, 'max');

  const fc = layer(r, 'fc');
  assert.equal(fc.units, 2);
  assert.deepEqual(fc.dead, [1]);
  assert.deepEqual(fc.dying, []);
  assert.deepEqual(fc.firingCount, [200, 0]);

  const leaky = layer(r, 'convL');
  assert.equal(leaky.point, 'leaky');
  assert.equal(leaky.activation, 'leaky_relu');
  assert.equal(leaky.deadApplicable, false);
  assert.deepEqual(leaky.dead, []);
  assert.deepEqual(leaky.dying, []);
  assert.deepEqual(leaky.firingCount, [0, 0]); // still reported, but not called dead
  assert.ok(leaky.max[0] < 0);
  assert.match(leaky.reason, /negative/);

  // The threshold is configurable: at 0.4 % the 1-in-200 channel is healthy.
  const acc = createScanAccumulator(model);
  for (const b of batchesOf(x, PER, N, 50)) await accumulateBatch(acc, model, b);
  assertNoLeak(baseline, 'accumulateBatch');
  assert.deepEqual(layer(finishScan(acc, { dyingThreshold: 0.004 }), 'conv').dying, []);
  assert.deepEqual(layer(finishScan(acc, { dyingThreshold: 0.004 }), 'conv').dead, [1, 3]);
  assert.deepEqual(layer(finishScan(acc), 'conv').dying, [2]); // default 0.01
  model.dispose();
});

test('merging accumulators over two halves equals one scan over the whole', async () => {
  const model = buildModel();
  const x = dataset();
  const baseline = tf.memory().numTensors;
  const whole = createScanAccumulator(model);
  for (const b of batchesOf(x, PER, N, 25)) await accumulateBatch(whole, model, b);

  const half = (N / 2) * PER;
  const a = createScanAccumulator(model);
  for (const b of batchesOf(x.slice(0, half), PER, N / 2, 25)) await accumulateBatch(a, model, b);
  // second shard with the synchronous variant and an odd batch size
  const b = createScanAccumulator(model);
  for (const bt of batchesOf(x.slice(half), PER, N / 2, 33)) await accumulateBatch(b, model, bt);
  assertNoLeak(baseline, 'accumulate');
  // accumulators are plain data: they survive a worker boundary
  const merged = mergeScanAccumulators(structuredClone(a), structuredClone(b));
  assert.equal(merged.images, N);

  const rw = finishScan(whole);
  const rm = finishScan(merged);
  assert.equal(rm.images, rw.images);
  for (let i = 0; i < rw.layers.length; i++) {
    const w = rw.layers[i];
    const m = rm.layers[i];
    assert.equal(m.name, w.name);
    assert.deepEqual(m.dead, w.dead);
    assert.deepEqual(m.dying, w.dying);
    assert.deepEqual(m.firingCount, w.firingCount);
    assert.deepEqual(m.firingRate, w.firingRate);
    assert.deepEqual(m.max, w.max);
    approxArray(m.mean, w.mean, 1e-6, `${w.name} mean`);
  }
  // the special image is in the second half: the first half alone sees channel 2 dead
  assert.deepEqual(layer(finishScan(a), 'conv').dead, [1, 2, 3]);
  // merging does not modify its inputs
  assert.equal(a.images, N / 2);
  assert.throws(() => mergeScanAccumulators(a, createScanAccumulator(model, { layers: ['conv'] })), /different layer sets/);
  model.dispose();
});

test('scan options: layer subset, empty scan, validation', async () => {
  const model = buildModel();
  const baseline = tf.memory().numTensors;
  const acc = createScanAccumulator(model, { layers: ['fc'] });
  assert.deepEqual(
    acc.layers.map((l) => l.name),
    ['fc'],
  );
  const empty = finishScan(acc);
  assert.equal(empty.images, 0);
  assert.deepEqual(empty.layers[0].dead, []); // no evidence, nothing dead
  assert.throws(() => finishScan(acc, { dyingThreshold: 2 }), /between 0 and 1/);
  assert.throws(() => createScanAccumulator(model, { layers: ['flat'] }), /not a convolution or dense/);
  const bad = { images: new Float32Array(7), count: 1, ids: ['x'], skipped: [] };
  await assert.rejects(accumulateBatch(acc, model, bad), /not a whole number/);
  assertNoLeak(baseline, 'failed accumulate');
  model.dispose();
});

test('scan reduces per batch: memory stays flat over many batches', async () => {
  const model = buildModel();
  const x = dataset();
  const baseline = tf.memory().numTensors;
  const acc = createScanAccumulator(model);
  const batches = batchesOf(x, PER, N, 10);
  let bytesAfterFirst = 0;
  for (let i = 0; i < batches.length; i++) {
    await accumulateBatch(acc, model, batches[i]);
    if (i === 0) bytesAfterFirst = tf.memory().numBytes;
    assertNoLeak(baseline, `batch ${i}`);
  }
  assert.equal(tf.memory().numBytes, bytesAfterFirst);
  approx(acc.images, N, 0);
  model.dispose();
});
