/**
 * CNN Lens training benchmark (transfer learning): how fast the engine trains on wasm.
 *
 *   npm run bench:training                 (build + compile + run; also part of `npm run bench`)
 *   node out/bench/training.js [options]   (after `npx tsc -p tsconfig.test.json`)
 *
 * Options: --reps N (default 7), --quick (3 reps, fewer epochs), --no-torch, --wait-quiet S (before
 * each timed repetition wait up to S s until other processes use < 0.15 cores), --out FILE
 * (default bench/results/training.json).
 *
 * Cases:
 *  step       one fine-tuning step of the sample CNN, batch 64, EVERY layer trainable (forward,
 *             cross-entropy, backward, Adam update), as the engine's loop does it
 *             (`optimizer.minimize` over `model.apply`, training/trainLoop.ts), and as `fit` does it
 *             (`trainOnBatch`); against PyTorch on the same network and weights
 *             (bench/torch_train_step.py, optional: only when torch is importable). Repetitions of
 *             5 steps alternate between TF.js and PyTorch so both see the same machine load.
 *             `dataParallel`: the same step with the batch split over two threads, as fine-tuning
 *             does with ≥ 2 workers (training/dataParallel.ts): this thread is the lead (as worker 0
 *             is in a job), the peer a `gradientPeer` job in a pool worker; timed in the same
 *             alternation. `ratioToTorch` uses the faster engine path (`ratioBasis` names it).
 *             `dataParallelByBatch`: single-worker vs data-parallel ms/step for small batches (all
 *             layers, and only the default top 2 trainable), which sets DATA_PARALLEL_MIN_BATCH.
 *             Target: TF.js within 3× of PyTorch.
 *  headEpoch  one epoch of head training (a new 10-way head, the 1,000 bundled PNGs, 850 for
 *             training and 150 for validation, batch 32) on features cached once, vs the same
 *             epoch running the frozen base on every batch (images already decoded in memory, so
 *             only compute differs). Same loop (`trainLoop`) for both. Two bases: the sample CNN
 *             cut at fc1 (tiny: 5.3 MFLOP/image) and MobileNetV1 α=0.25 at 128×128 (run.ts).
 *             Target: cached ≥ 20× faster.
 *  jobs       end to end through `EngineClient` with 2 workers: `trainHead` (feature pass sharded
 *             over the pool + 10 epochs) and `fineTune` of the top 2 layers (5 epochs).
 *
 * Every case records `otherCores`: cores used by other processes while it ran (this VM is shared).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/engine/backend';
import { EngineClient } from '../src/engine/client';
import { loadModel } from '../src/engine/io/models';
import { DEFAULT_PREPROCESSING } from '../src/engine/io/datasets';
import { buildMobileNetV1 } from './run';
import { writeFileAtomic } from '../src/engine/io/atomicWrite';
import { openTrainingData } from '../src/engine/training/trainingData';
import { stratifiedSplit } from '../src/engine/training/split';
import { decodeItems } from '../src/engine/training/imageStore';
import { buildHeadLayers, applyHead, disposeLayerWeights } from '../src/engine/training/headModel';
import { headGradients } from '../src/engine/training/headGradients';
import { AdamOptimizer } from '../src/engine/training/adamOptimizer';
import { describeHead } from '../src/engine/training/headSpec';
import { crossEntropy, trainLoop, type Samples } from '../src/engine/training/trainLoop';
import { MessageChannel } from 'node:worker_threads';
import { WorkerPool } from '../src/engine/workerPool';
import { DataParallelLead } from '../src/engine/training/dataParallel';
import { fineTuneTrainingPredict } from '../src/engine/training/fineTunePredict';
import { median, round, runMain } from './benchUtil';
import { cpuTimes, otherCores, QuietWaiter } from './machineLoad';
import { parseScriptArgs } from '../scripts/scriptArgs';
import { TIMING_OPTIONS, timingOptions, type TimingOptions } from './timingOptions';
import { TorchServer, torchUnavailable } from './torchProcess';

const ROOT = path.resolve(__dirname, '..', '..');
const SAMPLE = path.join(ROOT, 'samples', 'fashion-mnist-cnn', 'model.json');
const PNGS = path.join(ROOT, 'samples', 'data', 'fashion-mnist-1000');
const TORCH_SCRIPT = path.join(ROOT, 'bench', 'torch_train_step.py');

type Options = TimingOptions;

function parseArgs(argv: string[]): Options {
  const v = parseScriptArgs(argv, TIMING_OPTIONS, '(see the header of bench/training.ts)');
  return timingOptions(v, { reps: 7, quickReps: 3, out: path.join(ROOT, 'bench', 'results', 'training.json') });
}

function log(message: string): void {
  process.stderr.write(`[bench:training] ${message}\n`);
}

/** Cores other processes used between two `cpuTimes` readings, as this bench records them (2 decimals). */
function roundedOtherCores(a: ReturnType<typeof cpuTimes>, b: ReturnType<typeof cpuTimes>): number | undefined {
  const l = otherCores(a, b);
  return l === undefined ? undefined : round(l, 2);
}

