/**
 * Trains the two bundled sample models on Fashion-MNIST, on the wasm backend (with CNN Lens's
 * wasm training kernels, src/engine/kernels), and saves them as TF.js Layers model folders:
 *
 *   samples/fashion-mnist-cnn/          Adam, lr 1e-3: a good model (~90-91 % test accuracy)
 *   samples/fashion-mnist-cnn-high-lr/  the same network trained with a far too high learning
 *                                       rate, which kills ReLU filters/units during training
 *
 * Each folder gets model.json + group1-shard1of1.bin + cnnlens.json (class names in label order,
 * dataset ../data/fashion-mnist-1000), written atomically. A summary (accuracies, dead units per
 * layer, timings) goes to samples/train/training-report.json.
 *
 * Run from the repository root:
 *
 *   npx tsc -p tsconfig.test.json
 *   node out/samples/train/trainSamples.js > /tmp/train.log 2>&1 &
 *
 * Options (defaults reproduce the bundled models):
 *   --only good|high-lr      train only one of the two models
 *   --epochs N               epochs of the good model            (default 6)
 *   --good-optimizer NAME    adam | sgd | momentum for the good model (default adam)
 *   --good-lr X              its learning rate                   (default 0.001)
 *   --high-epochs N          epochs of the high-lr model         (default 2)
 *   --high-optimizer NAME    adam | sgd for the high-lr model    (default adam)
 *   --high-lr X              its learning rate                   (default 0.02)
 *   --limit N                use only the first N training images (quick experiments)
 *   --no-save                train and report, write nothing
 *
 * Data: Debian's Fashion-MNIST, /usr/share/datasets/fashion-mnist/*-ubyte.gz (package
 * `fashion-mnist`), or set FASHION_MNIST_DIR. Pixels are scaled to [0, 1] (x / 255), which is the
 * default preprocessing of cnnlens.json, so the config does not need to state it.
 *
 * Reproducibility: weights use seeded Glorot-uniform initialisers (biases zero), batches come
 * from a seeded Fisher-Yates shuffle per epoch, and the wasm backend is single-threaded and
 * deterministic, so a re-run gives the same weights.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/engine/backend';
import { readIdxFile } from '../../src/engine/io/datasets/idx';
import { saveLayersModel } from '../../src/engine/io/models/saveLayersModel';
import { writeFileAtomic } from '../../src/engine/io/atomicWrite';
import { uniformRandom } from '../../src/engine/random';
import { DATA_DIR, ROOT, SAMPLE_CLASS_FOLDERS, SAMPLES } from './fashionMnist';
import { numberOption, parseScriptArgs } from '../../scripts/scriptArgs';

const BATCH = 64;
const SHUFFLE_SEED = 20240601;
const RELU_LAYERS = ['conv1', 'conv2', 'fc1'];

// ---------------------------------------------------------------------------------------------

interface Options {
  only?: 'good' | 'high-lr';
  epochs: number;
  highEpochs: number;
  highOptimizer: 'adam' | 'sgd';
  goodOptimizer: 'adam' | 'sgd' | 'momentum';
  goodLr: number;
  highLr: number;
  limit?: number;
  save: boolean;
}

const OPTIONS = {
  only: { type: 'string' },
  epochs: { type: 'string' },
  'good-optimizer': { type: 'string' },
  'good-lr': { type: 'string' },
  'high-epochs': { type: 'string' },
  'high-optimizer': { type: 'string' },
  'high-lr': { type: 'string' },
  limit: { type: 'string' },
  'no-save': { type: 'boolean' },
} as const;

/** `value` (undefined when not given) if it is one of `allowed`, else an error naming the option and its choices. */
function choice<const T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value !== undefined && !(allowed as readonly string[]).includes(value)) throw new Error(`${name} ${allowed.join('|')}`);
  return value as T | undefined;
}

function parseArgs(argv: string[]): Options {
  const v = parseScriptArgs(argv, OPTIONS, '(see the header of samples/train/trainSamples.ts)');
  return {
    only: choice('--only', v.only, ['good', 'high-lr']),
    epochs: numberOption('--epochs', v.epochs) ?? 6,
    highEpochs: numberOption('--high-epochs', v['high-epochs']) ?? 2,
    highOptimizer: choice('--high-optimizer', v['high-optimizer'], ['adam', 'sgd']) ?? 'adam',
    highLr: numberOption('--high-lr', v['high-lr']) ?? 0.02,
    goodOptimizer: choice('--good-optimizer', v['good-optimizer'], ['adam', 'sgd', 'momentum']) ?? 'adam',
    goodLr: numberOption('--good-lr', v['good-lr']) ?? 1e-3,
    limit: numberOption('--limit', v.limit),
    save: !v['no-save'],
  };
}

