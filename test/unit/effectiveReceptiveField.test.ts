/**
 * Effective receptive field (src/engine/analyses/effectiveReceptiveField.ts) on the wasm backend:
 *   - linear stacks of all-ones convolutions, whose ERF is known in closed form (the convolution
 *     power of the kernel: a 2-D binomial-like profile), exact values, centre and radii;
 *   - the bundled Fashion-MNIST sample: the ERF lies inside the theoretical box, covers less than
 *     it, and grows with depth; wasm agrees with cpu;
 *   - dead units of the high-learning-rate sample: all-zero heat map, NaN radii, a note;
 *   - a TF.js Graph model, softmax layers, argument errors, cancellation, the worker job;
 * and that every call leaves tf.memory().numTensors at its baseline.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  effectiveReceptiveField,
  erfRadiiPerLayer,
  massRadii,
  spatialLayers,
  type ErfResult,
} from '../../src/engine/analyses/effectiveReceptiveField';
import { loadModel } from '../../src/engine/io/models';
import { openDataset, DEFAULT_PREPROCESSING } from '../../src/engine/io/datasets';
import type { InspectableModel } from '../../src/engine/model/inspectableModel';
import { JOBS, clearModelCache, type JobContext } from '../../src/engine/jobs';
import { EngineClient } from '../../src/engine/client';
import { CancelledError } from '../../src/engine/workerPool';
import { assertNoLeak, useWasm, wrap } from './analysisFixtures';

const root = path.resolve(__dirname, '../../..');
const goodModel = path.join(root, 'samples/fashion-mnist-cnn/model.json');
const highLrModel = path.join(root, 'samples/fashion-mnist-cnn-high-lr/model.json');
const pngs = path.join(root, 'samples/data/fashion-mnist-1000');

/** Dead units the training script measured on the whole 10k test set (samples/train/training-report.json). */
function reportedDead(folder: string, layer: string): number[] {
  const report = JSON.parse(fs.readFileSync(path.join(root, 'samples/train/training-report.json'), 'utf8')) as {
    runs: { folder: string; deadUnits: { layer: string; deadIndices: number[] }[] }[];
  };
  return report.runs.find((r) => r.folder === folder)!.deadUnits.find((d) => d.layer === layer)!.deadIndices;
}

/** A linear (no bias) conv stack with all-ones kernels. */
function onesConvStack(inputSize: number, convs: { kernel: number; strides?: number; filters?: number }[]): InspectableModel {
  const input = tf.input({ shape: [inputSize, inputSize, 1] });
  let x: tf.SymbolicTensor = input;
  convs.forEach((c, i) => {
    x = tf.layers
      .conv2d({ filters: c.filters ?? 1, kernelSize: c.kernel, strides: c.strides ?? 1, useBias: false, kernelInitializer: 'ones', name: `conv${i + 1}` })
      .apply(x) as tf.SymbolicTensor;
  });
  return wrap(tf.model({ inputs: input, outputs: x }), 'ones-stack');
}

function constantImages(n: number, size: number): tf.Tensor4D[] {
  return [tf.ones([n, size, size, 1]) as tf.Tensor4D];
}

/** 32 images of the sample dataset, 4 of each of the first 8 classes (the folder is sorted by class). */
async function sampleImages(model: InspectableModel): Promise<tf.Tensor4D[]> {
  const dataset = await openDataset(pngs);
  const out: tf.Tensor4D[] = [];
  for (let cls = 0; cls < 8; cls++) {
    for await (const b of dataset.batches({ batchSize: 4, geometry: model.input, preprocessing: DEFAULT_PREPROCESSING, start: cls * 100, end: cls * 100 + 4 })) {
      out.push(tf.tensor4d(b.images, [b.count, 28, 28, 1]));
    }
  }
  return out;
}

function heatAt(r: ErfResult, y: number, x: number): number {
  return r.heatmap[y * r.inputSize[1] + x];
}

function radius(r: { radii: { fraction: number; radius: number }[] }, f: number): number {
  return r.radii.find((x) => x.fraction === f)!.radius;
}