/** `--wait-quiet`: before each timed repetition, wait (up to that long) for other processes to calm down. */
let quiet = new QuietWaiter(0);

// ---------------------------------------------------------------------------------------------
// (a) one fine-tuning step

const STEPS_PER_REP = 5;

/** torch_train_step.py in `--serve` mode: one repetition of STEPS_PER_REP steps per `step` command. */
function startTorchStep(): { server?: TorchServer; skipped?: string } {
  const skipped = torchUnavailable();
  if (skipped) return { skipped };
  const args = [TORCH_SCRIPT, '--model', SAMPLE, '--train-step', '--threads', '2', '--batch', '64', '--steps', String(STEPS_PER_REP), '--serve'];
  return { server: new TorchServer(args, 300_000) };
}

/**
 * A data-parallel step through the engine's own code: a `DataParallelLead` here, a `gradientPeer`
 * job in `pool` on the other end of a MessageChannel, the summed gradients applied with Adam as
 * the loop does. `trainable`: how many top layers with weights train (all when undefined).
 */
async function dataParallelStepper(pool: WorkerPool, trainable?: number, minBatch?: number) {
  const model = await loadModel(SAMPLE);
  const lm = model.layersModel!;
  const withWeights = lm.layers.filter((l) => l.weights.length > 0).map((l) => l.name);
  const names = new Set(trainable === undefined ? withWeights : withWeights.slice(-trainable));
  for (const l of lm.layers) l.trainable = names.has(l.name);
  const variables = lm.trainableWeights.map((w) => w.read() as tf.Variable);
  const { port1, port2 } = new MessageChannel();
  const peer = pool.run('gradientPeer', { model: SAMPLE, port: port2 }, { worker: 0, transfer: [port2] });
  const forward = fineTuneTrainingPredict(lm);
  const lead = new DataParallelLead(port1, { predict: forward, variables, classes: 10, trainableLayers: [...names], minBatch });
  const adam = new AdamOptimizer(1e-4);
  return {
    /** One step on `x` (split when it has at least `minBatch` images). */
    step: async (x: tf.Tensor, labels: Int32Array): Promise<void> => {
      const g = await lead.gradients(x, labels);
      adam.applyGradients(g.grads.map((tensor, i) => ({ name: variables[i].name, tensor })));
      tf.dispose(g.grads);
    },
    /** The single-worker step of the same model (minimize, as trainLoop.ts without a hook). */
    single: (x: tf.Tensor, labels: tf.Tensor1D): void => {
      const cost = adam.minimize(() => crossEntropy(forward(x), labels, 10), true, variables);
      cost!.dataSync();
      cost!.dispose();
    },
    splitBatches: () => lead.splitBatches,
    dispose: async (): Promise<void> => {
      lead.close();
      await peer;
      adam.dispose();
      model.dispose();
    },
  };
}