// ---------------------------------------------------------------------------------------------
// data

export interface Split {
  images: Float32Array; // n × 28 × 28, in [0, 1]
  labels: Uint8Array;
  n: number;
}

export async function loadSplit(prefix: 'train' | 't10k', limit?: number): Promise<Split> {
  const img = await readIdxFile(path.join(DATA_DIR, `${prefix}-images-idx3-ubyte.gz`));
  const lab = await readIdxFile(path.join(DATA_DIR, `${prefix}-labels-idx1-ubyte.gz`));
  if (img.dims.length !== 3 || img.dims[1] !== 28 || img.dims[2] !== 28 || lab.dims[0] !== img.dims[0]) {
    throw new Error(`unexpected IDX dimensions ${img.dims} / ${lab.dims}`);
  }
  const n = Math.min(img.dims[0], limit ?? Infinity);
  const images = new Float32Array(n * 784);
  for (let i = 0; i < images.length; i++) images[i] = img.data[i] / 255;
  return { images, labels: lab.data.slice(0, n), n };
}

/** mulberry32 (the engine's seeded generator; the committed samples were trained with it). */
export const rng = uniformRandom;

export function shuffled(n: number, seed: number): Int32Array {
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const r = rng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return idx;
}

// ---------------------------------------------------------------------------------------------
// model

export function buildModel(): tf.Sequential {
  const init = (seed: number) => tf.initializers.glorotUniform({ seed });
  const model = tf.sequential({ name: 'fashion_mnist_cnn' });
  model.add(tf.layers.conv2d({ name: 'conv1', inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: init(1) }));
  model.add(tf.layers.maxPooling2d({ name: 'pool1', poolSize: 2 }));
  model.add(tf.layers.conv2d({ name: 'conv2', filters: 64, kernelSize: 3, activation: 'relu', kernelInitializer: init(2) }));
  model.add(tf.layers.maxPooling2d({ name: 'pool2', poolSize: 2 }));
  model.add(tf.layers.flatten({ name: 'flatten' }));
  model.add(tf.layers.dense({ name: 'fc1', units: 128, activation: 'relu', kernelInitializer: init(3) }));
  model.add(tf.layers.dense({ name: 'predictions', units: 10, activation: 'softmax', kernelInitializer: init(4) }));
  return model;
}

function batchTensors(split: Split, order: Int32Array | undefined, start: number, size: number): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const xb = new Float32Array(size * 784);
  const yb = new Int32Array(size);
  for (let b = 0; b < size; b++) {
    const i = order ? order[start + b] : start + b;
    xb.set(split.images.subarray(i * 784, (i + 1) * 784), b * 784);
    yb[b] = split.labels[i];
  }
  const x = tf.tensor4d(xb, [size, 28, 28, 1]);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(yb, 'int32'), 10).toFloat() as tf.Tensor2D);
  return { x, y };
}

function accuracy(model: tf.LayersModel, split: Split): number {
  let correct = 0;
  for (let s = 0; s < split.n; s += 1000) {
    const size = Math.min(1000, split.n - s);
    const pred = tf.tidy(() => {
      const x = tf.tensor4d(split.images.subarray(s * 784, (s + size) * 784), [size, 28, 28, 1]);
      return (model.predict(x) as tf.Tensor).argMax(-1).dataSync();
    });
    for (let i = 0; i < size; i++) if (pred[i] === split.labels[s + i]) correct++;
  }
  return correct / split.n;
}

interface LayerDeadness {
  layer: string;
  units: number;
  /** max activation ≤ 0 on every test image (and every position) */
  dead: number;
  deadIndices: number[];
  /** positive on fewer than 1 % of test images */
  nearlyDead: number;
}

/**
 * Runs the whole test set through the model and, per ReLU layer, finds the channels whose
 * output is ≤ 0 everywhere (dead) or positive on < 1 % of the images (nearly dead).
 */