test('ERF of three 3×3 all-ones convolutions is the 2-D convolution power [1 3 6 7 6 3 1]ᵀ[1 3 6 7 6 3 1], with exact radii', async () => {
  await useWasm();
  const model = onesConvStack(15, [{ kernel: 3 }, { kernel: 3 }, { kernel: 3 }]);
  const images = constantImages(3, 15);
  const baseline = tf.memory().numTensors;
  const r = await effectiveReceptiveField(model, 'conv3', images);
  assertNoLeak(baseline, 'effectiveReceptiveField');
  assert.deepEqual(r.outputSize, [9, 9]);
  assert.deepEqual(r.unit, [4, 4], 'default unit: the centre');
  assert.equal(r.channel, null);
  assert.equal(r.images, 3);
  assert.deepEqual(r.inputSize, [15, 15]);
  const p = [1, 3, 6, 7, 6, 3, 1];
  for (let y = 0; y < 15; y++) {
    for (let x = 0; x < 15; x++) {
      const inside = y >= 4 && y <= 10 && x >= 4 && x <= 10;
      const expected = inside ? (p[y - 4] * p[x - 4]) / 49 : 0;
      assert.ok(Math.abs(heatAt(r, y, x) - expected) < 1e-6, `heat (${y}, ${x}) = ${heatAt(r, y, x)}, expected ${expected}`);
    }
  }
  assert.deepEqual(r.theoretical, { size: [7, 7], stride: [1, 1], padding: [0, 0], box: [4, 4, 10, 10] });
  assert.ok(Math.abs(r.centre[0] - 7) < 1e-9 && Math.abs(r.centre[1] - 7) < 1e-9, `centre ${r.centre}`);
  // Mass by distance from (7, 7), in 729ths: 49 (0), 217 (1), 361 (√2), 445 (2), 589 (√5), 625 (√8), 653 (3), 701 (√10), 729.
  // 50% = 364.5 is first reached at distance 2; 90% = 656.1 at √10.
  assert.equal(radius(r, 0.5), 2);
  assert.ok(Math.abs(radius(r, 0.9) - Math.sqrt(10)) < 1e-12, `r90 ${radius(r, 0.9)}`);
  assert.equal(r.zeroGradientImages, 0);
  assert.equal(r.note, undefined);
  tf.dispose(images);
  model.dispose();
});

test('ERF through a strided convolution: a uniform 6×6 block exactly on the theoretical box; other units and fractions', async () => {
  await useWasm();
  // 2×2 stride-2 ones, then 3×3 ones: unit (1, 1) reads conv1 rows 1…3 = input rows 2…7, each pixel once.
  const model = onesConvStack(8, [{ kernel: 2, strides: 2 }, { kernel: 3 }]);
  const images = constantImages(2, 8);
  const r = await effectiveReceptiveField(model, 'conv2', images, { unit: [1, 1], fractions: [0.25, 1] });
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      const inside = y >= 2 && y <= 7 && x >= 2 && x <= 7;
      assert.equal(heatAt(r, y, x), inside ? 1 : 0, `(${y}, ${x})`);
    }
  }
  assert.deepEqual(r.theoretical, { size: [6, 6], stride: [2, 2], padding: [0, 0], box: [2, 2, 7, 7] });
  assert.deepEqual(r.centre, [4.5, 4.5]);
  // Around (4.5, 4.5): the 4 pixels at distance √0.5 hold 4/36 < 25%, the next 8 at √2.5 bring 12/36 ≥ 25%.
  assert.ok(Math.abs(radius(r, 0.25) - Math.sqrt(2.5)) < 1e-12);
  assert.ok(Math.abs(radius(r, 1) - Math.sqrt(2 * 2.5 * 2.5)) < 1e-12, 'all the mass: the box corner');
  // Unit (0, 0) sits in the top-left corner.
  const corner = await effectiveReceptiveField(model, 'conv2', images, { unit: [0, 0] });
  assert.deepEqual(corner.theoretical!.box, [0, 0, 5, 5]);
  assert.equal(heatAt(corner, 0, 0), 1);
  assert.equal(heatAt(corner, 6, 6), 0);
  tf.dispose(images);
  model.dispose();
});

