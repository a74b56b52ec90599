/**
 * CNN Lens benchmark: images per second of the engine's hot paths on this machine.
 *
 *   npm run bench                          (build + compile + run; JSON on stdout)
 *   node out/bench/run.js [options]        (after `npx tsc -p tsconfig.test.json`)
 *
 * Options:
 *   --reps N            timed repetitions per case (default 5; the median is reported)
 *   --quick             2 repetitions, smaller round-trip sample (a smoke run)
 *   --models a,b        only these models: good, high-lr, mobilenet (default all)
 *   --no-torch          skip the PyTorch reference even when torch is importable
 *   --no-idx            skip the 10k IDX scans
 *   --backend NAME      engine backend (default wasm)
 *   --out FILE          where to write the JSON (default bench/results/latest.json)
 *   --samples DIR       sample models and data (default samples/; same layout)
 *   --wait-quiet S      before each timed repetition wait up to S seconds until other processes
 *                       use < 0.15 cores (1 s in a row); for shared machines (default 0: off)
 *   --engine DIR        run the pool cases on another compiled engine folder (client.js +
 *                       worker.js), e.g. a prototype build of a proposed change
 *
 * Cases (each: warm-up first, then the median of the timed repetitions):
 *   forward            in-process, `layersModel.predict` of one [64,H,W,C] batch, read back
 *   activations        in-process, `InspectableModel.run` for every conv/dense layer on one
 *                      [64,H,W,C] batch, every output read back (what the activations view does)
 *   activations-client `EngineClient.activations` of one image (by dataset index, and as a file):
 *                      the worker round trip
 *   scan               `EngineClient.scan` over the 1,000 PNGs and over the 10k IDX file, with a
 *                      1-worker and a 2-worker pool; their repetitions alternate so both see
 *                      the same machine load, and the pool speed-up is their ratio
 * Models: the two sample CNNs, and MobileNetV1 α=0.25 at 128×128×3 (random seeded weights) built
 * here and saved with `saveLayersModel` into a temporary folder.
 *
 * The optional PyTorch reference (bench/torch_reference.py) runs only when
 * `/usr/bin/python3 -c "import torch"` works; the project never needs Python. It loads the sample
 * CNN's exact weights, checks its outputs against TF.js's, and its scan repetitions alternate with
 * 2-worker TF.js scans (`pairedScans`) for the ratio (`torchRatio.ratio`, target ≥ 0.8).
 * See `torchEnv` (bench/torchProcess.ts) for the two environment fixes it needs on this VM (OpenBLAS, malloc).
 *
 * Contention: the machine is shared, so every case records how many cores *other* processes used
 * while it ran (from /proc: system busy time minus this process's and its children's), and which
 * processes those were. Progress goes to stderr; stdout carries only the JSON document.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/engine/backend';
import type { BackendPreference } from '../src/engine/backendNames';
import { EngineClient, type ScanReport } from '../src/engine/client';
import { loadModel } from '../src/engine/io/models';
import { saveLayersModel } from '../src/engine/io/models/saveLayersModel';
import { ImageFolderDataset, openDataset } from '../src/engine/io/datasets';
import { loadCnnLensConfig } from '../src/engine/config/cnnlensConfig';
import { activationPoints } from '../src/engine/analyses/activationPoints';
import { summarize } from '../src/engine/analyses/summary';
import { writeFileAtomic } from '../src/engine/io/atomicWrite';
import type { InspectableModel } from '../src/engine/model/inspectableModel';
import { uniformRandom } from '../src/engine/random';
import { median, round, runMain } from './benchUtil';
import { contention, cpuTimes, loadSnapshot, otherCores, QUIET_THRESHOLD, QuietWaiter, type Contention } from './machineLoad';
import { parseScriptArgs } from '../scripts/scriptArgs';
import { TIMING_OPTIONS, timingOptions, type TimingOptions } from './timingOptions';
import { PYTHON, torchEnv, torchEnvDiff, TorchServer, torchUnavailable, type TorchSetup } from './torchProcess';

const ROOT = path.resolve(__dirname, '..', '..');
/** Sample models and data; `--samples DIR` points elsewhere (same layout). */
let SAMPLES = path.join(ROOT, 'samples');
let PNGS = path.join(SAMPLES, 'data', 'fashion-mnist-1000');
let IDX = path.join(SAMPLES, 'data', 't10k-images-idx3-ubyte.gz');
const BATCH = 64;
const TORCH_SCRIPT = path.join(ROOT, 'bench', 'torch_reference.py');

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

// ---------------------------------------------------------------------------------------------
// Options

interface Options extends TimingOptions {
  models?: string[];
  idx: boolean;
  backend: BackendPreference;
  /** Compiled engine folder (client.js, worker.js) for the pool cases; default this build's. */
  engine?: string;
}

const OPTIONS = {
  ...TIMING_OPTIONS,
  models: { type: 'string' },
  'no-idx': { type: 'boolean' },
  backend: { type: 'string' },
  engine: { type: 'string' },
  samples: { type: 'string' },
} as const;