function deadUnits(model: tf.LayersModel, split: Split): LayerDeadness[] {
  const probe = tf.model({ inputs: model.inputs, outputs: RELU_LAYERS.map((l) => model.getLayer(l).output as tf.SymbolicTensor) });
  const maxima: Float32Array[] = [];
  const activeImages: Int32Array[] = [];
  for (let s = 0; s < split.n; s += 500) {
    const size = Math.min(500, split.n - s);
    const stats = tf.tidy(() => {
      const x = tf.tensor4d(split.images.subarray(s * 784, (s + size) * 784), [size, 28, 28, 1]);
      const outs = probe.predict(x) as tf.Tensor[];
      return outs.map((o) => {
        // per image and channel: max over positions
        const perImage = o.rank === 4 ? o.max([1, 2]) : o;
        return { max: perImage.max(0).dataSync() as Float32Array, active: perImage.greater(0).sum(0).dataSync() as Int32Array };
      });
    });
    stats.forEach((st, l) => {
      if (!maxima[l]) {
        maxima[l] = Float32Array.from(st.max);
        activeImages[l] = Int32Array.from(st.active);
      } else {
        for (let c = 0; c < st.max.length; c++) {
          maxima[l][c] = Math.max(maxima[l][c], st.max[c]);
          activeImages[l][c] += st.active[c];
        }
      }
    });
  }
  return RELU_LAYERS.map((layer, l) => {
    const deadIndices: number[] = [];
    let nearlyDead = 0;
    maxima[l].forEach((m, c) => {
      if (m <= 0) deadIndices.push(c);
      else if (activeImages[l][c] < 0.01 * split.n) nearlyDead++;
    });
    return { layer, units: maxima[l].length, dead: deadIndices.length, deadIndices, nearlyDead };
  });
}

// ---------------------------------------------------------------------------------------------
// training

interface RunSpec {
  key: 'good' | 'high-lr';
  folder: string;
  optimizer: 'adam' | 'sgd' | 'momentum';
  lr: number;
  epochs: number;
}

interface RunReport extends RunSpec {
  testAccuracy: number;
  epochLog: Array<{ epoch: number; loss: number; trainAccuracy: number; testAccuracy: number; seconds: number }>;
  deadUnits: LayerDeadness[];
  seconds: number;
}

function fmt(x: number, digits = 4): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}

async function train(spec: RunSpec, trainSet: Split, testSet: Split, save: boolean): Promise<RunReport> {
  console.log(`\n=== ${spec.key}: ${spec.optimizer} lr ${spec.lr}, ${spec.epochs} epochs, ${trainSet.n} images, batch ${BATCH}`);
  const t0 = Date.now();
  const model = buildModel();
  const optimizer =
    spec.optimizer === 'adam' ? tf.train.adam(spec.lr) : spec.optimizer === 'momentum' ? tf.train.momentum(spec.lr, 0.9) : tf.train.sgd(spec.lr);
  model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const steps = Math.floor(trainSet.n / BATCH); // drop the last partial batch
  const epochLog: RunReport['epochLog'] = [];
  for (let epoch = 0; epoch < spec.epochs; epoch++) {
    const te = Date.now();
    const order = shuffled(trainSet.n, SHUFFLE_SEED + epoch);
    let lossSum = 0;
    let accSum = 0;
    for (let step = 0; step < steps; step++) {
      const { x, y } = batchTensors(trainSet, order, step * BATCH, BATCH);
      const [loss, acc] = (await model.trainOnBatch(x, y)) as number[];
      tf.dispose([x, y]);
      lossSum += loss;
      accSum += acc;
      if ((step + 1) % 200 === 0) {
        const rate = (Date.now() - te) / (step + 1);
        console.log(
          `  epoch ${epoch + 1} step ${step + 1}/${steps}  loss ${fmt(lossSum / (step + 1))}  acc ${fmt(accSum / (step + 1))}` +
            `  ${rate.toFixed(0)} ms/step  tensors ${tf.memory().numTensors}`,
        );
      }
    }
    const testAccuracy = accuracy(model, testSet);
    const seconds = (Date.now() - te) / 1000;
    epochLog.push({ epoch: epoch + 1, loss: lossSum / steps, trainAccuracy: accSum / steps, testAccuracy, seconds });
    console.log(
      `  epoch ${epoch + 1}: loss ${fmt(lossSum / steps)}  train acc ${fmt(accSum / steps)}  test acc ${fmt(testAccuracy)}  (${seconds.toFixed(0)} s)`,
    );
  }
  const testAccuracy = accuracy(model, testSet);
  const dead = deadUnits(model, testSet);
  console.log(`  ${spec.key}: TEST ACCURACY ${(100 * testAccuracy).toFixed(2)} %`);
  for (const d of dead) {
    console.log(`  ${d.layer}: ${d.dead}/${d.units} dead${d.dead ? ` [${d.deadIndices.join(', ')}]` : ''}, ${d.nearlyDead} nearly dead (active on < 1 % of images)`);
  }
  if (save) {
    const dir = path.join(SAMPLES, spec.folder);
    const cnnlens = { classNames: SAMPLE_CLASS_FOLDERS, dataset: '../data/fashion-mnist-1000' };
    await saveLayersModel(model, dir, { extraFiles: { 'cnnlens.json': JSON.stringify(cnnlens, null, 2) + '\n' } });
    await verifySaved(dir, testSet, testAccuracy);
    console.log(`  saved ${path.relative(ROOT, dir)}`);
  }
  model.dispose();
  optimizer.dispose();
  return { ...spec, testAccuracy, epochLog, deadUnits: dead, seconds: (Date.now() - t0) / 1000 };
}