test('channel selection; a unit with zero weights is dead: zero heat map, NaN centre and radii, a note', async () => {
  await useWasm();
  const input = tf.input({ shape: [9, 9, 1] });
  const conv = tf.layers.conv2d({ filters: 2, kernelSize: 3, useBias: false, name: 'conv', activation: 'relu' });
  const model = wrap(tf.model({ inputs: input, outputs: conv.apply(input) as tf.SymbolicTensor }));
  // Filter 0: ones; filter 1: zeros (its ReLU output is 0 everywhere, a dead unit).
  const k = new Float32Array(9 * 2);
  for (let i = 0; i < 9; i++) k[i * 2] = 1;
  const kt = tf.tensor4d(k, [3, 3, 1, 2]);
  conv.setWeights([kt]);
  kt.dispose();
  const images = constantImages(4, 9);
  const baseline = tf.memory().numTensors;
  const live = await effectiveReceptiveField(model, 'conv', images, { channel: 0 });
  const all = await effectiveReceptiveField(model, 'conv', images);
  const dead = await effectiveReceptiveField(model, 'conv', images, { channel: 1 });
  assertNoLeak(baseline, 'three ERFs');
  assert.deepEqual(Array.from(all.heatmap), Array.from(live.heatmap), 'all channels = the only live one');
  assert.equal(live.channel, 0);
  assert.equal(heatAt(live, 4, 4), 1);
  assert.equal(dead.channel, 1);
  assert.ok(dead.heatmap.every((v) => v === 0), 'dead unit: all-zero heat map');
  assert.ok(dead.radii.every((x) => Number.isNaN(x.radius)));
  assert.ok(dead.centre.every((v) => Number.isNaN(v)));
  assert.equal(dead.zeroGradientImages, 4);
  assert.match(dead.note ?? '', /zero gradient on all 4 images/);
  assert.ok(dead.theoretical, 'the theoretical field is still given');
  tf.dispose(images);
  model.dispose();
});

test('massRadii: smallest radius whose disc holds the fraction', () => {
  // A 1×5 row, mass 1 2 4 2 1 (total 10) around column 2.
  const r = massRadii([1, 2, 4, 2, 1], 5, [0, 2], 10, [0.4, 0.5, 0.8, 0.81, 1]);
  assert.deepEqual(
    r.map((x) => x.radius),
    [0, 1, 1, 2, 2],
  );
});

test('Fashion-MNIST sample: the ERF lies inside the theoretical box, is smaller than it and grows with depth', async () => {
  await useWasm();
  const model = await loadModel(goodModel);
  const images = await sampleImages(model);
  const baseline = tf.memory().numTensors;
  const results: ErfResult[] = [];
  for (const layer of ['conv1', 'pool1', 'conv2', 'pool2']) {
    const r = await effectiveReceptiveField(model, layer, images);
    results.push(r);
    assert.equal(r.images, 32);
    const t = r.theoretical!;
    assert.ok(t, `${layer}: theoretical field`);
    const [top, left, bottom, right] = t.box;
    let inside = 0;
    let outside = 0;
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        const v = heatAt(r, y, x);
        assert.ok(Number.isFinite(v) && v >= 0 && v <= 1, `${layer}: heat ${v}`);
        if (y >= top && y <= bottom && x >= left && x <= right) inside += v;
        else outside += v;
      }
    }
    assert.equal(outside, 0, `${layer}: gradient outside the theoretical box [${t.box}]`);
    assert.ok(inside > 0);
    // The disc holding 90% of the gradient covers less area than the theoretical box, and the
    // radius holding half of it is below half the box size: the ERF is smaller than the RF.
    const r90 = radius(r, 0.9);
    const r50 = radius(r, 0.5);
    assert.ok(Math.PI * r90 * r90 < t.size[0] * t.size[1], `${layer}: r90 ${r90} vs box ${t.size}`);
    assert.ok(r50 < t.size[0] / 2, `${layer}: r50 ${r50} vs box ${t.size}`);
    // The gradient-mass centre lies within the box.
    assert.ok(r.centre[0] >= top && r.centre[0] <= bottom && r.centre[1] >= left && r.centre[1] <= right, `${layer}: centre ${r.centre}`);
  }
  assertNoLeak(baseline, 'sample ERFs');
  for (let i = 1; i < results.length; i++) {
    for (const f of [0.5, 0.9]) {
      assert.ok(radius(results[i], f) > radius(results[i - 1], f), `${results[i].layer} r${f} ${radius(results[i], f)} ≤ ${results[i - 1].layer} ${radius(results[i - 1], f)}`);
    }
  }
  // The per-layer table gives the same radii for the same images.
  const table = await erfRadiiPerLayer(model, images);
  assertNoLeak(baseline, 'erfRadiiPerLayer');
  assert.deepEqual(spatialLayers(model), ['conv1', 'pool1', 'conv2', 'pool2']);
  assert.deepEqual(table.layers.map((l) => l.layer), ['conv1', 'pool1', 'conv2', 'pool2']);
  assert.equal(table.images, 32);
  table.layers.forEach((l, i) => {
    assert.deepEqual(l.radii, results[i].radii);
    assert.deepEqual(l.theoreticalSize, results[i].theoretical!.size);
  });
  tf.dispose(images);
  model.dispose();
});