function parseArgs(argv: string[]): Options {
  const v = parseScriptArgs(argv, OPTIONS, '(see the header of bench/run.ts)');
  if (v.samples !== undefined) {
    SAMPLES = path.resolve(v.samples);
    PNGS = path.join(SAMPLES, 'data', 'fashion-mnist-1000');
    IDX = path.join(SAMPLES, 'data', 't10k-images-idx3-ubyte.gz');
  }
  return {
    ...timingOptions(v, { reps: 5, quickReps: 2, out: path.join(ROOT, 'bench', 'results', 'latest.json') }),
    models: v.models?.split(',').map((s) => s.trim()).filter(Boolean),
    idx: !v['no-idx'],
    backend: (v.backend ?? 'wasm') as BackendPreference,
    engine: v.engine !== undefined ? path.resolve(v.engine) : undefined,
  };
}

// ---------------------------------------------------------------------------------------------
// Timing

export interface CaseResult {
  id: string;
  model: string;
  op: 'forward' | 'activations' | 'activations-client' | 'scan';
  /** In-process, or through an EngineClient with this many workers. */
  where: 'in-process' | 'client';
  workers?: number;
  dataset?: string;
  images: number;
  batchSize: number;
  batches: number;
  warmup: number;
  reps: number;
  samplesMs: number[];
  medianMs: number;
  minMs: number;
  msPerBatch: number;
  imagesPerSecond: number;
  contention?: Contention;
  note?: string;
}

/** A case's timed repetitions: ms each, the load over all of them, and the load during each. */
interface Timed {
  samples: number[];
  load?: Contention;
  loads?: number[];
}

function caseResult(base: Omit<CaseResult, 'samplesMs' | 'medianMs' | 'minMs' | 'msPerBatch' | 'imagesPerSecond' | 'batches' | 'reps'>, { samples, load, loads }: Timed): CaseResult {
  const med = median(samples);
  const batches = Math.ceil(base.images / base.batchSize);
  return {
    ...base,
    batches,
    reps: samples.length,
    samplesMs: samples.map((x) => round(x, 1)),
    medianMs: round(med, 1),
    minMs: round(Math.min(...samples), 1),
    msPerBatch: round(med / batches, 2),
    imagesPerSecond: round((base.images * 1000) / med, 1),
    // Per repetition only when repetitions are long enough for /proc's 10 ms ticks to mean something.
    contention: load && loads?.length && med >= 100 ? { ...load, perRepetition: loads } : load,
  };
}

/** `--wait-quiet`: before each timed repetition, wait (up to that long) for other processes to calm down. */
let quiet = new QuietWaiter(0);

/** With `--wait-quiet`, a repetition during which others used more than this is run again (twice at most). */
const NOISY_REPETITION = 0.25;

/**
 * Times one repetition (after `waitQuiet`); the other processes' load during it goes to `loads`.
 * Every timed function is idempotent, so a repetition disturbed by another process can be redone.
 */
async function timeIt(fn: () => unknown, loads?: number[]): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    await quiet.wait();
    const a = cpuTimes();
    const t0 = performance.now();
    await fn();
    const ms = performance.now() - t0;
    const load = otherCores(a, cpuTimes());
    // Only repetitions long enough for /proc's 10 ms ticks to tell are judged.
    if (quiet.maxWaitMs > 0 && load !== undefined && load > NOISY_REPETITION && ms >= 100 && attempt < 2) {
      quiet.stats.redone++;
      continue;
    }
    if (loads && load !== undefined) loads.push(round(load, 2));
    return ms;
  }
}

/** `reps` repetitions of `fn` in a row, each through `timeIt`. */
async function timeReps(fn: () => unknown, reps: number): Promise<Timed> {
  const a = loadSnapshot();
  const samples: number[] = [];
  const loads: number[] = [];
  for (let i = 0; i < reps; i++) samples.push(await timeIt(fn, loads));
  return { samples, load: contention(a, loadSnapshot()), loads };
}

// ---------------------------------------------------------------------------------------------
// MobileNetV1 α=0.25, 128×128×3: the standard layer stack, random seeded weights

/** Filters of the 13 depthwise-separable blocks at α=1, with their depthwise strides. */
const MOBILENET_BLOCKS: [number, number][] = [
  [64, 1],
  [128, 2],
  [128, 1],
  [256, 2],
  [256, 1],
  [512, 2],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [1024, 2],
  [1024, 1],
];

