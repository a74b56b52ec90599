/**
 * Filter tiles, roughness, noisy filters and weight histograms (src/engine/analyses/filters.ts).
 * The roughness statistic and its test are checked on their own in filterRoughness.test.ts.
 */
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { filters, filterLayers, weightHistogram } from '../../src/engine/analyses/filters';
import { NOISY_Z } from '../../src/engine/analyses/filterRoughness';
import { filterNoiseVerdict } from '../../src/engine/report/filterNoiseText';
import { loadModel } from '../../src/engine/io/models';
import type { InspectableModel, LayerNode } from '../../src/engine/model/inspectableModel';
import { approx, approxArray, assertNoLeak, gaussian, setWeights, useWasm, wrap } from './analysisFixtures';

const root = path.resolve(__dirname, '../../..');

before(useWasm);

function kernel(k: number, f: (x: number, y: number) => number): Float64Array {
  const c = (k - 1) / 2;
  const out = new Float64Array(k * k);
  for (let y = 0; y < k; y++) for (let x = 0; x < k; x++) out[y * k + x] = f(x - c, y - c);
  return out;
}

test('first conv on RGB: colour tiles normalised per filter, scores and histogram', () => {
  const input = tf.input({ shape: [8, 8, 3] });
  const conv = tf.layers.conv2d({ filters: 2, kernelSize: 5, name: 'conv1' });
  const conv2 = tf.layers.conv2d({ filters: 3, kernelSize: 3, name: 'conv2' });
  const pw = tf.layers.conv2d({ filters: 2, kernelSize: 1, name: 'pw' });
  const out = pw.apply(conv2.apply(conv.apply(input))) as tf.SymbolicTensor;
  const model = wrap(tf.model({ inputs: input, outputs: out }));
  // filter 0: the same 5x5 Gaussian in R, G, B scaled by 1, 0.5, −1; filter 1: white noise.
  const g = kernel(5, (x, y) => Math.exp(-(x * x + y * y) / 4));
  const noise = gaussian(7);
  const w = new Float32Array(5 * 5 * 3 * 2);
  const scale = [1, 0.5, -1];
  for (let p = 0; p < 25; p++) {
    for (let c = 0; c < 3; c++) {
      w[(p * 3 + c) * 2 + 0] = g[p] * scale[c];
      w[(p * 3 + c) * 2 + 1] = noise();
    }
  }
  setWeights(conv, [
    { data: Array.from(w), shape: [5, 5, 3, 2] },
    { data: [0, 0], shape: [2] },
  ]);
  const baseline = tf.memory().numTensors;
  const f = filters(model, 'conv1');
  assertNoLeak(baseline, 'filters');
  assert.equal(f.mode, 'rgb');
  assert.equal(f.tileChannels, 3);
  assert.equal(f.filters, 2);
  assert.equal(f.tiles.length, 2 * 5 * 5 * 3);
  // filter 0 spans [−1, 1] (centre of B and R): (v + 1) / 2
  approx(f.weightMin[0], -1, 1e-6);
  approx(f.weightMax[0], 1, 1e-6);
  const centre = (2 * 5 + 2) * 3;
  approxArray(f.tiles.subarray(centre, centre + 3), [1, 0.75, 0], 1e-6, 'centre RGB');
  for (const v of f.tiles) assert.ok(v >= 0 && v <= 1);
  assert.ok(f.roughness[0]! < 0.5, `gaussian scored ${f.roughness[0]}`);
  assert.ok(f.roughness[1]! > 0.6, `noise scored ${f.roughness[1]}`);
  assert.ok(f.structureZ[0]! < -5, `gaussian z ${f.structureZ[0]}`);
  assert.equal(f.perFilterTest, true);
  assert.deepEqual(f.noisy, [false, true]);
  // BGR models: tiles come back in RGB order
  const bgr = filters(model, 'conv1', { channelOrder: 'bgr' });
  approxArray(bgr.tiles.subarray(centre, centre + 3), [0, 0.75, 1], 1e-6, 'centre BGR');
  // histogram covers every weight
  assert.equal(f.histogram.count, 150);
  assert.equal(f.histogram.counts.reduce((a, b) => a + b, 0), 150);
  assert.equal(f.histogram.edges.length, 51);

  // deeper layer: mean over input channels by default, per channel on request
  const m = filters(model, 'conv2');
  assert.equal(m.mode, 'mean');
  assert.equal(m.tiles.length, 3 * 9);
  const pc = filters(model, 'conv2', { mode: 'per-channel' });
  assert.equal(pc.tilesPerFilter, 2);
  assert.equal(pc.tiles.length, 3 * 2 * 9);
  // 1x1: no roughness score, never noisy
  const p1 = filters(model, 'pw');
  assert.deepEqual(p1.roughness, [null, null]);
  assert.deepEqual(p1.structureZ, [null, null]);
  assert.deepEqual(p1.noisy, [false, false]);
  assert.equal(p1.layerRoughness, null);
  assert.deepEqual(filterLayers(model), ['conv1', 'conv2', 'pw']);
  assertNoLeak(baseline, 'filters');
  model.dispose();
});