test('Fashion-MNIST sample: ERF heat maps on wasm match cpu within 1e-4 (through conv, ReLU, max pooling)', async () => {
  const maps: Record<string, Float32Array[]> = {};
  await useWasm();
  try {
    for (const backend of ['cpu', 'wasm'] as const) {
      // initBackend() starts wasm once per process; switching back and forth is tf.setBackend's job.
      assert.ok(await tf.setBackend(backend));
      await tf.ready();
      const model = await loadModel(goodModel);
      const images = await sampleImages(model);
      maps[backend] = [];
      for (const layer of ['pool1', 'pool2', 'fc1']) maps[backend].push((await effectiveReceptiveField(model, layer, images.slice(0, 2))).heatmap);
      tf.dispose(images);
      model.dispose();
    }
  } finally {
    // The other tests expect wasm, whatever happened here.
    await tf.setBackend('wasm');
  }
  assert.equal(tf.getBackend(), 'wasm');
  maps.cpu.forEach((cpu, i) => {
    let diff = 0;
    for (let p = 0; p < cpu.length; p++) diff = Math.max(diff, Math.abs(cpu[p] - maps.wasm[i][p]));
    assert.ok(diff <= 1e-4, `layer ${i}: max difference ${diff} (heat maps scaled to max 1)`);
  });
});

test('dead units of the high-learning-rate sample: conv1 filters with no gradient on any image', async () => {
  await useWasm();
  const model = await loadModel(highLrModel);
  const images = await sampleImages(model);
  const baseline = tf.memory().numTensors;
  // Which conv1 filters fire at the centre unit (13, 13) on any of the images.
  const fires = tf.tidy(() => {
    const acts = images.map((x) => model.run(x, ['conv1'])[0].slice([0, 13, 13, 0], [-1, 1, 1, -1]).max([0, 1, 2]));
    return (tf.stack(acts).max(0).arraySync() as number[]).map((v) => v > 0);
  });
  const reported = reportedDead('fashion-mnist-cnn-high-lr', 'conv1');
  assert.equal(reported.length, 25, 'samples/README.md: 25 of the 32 conv1 filters died during training');
  for (const c of reported) assert.equal(fires[c], false, `filter ${c} is reported dead on the test set`);
  let dead = 0;
  for (let c = 0; c < 32; c++) {
    const r = await effectiveReceptiveField(model, 'conv1', images, { channel: c });
    assert.ok(r.heatmap.every((v) => Number.isFinite(v)), `channel ${c}: non-finite heat`);
    if (fires[c]) {
      assert.ok(r.radii.every((x) => Number.isFinite(x.radius)), `channel ${c} fires but has no radii`);
      assert.equal(Math.max(...r.heatmap), 1);
    } else {
      dead++;
      assert.ok(r.heatmap.every((v) => v === 0), `channel ${c}: never fires, yet a gradient`);
      assert.ok(r.radii.every((x) => Number.isNaN(x.radius)));
      assert.equal(r.zeroGradientImages, 32);
      assert.match(r.note ?? '', /conv1.*zero gradient on all 32 images/);
    }
  }
  assertNoLeak(baseline, 'dead-unit ERFs');
  assert.ok(dead >= reported.length, `${dead} channels without gradient`);
  assert.ok(dead < 32, 'some channels are alive');
  tf.dispose(images);
  model.dispose();
});