/** ms per step, single worker vs data-parallel, for the batch sizes around the threshold. */
async function dataParallelByBatch(pool: WorkerPool, reps: number, trainable?: number): Promise<Record<string, { single: number; dataParallel: number }>> {
  // minBatch 0: split even below the engine's threshold, which is what this measures.
  const dp = await dataParallelStepper(pool, trainable, 0);
  const out: Record<string, { single: number; dataParallel: number }> = {};
  try {
    for (const batch of [8, 12, 16, 24, 32, 64]) {
      const x = tf.tidy(() => tf.randomUniform([batch, 28, 28, 1], 0, 1, 'float32', 2));
      const labels = Int32Array.from({ length: batch }, (_, i) => i % 10);
      const y = tf.tensor1d(labels, 'int32');
      const times = { single: [] as number[], dataParallel: [] as number[] };
      const split = (): Promise<void> => dp.step(x, labels);
      for (let i = 0; i < 2; i++) {
        dp.single(x, y);
        await split();
      }
      for (let r = 0; r < reps; r++) {
        await quiet.wait();
        let t0 = performance.now();
        for (let s = 0; s < STEPS_PER_REP; s++) dp.single(x, y);
        times.single.push((performance.now() - t0) / STEPS_PER_REP);
        t0 = performance.now();
        for (let s = 0; s < STEPS_PER_REP; s++) await split();
        times.dataParallel.push((performance.now() - t0) / STEPS_PER_REP);
      }
      tf.dispose([x, y]);
      out[batch] = { single: round(median(times.single), 2), dataParallel: round(median(times.dataParallel), 2) };
      log(`step by batch (${trainable === undefined ? 'all layers' : `top ${trainable}`}): ${batch}: single ${out[batch].single} ms, data-parallel ${out[batch].dataParallel} ms`);
    }
  } finally {
    await dp.dispose();
  }
  return out;
}

