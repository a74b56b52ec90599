/**
 * Filter tiles, smoothness scores and weight histograms (src/engine/analyses/filters.ts).
 *
 * The `noisy` threshold (0.6) is justified here: smooth shapes at a scale of one pixel or more
 * (Gaussian blobs, derivative-of-Gaussian edges, Gabor stripes, Sobel) score ≤ 0.5 whatever their
 * orientation, white noise scores ≈ 1 at every kernel size, and the threshold sits between them.
 */
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { filters, filterLayers, NOISY_THRESHOLD, smoothnessScore, weightHistogram } from '../../src/engine/analyses/filters';
import type { InspectableModel, LayerNode } from '../../src/engine/model/inspectableModel';
import { approx, approxArray, assertNoLeak, gaussian, setWeights, useWasm, wrap } from './analysisFixtures';

before(useWasm);

function kernel(k: number, f: (x: number, y: number) => number): Float64Array {
  const c = (k - 1) / 2;
  const out = new Float64Array(k * k);
  for (let y = 0; y < k; y++) for (let x = 0; x < k; x++) out[y * k + x] = f(x - c, y - c);
  return out;
}

function smoothShapes(k: number): { name: string; w: Float64Array }[] {
  const shapes: { name: string; w: Float64Array }[] = [];
  for (const sigma of [1, 1.5, 2, 3]) {
    const g = (x: number, y: number): number => Math.exp(-(x * x + y * y) / (2 * sigma * sigma));
    shapes.push({ name: `blob σ${sigma}`, w: kernel(k, g) });
    for (let o = 0; o < 8; o++) {
      const th = (o * Math.PI) / 8;
      const u = (x: number, y: number): number => x * Math.cos(th) + y * Math.sin(th);
      shapes.push({ name: `edge σ${sigma} θ${o}`, w: kernel(k, (x, y) => -u(x, y) * g(x, y)) });
      shapes.push({ name: `bar σ${sigma} θ${o}`, w: kernel(k, (x, y) => Math.exp(-(u(x, y) ** 2) / (2 * sigma * sigma))) });
      if (sigma >= 1.5) shapes.push({ name: `gabor σ${sigma} θ${o}`, w: kernel(k, (x, y) => g(x, y) * Math.cos((2 * Math.PI * u(x, y)) / (4 * sigma))) });
    }
  }
  return shapes;
}

test('smoothness: hand-computed values for small kernels', () => {
  // 3x3 Gaussian σ=1: (Σ 12 neighbour diffs² / 12) / (2 · Σw² / 9)
  const e1 = Math.exp(-0.5);
  const e2 = Math.exp(-1);
  const g = [e2, e1, e2, e1, 1, e1, e2, e1, e2];
  const diff = 8 * (e1 - e2) ** 2 + 4 * (1 - e1) ** 2;
  const energy = 1 + 4 * e1 * e1 + 4 * e2 * e2;
  approx(smoothnessScore(g, 3, 3)!, diff / 12 / ((2 * energy) / 9), 1e-12, 'gaussian');
  // Sobel: 16 / 12 over (2 · 12 / 9) = 0.5
  approx(smoothnessScore([-1, 0, 1, -2, 0, 2, -1, 0, 1], 3, 3)!, 0.5, 1e-12, 'sobel');
  // constant = 0, checkerboard = 2 (maximum)
  assert.equal(smoothnessScore(new Array(9).fill(0.3), 3, 3), 0);
  approx(smoothnessScore([1, -1, 1, -1, 1, -1, 1, -1, 1], 3, 3)!, 2, 1e-12, 'checkerboard');
  // 1x1 kernels and all-zero kernels have no score
  assert.equal(smoothnessScore([0.7, -0.2, 0.1], 1, 1, 3), null);
  assert.equal(smoothnessScore(new Array(9).fill(0), 3, 3), null);
  // channels are scored together: two smooth channels stay smooth
  const two = new Float64Array(18);
  for (let i = 0; i < 9; i++) {
    two[2 * i] = g[i];
    two[2 * i + 1] = -g[i];
  }
  approx(smoothnessScore(two, 3, 3, 2)!, smoothnessScore(g, 3, 3)!, 1e-12, 'two channels');
});

test('smoothness separates smooth kernels (blobs, edges, Gabor) from white noise', () => {
  const noise = gaussian(2024);
  for (const k of [3, 5, 7, 11]) {
    const smooth = smoothShapes(k).map((s) => ({ ...s, score: smoothnessScore(s.w, k, k)! }));
    const worst = smooth.reduce((a, b) => (b.score > a.score ? b : a));
    assert.ok(worst.score <= 0.5 + 1e-9, `${k}x${k}: ${worst.name} scores ${worst.score}`);
    assert.ok(worst.score < NOISY_THRESHOLD);
    const scores: number[] = [];
    for (let n = 0; n < 2000; n++) {
      const w = Array.from({ length: k * k }, noise);
      scores.push(smoothnessScore(w, k, k)!);
    }
    scores.sort((a, b) => a - b);
    const median = scores[1000];
    const flagged = scores.filter((s) => s >= NOISY_THRESHOLD).length / scores.length;
    approx(median, 1, 0.05, `${k}x${k} noise median`);
    // 3x3 has only 12 neighbour pairs, so noise and structure overlap a little there.
    const minFlagged = k === 3 ? 0.88 : k === 5 ? 0.98 : 0.998;
    assert.ok(flagged >= minFlagged, `${k}x${k}: only ${flagged} of white-noise kernels flagged noisy`);
    // clear gap for 7x7 and larger: 5th percentile of noise well above the roughest smooth shape
    if (k >= 7) assert.ok(scores[100] > worst.score + 0.25, `${k}x${k}: noise p5 ${scores[100]} vs smooth ${worst.score}`);
  }
});

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
  assert.ok(f.smoothness[0]! < 0.3, `gaussian scored ${f.smoothness[0]}`);
  assert.ok(f.smoothness[1]! > NOISY_THRESHOLD, `noise scored ${f.smoothness[1]}`);
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
  // 1x1: no smoothness score, never noisy
  const p1 = filters(model, 'pw');
  assert.deepEqual(p1.smoothness, [null, null]);
  assert.deepEqual(p1.noisy, [false, false]);
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
