/**
 * Trains the base model of the transfer-learning proof: the sample CNN's architecture with a
 * 5-way classifier, trained on Fashion-MNIST classes 0–4 only (T-shirt/top, Trouser, Pullover,
 * Dress, Coat), on the wasm backend with CNN Lens's training kernels. Classes 5–9 (Sandal, Shirt,
 * Sneaker, Bag, Ankle boot) are never shown to it: `test/unit/transferHead.test.ts` trains a new
 * head on them from a few images per class and compares with the same network trained from scratch.
 *
 *   samples/fashion-mnist-base-0-4/   model.json + group1-shard1of1.bin + cnnlens.json
 *   samples/train/transfer-base-report.json   settings, per-epoch log, test accuracy on classes 0–4
 *
 * Run from the repository root:
 *
 *   npx tsc -p tsconfig.test.json
 *   node out/samples/train/trainTransferBase.js > /tmp/train-base.log 2>&1
 *
 * Options: --epochs N (default 4), --lr X (default 0.001), --shift F (augment every training batch
 * with random horizontal flips and shifts of up to F × 28 pixels, CNN Lens's own `augmentBatch`;
 * default 0 = none), --limit N (first N training images of classes 0–4), --no-save. Same
 * reproducibility rules as trainSamples.ts (seeded initialisers, batch order and augmentation,
 * deterministic single-threaded wasm). The committed base was trained with
 * `--epochs 6 --shift 0.1` (augmentation, meant to make its features more general; measured, a
 * head on its `flatten` features did about as well as on the unaugmented 4-epoch base's, 91 %).
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/engine/backend';
import { saveLayersModel } from '../../src/engine/io/models/saveLayersModel';
import { writeFileAtomic } from '../../src/engine/io/atomicWrite';
import { DATA_DIR, ROOT, SAMPLE_CLASS_FOLDERS, SAMPLES } from './fashionMnist';
import { loadSplit, shuffled, type Split } from './trainSamples';
import { augmentBatch } from '../../src/engine/training/augment';
import { uniformRandom } from '../../src/engine/random';

export const BASE_FOLDER = 'fashion-mnist-base-0-4';
/** Labels the base is trained on; the other five are the "new" classes of the proof. */
export const BASE_CLASSES = [0, 1, 2, 3, 4];
const BATCH = 64;
const SHUFFLE_SEED = 20240701;

/**
 * The sample CNN's layer stack (conv 32 → pool → conv 64 → pool → dense 128 → softmax) with
 * `classes` outputs and seeded Glorot-uniform kernels. Also used by the proof's from-scratch
 * baseline, so "the same small model" is literally the same builder.
 */
export function buildBaseModel(classes: number, seed = 11, name = 'fashion_mnist_base'): tf.Sequential {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed + k });
  const model = tf.sequential({ name });
  model.add(tf.layers.conv2d({ name: 'conv1', inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: init(0) }));
  model.add(tf.layers.maxPooling2d({ name: 'pool1', poolSize: 2 }));
  model.add(tf.layers.conv2d({ name: 'conv2', filters: 64, kernelSize: 3, activation: 'relu', kernelInitializer: init(1) }));
  model.add(tf.layers.maxPooling2d({ name: 'pool2', poolSize: 2 }));
  model.add(tf.layers.flatten({ name: 'flatten' }));
  model.add(tf.layers.dense({ name: 'fc1', units: 128, activation: 'relu', kernelInitializer: init(2) }));
  model.add(tf.layers.dense({ name: 'predictions', units: classes, activation: 'softmax', kernelInitializer: init(3) }));
  return model;
}

/** The images of `split` whose label is in `labels`, relabelled 0..labels.length-1. */
function subset(split: Split, labels: number[]): Split {
  const keep: number[] = [];
  for (let i = 0; i < split.n; i++) if (labels.includes(split.labels[i])) keep.push(i);
  const images = new Float32Array(keep.length * 784);
  const out = new Uint8Array(keep.length);
  keep.forEach((i, j) => {
    images.set(split.images.subarray(i * 784, (i + 1) * 784), j * 784);
    out[j] = labels.indexOf(split.labels[i]);
  });
  return { images, labels: out, n: keep.length };
}

/** Random flips and shifts of the training batches (CNN Lens's own augmentation), seeded. */
interface Augment {
  shift: number;
  random: () => number;
}

function batch(split: Split, order: Int32Array, start: number, size: number, classes: number, augment?: Augment): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const xb = new Float32Array(size * 784);
  const yb = new Int32Array(size);
  for (let b = 0; b < size; b++) {
    const i = order[start + b];
    xb.set(split.images.subarray(i * 784, (i + 1) * 784), b * 784);
    yb[b] = split.labels[i];
  }
  if (augment) augmentBatch(xb, size, { height: 28, width: 28, channels: 1 }, { flip: true, shift: augment.shift }, augment.random);
  return { x: tf.tensor4d(xb, [size, 28, 28, 1]), y: tf.tidy(() => tf.oneHot(tf.tensor1d(yb, 'int32'), classes).toFloat() as tf.Tensor2D) };
}