test('a TF.js Graph model: ERF through GraphModel.execute, inside the theoretical box', async () => {
  await useWasm();
  const model = await loadModel(path.join(root, 'test/fixtures/models/tfjs_graph/model.json'));
  const pool = model.layers.find((l) => l.className === 'MaxPool')!.name;
  const images = [tf.randomUniform([4, 12, 12, 1], 0, 1, 'float32', 3) as tf.Tensor4D];
  const baseline = tf.memory().numTensors;
  const r = await effectiveReceptiveField(model, pool, images);
  assertNoLeak(baseline, 'graph ERF');
  assert.deepEqual(r.outputSize, [5, 5]);
  assert.deepEqual(r.theoretical!.size, [4, 4]);
  const [top, left, bottom, right] = r.theoretical!.box;
  for (let y = 0; y < 12; y++) for (let x = 0; x < 12; x++) if (y < top || y > bottom || x < left || x > right) assert.equal(heatAt(r, y, x), 0);
  assert.equal(Math.max(...r.heatmap), 1);
  tf.dispose(images);
  model.dispose();
});

test('softmax: all channels summed is constant (noted, zeros); one channel has a gradient over the whole image', async () => {
  await useWasm();
  const model = await loadModel(goodModel);
  const images = (await sampleImages(model)).slice(0, 1);
  const summed = await effectiveReceptiveField(model, 'predictions', images);
  assert.ok(summed.heatmap.every((v) => v === 0));
  assert.match(summed.note ?? '', /softmax.*sum to 1/);
  const one = await effectiveReceptiveField(model, 'predictions', images, { channel: 3 });
  assert.deepEqual(one.outputSize, [1, 1]);
  assert.equal(Math.max(...one.heatmap), 1);
  assert.deepEqual(one.theoretical!.box, [0, 0, 25, 25], 'global: every pixel the valid convolutions read');
  tf.dispose(images);
  model.dispose();
});

