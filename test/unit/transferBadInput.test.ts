/**
 * Transfer learning refuses bad input before any training, with one message naming the file,
 * folder or layer, and writes nothing: a data folder with one class, an empty class folder, a
 * class folder that is not one of the model's classes, a cut layer that is unknown or leaves
 * nothing to replace, a model that is not a softmax classifier (fine-tuning), a target folder that
 * exists. Also: remembered options from cnnlens.json's `training` section, and their validation.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/engine/backend';
import { JOBS, clearModelCache, type JobContext } from '../../src/engine/jobs';
import { EngineClient } from '../../src/engine/client';
import { saveLayersModel } from '../../src/engine/io/models/saveLayersModel';
import { loadCnnLensConfig } from '../../src/engine/config/cnnlensConfig';
import type { TrainingMode, TrainingOptions } from '../../src/engine/training/types';
import { CLASS_FOLDERS, SAMPLES, greyPng, tmpDir, writeClassFolders } from './transferFixtures';

const base = path.join(SAMPLES, 'fashion-mnist-base-0-4/model.json');
const cnn = path.join(SAMPLES, 'fashion-mnist-cnn/model.json');
const ctx: JobContext = { signal: new AbortController().signal, backend: 'wasm', progress: () => undefined };
let dir: string;
let good: string;

before(async () => {
  await initBackend('wasm');
  dir = tmpDir();
  good = await writeClassFolders(path.join(dir, 'good'), { classes: [5, 6], perClass: 4 });
});

after(() => {
  clearModelCache();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Nothing new in `out`'s folder: no target, no hidden temporary folder. */
function assertNothingWritten(out: string, beforeEntries: string[]): void {
  assert.equal(fs.existsSync(out), false, `${out} was written`);
  assert.deepEqual(fs.readdirSync(path.dirname(out)).sort(), beforeEntries);
}

async function rejectsPlan(model: string, mode: TrainingMode, options: TrainingOptions, message: RegExp): Promise<void> {
  const parent = path.dirname(options.out);
  fs.mkdirSync(parent, { recursive: true });
  const entries = fs.readdirSync(parent).sort();
  await assert.rejects(JOBS.planTraining({ model, mode, options }, ctx), (e: Error) => {
    assert.match(e.message, message);
    return true;
  });
  // The training jobs check the same way (they recompute the plan) and write nothing either.
  const job = mode === 'head' ? JOBS.trainHead({ model, options, shards: [] }, ctx) : JOBS.fineTune({ model, options }, ctx);
  await assert.rejects(job, (e: Error) => {
    assert.match(e.message, message);
    return true;
  });
  assertNothingWritten(options.out, entries);
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('a data folder with a single class is refused, naming the folder', async () => {
  const data = await writeClassFolders(path.join(dir, 'one-class'), { classes: [5], perClass: 4 });
  await rejectsPlan(base, 'head', { data, out: path.join(dir, 'out1', 'new') }, new RegExp(`^${esc(data)}: training a classifier needs at least 2 classes, found 1 \\(5_Sandal\\)`));
});

test('an empty class folder is refused, naming it', async () => {
  const data = await writeClassFolders(path.join(dir, 'empty-class'), { classes: [5, 6], perClass: 3 });
  const empty = path.join(data, '7_Sneaker');
  fs.mkdirSync(empty);
  await rejectsPlan(base, 'head', { data, out: path.join(dir, 'out2', 'new') }, new RegExp(`^${esc(empty)}: empty class folder`));
});

test('a class with a single image is refused (it could not be both trained on and validated)', async () => {
  const data = await writeClassFolders(path.join(dir, 'single-image'), { classes: [5, 6], perClass: 3 });
  const lonely = path.join(data, '7_Sneaker');
  fs.mkdirSync(lonely);
  fs.writeFileSync(path.join(lonely, 'a.png'), greyPng(new Uint8Array(784)));
  await rejectsPlan(base, 'head', { data, out: path.join(dir, 'out3', 'new') }, new RegExp(`^${esc(lonely)}: class "7_Sneaker" has only 1 image`));
});

test('fine-tuning data with a class folder that is not one of the model classes is refused, naming the folder', async () => {
  const data = await writeClassFolders(path.join(dir, 'foreign-class'), { classes: [0, 1], perClass: 3 });
  const hat = path.join(data, '10_Hat');
  fs.mkdirSync(hat);
  fs.writeFileSync(path.join(hat, 'a.png'), greyPng(new Uint8Array(784)));
  await rejectsPlan(cnn, 'fine-tune', { data, out: path.join(dir, 'out4', 'new') }, new RegExp(`^${esc(hat)}: class folder "10_Hat" is not one of the model's classes \\(0_T-shirt_top, .*9_Ankle_boot, from ${esc(path.join(SAMPLES, 'fashion-mnist-cnn', 'cnnlens.json'))}\\)`));
});

test('an unknown cut layer, and a cut after which nothing remains, are refused, naming the layer', async () => {
  await rejectsPlan(base, 'head', { data: good, out: path.join(dir, 'out5', 'new'), cutAt: 'conv9' }, new RegExp(`^${esc(base)}: no layer named "conv9" \\(layers: .*conv1`));
  await rejectsPlan(
    base,
    'head',
    { data: good, out: path.join(dir, 'out5', 'new'), cutAt: 'predictions' },
    new RegExp(`^${esc(base)}: nothing remains after layer "predictions" to replace \\(it is the model's output\\); cut at an earlier layer \\(default: "fc1"\\)`),
  );
});

test('fine-tuning a model whose output is not a softmax classifier is refused', async () => {
  const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [28, 28, 1], name: 'flat' }), tf.layers.dense({ units: 4, name: 'scores' })] });
  const folder = path.join(dir, 'linear-model');
  await saveLayersModel(model, folder);
  model.dispose();
  const file = path.join(folder, 'model.json');
  await rejectsPlan(
    file,
    'fine-tune',
    { data: good, out: path.join(dir, 'out6', 'new') },
    new RegExp(`^${esc(file)}: the output layer "scores" \\(Dense, activation linear, shape \\[null, 4\\]\\) is not a softmax classifier`),
  );
});