/** Reloads a saved folder from disk and checks it predicts exactly like the trained model. */
async function verifySaved(dir: string, testSet: Split, expectedAccuracy: number): Promise<void> {
  const json = JSON.parse(await fs.promises.readFile(path.join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  const weightData = new Uint8Array(await fs.promises.readFile(path.join(dir, json.weightsManifest[0].paths[0]))).buffer;
  const loaded = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData }),
  );
  const acc = accuracy(loaded, testSet);
  loaded.dispose();
  if (acc !== expectedAccuracy) throw new Error(`reloaded ${dir} has accuracy ${acc}, expected ${expectedAccuracy}`);
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const backend = await initBackend('wasm');
  if (backend.name !== 'wasm' || tf.getBackend() !== 'wasm') throw new Error(`expected the wasm backend, got ${tf.getBackend()}`);
  if (!tf.getKernel('Conv2DBackpropFilter', 'wasm')) throw new Error('wasm training kernels are not registered');
  const t0 = Date.now();
  const [trainSet, testSet] = await Promise.all([loadSplit('train', opts.limit), loadSplit('t10k')]);
  console.log(`backend ${tf.getBackend()}; ${trainSet.n} training / ${testSet.n} test images from ${DATA_DIR}`);

  const specs: RunSpec[] = [];
  if (opts.only !== 'high-lr') specs.push({ key: 'good', folder: 'fashion-mnist-cnn', optimizer: opts.goodOptimizer, lr: opts.goodLr, epochs: opts.epochs });
  if (opts.only !== 'good') {
    specs.push({ key: 'high-lr', folder: 'fashion-mnist-cnn-high-lr', optimizer: opts.highOptimizer, lr: opts.highLr, epochs: opts.highEpochs });
  }
  const runs: RunReport[] = [];
  for (const spec of specs) runs.push(await train(spec, trainSet, testSet, opts.save));
  const seconds = (Date.now() - t0) / 1000;
  console.log(`\ntotal ${(seconds / 60).toFixed(1)} min`);

  if (opts.save) {
    const reportFile = path.join(SAMPLES, 'train', 'training-report.json');
    // Keep the entry of a model not retrained in this run (--only).
    let previous: RunReport[] = [];
    try {
      previous = (JSON.parse(await fs.promises.readFile(reportFile, 'utf8')) as { runs: RunReport[] }).runs ?? [];
    } catch {
      // first run
    }
    const merged = [...previous.filter((p) => !runs.some((r) => r.key === p.key)), ...runs].sort((a, b) => a.key.localeCompare(b.key));
    const report = {
      generatedBy: 'samples/train/trainSamples.ts',
      backend: tf.getBackend(),
      tfjsVersion: tf.version.tfjs,
      batchSize: BATCH,
      trainingImages: trainSet.n,
      testImages: testSet.n,
      runs: merged,
    };
    await writeFileAtomic(reportFile, JSON.stringify(report, null, 2) + '\n');
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
