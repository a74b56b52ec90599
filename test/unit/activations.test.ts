/**
 * Activation points (src/engine/analyses/activationPoints.ts) and feature maps with per-channel
 * statistics (activations.ts), checked against values computed by hand.
 */
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { activations } from '../../src/engine/analyses/activations';
import { activationPoints, deadApplicability } from '../../src/engine/analyses/activationPoints';
import { approxArray, assertNoLeak, batchOf, setWeights, useWasm, wrap } from './analysisFixtures';

before(useWasm);

/*
 * Hand-built conv: 3x3x1 input, two 2x2 filters, 'valid' padding → 2x2x2 output.
 *   x = [[1,0,2],[0,3,1],[2,1,0]]
 *   filter A: k[0,0]=1, k[1,1]=1, bias 0  → x[i,j] + x[i+1,j+1]        = [4, 1, 1, 3]
 *   filter B: k[0,1]=1, k[1,0]=−1, bias −1 → x[i,j+1] − x[i+1,j] − 1  = [−1, −2, 0, −1]
 * Second image = 2·x: A = [8, 2, 2, 6], B = [−1, −3, 1, −1].
 */
const X1 = [1, 0, 2, 0, 3, 1, 2, 1, 0];
const IMAGES = Float32Array.from([...X1, ...X1.map((v) => 2 * v)]);
// kernel [kh, kw, Cin, Cout] flattened: index ((y·2 + x)·1 + c)·2 + o
const KERNEL = [1, 0, /* (0,1) */ 0, 1, /* (1,0) */ 0, -1, /* (1,1) */ 1, 0];

function handConv(activation: 'linear' | 'relu', extra?: 'leaky'): tf.LayersModel {
  const input = tf.input({ shape: [3, 3, 1], name: 'in' });
  const conv = tf.layers.conv2d({ filters: 2, kernelSize: 2, activation, name: 'conv' });
  let out = conv.apply(input) as tf.SymbolicTensor;
  if (extra === 'leaky') out = tf.layers.leakyReLU({ alpha: 0.1, name: 'leaky' }).apply(out) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  setWeights(conv, [
    { data: KERNEL, shape: [2, 2, 1, 2] },
    { data: [0, -1], shape: [2] },
  ]);
  return model;
}

test('conv feature maps and per-channel statistics match hand computation', async () => {
  const model = wrap(handConv('linear'));
  const baseline = tf.memory().numTensors;
  const r = await activations(model, IMAGES, ['conv']);
  assertNoLeak(baseline, 'activations');
  assert.equal(r.images, 2);
  const l = r.layers[0];
  assert.deepEqual(l.shape, [2, 2, 2]);
  assert.equal(l.channels, 2);
  // NHWC per image: positions (0,0),(0,1),(1,0),(1,1), channels A, B interleaved.
  approxArray(l.values[0], [4, -1, 1, -2, 1, 0, 3, -1], 1e-6, 'image 0');
  approxArray(l.values[1], [8, -1, 2, -3, 2, 1, 6, -1], 1e-6, 'image 1');
  const s = l.stats!;
  approxArray(s.mean, [27 / 8, -8 / 8], 1e-6, 'mean');
  approxArray(s.max, [8, 1], 0, 'max');
  approxArray(s.min, [1, -3], 0, 'min');
  approxArray(s.zeroFraction, [0, 1 / 8], 1e-7, 'zeros');
  approxArray(s.nonPositiveFraction, [0, 7 / 8], 1e-7, '≤0');
  assert.equal(l.activation, 'linear');
  assert.equal(l.deadApplicable, false);
  assert.deepEqual(l.deadChannels, []);

  // Same through a Batch, in batches of one image: identical numbers.
  const r2 = await activations(model, batchOf(IMAGES, 2), ['conv'], { batchSize: 1 });
  assertNoLeak(baseline, 'activations (batch)');
  approxArray(r2.layers[0].values[1], l.values[1], 0, 'batched');
  approxArray(r2.layers[0].stats!.mean, s.mean, 1e-6, 'batched mean');
  model.dispose();
});