async function stepCase(opts: Options): Promise<Record<string, unknown>> {
  const model = await loadModel(SAMPLE);
  const lm = model.layersModel!;
  for (const l of lm.layers) l.trainable = true;
  const variables = lm.trainableWeights.map((w) => w.read() as tf.Variable);
  const x = tf.tidy(() => tf.randomUniform([64, 28, 28, 1], 0, 1, 'float32', 1));
  const labels = tf.tensor1d(Int32Array.from({ length: 64 }, (_, i) => i % 10), 'int32');
  const oneHot = tf.oneHot(labels, 10);
  const adam = new AdamOptimizer(1e-4);
  // The engine's training forward pass (fineTunePredict.ts: training mode, BatchNorm frozen).
  const forward = fineTuneTrainingPredict(lm);
  // The engine's step (trainLoop.ts): minimize over that forward pass, loss and hits read back.
  const engineStep = (): void => {
    let hits: tf.Scalar | undefined;
    const cost = adam.minimize(
      () => {
        const p = forward(x);
        hits = tf.keep(tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(p, -1), labels), 'float32')) as tf.Scalar));
        return crossEntropy(p, labels, 10);
      },
      true,
      variables,
    );
    cost!.dataSync();
    hits!.dataSync();
    tf.dispose([cost!, hits!]);
  };
  // model.fit's step: a second copy of the model, compiled (BatchNorm would train here; the
  // sample has none, so both compute the same thing).
  const fitModel = (await loadModel(SAMPLE)).layersModel!;
  fitModel.compile({ optimizer: tf.train.adam(1e-4), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const fitStep = async (): Promise<void> => {
    await fitModel.trainOnBatch(x, oneHot);
  };
  const pool = new WorkerPool({ backend: 'wasm', size: 1 });
  const dp = await dataParallelStepper(pool);
  const labelArray = Int32Array.from({ length: 64 }, (_, i) => i % 10);
  const torch = opts.torch ? startTorchStep() : { skipped: '--no-torch' };
  let torchInfo: Record<string, unknown> | undefined;
  if (torch.server) torchInfo = await torch.server.next();
  for (let i = 0; i < 5; i++) {
    engineStep();
    await fitStep();
    await dp.step(x, labelArray);
  }
  const samples = { minimize: [] as number[], trainOnBatch: [] as number[], dataParallel: [] as number[], torch: [] as number[] };
  const loads = { tfjs: [] as number[], torch: [] as number[] };
  for (let r = 0; r < opts.reps; r++) {
    await quiet.wait();
    let a = cpuTimes();
    let t0 = performance.now();
    for (let s = 0; s < STEPS_PER_REP; s++) engineStep();
    samples.minimize.push((performance.now() - t0) / STEPS_PER_REP);
    t0 = performance.now();
    for (let s = 0; s < STEPS_PER_REP; s++) await fitStep();
    samples.trainOnBatch.push((performance.now() - t0) / STEPS_PER_REP);
    const l1 = roundedOtherCores(a, cpuTimes());
    if (l1 !== undefined) loads.tfjs.push(l1);
    await quiet.wait();
    t0 = performance.now();
    for (let s = 0; s < STEPS_PER_REP; s++) await dp.step(x, labelArray);
    samples.dataParallel.push((performance.now() - t0) / STEPS_PER_REP);
    if (torch.server) {
      await quiet.wait();
      a = cpuTimes(torch.server.pid);
      samples.torch.push((await torch.server.ask('step')).msPerStep as number);
      const l2 = roundedOtherCores(a, cpuTimes(torch.server.pid));
      if (l2 !== undefined) loads.torch.push(l2);
    }
    log(`step rep ${r + 1}/${opts.reps}: minimize ${round(samples.minimize.at(-1)!, 2)} ms, trainOnBatch ${round(samples.trainOnBatch.at(-1)!, 2)} ms, dataParallel ${round(samples.dataParallel.at(-1)!, 2)} ms${torch.server ? `, torch ${samples.torch.at(-1)} ms` : ''}`);
  }
  torch.server?.quit();
  const splitBatches = dp.splitBatches();
  await dp.dispose();
  tf.dispose([x, labels, oneHot]);
  adam.dispose();
  model.dispose();
  fitModel.dispose();
  const byBatchReps = opts.quick ? 2 : 3;
  const dataParallelByBatchAll = await dataParallelByBatch(pool, byBatchReps);
  const dataParallelByBatchTop2 = await dataParallelByBatch(pool, byBatchReps, 2);
  await pool.dispose();
  const med = (xs: number[]) => (xs.length ? round(median(xs), 2) : undefined);
  const single = med(samples.minimize)!;
  const parallel = med(samples.dataParallel)!;
  // The faster engine path is the one fine-tuning uses at this batch size with 2 workers.
  const ratioBasis = parallel < single ? 'dataParallel' : 'minimize';
  const tfjs = Math.min(single, parallel);
  const torchMs = med(samples.torch);
  return {
    batchSize: 64,
    trainableParams: variables.reduce((a, v) => a + v.size, 0),
    stepsPerRepetition: STEPS_PER_REP,
    msPerStep: { minimize: single, trainOnBatch: med(samples.trainOnBatch), dataParallel: parallel, torch: torchMs },
    samplesMsPerStep: samples,
    dataParallel: { workers: 2, splitBatches, note: 'lead in this thread + gradientPeer job in a pool worker (training/dataParallel.ts)' },
    dataParallelByBatch: { repetitions: byBatchReps, allLayers: dataParallelByBatchAll, top2Layers: dataParallelByBatchTop2 },
    otherCores: { tfjs: med(loads.tfjs), torch: med(loads.torch) },
    torch: torch.server ? torchInfo : { skipped: torch.skipped },
    ratioToTorch: torchMs ? round(tfjs / torchMs, 2) : undefined,
    ratioBasis,
    ratioToTorchSingleWorker: torchMs ? round(single / torchMs, 2) : undefined,
    target: 'TF.js step within 3x of PyTorch (ratioToTorch <= 3)',
  };
}

// ---------------------------------------------------------------------------------------------
// (b) head epoch: cached features vs the frozen base run on every batch

interface BaseSpec {
  key: string;
  description: string;
  geometry: { height: number; width: number; channels: number };
  featureSize: number;
  /** The frozen base's features for `n` preprocessed images (a new tensor). */
  features(images: Float32Array, n: number): tf.Tensor;
  dispose(): void;
}

async function sampleBase(): Promise<BaseSpec> {
  const model = await loadModel(SAMPLE);
  return {
    key: 'sample-cnn',
    description: 'samples/fashion-mnist-cnn cut at fc1 (128 features; base 5.3 MFLOP/image)',
    geometry: model.input,
    featureSize: 128,
    features: (images, n) => tf.tidy(() => model.run(tf.tensor4d(images, [n, 28, 28, 1]), ['fc1'])[0]),
    dispose: () => model.dispose(),
  };
}

/** MobileNetV1 α=0.25 at 128×128×3 (bench/run.ts, random seeded weights): a realistic transfer base. */
function mobileNetBase(): BaseSpec {
  const full = buildMobileNetV1();
  const base = tf.model({ inputs: full.inputs, outputs: full.getLayer('global_average_pooling2d').output as tf.SymbolicTensor });
  return {
    key: 'mobilenet',
    description: 'MobileNetV1 α=0.25 at 128×128×3 (random seeded weights) cut at global_average_pooling2d (256 features)',
    geometry: { height: 128, width: 128, channels: 3 },
    featureSize: 256,
    features: (images, n) => tf.tidy(() => base.predict(tf.tensor4d(images, [n, 128, 128, 3])) as tf.Tensor),
    dispose: () => full.dispose(),
  };
}

async function headEpochCase(opts: Options, spec: BaseSpec): Promise<Record<string, unknown>> {
  const data = await openTrainingData(PNGS);
  const classes = data.classNames.length;
  const split = stratifiedSplit(data.items.map((i) => i.label), classes, 0.15, 1);
  const per = spec.geometry.height * spec.geometry.width * spec.geometry.channels;
  const decode = (indices: Int32Array): Float32Array => {
    const out = new Float32Array(indices.length * per);
    const r = decodeItems(data.items, indices, spec.geometry, DEFAULT_PREPROCESSING, out);
    if (r.skipped.length) throw new Error(`${r.skipped[0].file}: ${r.skipped[0].reason}`);
    return out;
  };
  const trainImages = decode(split.train);
  const valImages = decode(split.validation);
  // One-time cost of the cache: the base on every image once (what the feature shards do).
  const featuresOf = async (images: Float32Array, n: number): Promise<Float32Array> => {
    const out = new Float32Array(n * spec.featureSize);
    for (let s = 0; s < n; s += 64) {
      const k = Math.min(64, n - s);
      const f = spec.features(images.subarray(s * per, (s + k) * per), k);
      out.set((await f.data()) as Float32Array, s * spec.featureSize);
      f.dispose();
    }
    return out;
  };
  const t0 = performance.now();
  const trainFeatures = await featuresOf(trainImages, split.train.length);
  const valFeatures = await featuresOf(valImages, split.validation.length);
  const featureMs = performance.now() - t0;
  const labels = (indices: Int32Array): Int32Array => Int32Array.from(indices, (i) => data.items[i].label);
  const rows = (src: Float32Array, size: number, positions: Int32Array): Float32Array => {
    const out = new Float32Array(positions.length * size);
    positions.forEach((p, k) => out.set(src.subarray(p * size, (p + 1) * size), k * size));
    return out;
  };
  const cached = (features: Float32Array, indices: Int32Array): Samples => ({
    count: indices.length,
    labels: labels(indices),
    input: (pos) => tf.tensor2d(rows(features, spec.featureSize, pos), [pos.length, spec.featureSize]),
  });
  const uncached = (images: Float32Array, indices: Int32Array): Samples => ({
    count: indices.length,
    labels: labels(indices),
    input: (pos) => spec.features(rows(images, per, pos), pos.length),
  });
  const epochs = opts.quick ? 2 : 3;
  const run = async (train: Samples, validation: Samples): Promise<number[]> => {
    const head = buildHeadLayers(describeHead([spec.featureSize], 0, classes, []), 1, [spec.featureSize]);
    const seconds: number[] = [];
    await trainLoop({
      predict: (x) => applyHead(head, x),
      variables: head.flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable)),
      classes,
      train,
      validation,
      epochs,
      batchSize: 32,
      learningRate: 0.01,
      seed: 1,
      patience: 0,
      deadUnits: async () => ({}),
      onEpoch: (r) => seconds.push(r.seconds * 1000),
      // As the head-training job does (trainHead.ts).
      gradients: async (x, labels) => headGradients(head, x, labels),
    });
    disposeLayerWeights(head);
    return seconds;
  };
  const samples = { cached: [] as number[], uncached: [] as number[] };
  const loads: number[] = [];
  await run(cached(trainFeatures, split.train), cached(valFeatures, split.validation)); // warm-up
  const reps = spec.key === 'mobilenet' ? Math.min(opts.reps, 3) : opts.reps;
  for (let r = 0; r < reps; r++) {
    await quiet.wait();
    const a = cpuTimes();
    samples.cached.push(...(await run(cached(trainFeatures, split.train), cached(valFeatures, split.validation))));
    samples.uncached.push(...(await run(uncached(trainImages, split.train), uncached(valImages, split.validation))));
    const l = roundedOtherCores(a, cpuTimes());
    if (l !== undefined) loads.push(l);
    log(`${spec.key} head epoch rep ${r + 1}/${reps}: cached ${round(median(samples.cached), 2)} ms, base every batch ${round(median(samples.uncached), 2)} ms`);
  }
  const c = median(samples.cached);
  const u = median(samples.uncached);
  return {
    base: spec.description,
    head: `Dense(${classes}, softmax) on ${spec.featureSize} features`,
    trainImages: split.train.length,
    validationImages: split.validation.length,
    batchSize: 32,
    msPerEpoch: { cachedFeatures: round(c, 2), baseEveryBatch: round(u, 2) },
    samplesMsPerEpoch: { cachedFeatures: samples.cached.map((x) => round(x, 2)), baseEveryBatch: samples.uncached.map((x) => round(x, 2)) },
    featureCacheMs: round(featureMs, 2),
    speedup: round(u / c, 1),
    otherCores: loads.length ? round(median(loads), 2) : undefined,
    target: 'cached features >= 20x faster per epoch',
    note: 'both variants run the same trainLoop (validation included, dead-unit count excluded); images are decoded before timing',
  };
}