export function buildMobileNetV1(alpha = 0.25, size = 128, classes = 1000, seed = 20240601): tf.LayersModel {
  let s = seed;
  const init = (): ReturnType<typeof tf.initializers.glorotUniform> => tf.initializers.glorotUniform({ seed: s++ });
  const filters = (c: number): number => Math.floor(c * alpha); // Keras: int(filters * alpha)
  const bn = (name: string): tf.layers.Layer => tf.layers.batchNormalization({ name, axis: -1, epsilon: 1e-3, momentum: 0.99 });
  const relu6 = (name: string): tf.layers.Layer => tf.layers.reLU({ name, maxValue: 6 });
  const input = tf.input({ shape: [size, size, 3], name: 'input_1' });
  let x = tf.layers
    .conv2d({ name: 'conv1', filters: filters(32), kernelSize: 3, strides: 2, padding: 'same', useBias: false, kernelInitializer: init() })
    .apply(input) as tf.SymbolicTensor;
  x = bn('conv1_bn').apply(x) as tf.SymbolicTensor;
  x = relu6('conv1_relu').apply(x) as tf.SymbolicTensor;
  MOBILENET_BLOCKS.forEach(([c, stride], i) => {
    const b = i + 1;
    x = tf.layers
      .depthwiseConv2d({ name: `conv_dw_${b}`, kernelSize: 3, strides: stride, padding: 'same', useBias: false, depthwiseInitializer: init() })
      .apply(x) as tf.SymbolicTensor;
    x = bn(`conv_dw_${b}_bn`).apply(x) as tf.SymbolicTensor;
    x = relu6(`conv_dw_${b}_relu`).apply(x) as tf.SymbolicTensor;
    x = tf.layers
      .conv2d({ name: `conv_pw_${b}`, filters: filters(c), kernelSize: 1, padding: 'same', useBias: false, kernelInitializer: init() })
      .apply(x) as tf.SymbolicTensor;
    x = bn(`conv_pw_${b}_bn`).apply(x) as tf.SymbolicTensor;
    x = relu6(`conv_pw_${b}_relu`).apply(x) as tf.SymbolicTensor;
  });
  x = tf.layers.globalAveragePooling2d({ name: 'global_average_pooling2d' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ name: 'predictions', units: classes, activation: 'softmax', kernelInitializer: init() }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out, name: `mobilenet_v1_${alpha}_${size}` });
  // Non-trivial BatchNorm statistics (seeded), so the ReLU6 outputs look like a trained net's
  // rather than all sharing one scale.
  const rand = uniformRandom(seed);
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const n = layer.getWeights()[0].shape[0];
    const vec = (f: () => number): tf.Tensor1D => tf.tensor1d(Array.from({ length: n }, f));
    // gamma, beta, moving_mean, moving_variance
    const ws = [vec(() => 0.5 + rand()), vec(() => 0.2 * (rand() - 0.5)), vec(() => 0.2 * (rand() - 0.5)), vec(() => 0.5 + rand())];
    layer.setWeights(ws);
    tf.dispose(ws);
  }
  return model;
}

// ---------------------------------------------------------------------------------------------
// Models and data

interface BenchModel {
  key: string;
  file: string;
  description: string;
  /** Datasets this model is scanned over. */
  scanData: { key: 'png-1000' | 'idx-10k'; path: string }[];
  info?: { input: [number, number, number]; params: number; mflopsPerImage: number; convDenseLayers: number };
}

async function firstBatch(model: InspectableModel, modelFile: string, n: number): Promise<Float32Array> {
  const config = await loadCnnLensConfig(modelFile);
  const dataset = await openDataset(PNGS, { classNames: config.classNames });
  for await (const b of dataset.batches({ batchSize: n, geometry: model.input, preprocessing: config.preprocessing, start: 0, end: n })) {
    if (b.count !== n) throw new Error(`${PNGS}: only ${b.count} of the first ${n} images could be read`);
    return b.images;
  }
  throw new Error(`${PNGS}: no images`);
}

// ---------------------------------------------------------------------------------------------
// In-process cases (this thread, wasm)