test('ReLU zeros count as zeros; a channel never > 0 after ReLU is dead', async () => {
  const model = wrap(handConv('relu'));
  const baseline = tf.memory().numTensors;
  // Only the first image: channel B = relu([−1, −2, 0, −1]) = 0 everywhere.
  const r = await activations(model, IMAGES.slice(0, 9), ['conv']);
  assertNoLeak(baseline, 'activations');
  const l = r.layers[0];
  approxArray(l.values[0], [4, 0, 1, 0, 1, 0, 3, 0], 0, 'relu');
  approxArray(l.stats!.zeroFraction, [0, 1], 0, 'zeros');
  approxArray(l.stats!.nonPositiveFraction, [0, 1], 0, '≤0');
  assert.equal(l.activation, 'relu');
  assert.equal(l.deadApplicable, true);
  assert.deepEqual(l.deadChannels, [1]);
  model.dispose();
});

test('leaky ReLU: a negative unit is not dead', async () => {
  const model = wrap(handConv('linear', 'leaky'));
  const baseline = tf.memory().numTensors;
  const r = await activations(model, IMAGES.slice(0, 9), ['leaky']);
  assertNoLeak(baseline, 'activations');
  const l = r.layers[0];
  approxArray(l.values[0], [4, -0.1, 1, -0.2, 1, 0, 3, -0.1], 1e-6, 'leaky');
  approxArray(l.stats!.nonPositiveFraction, [0, 1], 0, '≤0');
  approxArray(l.stats!.max, [4, 0], 1e-7, 'max');
  assert.equal(l.activation, 'leaky_relu');
  assert.equal(l.deadApplicable, false);
  assert.deepEqual(l.deadChannels, []);
  assert.match(l.reason, /negative/);
  // The conv's activation point is the LeakyReLU layer, where "dead" does not apply.
  const [p] = activationPoints(model);
  assert.equal(p.point, 'leaky');
  assert.equal(p.deadApplicable, false);
  model.dispose();
});

test('dense outputs: values [units] per image and per-unit statistics', async () => {
  const input = tf.input({ shape: [1, 1, 2] });
  const flat = tf.layers.flatten().apply(input) as tf.SymbolicTensor;
  const dense = tf.layers.dense({ units: 3, activation: 'relu', name: 'fc' });
  const model = wrap(tf.model({ inputs: input, outputs: dense.apply(flat) as tf.SymbolicTensor }));
  // y = relu([a + b, a − b, −a] + [0, 0, 1])
  setWeights(dense, [
    { data: [1, 1, -1, 1, -1, 0], shape: [2, 3] },
    { data: [0, 0, 1], shape: [3] },
  ]);
  const baseline = tf.memory().numTensors;
  const r = await activations(model, Float32Array.from([2, 1, 1, 3]), ['fc']);
  assertNoLeak(baseline, 'activations');
  const l = r.layers[0];
  assert.deepEqual(l.shape, [3]);
  approxArray(l.values[0], [3, 1, 0], 1e-6, 'image 0'); // a=2, b=1: [3, 1, −1] → relu
  approxArray(l.values[1], [4, 0, 0], 1e-6, 'image 1'); // a=1, b=3: [4, −2, 0]
  approxArray(l.stats!.mean, [3.5, 0.5, 0], 1e-6, 'mean');
  approxArray(l.stats!.zeroFraction, [0, 0.5, 1], 0, 'zeros');
  assert.deepEqual(l.deadChannels, [2]);
  model.dispose();
});