// ---------------------------------------------------------------------------------------------
// (c) end-to-end jobs through the pool

async function jobsCase(opts: Options, tmp: string): Promise<Record<string, unknown>> {
  const client = new EngineClient({ workers: 2, backend: 'wasm' });
  try {
    const out: Record<string, unknown> = {};
    for (const mode of ['head', 'fine-tune'] as const) {
      const runs: Record<string, number>[] = [];
      for (let r = 0; r < (opts.quick ? 1 : 3); r++) {
        await quiet.wait();
        const a = cpuTimes();
        let firstEpoch = 0;
        let featuresEnd = 0;
        const t0 = performance.now();
        const options = { data: PNGS, out: path.join(tmp, `${mode}-${r}`), epochs: mode === 'head' ? 10 : 5, patience: 0 };
        const onProgress = (_d: number, _t: number, detail?: unknown): void => {
          const d = detail as { phase: string } | undefined;
          if (d?.phase === 'batch' && !featuresEnd) featuresEnd = performance.now();
          if (d?.phase === 'epoch' && !firstEpoch) firstEpoch = performance.now();
        };
        const result = mode === 'head' ? await client.trainHead(SAMPLE, options, { onProgress }) : await client.fineTune(SAMPLE, options, { onProgress });
        const total = performance.now() - t0;
        runs.push({
          totalMs: round(total, 0),
          beforeFirstBatchMs: round(featuresEnd - t0, 0),
          medianEpochMs: round(median(result.epochs.map((e) => e.seconds * 1000)), 1),
          epochs: result.epochs.length,
          bestValAcc: round(result.best.valAcc, 4),
          otherCores: roundedOtherCores(a, cpuTimes()) ?? -1,
        });
        log(`${mode} job rep ${r + 1}: ${JSON.stringify(runs.at(-1))}`);
      }
      out[mode === 'head' ? 'trainHead' : 'fineTune'] = {
        options: mode === 'head' ? 'defaults (fc1, lr 0.01, batch 32), 10 epochs, 1,000 PNGs' : 'defaults (top 2 layers, lr 1e-4, batch 32), 5 epochs, 1,000 PNGs',
        runs,
        medianTotalMs: round(median(runs.map((x) => x.totalMs)), 0),
        medianEpochMs: round(median(runs.map((x) => x.medianEpochMs)), 1),
      };
    }
    return out;
  } finally {
    await client.dispose();
  }
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  quiet = new QuietWaiter(opts.waitQuiet * 1000);
  const backend = await initBackend('wasm');
  const started = new Date();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cnn-lens-bench-training-'));
  try {
    log('step: one fine-tuning step, batch 64, all layers');
    const step = await stepCase(opts);
    log('headEpoch: cached features vs base every batch');
    const headEpoch: Record<string, unknown> = {};
    for (const make of [sampleBase, async () => mobileNetBase()]) {
      const spec = await make();
      try {
        headEpoch[spec.key] = await headEpochCase(opts, spec);
      } finally {
        spec.dispose();
      }
    }
    log('jobs: trainHead and fineTune through the pool');
    const jobs = await jobsCase(opts, tmp);
    const result = {
      generatedBy: 'bench/training.ts',
      date: started.toISOString(),
      seconds: round((Date.now() - started.getTime()) / 1000, 1),
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version, tfjs: tf.version.tfjs, backend: backend.name, loadAverage: os.loadavg().map((x) => round(x, 2)) },
      settings: { reps: opts.reps, quick: opts.quick, waitQuietSeconds: opts.waitQuiet },
      step,
      headEpoch,
      jobs,
    };
    const text = JSON.stringify(result, null, 2) + '\n';
    await writeFileAtomic(opts.out, text);
    process.stdout.write(text);
    log(`wrote ${path.relative(process.cwd(), opts.out)}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (require.main === module) runMain(main);