test('depthwise and separable kernels: one grey tile per (channel, multiplier)', () => {
  const input = tf.input({ shape: [6, 6, 2] });
  const dw = tf.layers.depthwiseConv2d({ kernelSize: 2, depthMultiplier: 2, name: 'dw', useBias: false });
  const sep = tf.layers.separableConv2d({ filters: 3, kernelSize: 3, name: 'sep' });
  const model = wrap(tf.model({ inputs: input, outputs: sep.apply(dw.apply(input)) as tf.SymbolicTensor }));
  // depthwise kernel [2, 2, Cin=2, M=2]: value = 10·pos + 2·c + m (pos = y·2 + x)
  const k: number[] = [];
  for (let pos = 0; pos < 4; pos++) for (let c = 0; c < 2; c++) for (let m = 0; m < 2; m++) k.push(10 * pos + 2 * c + m);
  setWeights(dw, [{ data: k, shape: [2, 2, 2, 2] }]);
  const baseline = tf.memory().numTensors;
  const f = filters(model, 'dw');
  assert.equal(f.kind, 'depthwise');
  assert.equal(f.filters, 4);
  assert.equal(f.depthMultiplier, 2);
  assert.equal(f.mode, 'single');
  // output channel 3 = (c=1, m=1): raw [3, 13, 23, 33] → [0, 1/3, 2/3, 1]
  approx(f.weightMin[3], 3, 0);
  approx(f.weightMax[3], 33, 0);
  approxArray(f.tiles.subarray(12, 16), [0, 1 / 3, 2 / 3, 1], 1e-6, 'filter 3');
  const s = filters(model, 'sep');
  assert.equal(s.kind, 'separable-depthwise');
  assert.equal(s.filters, 4); // its input is dw's 4 channels, multiplier 1
  assert.equal(s.kernelHeight, 3);
  assertNoLeak(baseline, 'filters');
  assert.throws(() => filters(model, 'input_1'), /not a convolution|no layer named/);
  model.dispose();
});

test('weight histogram by hand', () => {
  const h = weightHistogram([0, 0.1, 0.25, 0.5, 0.9, 1], 4);
  assert.deepEqual(h.edges, [0, 0.25, 0.5, 0.75, 1]);
  assert.deepEqual(h.counts, [2, 1, 1, 2]);
  approx(h.mean, 2.75 / 6, 1e-12);
  assert.equal(h.min, 0);
  assert.equal(h.max, 1);
  const flat = weightHistogram([2, 2, 2], 3);
  assert.deepEqual(flat.counts.reduce((a, b) => a + b, 0), 3);
  assert.equal(flat.std, 0);
});

test('graph-model Conv2D: the filter is read from its constant operand', () => {
  const filter = tf.tensor4d(Array.from({ length: 2 * 2 * 1 * 2 }, (_, i) => i), [2, 2, 1, 2]);
  const layers: LayerNode[] = [
    { name: 'x', className: 'Placeholder', inbound: [], outputShape: [null, 4, 4, 1], inputShapes: [], config: {}, weights: [] },
    { name: 'w', className: 'Const', inbound: [], outputShape: [2, 2, 1, 2], inputShapes: [], config: {}, weights: [{ name: 'w', shape: [2, 2, 1, 2], trainable: false }] },
    { name: 'conv', className: 'Conv2D', inbound: ['x', 'w'], outputShape: [null, 3, 3, 2], inputShapes: [[null, 4, 4, 1], [2, 2, 1, 2]], config: {}, weights: [] },
  ];
  const model: InspectableModel = {
    path: 'graph/model.json',
    format: 'tfjs-graph',
    name: 'g',
    input: { height: 4, width: 4, channels: 1 },
    layers,
    outputLayer: 'conv',
    run: () => [],
    layerWeights: (n: string) => (n === 'w' ? [filter] : []),
    dispose: () => undefined,
  };
  const baseline = tf.memory().numTensors;
  const f = filters(model, 'conv');
  assertNoLeak(baseline, 'filters');
  assert.equal(f.kind, 'conv');
  assert.equal(f.filters, 2);
  assert.equal(f.mode, 'single');
  // filter 1 = values at odd indices: [1, 3, 5, 7] → [0, 1/3, 2/3, 1]
  approxArray(f.tiles.subarray(4, 8), [0, 1 / 3, 2 / 3, 1], 1e-6, 'filter 1');
  assert.deepEqual(filterLayers(model), ['conv']);
  filter.dispose();
});