test('activation points: BN then ReLU resolves to the ReLU; branches and merges stop the chain', () => {
  const input = tf.input({ shape: [6, 6, 3], name: 'in' });
  const c1 = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'c1' }).apply(input) as tf.SymbolicTensor;
  const bn1 = tf.layers.batchNormalization({ name: 'bn1' }).apply(c1) as tf.SymbolicTensor;
  const r1 = tf.layers.reLU({ name: 'relu1' }).apply(bn1) as tf.SymbolicTensor;
  // conv → BN → Activation('linear') → Activation('relu6')
  const c2 = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'c2' }).apply(r1) as tf.SymbolicTensor;
  const bn2 = tf.layers.batchNormalization({ name: 'bn2' }).apply(c2) as tf.SymbolicTensor;
  const lin = tf.layers.activation({ activation: 'linear', name: 'lin' }).apply(bn2) as tf.SymbolicTensor;
  const r2 = tf.layers.reLU({ maxValue: 6, name: 'relu6' }).apply(lin) as tf.SymbolicTensor;
  // conv → BN → Add (residual) : linear
  const c3 = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'c3' }).apply(r2) as tf.SymbolicTensor;
  const bn3 = tf.layers.batchNormalization({ name: 'bn3' }).apply(c3) as tf.SymbolicTensor;
  const add = tf.layers.add({ name: 'add' }).apply([bn3, r2]) as tf.SymbolicTensor;
  // conv with its own elu; conv feeding two layers
  const c4 = tf.layers.conv2d({ filters: 4, kernelSize: 1, activation: 'elu', name: 'c4' }).apply(add) as tf.SymbolicTensor;
  const c5 = tf.layers.conv2d({ filters: 2, kernelSize: 1, name: 'c5' }).apply(c4) as tf.SymbolicTensor;
  const a5 = tf.layers.activation({ activation: 'relu', name: 'a5' }).apply(c5) as tf.SymbolicTensor;
  const b5 = tf.layers.activation({ activation: 'sigmoid', name: 'b5' }).apply(c5) as tf.SymbolicTensor;
  const cat = tf.layers.concatenate({ name: 'cat' }).apply([a5, b5]) as tf.SymbolicTensor;
  const model = wrap(tf.model({ inputs: input, outputs: cat }));
  const p = new Map(activationPoints(model).map((x) => [x.layer, x]));
  assert.deepEqual([...p.keys()], ['c1', 'c2', 'c3', 'c4', 'c5']);
  assert.equal(p.get('c1')!.point, 'relu1');
  assert.deepEqual(p.get('c1')!.chain, ['c1', 'bn1', 'relu1']);
  assert.equal(p.get('c1')!.activation, 'relu');
  assert.equal(p.get('c1')!.deadApplicable, true);
  assert.equal(p.get('c1')!.units, 4);
  assert.equal(p.get('c2')!.point, 'relu6');
  assert.equal(p.get('c2')!.activation, 'relu6');
  assert.deepEqual(p.get('c2')!.chain, ['c2', 'bn2', 'lin', 'relu6']);
  assert.equal(p.get('c3')!.activation, 'linear');
  assert.equal(p.get('c3')!.point, 'bn3');
  assert.equal(p.get('c3')!.deadApplicable, false);
  assert.match(p.get('c3')!.reason, /add \(Add\)/);
  assert.equal(p.get('c4')!.point, 'c4');
  assert.equal(p.get('c4')!.activation, 'elu');
  assert.equal(p.get('c4')!.deadApplicable, false);
  assert.equal(p.get('c5')!.activation, 'linear');
  assert.match(p.get('c5')!.reason, /feeds 2 layers/);
  model.dispose();

  for (const a of ['relu', 'relu6', 'thresholded_relu']) assert.equal(deadApplicability(a).applicable, true, a);
  for (const a of ['leaky_relu', 'elu', 'linear', 'tanh', 'sigmoid', 'softmax', 'selu']) {
    const d = deadApplicability(a);
    assert.equal(d.applicable, false, a);
    assert.ok(d.reason.length > 10);
  }
});

test('bad input sizes are reported', async () => {
  const model = wrap(handConv('linear'));
  await assert.rejects(activations(model, new Float32Array(10), ['conv']), /not a whole number of 3x3x1 images/);
  await assert.rejects(activations(model, IMAGES, ['nope']), /no layer named "nope"/);
  model.dispose();
});