test('bad arguments name the model, the layer and the problem', async () => {
  await useWasm();
  const model = await loadModel(goodModel);
  const baseline = tf.memory().numTensors;
  const images = [tf.zeros([1, 28, 28, 1]) as tf.Tensor4D];
  const wrongSize = [tf.zeros([1, 32, 32, 1]) as tf.Tensor4D];
  await assert.rejects(effectiveReceptiveField(model, 'nope', images), /model\.json: no layer named "nope"/);
  await assert.rejects(effectiveReceptiveField(model, 'conv1_input', images), /layer "conv1_input" is the model's input/);
  await assert.rejects(effectiveReceptiveField(model, 'conv1', images, { channel: 32 }), /layer "conv1" has 32 channels \(0…31\); there is no channel 32/);
  await assert.rejects(effectiveReceptiveField(model, 'conv2', images, { unit: [11, 0] }), /layer "conv2" has output positions 0…10 × 0…10; there is no unit \(11, 0\)/);
  await assert.rejects(effectiveReceptiveField(model, 'conv1', wrongSize), /input batch has shape \[1, 32, 32, 1\]; the model takes \[N, 28, 28, 1\]/);
  await assert.rejects(effectiveReceptiveField(model, 'conv1', []), /no images/);
  await assert.rejects(effectiveReceptiveField(model, 'conv1', images, { fractions: [1.5] }), /fraction 1.5/);
  tf.dispose([...images, ...wrongSize]);
  assertNoLeak(baseline, 'failed calls');
  model.dispose();
});

test('cancellation: an aborted signal stops between batches and frees everything', async () => {
  await useWasm();
  const model = await loadModel(goodModel);
  const controller = new AbortController();
  const baseline = tf.memory().numTensors;
  let served = 0;
  async function* batches(): AsyncGenerator<tf.Tensor4D> {
    for (let i = 0; i < 5; i++) {
      const t = tf.randomUniform([8, 28, 28, 1]) as tf.Tensor4D;
      try {
        served++;
        yield t;
      } finally {
        t.dispose();
      }
      controller.abort();
    }
  }
  await assert.rejects(effectiveReceptiveField(model, 'conv2', batches(), {}, controller.signal), /Cancelled/);
  assert.equal(served, 2, 'stopped at the first batch after the abort');
  assertNoLeak(baseline, 'cancelled ERF');
  model.dispose();
});

test('worker job: dataset range, image ids, mean image, progress per batch; single image', async () => {
  await useWasm();
  const progress: [number, number][] = [];
  const ctx: JobContext = { signal: new AbortController().signal, backend: 'wasm', progress: (d, t) => progress.push([d, t]) };
  const baseline = tf.memory().numTensors;
  const r = await JOBS.effectiveReceptiveField({ model: goodModel, layer: 'conv2', data: pngs, start: 100, limit: 20 }, ctx);
  assert.equal(r.backend, 'wasm');
  assert.equal(r.images, 20);
  assert.equal(r.imagesUsed.length, 20);
  assert.match(r.imagesUsed[0], /1_Trouser/);
  assert.equal(r.source, pngs);
  assert.deepEqual(progress, [[8, 20], [16, 20], [20, 20]]);
  assert.deepEqual(r.inputShape, [28, 28, 1]);
  assert.equal(r.meanInput.length, 28 * 28);
  assert.ok(r.meanInput.every((v) => v >= 0 && v <= 1));
  assert.ok(r.theoretical);
  const one = await JOBS.effectiveReceptiveField({ model: goodModel, layer: 'pool2', image: path.join(pngs, '8_Bag/00030.png') }, ctx);
  assert.equal(one.images, 1);
  assert.deepEqual(one.imagesUsed, [path.join(pngs, '8_Bag/00030.png')]);
  const table = await JOBS.erfRadiiPerLayer({ model: goodModel, data: pngs, limit: 8 }, ctx);
  assert.deepEqual(table.layers.map((l) => l.layer), ['conv1', 'pool1', 'conv2', 'pool2']);
  assert.equal(table.imagesUsed.length, 8);
  await assert.rejects(JOBS.effectiveReceptiveField({ model: goodModel, layer: 'conv1', data: pngs, start: 1000 }, ctx), /no image number 1000 to start from \(the dataset has 1000\)/);
  clearModelCache();
  await new Promise((res) => setTimeout(res, 10));
  assertNoLeak(baseline, 'jobs');
});

test('EngineClient: ERF in a worker with progress, cancellation, then the per-layer table', async () => {
  const client = new EngineClient({ workers: 1 });
  try {
    const seen: number[] = [];
    const r = await client.effectiveReceptiveField({ model: goodModel, layer: 'pool2', data: pngs, limit: 16 }, { onProgress: (d) => seen.push(d) });
    assert.deepEqual(seen, [8, 16]);
    assert.ok(r.heatmap instanceof Float32Array && r.heatmap.length === 784);
    assert.equal(Math.max(...r.heatmap), 1);
    assert.deepEqual(r.theoretical!.size, [10, 10]);
    const controller = new AbortController();
    const cancelled = client.effectiveReceptiveField(
      { model: goodModel, layer: 'conv2', data: pngs, limit: 200 },
      { signal: controller.signal, onProgress: () => controller.abort() },
    );
    await assert.rejects(cancelled, CancelledError);
    const table = await client.erfRadiiPerLayer({ model: goodModel, data: pngs, limit: 8, layers: ['conv1', 'conv2'] });
    assert.deepEqual(table.layers.map((l) => l.layer), ['conv1', 'conv2']);
    assert.ok(table.layers[1].radii[0].radius > table.layers[0].radii[0].radius);
  } finally {
    await client.dispose();
  }
});