test('a target folder that exists is refused (nothing is overwritten), and so is one inside the data', async () => {
  const out = path.join(dir, 'out7', 'taken');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'keep.txt'), 'mine');
  await assert.rejects(JOBS.planTraining({ model: base, mode: "head", options: { data: good, out } }, ctx), { message: `${out}: already exists; the new model needs a new folder (nothing is ever overwritten)` });
  await assert.rejects(JOBS.fineTune({ model: cnn, options: { data: good, out } }, ctx), { message: /already exists/ });
  assert.deepEqual(fs.readdirSync(out), ['keep.txt']);
  await rejectsPlan(base, 'head', { data: good, out: path.join(good, 'model') }, /is inside the training data folder/);
});

test('fine-tuning: too many layers to unfreeze, and options of the other mode, are refused', async () => {
  await rejectsPlan(cnn, 'fine-tune', { data: good, out: path.join(dir, 'out8', 'new'), unfreeze: 9 }, new RegExp(`^${esc(cnn)}: cannot unfreeze 9 layers: the model has 4 layers with trainable weights \\(conv1, conv2, fc1, predictions\\)`));
  await rejectsPlan(cnn, 'fine-tune', { data: good, out: path.join(dir, 'out8', 'new'), cutAt: 'fc1' }, /training option "cutAt" applies to training a new head only/);
  await rejectsPlan(base, 'head', { data: good, out: path.join(dir, 'out8', 'new'), validationSplit: 1.5 }, /training option "validationSplit" must be a fraction between 0 and 1/);
});

test('errors cross the worker boundary unchanged and the pool writes nothing', async () => {
  const client = new EngineClient({ workers: 2 });
  try {
    const data = await writeClassFolders(path.join(dir, 'one-class-client'), { classes: [8], perClass: 3 });
    const out = path.join(dir, 'out9', 'new');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    await assert.rejects(client.trainHead(base, { data, out }), { message: `${data}: training a classifier needs at least 2 classes, found 1 (8_Bag); add a sub-folder of images per class` });
    await assert.rejects(client.fineTune(base, { data: good, out, fromLayer: 'nope' }), { message: new RegExp(`^${esc(base)}: no layer named "nope"`) });
    assertNothingWritten(out, []);
  } finally {
    await client.dispose();
  }
});

test('options come from the training section of cnnlens.json when not given, and bad values there name the file and key', async () => {
  const folder = path.join(dir, 'remembered');
  fs.mkdirSync(folder);
  for (const f of ['model.json', 'group1-shard1of1.bin']) fs.copyFileSync(path.join(SAMPLES, 'fashion-mnist-base-0-4', f), path.join(folder, f));
  const configFile = path.join(folder, 'cnnlens.json');
  const data = path.relative(folder, good);
  fs.writeFileSync(configFile, JSON.stringify({ training: { data, cutAt: 'flatten', hidden: 16, epochs: 7, seed: 5, augment: false } }));
  const model = path.join(folder, 'model.json');
  const plan = await JOBS.planTraining({ model, mode: 'head', options: { data: '', out: path.join(dir, 'out10', 'new'), epochs: 3 } }, ctx);
  assert.equal(plan.options.data, good);
  assert.equal(plan.cutAt, 'flatten');
  assert.deepEqual(plan.featureShape, [1600]);
  assert.equal(plan.options.hidden, 16);
  assert.equal(plan.options.epochs, 3, 'explicit options win');
  assert.equal(plan.options.seed, 5);
  assert.equal(plan.trainableParams, 1600 * 16 + 16 + 16 * 2 + 2);
  assert.deepEqual(plan.classNames, [CLASS_FOLDERS[5], CLASS_FOLDERS[6]]);

  fs.writeFileSync(configFile, JSON.stringify({ training: { epochs: 0 } }));
  await assert.rejects(loadCnnLensConfig(model), { message: `${configFile}: "training.epochs" must be a whole number ≥ 1 (got 0)` });
  fs.writeFileSync(configFile, JSON.stringify({ training: { learnignRate: 0.1 } }));
  await assert.rejects(loadCnnLensConfig(model), { message: new RegExp(`^${esc(configFile)}: unknown key "training.learnignRate"`) });
  fs.writeFileSync(configFile, JSON.stringify({ training: { augment: { flip: true, rotate: 10 } } }));
  await assert.rejects(loadCnnLensConfig(model), { message: new RegExp(`^${esc(configFile)}: "training.augment" has an unknown key "rotate"`) });
});