function accuracy(model: tf.LayersModel, split: Split): number {
  let correct = 0;
  for (let s = 0; s < split.n; s += 1000) {
    const size = Math.min(1000, split.n - s);
    const pred = tf.tidy(() => (model.predict(tf.tensor4d(split.images.subarray(s * 784, (s + size) * 784), [size, 28, 28, 1])) as tf.Tensor).argMax(-1).dataSync());
    for (let i = 0; i < size; i++) if (pred[i] === split.labels[s + i]) correct++;
  }
  return correct / split.n;
}

interface Options {
  epochs: number;
  lr: number;
  /** Shift fraction of the flip + shift augmentation; 0 = none. */
  shift: number;
  limit?: number;
  save: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { epochs: 4, lr: 1e-3, shift: 0, save: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v)) throw new Error(`${a} needs a number`);
      return v;
    };
    if (a === '--epochs') o.epochs = next();
    else if (a === '--lr') o.lr = next();
    else if (a === '--limit') o.limit = next();
    else if (a === '--shift') o.shift = next();
    else if (a === '--no-save') o.save = false;
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const backend = await initBackend('wasm');
  if (backend.name !== 'wasm') throw new Error(`expected the wasm backend, got ${backend.name}`);
  const t0 = Date.now();
  const [allTrain, allTest] = await Promise.all([loadSplit('train'), loadSplit('t10k')]);
  let train = subset(allTrain, BASE_CLASSES);
  if (opts.limit) train = { images: train.images.slice(0, opts.limit * 784), labels: train.labels.slice(0, opts.limit), n: Math.min(train.n, opts.limit) };
  const test = subset(allTest, BASE_CLASSES);
  const classes = BASE_CLASSES.length;
  console.log(`backend ${tf.getBackend()}; classes ${BASE_CLASSES.join(', ')}: ${train.n} training / ${test.n} test images from ${DATA_DIR}`);

  const model = buildBaseModel(classes);
  const optimizer = tf.train.adam(opts.lr);
  model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const steps = Math.floor(train.n / BATCH);
  const augment = opts.shift > 0 ? { shift: opts.shift, random: uniformRandom(SHUFFLE_SEED + 1) } : undefined;
  const epochLog: { epoch: number; loss: number; trainAccuracy: number; testAccuracy: number; seconds: number }[] = [];
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    const te = Date.now();
    const order = shuffled(train.n, SHUFFLE_SEED + epoch);
    let lossSum = 0;
    let accSum = 0;
    for (let step = 0; step < steps; step++) {
      const { x, y } = batch(train, order, step * BATCH, BATCH, classes, augment);
      const [loss, acc] = (await model.trainOnBatch(x, y)) as number[];
      tf.dispose([x, y]);
      lossSum += loss;
      accSum += acc;
    }
    const testAccuracy = accuracy(model, test);
    const seconds = (Date.now() - te) / 1000;
    epochLog.push({ epoch: epoch + 1, loss: lossSum / steps, trainAccuracy: accSum / steps, testAccuracy, seconds });
    console.log(`epoch ${epoch + 1}: loss ${(lossSum / steps).toFixed(4)}  train acc ${(accSum / steps).toFixed(4)}  test acc ${testAccuracy.toFixed(4)}  (${seconds.toFixed(0)} s)`);
  }
  const testAccuracy = accuracy(model, test);
  console.log(`TEST ACCURACY on classes 0–4 (${test.n} images): ${(100 * testAccuracy).toFixed(2)} %`);
  if (opts.save) {
    const dir = path.join(SAMPLES, BASE_FOLDER);
    const cnnlens = { classNames: BASE_CLASSES.map((c) => SAMPLE_CLASS_FOLDERS[c]), dataset: '../data/fashion-mnist-1000' };
    await saveLayersModel(model, dir, { extraFiles: { 'cnnlens.json': JSON.stringify(cnnlens, null, 2) + '\n' } });
    const report = {
      generatedBy: 'samples/train/trainTransferBase.ts',
      backend: tf.getBackend(),
      tfjsVersion: tf.version.tfjs,
      folder: BASE_FOLDER,
      classes: BASE_CLASSES.map((c) => SAMPLE_CLASS_FOLDERS[c]),
      optimizer: 'adam',
      lr: opts.lr,
      augment: opts.shift > 0 ? { flip: true, shift: opts.shift } : null,
      epochs: opts.epochs,
      batchSize: BATCH,
      trainingImages: train.n,
      testImages: test.n,
      testAccuracy,
      epochLog,
      seconds: (Date.now() - t0) / 1000,
    };
    await writeFileAtomic(path.join(SAMPLES, 'train', 'transfer-base-report.json'), JSON.stringify(report, null, 2) + '\n');
    console.log(`saved ${path.relative(ROOT, dir)}`);
  }
  model.dispose();
  optimizer.dispose();
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
