/**
 * A new classifier head through the worker pool, on real data: the base trained on Fashion-MNIST
 * classes 0–4 (samples/fashion-mnist-base-0-4, samples/train/trainTransferBase.ts) gets a head for
 * classes 5–9 from 30 training images per class, and is compared with the same network trained
 * from scratch on the same images at three learning rates. Which 150 images are drawn moves
 * both numbers by several points (measured: the head's lead was 0.4, 2.8 and 0.7 points on three
 * draws), so the comparison is made on three draws (split seeds), each judged on 2,350 other
 * images. The saved model reloads, predicts what training reported, and its base weights are the
 * source's byte for byte. Cancelling keeps the best epoch or nothing.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { EngineClient } from '../../src/engine/client';
import { JOBS, type JobContext } from '../../src/engine/jobs';
import { CancelledTraining } from '../../src/engine/training/trainLoop';
import { CancelledError } from '../../src/engine/workerPool';
import { initBackend } from '../../src/engine/backend';
import { loadModel } from '../../src/engine/io/models';
import { saveLayersModel } from '../../src/engine/io/models/saveLayersModel';
import { loadCnnLensConfig } from '../../src/engine/config/cnnlensConfig';
import { stratifiedSplit } from '../../src/engine/training/split';
import { openTrainingData } from '../../src/engine/training/trainingData';
import { decodeItems } from '../../src/engine/training/imageStore';
import { DEFAULT_PREPROCESSING } from '../../src/engine/io/datasets';
import type { TrainingProgress, TrainingResult } from '../../src/engine/training/types';
import { buildBaseModel } from '../../samples/train/trainTransferBase';
import { SAMPLES, tmpDir, writeClassFolders } from './transferFixtures';
import { weightBytes } from './transferWeights';

const base = path.join(SAMPLES, 'fashion-mnist-base-0-4/model.json');
/** 30 training images per class; each draw is judged on VALIDATION_PER_CLASS × 5 others. */
const TRAIN_PER_CLASS = 30;
const VALIDATION_PER_CLASS = 470;
const PER_CLASS = TRAIN_PER_CLASS + VALIDATION_PER_CLASS;
const SPLIT = VALIDATION_PER_CLASS / PER_CLASS;
const VALIDATION_IMAGES = 5 * VALIDATION_PER_CLASS;
/** Split seeds: each draws other 30 training images per class (and batch orders). */
const DRAWS = [1, 2, 3];
/**
 * The head sits on the last conv layer's output (a user's choice; the default, fc1's input, is
 * specific to the base's five classes: measured 87–88 % on draw 1, README).
 */
const CUT_AT = 'conv2';
const HIDDEN = 0;
/**
 * 7,744 features per image: at the head default (0.01) the validation loss bottoms out after one
 * or two epochs while the accuracy still climbs; 3e-3 with patience 10 converges in 15–30 epochs
 * (measured; 1e-3 needed 50–110 epochs for the same accuracy).
 */
const HEAD_RATE = 3e-3;
/** The from-scratch baseline's learning-rate grid: it keeps the best epoch of its best rate. */
const SCRATCH_RATES = [1e-3, 3e-3, 1e-2];
const SCRATCH_EPOCHS = 30;
/**
 * Asserted lead of the head over the best from-scratch run, in accuracy points averaged over the
 * draws. Measured (deterministic: seeded, single-threaded wasm kernels): README, "Transfer
 * learning". The baseline is favoured: it is credited with its best accuracy over every epoch
 * and rate, seen on the very images it is judged on, while the head is judged at its saved epoch
 * (lowest validation loss).
 */
const MEAN_MARGIN_POINTS = 1;
/**
 * One-sided z of the pooled accuracies (two-proportion test on DRAWS × VALIDATION_IMAGES
 * predictions each; 2.33 ⇔ p ≤ 0.01). Treating the two as independent samples over-states the
 * noise: both are judged on the same images, so the paired difference is less noisy than this.
 */
const MIN_Z = 2.33;
let dir: string;
let data: string;
/** 80 images per class (30 training, 50 validation), for the stop and cancel tests. */
let smallData: string;
const SMALL_SPLIT = 50 / 80;
let client: EngineClient;