test('sample models: the high-learning-rate model has far more noisy conv2 filters; conv1 is judged as a layer', async () => {
  const counts: Record<string, number> = {};
  for (const sample of ['fashion-mnist-cnn', 'fashion-mnist-cnn-high-lr']) {
    const model = await loadModel(path.join(root, 'samples', sample, 'model.json'));
    const baseline = tf.memory().numTensors;
    const conv1 = filters(model, 'conv1');
    const conv2 = filters(model, 'conv2');
    assertNoLeak(baseline, 'filters');
    // 3×3×1: nine weights, too few to judge one filter; the layer as a whole is smoother than noise.
    assert.equal(conv1.perFilterTest, false);
    assert.ok(conv1.noisy.every((n) => !n));
    assert.ok(conv1.layerStructureZ! < -NOISY_Z, `${sample} conv1 layer z ${conv1.layerStructureZ}`);
    assert.equal(conv2.perFilterTest, true);
    assert.ok(conv2.layerStructureZ! < -NOISY_Z, `${sample} conv2 layer z ${conv2.layerStructureZ}`);
    counts[sample] = conv2.noisy.filter(Boolean).length;
    model.dispose();
  }
  // Measured: 6 and 26 of 64 (README, Filters).
  assert.ok(counts['fashion-mnist-cnn'] <= 10, `good model: ${counts['fashion-mnist-cnn']} noisy`);
  assert.ok(counts['fashion-mnist-cnn-high-lr'] >= 2 * counts['fashion-mnist-cnn'] + 10, JSON.stringify(counts));
});

test('the noise verdict in words: per filter, layer only, untestable and 1×1 layers', () => {
  const facts = { filters: 4, kernelHeight: 3, kernelWidth: 3, inChannels: 8, noisy: [true, false, false, true], noisyZ: NOISY_Z, perFilterTest: true, layerRoughness: 0.81, layerStructureZ: -6.04 };
  assert.deepEqual(filterNoiseVerdict(facts), {
    cell: '2',
    warn: true,
    layer: 'As a layer, smoother than noise (roughness 0.81, z −6.0).',
    filters: '2 of 4 filters noisy: their weights are arranged no differently from a random arrangement (|z| < 1.96).',
  });
  const single = { ...facts, inChannels: 1, noisy: [false, false, false, false], perFilterTest: false, layerRoughness: 0.98, layerStructureZ: 0.3 };
  const v = filterNoiseVerdict(single);
  assert.equal(v.cell, 'layer noisy');
  assert.equal(v.warn, true);
  assert.equal(v.layer, 'As a layer, indistinguishable from noise (roughness 0.98, z 0.3).');
  assert.match(v.filters, /^3×3×1 kernels hold 9 weights each: too few to tell one filter from noise/);
  assert.equal(filterNoiseVerdict({ ...single, layerRoughness: 1.4, layerStructureZ: 2.5 }).cell, 'layer ok');
  assert.match(filterNoiseVerdict({ ...single, layerRoughness: 1.4, layerStructureZ: 2.5 }).layer, /alternate more than noise/);
  const tiny = filterNoiseVerdict({ ...single, kernelHeight: 1, layerRoughness: 0.5, layerStructureZ: null });
  assert.equal(tiny.cell, '–');
  assert.equal(tiny.layer, 'As a layer, roughness 0.50; kernels this small cannot be tested against noise.');
  const pointwise = filterNoiseVerdict({ ...single, kernelHeight: 1, kernelWidth: 1, layerRoughness: null, layerStructureZ: null });
  assert.equal(pointwise.layer, 'The layer has no neighbouring weights to compare (1×1 kernels).');
  assert.equal(pointwise.filters, '1×1 kernels have no spatial layout to judge.');
});
