/**
 * Data-parallel fine-tuning (src/engine/training/dataParallel.ts, gradientPeer.ts): a batch split
 * between the lead and a peer replica gives the full batch's gradients; through the pool, a
 * fine-tuning with two workers splits every batch, trains as well as one worker does, keeps the
 * frozen layers bit-identical, and ends (or is stopped / cancelled) with both jobs settled.
 * Real Fashion-MNIST images, the bundled sample CNN.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { EngineClient } from '../../src/engine/client';
import { initBackend } from '../../src/engine/backend';
import { CancelledError, type WorkerPool } from '../../src/engine/workerPool';
import { loadModel } from '../../src/engine/io/models';
import { loadCnnLensConfig } from '../../src/engine/config/cnnlensConfig';
import { DEFAULT_PREPROCESSING } from '../../src/engine/io/datasets';
import { openTrainingData } from '../../src/engine/training/trainingData';
import { stratifiedSplit } from '../../src/engine/training/split';
import { decodeItems } from '../../src/engine/training/imageStore';
import { batchGradients } from '../../src/engine/training/batchGradients';
import { fineTunePredict } from '../../src/engine/training/fineTunePredict';
import { DataParallelLead } from '../../src/engine/training/dataParallel';
import { serveGradients } from '../../src/engine/training/gradientPeer';
import { DATA_PARALLEL_MIN_BATCH, useDataParallel } from '../../src/engine/training/dataParallelMessages';
import type { TrainingProgress } from '../../src/engine/training/types';
import { CLASS_FOLDERS, SAMPLES, lowContrastBright, tmpDir, writeClassFolders } from './transferFixtures';
import { weightBytes } from './transferWeights';
import { maxRelativeError } from './analysisFixtures';

const cnn = path.join(SAMPLES, 'fashion-mnist-cnn/model.json');
let dir: string;
let plain: string;
let shifted: string;

before(async () => {
  await initBackend('wasm');
  dir = tmpDir('cnn-lens-data-parallel-');
  plain = await writeClassFolders(path.join(dir, 'plain'), { classes: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], perClass: 7 });
  shifted = await writeClassFolders(path.join(dir, 'shifted'), { classes: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], perClass: 100, transform: lowContrastBright });
});

after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const inFlight = (client: EngineClient): number => (client as unknown as { pool: WorkerPool }).pool.jobsInFlight;

test('a batch split between lead and peer gives the full batch’s gradients (1e-5 relative); both sides dispose their tensors', async (t) => {
  const listing = await openTrainingData(plain, { classNames: CLASS_FOLDERS });
  const n = listing.items.length;
  const images = new Float32Array(n * 784);
  decodeItems(listing.items, Int32Array.from({ length: n }, (_, i) => i), { height: 28, width: 28, channels: 1 }, DEFAULT_PREPROCESSING, images);
  const labels = Int32Array.from(listing.items, (i) => i.label);

  const baseline = tf.memory().numTensors;
  const model = await loadModel(cnn);
  const lm = model.layersModel!;
  for (const l of lm.layers) l.trainable = true;
  const predict = fineTunePredict(lm);
  const variables = lm.trainableWeights.map((w) => w.read() as tf.Variable);
  const { port1, port2 } = new MessageChannel();
  const peer = serveGradients(port2, () => loadModel(cnn), new AbortController().signal);
  const lead = new DataParallelLead(port1, { predict, variables, classes: 10, trainableLayers: lm.layers.map((l) => l.name) });
  const adam = tf.train.adam(1e-2);
  try {
    // Move the lead's weights away from the file's first: the peer must compute with the lead's.
    const first = tf.tensor(images.subarray(0, 64 * 784), [64, 28, 28, 1]);
    const g0 = batchGradients(predict, variables, 10, first, labels.subarray(0, 64));
    adam.applyGradients(g0.grads.map((tensor, i) => ({ name: variables[i].name, tensor })));
    tf.dispose([first, ...g0.grads]);

    // 64: equal halves; 37: unequal halves (18 + 19), weighted by their sizes; 8: too small to split.
    for (const size of [64, 37, 8]) {
      const x = tf.tensor(images.subarray(0, size * 784), [size, 28, 28, 1]);
      const y = labels.subarray(0, size);
      const full = batchGradients(predict, variables, 10, x, y);
      const split = await lead.gradients(x, y);
      try {
        assert.equal(split.grads.length, variables.length);
        const worst = Math.max(...split.grads.map((g, i) => maxRelativeError(g.dataSync(), full.grads[i].dataSync())));
        t.diagnostic(`batch ${size}: worst relative gradient error ${worst.toExponential(2)}, loss ${full.loss.toFixed(5)}`);
        assert.ok(worst <= 1e-5, `batch ${size}: relative error ${worst}`);
        assert.ok(Math.abs(split.loss - full.loss) <= 1e-5 * Math.abs(full.loss), `loss ${split.loss} vs ${full.loss}`);
        assert.equal(split.hits, full.hits);
        if (size < DATA_PARALLEL_MIN_BATCH) {
          // Computed by the lead alone, exactly as the loop would.
          split.grads.forEach((g, i) => assert.deepEqual(g.dataSync(), full.grads[i].dataSync()));
        }
      } finally {
        tf.dispose([x, ...full.grads, ...split.grads]);
      }
    }
    assert.equal(lead.splitBatches, 2);
  } finally {
    lead.close();
    adam.dispose();
    model.dispose();
  }
  assert.deepEqual(await peer, { steps: 2 });
  await new Promise((r) => setImmediate(r));
  assert.equal(tf.memory().numTensors, baseline);
});

test('batches are split only over two or more workers of a single-threaded backend, from DATA_PARALLEL_MIN_BATCH images', () => {
  assert.equal(useDataParallel(64, 2, 'wasm'), true);
  assert.equal(useDataParallel(64, 2, 'cpu'), true);
  assert.equal(useDataParallel(DATA_PARALLEL_MIN_BATCH - 1, 2, 'wasm'), false);
  assert.equal(useDataParallel(64, 1, 'wasm'), false);
  // tfjs-node spreads each op over every core already.
  assert.equal(useDataParallel(64, 2, 'tensorflow'), false);
  assert.equal(useDataParallel(64, 2, undefined), false);
});

test('a failing or vanished peer fails the step with a message that says so', async () => {
  const model = await loadModel(cnn);
  const lm = model.layersModel!;
  for (const l of lm.layers) l.trainable = true;
  const variables = lm.trainableWeights.map((w) => w.read() as tf.Variable);
  const x = tf.zeros([32, 28, 28, 1]);
  const y = new Int32Array(32);
  try {
    // The replica trains other layers than the lead: it refuses, and the lead reports why.
    const a = new MessageChannel();
    // Its outcome is observed at once (a rejection nobody awaits yet would end the test process).
    const peer = serveGradients(a.port2, () => loadModel(cnn), new AbortController().signal).then(() => undefined, (e: Error) => e);
    const lead = new DataParallelLead(a.port1, { predict: fineTunePredict(lm), variables, classes: 10, trainableLayers: ['fc1'] });
    await assert.rejects(lead.gradients(x, y), /^Error: data-parallel fine-tuning: the peer worker failed: .*model\.json: the replica's trained variables \(.*\) differ from the lead's/);
    assert.match(String(await peer), /differ from the lead's/);
    lead.close();

    // The peer's job is cancelled mid-run: its end of the channel closes.
    const b = new MessageChannel();
    const cancel = new AbortController();
    const peer2 = serveGradients(b.port2, () => loadModel(cnn), cancel.signal).then(() => undefined, (e: Error) => e);
    const lead2 = new DataParallelLead(b.port1, { predict: fineTunePredict(lm), variables, classes: 10, trainableLayers: lm.layers.map((l) => l.name) });
    cancel.abort();
    assert.match(String(await peer2), /Cancelled/);
    await assert.rejects(lead2.gradients(x, y), /data-parallel fine-tuning: the peer worker stopped before the training ended/);
    lead2.close();
  } finally {
    tf.dispose(x);
    model.dispose();
  }
});

test('through the pool with 2 workers every batch is split; it trains like one worker, frozen layers stay bit-identical, the model reloads', async (t) => {
  const options = { data: shifted, validationSplit: 0.3, epochs: 5 };
  const one = new EngineClient({ workers: 1 });
  const two = new EngineClient({ workers: 2 });
  const out = path.join(dir, 'tuned-2');
  let single;
  let r;
  try {
    // One epoch on one worker: the same run, up to float rounding in 22 Adam steps.
    single = await one.fineTune(cnn, { ...options, epochs: 1, out: path.join(dir, 'tuned-1') });
    r = await two.fineTune(cnn, { ...options, out });
    assert.equal(inFlight(two), 0, 'lead and peer jobs both settled');
  } finally {
    await Promise.all([one.dispose(), two.dispose()]);
  }
  assert.equal(single.splitBatches, undefined, 'one worker: no peer');
  // 700 training images in batches of 32: 22 batches an epoch (the last of 28), all split.
  assert.equal(r.splitBatches, 22 * r.epochs.length);
  t.diagnostic(`epoch 1 loss: one worker ${single.epochs[0].loss.toFixed(6)}, two ${r.epochs[0].loss.toFixed(6)}; val loss ${single.epochs[0].valLoss.toFixed(6)} vs ${r.epochs[0].valLoss.toFixed(6)}`);
  assert.ok(Math.abs(r.epochs[0].loss - single.epochs[0].loss) <= 1e-4 * single.epochs[0].loss, `epoch 1 loss ${r.epochs[0].loss} vs ${single.epochs[0].loss}`);
  assert.ok(Math.abs(r.epochs[0].valLoss - single.epochs[0].valLoss) <= 1e-4 * single.epochs[0].valLoss, `epoch 1 val loss ${r.epochs[0].valLoss} vs ${single.epochs[0].valLoss}`);
  t.diagnostic(`before ${(100 * r.before!.valAcc).toFixed(1)} %, after ${(100 * r.best.valAcc).toFixed(1)} % (epoch ${r.best.epoch}, ${r.seconds.toFixed(1)} s)`);
  assert.ok(r.best.valAcc >= r.before!.valAcc + 0.2, `before ${r.before!.valAcc}, after ${r.best.valAcc}`);

  const saved = path.join(out, 'model.json');
  for (const w of ['conv1/kernel', 'conv1/bias', 'conv2/kernel', 'conv2/bias']) assert.ok(weightBytes(saved, w).equals(weightBytes(cnn, w)), `${w} changed`);
  for (const w of ['fc1/kernel', 'predictions/kernel']) assert.ok(!weightBytes(saved, w).equals(weightBytes(cnn, w)), `${w} was not trained`);

  // The saved model reloads and scores the reported best accuracy on the validation split.
  const listing = await openTrainingData(shifted, { classNames: CLASS_FOLDERS });
  const split = stratifiedSplit(listing.items.map((i) => i.label), 10, 0.3, 1);
  const images = new Float32Array(split.validation.length * 784);
  decodeItems(listing.items, split.validation, { height: 28, width: 28, channels: 1 }, DEFAULT_PREPROCESSING, images);
  const model = await loadModel(saved);
  try {
    const predicted = tf.tidy(() => (model.layersModel!.predict(tf.tensor4d(images, [split.validation.length, 28, 28, 1])) as tf.Tensor).argMax(-1).dataSync());
    let hits = 0;
    split.validation.forEach((item, k) => (hits += predicted[k] === listing.items[item].label ? 1 : 0));
    assert.ok(Math.abs(hits / split.validation.length - r.best.valAcc) <= 1 / split.validation.length, `reloaded ${hits / split.validation.length} vs ${r.best.valAcc}`);
  } finally {
    model.dispose();
  }
});

test('stopping a data-parallel fine-tuning after an epoch keeps the best epoch; both jobs settle', async () => {
  const client = new EngineClient({ workers: 2 });
  const stop = new AbortController();
  const out = path.join(dir, 'stopped');
  try {
    const r = await client.fineTune(
      cnn,
      { data: shifted, out, validationSplit: 0.3, epochs: 50, patience: 0 },
      { signal: stop.signal, onProgress: (_d, _t, detail) => (detail as TrainingProgress).phase === 'epoch' && stop.abort() },
    );
    assert.equal(inFlight(client), 0, 'lead and peer jobs both settled');
    assert.equal(r.cancelled, true);
    assert.ok(r.epochs.length >= 1 && r.epochs.length < 50, `${r.epochs.length} epochs`);
    assert.ok(r.splitBatches! >= 22, `${r.splitBatches} split batches`);
    assert.equal(r.out, out);
    const config = await loadCnnLensConfig(path.join(out, 'model.json'));
    assert.equal(config.trainedFrom?.metrics.cancelled, true);
    assert.equal(config.trainedFrom?.metrics.best.epoch, r.best.epoch);
  } finally {
    await client.dispose();
  }
});

test('cancelling a data-parallel fine-tuning in its first epoch writes nothing; both jobs settle and the pool still works', async () => {
  const client = new EngineClient({ workers: 2 });
  const stop = new AbortController();
  const out = path.join(dir, 'cancelled');
  try {
    await assert.rejects(
      client.fineTune(cnn, { data: shifted, out, validationSplit: 0.3 }, { signal: stop.signal, onProgress: (_d, _t, detail) => (detail as TrainingProgress).phase === 'batch' && stop.abort() }),
      CancelledError,
    );
    assert.equal(inFlight(client), 0, 'lead and peer jobs both settled');
    assert.equal(fs.existsSync(out), false);
    const again = await client.planTraining(cnn, 'fine-tune', { data: shifted, out, validationSplit: 0.3 });
    assert.equal(again.trainImages, 700);
  } finally {
    await client.dispose();
  }
});
