/**
 * Embeddings of a real model's codes (src/engine/analyses/embed.ts) and through the worker pool
 * (EngineClient.embed): the sample Fashion-MNIST CNN on 500 of its test images — codes of the
 * layer before the last Dense layer (fc1, 128 values), labels, predictions, ids, a 10-NN accuracy
 * well above chance, trustworthiness; conv layers averaged per channel; PCA and UMAP; frames
 * streamed from the worker; cancellation; no tensors left behind.
 */
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { embed, embeddingLayer, type EmbeddingFrame } from '../../src/engine/analyses/embed';
import { loadModel } from '../../src/engine/io/models';
import { openDataset } from '../../src/engine/io/datasets';
import { EngineClient } from '../../src/engine/client';
import { CancelledError } from '../../src/engine/workerPool';
import { umapEmbed } from '../../src/engine/embedding/umap';
import { knnAccuracy } from '../../src/engine/embedding/quality';
import { normalRandom } from '../../src/engine/random';
import { assertNoLeak, useWasm } from './analysisFixtures';

before(useWasm);

const root = path.resolve(__dirname, '../../..');
const modelFile = path.join(root, 'samples/fashion-mnist-cnn/model.json');
const idx = path.join(root, 'samples/data/t10k-images-idx3-ubyte.gz');

test('t-SNE of fc1 codes for 500 test images: labels, predictions, ids, 10-NN accuracy > 0.7', async () => {
  const model = await loadModel(modelFile);
  try {
    const dataset = await openDataset(idx);
    assert.equal(embeddingLayer(model), 'fc1');
    const baseline = tf.memory().numTensors;
    const phases = new Set<string>();
    const r = await embed(model, dataset, { limit: 500, seed: 3 }, { onProgress: (_d, _t, phase) => phases.add(phase) });
    assertNoLeak(baseline, 'embed');
    assert.equal(r.method, 'tsne');
    assert.equal(r.layer, 'fc1');
    assert.equal(r.dims, 128);
    assert.equal(r.points.length, 1000);
    assert.ok(r.points.every(Number.isFinite));
    assert.equal(r.labels?.length, 500);
    assert.deepEqual(r.classNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    // 500 of the 10000 records, spread evenly (every 20th), not the first 500.
    assert.equal(r.ids[0], `${idx}#0`);
    assert.equal(r.ids[1], `${idx}#20`);
    assert.equal(r.ids[499], `${idx}#9980`);
    // The model is 90.8% accurate on the test set: predictions agree with most labels.
    let agree = 0;
    for (let i = 0; i < 500; i++) if (r.predicted[i] === r.labels![i]) agree++;
    assert.ok(agree / 500 > 0.85, `prediction accuracy ${agree / 500}`);
    assert.ok(r.knnAccuracy !== null && r.knnAccuracy > 0.7, `10-NN accuracy ${r.knnAccuracy}`);
    assert.ok(r.trustworthiness > 0.8 && r.trustworthiness <= 1, `trustworthiness ${r.trustworthiness}`);
    assert.equal(r.trustworthinessSample, 500);
    assert.ok(r.seconds > 0 && r.codeSeconds > 0);
    assert.deepEqual([...phases].sort(), ['affinities', 'codes', 'neighbors', 'optimize', 'quality']);
    console.log(`# 500 images: 10-NN accuracy ${r.knnAccuracy?.toFixed(3)}, trustworthiness ${r.trustworthiness.toFixed(3)}, ${r.seconds.toFixed(1)} s`);

    // Same seed, same picture.
    const again = await embed(model, dataset, { limit: 500, seed: 3 });
    assert.deepEqual(Array.from(again.points), Array.from(r.points));
  } finally {
    model.dispose();
  }
});

test('a conv layer is averaged per channel; PCA; a wrong layer name is an error naming it', async () => {
  const model = await loadModel(modelFile);
  try {
    const dataset = await openDataset(idx);
    const baseline = tf.memory().numTensors;
    const frames: EmbeddingFrame[] = [];
    const r = await embed(model, dataset, { layer: 'conv2', method: 'pca', limit: 200 }, { onFrame: (f) => frames.push(f) });
    assertNoLeak(baseline, 'embed pca');
    assert.equal(r.method, 'pca');
    assert.equal(r.layer, 'conv2');
    assert.equal(r.dims, 64);
    assert.equal(frames.length, 1);
    assert.deepEqual(Array.from(frames[0].points), Array.from(r.points));
    // PCA coordinates are centred, first axis with the larger spread.
    let mx = 0, my = 0, vx = 0, vy = 0;
    for (let i = 0; i < 200; i++) {
      mx += r.points[2 * i] / 200;
      my += r.points[2 * i + 1] / 200;
    }
    for (let i = 0; i < 200; i++) {
      vx += (r.points[2 * i] - mx) ** 2;
      vy += (r.points[2 * i + 1] - my) ** 2;
    }
    assert.ok(Math.abs(mx) < 1e-3 && Math.abs(my) < 1e-3);
    assert.ok(vx >= vy);
    await assert.rejects(embed(model, dataset, { layer: 'nope', limit: 10 }), new RegExp(`${modelFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: no layer named "nope"`));
    await assert.rejects(embed(model, dataset, { method: 'mds' as never, limit: 10 }), /method must be one of tsne, pca, umap/);
  } finally {
    model.dispose();
  }
});

test('UMAP (umap-js on the exact kNN graph) separates Gaussian clusters, seeded', async () => {
  const r = normalRandom(8);
  const n = 300, d = 8, clusters = 4;
  const x = new Float32Array(n * d);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % clusters;
    for (let j = 0; j < d; j++) x[i * d + j] = r() + (j === labels[i] ? 12 : 0);
  }
  const frames: number[] = [];
  const a = await umapEmbed(x, n, d, { seed: 4, iterations: 200 }, { onFrame: (f) => frames.push(f.iteration), frameIntervalMs: 0 });
  const b = await umapEmbed(x, n, d, { seed: 4, iterations: 200 });
  assert.equal(a.iterations, 200);
  assert.equal(frames.length, 200);
  assert.equal(knnAccuracy(a.points, labels, n, 10), 1);
  assert.deepEqual(Array.from(a.points), Array.from(b.points));
});