async function inProcessCases(bm: BenchModel, opts: Options): Promise<{ cases: CaseResult[]; check?: TorchCheck }> {
  const model = await loadModel(bm.file);
  try {
    const summary = summarize(model);
    const layers = activationPoints(model).map((p) => p.layer);
    bm.info = {
      input: [model.input.height, model.input.width, model.input.channels],
      params: summary.totals.params,
      mflopsPerImage: round(summary.totals.flops / 1e6, 2),
      convDenseLayers: layers.length,
    };
    const images = await firstBatch(model, bm.file, BATCH);
    const x = tf.tensor4d(images, [BATCH, model.input.height, model.input.width, model.input.channels]);
    const cases: CaseResult[] = [];
    try {
      const lm = model.layersModel;
      const warmup = 3;
      const reps = Math.max(opts.reps, opts.quick ? 3 : 15);
      if (lm) {
        const forward = (): void => {
          const y = lm.predict(x) as tf.Tensor;
          y.dataSync();
          y.dispose();
        };
        for (let i = 0; i < warmup; i++) forward();
        const timed = await timeReps(forward, reps);
        cases.push(caseResult({ id: `${bm.key}/forward`, model: bm.key, op: 'forward', where: 'in-process', images: BATCH, batchSize: BATCH, warmup }, timed));
      }
      const acts = (): void => {
        const outs = model.run(x, layers);
        try {
          for (const o of outs) o.dataSync();
        } finally {
          tf.dispose(outs);
        }
      };
      for (let i = 0; i < warmup; i++) acts();
      const timed = await timeReps(acts, reps);
      cases.push(
        caseResult(
          {
            id: `${bm.key}/activations`,
            model: bm.key,
            op: 'activations',
            where: 'in-process',
            images: BATCH,
            batchSize: BATCH,
            warmup,
            note: `InspectableModel.run for all ${layers.length} conv/dense layers, every output read back with dataSync`,
          },
          timed,
        ),
      );

      // Reference predictions for the PyTorch cross-check (sample CNN only).
      let check: TorchCheck | undefined;
      if (bm.key === 'good' && lm) {
        const k = 8;
        const per = model.input.height * model.input.width * model.input.channels;
        const inputs = images.slice(0, k * per);
        const xs = tf.tensor4d(inputs, [k, model.input.height, model.input.width, model.input.channels]);
        const pointNames = activationPoints(model).map((p) => p.point);
        const outs = model.run(xs, pointNames);
        check = {
          shape: bm.info.input,
          images: k,
          inputs: Array.from(inputs),
          layers: pointNames.map((name, i) => ({ name, values: Array.from(outs[i].dataSync()) })),
        };
        tf.dispose([xs, ...outs]);
      }
      return { cases, check };
    } finally {
      x.dispose();
    }
  } finally {
    model.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Through the worker pool

async function clientActivations(client: EngineClient, bm: BenchModel, opts: Options, files: string[]): Promise<CaseResult[]> {
  const warmup = 2;
  const reps = opts.quick ? 5 : 20;
  const out: CaseResult[] = [];
  const variants = [
    {
      suffix: '',
      dataset: 'png-1000 (one item by index)',
      note: 'EngineClient.activations({model, data, index}): round trip to worker 0 incl. opening (listing) the dataset, decoding one image, all conv/dense outputs transferred back',
      args: (i: number) => ({ model: bm.file, data: PNGS, index: i % files.length }),
    },
    {
      suffix: '-file',
      dataset: 'one PNG file',
      note: 'EngineClient.activations({model, image}): the same with the image given as a file (no dataset listing)',
      args: (i: number) => ({ model: bm.file, image: files[i % files.length] }),
    },
  ];
  for (const v of variants) {
    let i = 0;
    const one = async (): Promise<void> => {
      const r = await client.activations(v.args(i++));
      if (!r.layers.length) throw new Error(`${bm.file}: activations returned no layers`);
    };
    for (let w = 0; w < warmup; w++) await one();
    const timed = await timeReps(one, reps);
    out.push(
      caseResult(
        {
          id: `${bm.key}/activations-client${v.suffix}`,
          model: bm.key,
          op: 'activations-client',
          where: 'client',
          workers: client.workers,
          dataset: v.dataset,
          images: 1,
          batchSize: 1,
          warmup,
          note: v.note,
        },
        timed,
      ),
    );
  }
  return out;
}

interface ScanPair {
  cases: CaseResult[];
  /** The 2-worker result of the last repetition (for cross-checks). */
  last?: ScanReport;
  consistent: boolean;
}

/** Scans alternate between the clients so they see the same machine load. */
async function scanCases(clients: EngineClient[], bm: BenchModel, data: BenchModel['scanData'][number], opts: Options): Promise<ScanPair> {
  const reps = data.key === 'idx-10k' || bm.key === 'mobilenet' ? Math.max(1, Math.min(opts.reps, 3)) : opts.reps;
  const samples: number[][] = clients.map(() => []);
  const loads: number[][] = clients.map(() => []);
  const reported: number[][] = clients.map(() => []);
  let images = 0;
  let last: ScanReport | undefined;
  const results: ScanReport[] = [];
  for (const c of clients) results.push(await c.scan(bm.file, { data: data.path, batchSize: BATCH })); // warm-up: loads the model in every worker
  const a = loadSnapshot();
  for (let r = 0; r < reps; r++) {
    for (let ci = 0; ci < clients.length; ci++) {
      let report: ScanReport | undefined;
      samples[ci].push(await timeIt(async () => (report = await clients[ci].scan(bm.file, { data: data.path, batchSize: BATCH })), loads[ci]));
      reported[ci].push(report!.seconds * 1000);
      images = report!.images;
      if (ci === clients.length - 1) last = report;
      results[ci] = report!;
    }
  }
  const load = contention(a, loadSnapshot());
  const fingerprint = (s: ScanReport): string => JSON.stringify(s.layers.map((l) => [l.name, l.dead, l.dying, l.firingCount]));
  const consistent = results.every((s) => fingerprint(s) === fingerprint(results[0]));
  const cases = clients.map((c, ci) =>
    caseResult(
      {
        id: `${bm.key}/scan/${data.key}/workers-${c.workers}`,
        model: bm.key,
        op: 'scan',
        where: 'client',
        workers: c.workers,
        dataset: data.key,
        images,
        batchSize: BATCH,
        warmup: 1,
        note: `wall time of EngineClient.scan (incl. datasetInfo and finishScan); engine-reported seconds median ${round(median(reported[ci]), 0)} ms; repetitions alternate between pool sizes`,
      },
      { samples: samples[ci], load, loads: loads[ci] },
    ),
  );
  return { cases, last, consistent };
}

// ---------------------------------------------------------------------------------------------
// PyTorch reference

interface TorchCheck {
  shape: [number, number, number];
  images: number;
  inputs: number[];
  /** TF.js outputs at each conv/dense layer's activation point, flattened NHWC. */
  layers: { name: string; values: number[] }[];
}

interface TorchResult {
  torch?: string;
  threads?: number;
  /** BLAS library torch loaded (reference BLAS makes its Dense layers several times slower). */
  blas?: string;
  /** PNG decoder used in the end-to-end scan (pillow, or the numpy fallback). */
  decoder?: string;
  /** Conv/dense layers whose activations the scan reduces. */
  points?: string[];
  forward?: { batchSize: number; medianMs: number; imagesPerSecond: number };
  scan?: {
    images: number;
    endToEnd: { medianMs: number; imagesPerSecond: number; decoder: string };
    computeOnly: { medianMs: number; imagesPerSecond: number };
    layers: { name: string; firingCount: number[]; max: number[] }[];
  };
  check?: { images: number; layers: { name: string; maxAbsDiff: number }[]; maxAbsDiff: number; argmaxEqual: boolean; ok: boolean };
  skipped?: string;
  error?: string;
  setup?: TorchSetup;
  /** Environment variables the setup added. */
  env?: Record<string, string>;
  contention?: Contention;
  /** The same measurement with Debian's defaults (system BLAS, glibc malloc defaults). */
  stock?: Omit<TorchResult, 'stock'>;
}

function runTorch(modelFile: string, check: TorchCheck | undefined, opts: Options, setup: TorchSetup = 'tuned'): TorchResult {
  const skipped = torchUnavailable();
  if (skipped) return { skipped };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cnn-lens-torch-'));
  try {
    const args = [TORCH_SCRIPT, '--model', modelFile, '--data', PNGS, '--threads', '2', '--batch', String(BATCH), '--reps', String(opts.quick ? 2 : Math.max(opts.reps, 9))];
    if (check) {
      const f = path.join(tmp, 'check.json');
      fs.writeFileSync(f, JSON.stringify(check));
      args.push('--check', f);
    }
    log(`PyTorch reference (${setup}): ${PYTHON} ${args.map((a) => path.relative(ROOT, a) || a).join(' ')}`);
    const r = spawnSync(PYTHON, args, { encoding: 'utf8', timeout: 9 * 60_000, maxBuffer: 64 << 20, env: torchEnv(setup) });
    if (r.status !== 0) return { error: `torch_reference.py failed (${r.status ?? r.signal}): ${(r.stderr || r.error?.message || '').trim().slice(-2000)}` };
    return JSON.parse(r.stdout) as TorchResult;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

interface PairedScans {
  reps: number;
  /** Per repetition, in order: TF.js 2-worker scan, PyTorch end-to-end scan, PyTorch pre-decoded scan. */
  tfjsPoolScanMs: number[];
  torchScanMs: number[];
  torchComputeOnlyMs: number[];
  otherCores: { tfjs: number[]; torch: number[]; torchComputeOnly: number[] };
  tfjsPoolImagesPerSecond: number;
  torchImagesPerSecond: number;
  torchComputeOnlyImagesPerSecond: number;
  /** Median over repetitions of (TF.js images/s ÷ PyTorch end-to-end images/s) of the same repetition. */
  ratioPerRepetitionMedian: number;
}

/**
 * The ratio, measured so that machine drift cannot bias it: TF.js 2-worker scans and
 * PyTorch scans of the same 1,000 PNGs alternate repetition by repetition (this shared VM's speed
 * moves by ±25% over minutes, more than the effects being compared).
 */
async function pairedTorch(
  pool: EngineClient,
  good: BenchModel,
  check: TorchCheck | undefined,
  opts: Options,
): Promise<{ info: TorchResult; paired?: PairedScans; layers?: { name: string; firingCount: number[]; max: number[] }[] }> {
  const skipped = torchUnavailable();
  if (skipped) return { info: { skipped } };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cnn-lens-torch-'));
  const args = [TORCH_SCRIPT, '--model', good.file, '--data', PNGS, '--threads', '2', '--batch', String(BATCH), '--serve'];
  if (check) {
    const f = path.join(tmp, 'check.json');
    fs.writeFileSync(f, JSON.stringify(check));
    args.push('--check', f);
  }
  log(`PyTorch reference (tuned, paired with TF.js scans): ${PYTHON} ${args.map((a) => path.relative(ROOT, a) || a).join(' ')}`);
  await quiet.wait();
  const server = new TorchServer(args, 9 * 60_000);
  try {
    const info = (await server.next()) as unknown as TorchResult & { images: number };
    const reps = opts.quick ? 2 : Math.max(opts.reps, 7);
    const js: number[] = [];
    const ts: number[] = [];
    const tc: number[] = [];
    const loads = { tfjs: [] as number[], torch: [] as number[], torchComputeOnly: [] as number[] };
    const torchRep = async (cmd: string, out: number[], load: number[]): Promise<void> => {
      // Same treatment as timeIt: wait for quiet, measure, redo a disturbed repetition (twice at most).
      for (let attempt = 0; ; attempt++) {
        await quiet.wait();
        const a = cpuTimes(server.pid);
        const ms = (await server.ask(cmd)).ms as number;
        const l = otherCores(a, cpuTimes(server.pid));
        if (quiet.maxWaitMs > 0 && l !== undefined && l > NOISY_REPETITION && attempt < 2) {
          quiet.stats.redone++;
          continue;
        }
        out.push(ms);
        if (l !== undefined) load.push(round(l, 2));
        return;
      }
    };
    for (let r = 0; r < reps; r++) {
      js.push(await timeIt(() => pool.scan(good.file, { data: PNGS, batchSize: BATCH }), loads.tfjs));
      await torchRep('scan', ts, loads.torch);
      await torchRep('scan-decoded', tc, loads.torchComputeOnly);
    }
    const final = await server.ask('quit');
    const n = info.images;
    const ips = (ms: number): number => (n * 1000) / ms;
    const paired: PairedScans = {
      reps,
      tfjsPoolScanMs: js.map((x) => round(x, 1)),
      torchScanMs: ts.map((x) => round(x, 1)),
      torchComputeOnlyMs: tc.map((x) => round(x, 1)),
      otherCores: loads,
      tfjsPoolImagesPerSecond: round(ips(median(js)), 1),
      torchImagesPerSecond: round(ips(median(ts)), 1),
      torchComputeOnlyImagesPerSecond: round(ips(median(tc)), 1),
      ratioPerRepetitionMedian: round(median(js.map((x, i) => ts[i] / x)), 2),
    };
    const scan: TorchResult['scan'] = {
      images: n,
      endToEnd: { medianMs: round(median(ts), 1), imagesPerSecond: paired.torchImagesPerSecond, decoder: String(info.decoder ?? '') },
      computeOnly: { medianMs: round(median(tc), 1), imagesPerSecond: paired.torchComputeOnlyImagesPerSecond },
      layers: [],
    };
    const layers = final.layers as { name: string; firingCount: number[]; max: number[] }[];
    return { info: { ...info, scan, setup: 'tuned', env: torchEnvDiff('tuned') }, paired, layers };
  } catch (err) {
    return { info: { error: (err as Error).message, setup: 'tuned' } };
  } finally {
    server.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function bench(opts: Options, tmp: string): Promise<void> {
  quiet = new QuietWaiter(opts.waitQuiet * 1000);
  const started = new Date();
  const startSnap = loadSnapshot();
  const notes: string[] = [];
  if (!fs.existsSync(PNGS)) throw new Error(`${PNGS} is missing: the bench scans the bundled sample images`);

  const backend = await initBackend(opts.backend);
  log(`backend ${backend.name} (tfjs ${tf.version.tfjs})`);
  if (backend.warning) notes.push(backend.warning);

  const want = (key: string): boolean => !opts.models || opts.models.includes(key);
  const models: BenchModel[] = [];
  const scanData = (idx: boolean): BenchModel['scanData'] => {
    const d: BenchModel['scanData'] = [{ key: 'png-1000', path: PNGS }];
    if (idx && opts.idx) {
      if (fs.existsSync(IDX)) d.push({ key: 'idx-10k', path: IDX });
      else notes.push(`${path.relative(ROOT, IDX)} missing: IDX scans skipped`);
    }
    return d;
  };
  for (const [key, folder, description] of [
    ['good', 'fashion-mnist-cnn', 'sample CNN (Adam lr 1e-3)'],
    ['high-lr', 'fashion-mnist-cnn-high-lr', 'sample CNN trained with a too-high learning rate (dead units)'],
  ] as const) {
    if (!want(key)) continue;
    const file = path.join(SAMPLES, folder, 'model.json');
    if (fs.existsSync(file)) models.push({ key, file, description, scanData: scanData(true) });
    else notes.push(`${path.relative(ROOT, file)} missing: model skipped (train the samples first)`);
  }
  if (want('mobilenet')) {
    const t0 = performance.now();
    const net = buildMobileNetV1();
    const dir = path.join(tmp, 'mobilenet_v1_0.25_128');
    await saveLayersModel(net, dir);
    net.dispose();
    log(`built and saved MobileNetV1 0.25/128 in ${round(performance.now() - t0, 0)} ms`);
    models.push({
      key: 'mobilenet',
      file: path.join(dir, 'model.json'),
      description: 'MobileNetV1 α=0.25, 128×128×3, 1000 classes, random seeded weights (PNGs converted grey→RGB and resized 28→128 by the loader)',
      scanData: scanData(false),
    });
  }

  const cases: CaseResult[] = [];
  const consistency: { model: string; dataset: string; consistent: boolean }[] = [];
  let torchCheck: TorchCheck | undefined;
  let goodScan: ScanReport | undefined;
  let clients: EngineClient[] = [];
  let paired: Awaited<ReturnType<typeof pairedTorch>> | undefined;
  try {
    // In-process first (the pool's workers do not exist yet, so nothing else competes).
    for (const bm of models) {
      log(`${bm.key}: in-process forward / activations`);
      const r = await inProcessCases(bm, opts);
      cases.push(...r.cases);
      torchCheck ??= r.check;
    }
    const pngSet = await openDataset(PNGS);
    if (!(pngSet instanceof ImageFolderDataset)) throw new Error(`${PNGS}: expected a folder of images`);
    const pngFiles = pngSet.items.map((it) => it.file);
    // `--engine DIR`: the pool cases use another compiled engine (e.g. a prototype of a change).
    const Client: typeof EngineClient = opts.engine
      ? // eslint-disable-next-line @typescript-eslint/no-require-imports
        (require(path.join(opts.engine, 'client')) as { EngineClient: typeof EngineClient }).EngineClient
      : EngineClient;
    clients = [new Client({ workers: 1, backend: opts.backend }), new Client({ workers: 2, backend: opts.backend })];
    for (const bm of models) {
      log(`${bm.key}: EngineClient.activations round trip`);
      cases.push(...(await clientActivations(clients[0], bm, opts, pngFiles)));
      for (const d of bm.scanData) {
        log(`${bm.key}: scan ${d.key}, 1 vs 2 workers`);
        const pair = await scanCases(clients, bm, d, opts);
        cases.push(...pair.cases);
        consistency.push({ model: bm.key, dataset: d.key, consistent: pair.consistent });
        if (!pair.consistent) notes.push(`${bm.key}/${d.key}: the 1- and 2-worker scans disagree (dead/dying/firing counts)`);
        if (bm.key === 'good' && d.key === 'png-1000') goodScan = pair.last;
      }
    }
    const goodModel = models.find((m) => m.key === 'good');
    if (opts.torch && goodModel) {
      log('good: PyTorch reference, alternating with 2-worker TF.js scans');
      paired = await pairedTorch(clients[1], goodModel, torchCheck, opts);
    }
  } finally {
    await Promise.all(clients.map((c) => c.dispose()));
  }

  // Pool speed-up: same model and dataset, 2 workers vs 1.
  const poolSpeedup = cases
    .filter((c) => c.op === 'scan' && c.workers === 2)
    .map((c2) => {
      const c1 = cases.find((c) => c.op === 'scan' && c.workers === 1 && c.model === c2.model && c.dataset === c2.dataset)!;
      return {
        model: c2.model,
        dataset: c2.dataset!,
        workers1ImagesPerSecond: c1.imagesPerSecond,
        workers2ImagesPerSecond: c2.imagesPerSecond,
        speedup: round(c2.imagesPerSecond / c1.imagesPerSecond, 2),
      };
    });

  // PyTorch reference on the sample CNN.
  let torch: TorchResult | undefined;
  let torchRatio: Record<string, unknown> | undefined;
  const good = models.find((m) => m.key === 'good');
  if (!opts.torch) torch = { skipped: '--no-torch' };
  else if (!good) torch = { skipped: 'the sample CNN (samples/fashion-mnist-cnn) is not available' };
  else {
    torch = paired?.info ?? { skipped: 'not run' };
    if (torch.scan && paired?.layers) torch.scan.layers = paired.layers;
    if (!torch.skipped && !torch.error) {
      // For comparison: the same reference with Debian's defaults, one-shot.
      await quiet.wait();
      const a = loadSnapshot();
      const stock = runTorch(good.file, undefined, opts, 'stock');
      if (stock.scan) stock.scan = { ...stock.scan, layers: [] };
      torch.stock = { ...stock, setup: 'stock', env: torchEnvDiff('stock'), contention: contention(a, loadSnapshot()) };
    }
    if (torch.scan) {
      const pool = cases.find((c) => c.id === 'good/scan/png-1000/workers-2')!;
      const single = cases.find((c) => c.id === 'good/scan/png-1000/workers-1')!;
      const fwd = cases.find((c) => c.id === 'good/forward');
      let scanAgreement: Record<string, unknown> | undefined;
      if (goodScan) {
        let mismatches = 0;
        let maxRel = 0;
        for (const tl of torch.scan.layers) {
          const jl = goodScan.layers.find((l) => l.point === tl.name || l.name === tl.name);
          if (!jl) {
            mismatches += tl.firingCount.length;
            continue;
          }
          tl.firingCount.forEach((c, u) => {
            if (c !== jl.firingCount[u]) mismatches++;
            maxRel = Math.max(maxRel, Math.abs(tl.max[u] - jl.max[u]) / Math.max(1e-6, Math.abs(jl.max[u])));
          });
        }
        scanAgreement = { firingCountMismatches: mismatches, maxRelativeDiffOfMax: Number(maxRel.toExponential(2)) };
      }
      const p = paired!.paired!;
      const ratio = p.tfjsPoolImagesPerSecond / p.torchImagesPerSecond;
      torchRatio = {
        model: 'good',
        dataset: 'png-1000',
        tfjsPoolScanImagesPerSecond: p.tfjsPoolImagesPerSecond,
        tfjsPoolScanImagesPerSecondInScanCase: pool.imagesPerSecond,
        tfjsSingleWorkerScanImagesPerSecond: single.imagesPerSecond,
        torchScanImagesPerSecond: p.torchImagesPerSecond,
        torchScanComputeOnlyImagesPerSecond: p.torchComputeOnlyImagesPerSecond,
        ratio: round(ratio, 2),
        ratioPerRepetitionMedian: p.ratioPerRepetitionMedian,
        ratioVsTorchComputeOnly: round(p.tfjsPoolImagesPerSecond / p.torchComputeOnlyImagesPerSecond, 2),
        forwardRatio: fwd && torch.forward ? round(fwd.imagesPerSecond / torch.forward.imagesPerSecond, 2) : undefined,
        ratioVsStockTorch: torch.stock?.scan ? round(pool.imagesPerSecond / torch.stock.scan.endToEnd.imagesPerSecond, 2) : undefined,
        target: 0.8,
        meetsTarget: ratio >= 0.8,
        definition:
          'ratio = tfjs 2-worker EngineClient.scan images/s ÷ PyTorch (2 threads, tuned setup: OpenBLAS + malloc that keeps its heap) scan images/s, both reading and decoding the same 1,000 PNGs, ' +
          'their repetitions alternating (see pairedScans); ' +
          'ratioVsStockTorch uses PyTorch with Debian defaults (reference BLAS, default malloc); ' +
          'ratioVsTorchComputeOnly uses PyTorch with the images already decoded in memory; forwardRatio compares one forward pass of batch 64 (tfjs single thread vs torch 2 threads)',
        scanAgreement,
      };
    }
  }

  let wasmSimd: boolean | undefined;
  if (backend.name === 'wasm') {
    try {
      wasmSimd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    } catch {
      // flag not registered
    }
  }
  const endSnap = loadSnapshot();
  const whole = contention(startSnap, endSnap);
  const busiest = Math.max(0, ...cases.map((c) => c.contention?.otherCores ?? 0));
  if (busiest > 0.25) {
    notes.push(
      `Other processes used up to ${busiest} cores during some cases (see each case's contention): numbers from this run are pessimistic; compare ratios within the run`,
    );
  }
  const result = {
    generatedBy: 'bench/run.ts',
    date: started.toISOString(),
    seconds: round((Date.now() - started.getTime()) / 1000, 1),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      availableParallelism: typeof os.availableParallelism === 'function' ? os.availableParallelism() : undefined,
      memoryGB: round(os.totalmem() / 2 ** 30, 1),
      platform: `${os.platform()} ${os.release()}`,
      node: process.version,
      tfjs: tf.version.tfjs,
      backend: backend.name,
      wasmSimd,
      loadAverageAtStart: undefined as number[] | undefined,
      loadAverageAtEnd: os.loadavg().map((x) => round(x, 2)),
      otherProcessesCoresDuringRun: whole?.otherCores,
      busyProcessesDuringRun: whole?.busyProcesses,
    },
    settings: {
      batchSize: BATCH,
      reps: opts.reps,
      quick: opts.quick,
      backendPreference: opts.backend,
      waitQuietSeconds: opts.waitQuiet,
      engine: opts.engine ? path.relative(ROOT, opts.engine) : 'out/src/engine (this build)',
      quietWaits: opts.waitQuiet > 0 ? { ...quiet.stats, waitedMs: round(quiet.stats.waitedMs, 0), threshold: QUIET_THRESHOLD } : undefined,
    },
    models: models.map((m) => ({ key: m.key, file: path.relative(ROOT, m.file).startsWith('..') ? '(temporary folder)' : path.relative(ROOT, m.file), description: m.description, ...m.info })),
    cases,
    poolSpeedup,
    scanConsistency: consistency,
    torch,
    torchRatio,
    pairedScans: paired?.paired,
    notes,
  };
  result.machine.loadAverageAtStart = loadAvgAtStart;
  const text = JSON.stringify(result, null, 2) + '\n';
  await writeFileAtomic(opts.out, text);
  process.stdout.write(text);
  log(`wrote ${path.relative(process.cwd(), opts.out)}`);
}

const loadAvgAtStart = os.loadavg().map((x) => round(x, 2));

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  // The MobileNet model folder lives here for the run only.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cnn-lens-bench-'));
  try {
    await bench(opts, tmp);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (require.main === module) runMain(main);
