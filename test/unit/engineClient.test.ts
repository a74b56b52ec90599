/**
 * The engine through its worker pool, as the extension host and the CLI use it: sharding over
 * workers gives the same numbers as one worker, cancellation stops a job, and every unit the scan
 * calls dead really never fires. Plus the in-process jobs leave no tensors behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { EngineClient } from '../../src/engine/client';
import { CancelledError } from '../../src/engine/workerPool';
import { initBackend } from '../../src/engine/backend';
import { JOBS, clearModelCache, type JobContext } from '../../src/engine/jobs';
import { loadModel } from '../../src/engine/io/models';
import { openDataset } from '../../src/engine/io/datasets';
import { loadCnnLensConfig } from '../../src/engine/config/cnnlensConfig';
import { activationPoints } from '../../src/engine/analyses/activationPoints';

const root = path.resolve(__dirname, '../../..');
const good = path.join(root, 'samples/fashion-mnist-cnn/model.json');
const highLr = path.join(root, 'samples/fashion-mnist-cnn-high-lr/model.json');
const pngs = path.join(root, 'samples/data/fashion-mnist-1000');

test('a scan split over two workers equals the same scan on one worker', async () => {
  const one = new EngineClient({ workers: 1 });
  const two = new EngineClient({ workers: 2 });
  try {
    const [a, b] = await Promise.all([one.scan(highLr, { data: pngs, limit: 400 }), two.scan(highLr, { data: pngs, limit: 400 })]);
    assert.equal(a.images, 400);
    assert.equal(b.images, 400);
    assert.deepEqual(
      b.layers.map((l) => [l.name, l.dead, l.dying]),
      a.layers.map((l) => [l.name, l.dead, l.dying]),
    );
    for (let i = 0; i < a.layers.length; i++) {
      for (let u = 0; u < a.layers[i].units; u++) {
        assert.ok(Math.abs(a.layers[i].firingRate[u] - b.layers[i].firingRate[u]) < 1e-12);
        assert.ok(Math.abs(a.layers[i].max[u] - b.layers[i].max[u]) <= 1e-5 * Math.max(1, Math.abs(a.layers[i].max[u])));
      }
    }
  } finally {
    await Promise.all([one.dispose(), two.dispose()]);
  }
});

test('cancelling a scan rejects with CancelledError and the pool keeps working', async () => {
  const client = new EngineClient({ workers: 2 });
  try {
    const controller = new AbortController();
    let progressCalls = 0;
    const scan = client.scan(good, { data: pngs, batchSize: 16 }, {
      signal: controller.signal,
      onProgress: () => {
        if (++progressCalls === 1) controller.abort();
      },
    });
    await assert.rejects(scan, CancelledError);
    const after = await client.summary(good);
    assert.equal(after.summary.layers.at(-1)?.name, 'predictions');
  } finally {
    await client.dispose();
  }
});

test('progress reaches the total', async () => {
  const client = new EngineClient({ workers: 2 });
  try {
    let last = [0, 0];
    await client.scan(good, { data: pngs, limit: 200 }, { onProgress: (d, t) => (last = [d, t]) });
    assert.deepEqual(last, [200, 200]);
  } finally {
    await client.dispose();
  }
});

test('every unit reported dead has a maximum ≤ 0 on every scanned image', async () => {
  const client = new EngineClient({ workers: 2 });
  let scan;
  try {
    scan = await client.scan(highLr, { data: pngs });
  } finally {
    await client.dispose();
  }
  const dead = scan.layers.filter((l) => l.dead.length > 0);
  assert.ok(dead.length > 0, 'the high-learning-rate sample has dead units');

  await initBackend('wasm');
  const model = await loadModel(highLr);
  const config = await loadCnnLensConfig(highLr);
  const dataset = await openDataset(pngs, { classNames: config.classNames });
  const points = activationPoints(model, dead.map((l) => l.name));
  let images = 0;
  try {
    for await (const batch of dataset.batches({ batchSize: 100, geometry: model.input, preprocessing: config.preprocessing })) {
      images += batch.count;
      const x = tf.tensor4d(batch.images, [batch.count, model.input.height, model.input.width, model.input.channels]);
      const outs = model.run(x, points.map((p) => p.point));
      for (let i = 0; i < dead.length; i++) {
        const t = outs[i];
        const units = t.shape[t.shape.length - 1]!;
        const values = t.dataSync();
        for (let k = 0; k < values.length; k++) {
          if (dead[i].dead.includes(k % units)) assert.ok(values[k] <= 0, `${dead[i].name} unit ${k % units} fires (${values[k]})`);
        }
      }
      tf.dispose([x, ...outs]);
    }
  } finally {
    model.dispose();
  }
  assert.equal(images, scan.images);
});

test('in-process jobs leave tf.memory().numTensors at its baseline', async () => {
  await initBackend('wasm');
  const baseline = tf.memory().numTensors;
  const ctx: JobContext = { signal: new AbortController().signal, backend: 'wasm', progress: () => undefined };
  await JOBS.summary({ model: good }, ctx);
  const acts = await JOBS.activations({ model: good, data: pngs, index: 3 }, ctx);
  assert.ok(acts.layers.length >= 3);
  await JOBS.filters({ model: good }, ctx);
  const shard = await JOBS.scanShard({ model: good, data: pngs, start: 0, end: 64, batchSize: 32 }, ctx);
  await JOBS.finishScan({ model: good, shards: [shard.accumulator], dyingThreshold: 0.01 });
  const ev = await JOBS.evaluateShard({ model: good, data: pngs, start: 0, end: 64, batchSize: 32 }, ctx);
  await JOBS.finishEvaluate({ shards: [ev.accumulator] });
  clearModelCache();
  await new Promise((r) => setImmediate(r));
  assert.equal(tf.memory().numTensors, baseline);
});