test('EngineClient.embed: codes over two workers, frames streamed from the projection worker, cancellation', async () => {
  const client = new EngineClient({ workers: 2 });
  try {
    const frames: EmbeddingFrame[] = [];
    const codes: number[] = [];
    const phases: string[] = [];
    const r = await client.embed(
      modelFile,
      { data: idx, limit: 400, seed: 1 },
      {
        onProgress: (done, total) => {
          codes.push(done);
          assert.equal(total, 400);
        },
        onFrame: (f) => frames.push(f),
        onPhase: (p) => {
          if (phases.at(-1) !== p) phases.push(p);
        },
      },
    );
    assert.equal(r.backend, 'wasm');
    assert.equal(r.points.length, 800);
    assert.ok(r.points instanceof Float32Array);
    assert.equal(r.ids.length, 400);
    assert.equal(r.ids[200], `${idx}#5000`); // spread evenly: every 25th record
    assert.equal(r.ids[399], `${idx}#9975`);
    assert.equal(r.labels?.length, 400);
    assert.equal(r.predicted.length, 400);
    assert.equal(r.dataset.size, 10000);
    assert.ok(r.knnAccuracy! > 0.7);
    assert.equal(codes.at(-1), 400);
    assert.deepEqual(phases, ['codes', 'neighbors', 'affinities', 'optimize', 'quality']);
    assert.ok(frames.length >= 1);
    assert.ok(frames.every((f) => f.points instanceof Float32Array && f.points.length === 800 && f.iterations === 750));
    assert.equal(frames.at(-1)!.iteration, 750);
    assert.deepEqual(Array.from(frames.at(-1)!.points), Array.from(r.points));
    for (let i = 1; i < frames.length; i++) assert.ok(frames[i].iteration > frames[i - 1].iteration);

    // Cancelled during the optimisation: rejects, and the pool still works.
    const controller = new AbortController();
    const cancelled = client.embed(modelFile, { data: idx, limit: 400, iterations: 100000 }, { signal: controller.signal, onFrame: () => controller.abort() });
    await assert.rejects(cancelled, CancelledError);
    const pca = await client.embed(modelFile, { data: idx, limit: 100, method: 'pca' });
    assert.equal(pca.points.length, 200);
    await assert.rejects(client.embed(modelFile, { data: idx, limit: 50, perplexity: -2 }), /perplexity must be a number > 0/);
  } finally {
    await client.dispose();
  }
});