before(async () => {
  await initBackend('wasm');
  dir = tmpDir();
  data = await writeClassFolders(path.join(dir, 'classes-5-9'), { classes: [5, 6, 7, 8, 9], perClass: PER_CLASS });
  smallData = await writeClassFolders(path.join(dir, 'classes-5-9-small'), { classes: [5, 6, 7, 8, 9], perClass: 80 });
  client = new EngineClient({ workers: 2 });
});

after(async () => {
  await client.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface ScratchRun {
  learningRate: number;
  valAcc: number;
  epoch: number;
  seconds: number;
}

/** The same network as the base (same builder, another seed), every layer trained from scratch. */
async function trainFromScratch(seed: number, learningRate: number): Promise<ScratchRun> {
  const init = path.join(dir, `scratch-init-${seed}-${learningRate}`);
  const scratchModel = buildBaseModel(5, 21, 'scratch');
  await saveLayersModel(scratchModel, init);
  scratchModel.dispose();
  const r = await client.fineTune(path.join(init, 'model.json'), {
    data,
    out: path.join(dir, `scratch-${seed}-${learningRate}`),
    validationSplit: SPLIT,
    seed,
    fromLayer: 'conv1',
    learningRate,
    epochs: SCRATCH_EPOCHS,
    // No early stopping: the baseline gets every epoch, and is credited with its best accuracy.
    patience: 0,
  });
  assert.equal(r.plan.trainableParams, 320 + 18496 + 204928 + 645);
  assert.equal(r.plan.trainImages, 5 * TRAIN_PER_CLASS);
  assert.equal(r.plan.validationImages, VALIDATION_IMAGES);
  const best = r.epochs.reduce((a, e) => (e.valAcc > a.valAcc ? e : a));
  return { learningRate, valAcc: best.valAcc, epoch: best.epoch, seconds: r.seconds };
}

interface Draw {
  seed: number;
  head: TrainingResult;
  scratch: ScratchRun[];
  bestScratch: ScratchRun;
}

/** One draw: the head and the scratch grid, sharing the worker pool. */
async function runDraw(seed: number, onProgress?: (detail: TrainingProgress) => void): Promise<Draw> {
  const headRun = client.trainHead(
    base,
    { data, out: path.join(dir, `head-${seed}`), validationSplit: SPLIT, seed, cutAt: CUT_AT, hidden: HIDDEN, learningRate: HEAD_RATE, patience: 10 },
    { onProgress: (_d, _t, detail) => onProgress?.(detail as TrainingProgress) },
  );
  const scratchRuns = Promise.all(SCRATCH_RATES.map((lr) => trainFromScratch(seed, lr)));
  const [head, scratch] = await Promise.all([headRun, scratchRuns]);
  return { seed, head, scratch, bestScratch: scratch.reduce((a, r) => (r.valAcc > a.valAcc ? r : a)) };
}

const pct = (v: number): string => `${(100 * v).toFixed(1)} %`;

test('a new head on classes 5–9 from 30 images per class beats the same network trained from scratch at its best learning rate, over three draws', async (t) => {
  const phases = new Set<string>();
  const epochReports: number[] = [];
  const draws: Draw[] = [];
  for (const seed of DRAWS) {
    draws.push(
      await runDraw(seed, (d) => {
        if (seed !== DRAWS[0]) return;
        phases.add(d.phase);
        if (d.phase === 'epoch') epochReports.push(d.report.epoch);
      }),
    );
  }
  const first = draws[0].head;
  assert.deepEqual([...phases].sort(), ['batch', 'epoch', 'features']);
  assert.deepEqual(epochReports, first.epochs.map((e) => e.epoch));
  for (const { head } of draws) {
    assert.equal(head.plan.trainImages, 5 * TRAIN_PER_CLASS);
    assert.equal(head.plan.validationImages, VALIDATION_IMAGES);
    assert.equal(head.plan.cutAt, CUT_AT);
    assert.deepEqual(head.plan.featureShape, [11, 11, 64]);
    assert.equal(head.plan.trainableParams, 11 * 11 * 64 * 5 + 5);
    assert.equal(head.plan.frozenParams, 320 + 18496);
    for (const e of head.epochs) assert.deepEqual(Object.keys(e.dead).sort(), ['conv1', 'conv2']);
  }

  for (const d of draws) {
    t.diagnostic(
      `draw ${d.seed}: new head on ${CUT_AT} ${pct(d.head.best.valAcc)} (epoch ${d.head.best.epoch} of ${d.head.epochs.length}, ${d.head.seconds.toFixed(1)} s); ` +
        `from scratch, best epoch of ${SCRATCH_EPOCHS}: ${d.scratch.map((r) => `lr ${r.learningRate} ${pct(r.valAcc)} (epoch ${r.epoch}, ${r.seconds.toFixed(1)} s)`).join(', ')}; ` +
        `margin ${(100 * (d.head.best.valAcc - d.bestScratch.valAcc)).toFixed(1)} points`,
    );
    assert.ok(d.bestScratch.valAcc >= 0.8, `draw ${d.seed}, scratch: ${d.bestScratch.valAcc}`);
    // No draw may have the head behind by more than the noise of one draw.
    assert.ok(d.head.best.valAcc >= d.bestScratch.valAcc - 0.005, `draw ${d.seed}: head ${d.head.best.valAcc} vs scratch ${d.bestScratch.valAcc}`);
  }
  const mean = (f: (d: Draw) => number): number => draws.reduce((a, d) => a + f(d), 0) / draws.length;
  const headAcc = mean((d) => d.head.best.valAcc);
  const scratchAcc = mean((d) => d.bestScratch.valAcc);
  const n = draws.length * VALIDATION_IMAGES;
  const pooled = (headAcc + scratchAcc) / 2;
  const z = (headAcc - scratchAcc) / Math.sqrt((pooled * (1 - pooled) * 2) / n);
  t.diagnostic(`mean over ${draws.length} draws: head ${pct(headAcc)}, scratch ${pct(scratchAcc)}, margin ${(100 * (headAcc - scratchAcc)).toFixed(2)} points, z = ${z.toFixed(2)} on ${n} + ${n} predictions`);
  assert.ok(100 * (headAcc - scratchAcc) >= MEAN_MARGIN_POINTS, `mean margin ${(100 * (headAcc - scratchAcc)).toFixed(2)} points < ${MEAN_MARGIN_POINTS}`);
  assert.ok(z >= MIN_Z, `z = ${z.toFixed(2)} < ${MIN_Z}`);
  await checkSavedHead(first, DRAWS[0]);
});

/** The saved folder: config, frozen weights byte for byte, and predictions as reported. */
async function checkSavedHead(head: TrainingResult, seed: number): Promise<void> {
  const out = head.out!;
  assert.deepEqual(fs.readdirSync(out).sort(), ['cnnlens.json', 'group1-shard1of1.bin', 'model.json']);
  assert.deepEqual(fs.readdirSync(path.dirname(out)).filter((f) => f.startsWith('.')), [], 'no temporary folder left');
  const config = await loadCnnLensConfig(path.join(out, 'model.json'));
  assert.deepEqual(config.classNames, ['5_Sandal', '6_Shirt', '7_Sneaker', '8_Bag', '9_Ankle_boot']);
  assert.equal(config.dataset, data);
  assert.equal(config.training?.cutAt, CUT_AT);
  assert.equal(config.trainedFrom?.mode, 'head');
  assert.equal(config.trainedFrom?.model, base);
  assert.deepEqual(config.trainedFrom?.frozenLayers, ['conv1', 'pool1', 'conv2']);
  assert.deepEqual(config.trainedFrom?.trainableLayers, ['head_flatten', 'head_predictions']);
  assert.equal(config.trainedFrom?.metrics.best.valAcc, head.best.valAcc);

  for (const w of ['conv1/kernel', 'conv1/bias', 'conv2/kernel', 'conv2/bias']) {
    assert.ok(weightBytes(path.join(out, 'model.json'), w).equals(weightBytes(base, w)), `${w} differs from the base's`);
  }

  // Reloaded from disk, base + head on the images gives the validation accuracy training reported
  // (training saw cached features; this runs the whole saved model on decoded images).
  const baseline = tf.memory().numTensors;
  const model = await loadModel(path.join(out, 'model.json'));
  try {
    assert.deepEqual(
      model.layers.map((l) => l.name),
      ['conv1_input', 'conv1', 'pool1', 'conv2', 'head_flatten', 'head_predictions'],
    );
    const listing = await openTrainingData(data);
    const split = stratifiedSplit(listing.items.map((i) => i.label), 5, SPLIT, seed);
    const images = new Float32Array(split.validation.length * 784);
    decodeItems(listing.items, split.validation, model.input, DEFAULT_PREPROCESSING, images);
    const predicted = tf.tidy(() => (model.layersModel!.predict(tf.tensor4d(images, [split.validation.length, 28, 28, 1])) as tf.Tensor).argMax(-1).dataSync());
    let hits = 0;
    split.validation.forEach((item, k) => (hits += predicted[k] === listing.items[item].label ? 1 : 0));
    assert.equal(split.validation.length, VALIDATION_IMAGES);
    assert.ok(Math.abs(hits / VALIDATION_IMAGES - head.best.valAcc) <= 1 / VALIDATION_IMAGES, `reloaded ${hits / VALIDATION_IMAGES} vs reported ${head.best.valAcc}`);
    assert.equal(model.layersModel!.getLayer('conv2').trainable, false, 'frozen layers are saved as non-trainable');
  } finally {
    model.dispose();
  }
  assert.equal(tf.memory().numTensors, baseline);
}

test('stopping after an epoch saves the best epoch so far and resolves with cancelled: true', async () => {
  const stop = new AbortController();
  const out = path.join(dir, 'stopped');
  const r = await client.trainHead(
    base,
    { data: smallData, out, validationSplit: SMALL_SPLIT, epochs: 200, patience: 0, learningRate: 1e-4 },
    {
      signal: stop.signal,
      onProgress: (_d, _t, detail) => {
        if ((detail as TrainingProgress).phase === 'epoch') stop.abort();
      },
    },
  );
  assert.equal(r.cancelled, true);
  assert.ok(r.epochs.length >= 1 && r.epochs.length < 200, `${r.epochs.length} epochs`);
  assert.equal(r.out, out);
  const config = await loadCnnLensConfig(path.join(out, 'model.json'));
  assert.equal(config.trainedFrom?.metrics.cancelled, true);
  assert.equal(config.trainedFrom?.metrics.best.epoch, r.best.epoch);
});

test('cancelling before the first epoch ends writes nothing and rejects as cancelled', async () => {
  // During the feature pass, through the pool: the client stops before training starts.
  const stop = new AbortController();
  const outFeatures = path.join(dir, 'cancelled-features');
  await assert.rejects(
    client.trainHead(base, { data: smallData, out: outFeatures, validationSplit: SMALL_SPLIT }, { signal: stop.signal, onProgress: (_d, _t, detail) => (detail as TrainingProgress).phase === 'features' && stop.abort() }),
    CancelledError,
  );
  assert.equal(fs.existsSync(outFeatures), false);
  // During the first epoch: in-process, so the stop is seen at exactly the next batch boundary.
  // (Through the pool the stop message races the epoch, which takes a few ms on cached features:
  // whether the first epoch ends first depends on the machine's load. Stopping after an epoch is
  // the test below.)
  const outBatch = path.join(dir, 'cancelled-batch');
  const options = { data: smallData, out: outBatch, validationSplit: SMALL_SPLIT, batchSize: 8 };
  const shardCtx: JobContext = { signal: new AbortController().signal, backend: 'wasm', progress: () => undefined };
  const plan = await JOBS.planTraining({ model: base, mode: 'head', options }, shardCtx);
  const shards = [await JOBS.extractFeaturesShard({ model: base, options, start: 0, end: plan.trainImages + plan.validationImages }, shardCtx)];
  const halt = new AbortController();
  const ctx: JobContext = {
    signal: new AbortController().signal,
    stop: halt.signal,
    backend: 'wasm',
    progress: (_d, _t, detail) => (detail as TrainingProgress).phase === 'batch' && halt.abort(),
  };
  await assert.rejects(JOBS.trainHead({ model: base, options, shards }, ctx), CancelledTraining);
  assert.equal(fs.existsSync(outBatch), false);
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.startsWith('.cancelled')), [], 'no temporary folder left');
  // The pool still works afterwards.
  const again = await client.planTraining(base, 'head', { data: smallData, out: path.join(dir, 'after-cancel') });
  assert.equal(again.classNames.length, 5);
});
