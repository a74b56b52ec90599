/**
 * The operations an engine worker can run. Each takes plain arguments (paths, names, ranges) and
 * returns plain data, so it can be called in-process or through `WorkerPool`. Dataset-wide
 * operations work on a shard `[start, end)` and return a mergeable accumulator; the client splits
 * the dataset over the pool and asks one worker to merge and finish.
 *
 * Models are cached per worker and reloaded when the file changes on disk (modelCache.ts).
 */
import * as fs from 'fs';
import * as path from 'path';
import type { BackendName } from './backendNames';
import type { InspectableModel } from './model/inspectableModel';
import { getModel } from './modelCache';
import { openDataset, loadSingleImage, evenSampleIndices, type Batch, type Dataset, type SkippedFile } from './io/datasets';
import { loadCnnLensConfig, type CnnLensConfig } from './config/cnnlensConfig';
import { summarize, type ModelSummary } from './analyses/summary';
import { receptiveField, type ReceptiveFieldReport } from './analyses/receptiveField';
import { activations, type LayerActivations } from './analyses/activations';
import { filterLayers, filters, type FilterTiles as LayerFilters } from './analyses/filters';
import { activationPoints } from './analyses/activationPoints';
import { ThumbnailRenderer } from './render/thumbnails';
import { accumulateCodes, createCodesAccumulator, embeddingLayer, projectCodes, type CodesAccumulator, type EmbeddingProjection, type EmbedOptions, type EmbedPhase } from './analyses/embed';
import { effectiveReceptiveField, erfRadiiPerLayer, type ErfRadiiTable, type ErfResult } from './analyses/effectiveReceptiveField';
import { erfImageStream, type ErfImageSource, type ErfImagesSummary } from './erfImages';
import {
  accumulateBatch as accumulateScanBatch,
  createScanAccumulator,
  finishScan,
  mergeScanAccumulators,
  type ScanAccumulator,
  type ScanResult,
} from './analyses/scan';
import {
  accumulateEval,
  createEvalAccumulator,
  finishEval,
  mergeEvalAccumulators,
  type EvalAccumulator,
  type EvalResult,
} from './analyses/evaluate';
import { prepareTraining } from './training/plan';
import { extractFeatureShard, type FeatureShard } from './training/featureCache';
import { trainHeadJob, type TrainHeadArgs } from './training/trainHead';
import { fineTuneJob, type FineTuneArgs } from './training/fineTune';
import { gradientPeerJob, type GradientPeerArgs, type GradientPeerResult } from './training/gradientPeer';
import type { TrainingMode, TrainingOptions, TrainingPlan, TrainingResult } from './training/types';

export interface JobContext {
  signal: AbortSignal;
  /**
   * Cooperative stop (training jobs): finish at the next safe point and return what was done;
   * distinct from `signal`, which abandons the job.
   */
  stop?: AbortSignal;
  backend: BackendName;
  /** `detail`: an intermediate result for the caller's `onProgress` (see `JobProgress.detail`). */
  progress(done: number, total: number, detail?: unknown): void;
}

// ---------------------------------------------------------------------------------------------
// Caches (models: modelCache.ts)

export { clearModelCache } from './modelCache';

async function modelAndConfig(file: string): Promise<{ model: InspectableModel; config: CnnLensConfig }> {
  const [model, config] = await Promise.all([getModel(file), loadCnnLensConfig(file)]);
  return { model, config };
}

async function datasetFor(config: CnnLensConfig, data: string | undefined, modelFile: string): Promise<Dataset> {
  const dataPath = data ?? config.dataset;
  if (!dataPath) {
    throw new Error(`${modelFile}: no dataset given (pass --data, or set "dataset" in ${config.file ?? 'cnnlens.json beside the model'})`);
  }
  return openDataset(dataPath, { classNames: config.classNames });
}

/** One preprocessed dataset item, for views that pick an image from the dataset. */
async function datasetItem(
  model: InspectableModel,
  config: CnnLensConfig,
  args: ActivationsArgs,
): Promise<{ id: string; input: Float32Array; label?: number }> {
  const dataset = await datasetFor(config, args.data, args.model);
  const index = args.index ?? 0;
  if (!Number.isInteger(index) || index < 0 || index >= dataset.size) {
    throw new Error(`${dataset.path}: no image number ${index} (the dataset has ${dataset.size})`);
  }
  for await (const batch of dataset.batches({ batchSize: 1, geometry: model.input, preprocessing: config.preprocessing, start: index, end: index + 1 })) {
    if (batch.count > 0) return { id: batch.ids[0], input: batch.images.slice(), label: batch.labels?.[0] };
    if (batch.skipped.length) throw new Error(`${batch.skipped[0].file}: ${batch.skipped[0].reason}`);
  }
  throw new Error(`${dataset.path}: could not read image number ${index}`);
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new Error('Cancelled');
}

// ---------------------------------------------------------------------------------------------
// Arguments and results

export interface ModelArgs {
  model: string;
}

export interface SummaryJobResult {
  backend: BackendName;
  summary: ModelSummary;
}

export interface ReceptiveFieldJobResult extends ReceptiveFieldReport {
  backend: BackendName;
}

export interface ActivationsArgs extends ModelArgs {
  /** An image file; or, instead, item `index` of the dataset `data` (default: the model's dataset). */
  image?: string;
  data?: string;
  index?: number;
  /** Layers to return; default every conv/dense layer. */
  layers?: string[];
}

export interface ActivationsJobResult {
  backend: BackendName;
  /** The image file, or `dataset#index` for a dataset item. */
  image: string;
  /** The item's label (class index), when it came from a labelled dataset. */
  label?: number;
  /** The preprocessed input image, HWC. */
  input: Float32Array;
  inputShape: [number, number, number];
  layers: LayerActivations[];
}

export interface FiltersArgs extends ModelArgs {
  layers?: string[];
}

export interface FiltersJobResult {
  backend: BackendName;
  layers: LayerFilters[];
}

export interface DatasetArgs extends ModelArgs {
  data?: string;
}

export interface DatasetInfo {
  path: string;
  kind: Dataset['kind'];
  size: number;
  classNames?: string[];
  skipped: SkippedFile[];
  dyingThreshold: number;
}

export interface ShardArgs extends DatasetArgs {
  /** Positions [start, end) of the item sequence: the listing, or the `evenSample` when set. */
  start: number;
  end: number;
  batchSize: number;
  /**
   * When set, the item sequence is this many images spread evenly over the dataset
   * (`evenSampleIndices`), so shards of one sample stay disjoint and keep its order.
   */
  evenSample?: number;
}

export interface ShardResult<A> {
  backend: BackendName;
  accumulator: A;
  skipped: SkippedFile[];
}

export interface FinishScanArgs extends ModelArgs {
  shards: ScanAccumulator[];
  dyingThreshold: number;
}

/**
 * Images for an effective-receptive-field job: `image`, or `limit` items of `data` — spread evenly
 * over the dataset, or the contiguous items [start, start + limit) when `start` is given.
 */
export interface ErfImagesArgs extends ModelArgs {
  /** One image file (instead of a dataset). */
  image?: string;
  /** Dataset (default: the model's, from cnnlens.json). */
  data?: string;
  /** At most this many images (default 32). */
  limit?: number;
  /** First dataset item of a contiguous range (default: none, the images are spread evenly). */
  start?: number;
}

export interface ErfArgs extends ErfImagesArgs {
  layer: string;
  /** Default: all channels summed. */
  channel?: number;
  /** [y, x]; default the centre unit. */
  unit?: [number, number];
}

export interface ErfJobResult extends ErfResult, ErfImagesSummary {
  backend: BackendName;
}

export interface ErfRadiiArgs extends ErfImagesArgs {
  /** Default: every spatial layer. */
  layers?: string[];
}

export interface ErfRadiiJobResult extends ErfRadiiTable {
  backend: BackendName;
  source: string;
  imagesUsed: string[];
  skipped: SkippedFile[];
}

async function erfSource(config: CnnLensConfig, args: ErfImagesArgs): Promise<ErfImageSource> {
  return args.image ? { kind: 'image', file: args.image } : { kind: 'dataset', dataset: await datasetFor(config, args.data, args.model) };
}

export interface EmbedShardArgs extends ShardArgs {
  /** Layer to embed (default: cnnlens.json's penultimateLayer, else the input of the last Dense layer). */
  layer?: string;
}

export interface EmbedProjectArgs {
  /** Row-major n × dims codes. */
  codes: Float32Array;
  n: number;
  dims: number;
  labels: Int32Array | null;
  options: EmbedOptions;
}

/** `detail` of an embedding job's progress: the phase, and during the optimisation a frame. */
export interface EmbedProgressDetail {
  phase: EmbedPhase;
  frame?: { iteration: number; iterations: number; points: Float32Array };
}

export interface FinishEvalArgs {
  shards: EvalAccumulator[];
  classNames?: string[];
}

export interface PlanTrainingArgs extends ModelArgs {
  mode: TrainingMode;
  options: TrainingOptions;
}

export interface FeatureShardArgs extends ModelArgs {
  options: TrainingOptions;
  /** Items [start, end) of the data listing. */
  start: number;
  end: number;
  batchSize?: number;
}

// ---------------------------------------------------------------------------------------------
// Shard runner shared by scan and evaluate

async function runShard<A>(
  args: ShardArgs,
  ctx: JobContext,
  create: (model: InspectableModel, dataset: Dataset) => A,
  accumulate: (acc: A, model: InspectableModel, batch: Batch) => Promise<A>,
): Promise<ShardResult<A>> {
  const { model, config } = await modelAndConfig(args.model);
  const dataset = await datasetFor(config, args.data, args.model);
  const acc = create(model, dataset);
  const skipped: SkippedFile[] = [];
  const total = Math.max(0, args.end - args.start);
  const items = args.evenSample != null
    ? { indices: evenSampleIndices(dataset.size, args.evenSample).slice(args.start, args.end) }
    : { start: args.start, end: args.end };
  let done = 0;
  for await (const batch of dataset.batches({
    batchSize: args.batchSize,
    geometry: model.input,
    preprocessing: config.preprocessing,
    ...items,
    signal: ctx.signal,
  })) {
    throwIfAborted(ctx.signal);
    await accumulate(acc, model, batch);
    skipped.push(...batch.skipped);
    done += batch.count + batch.skipped.length;
    ctx.progress(done, total);
    // Let a pending cancel message in between batches (the compute itself is synchronous).
    await new Promise((r) => setImmediate(r));
  }
  throwIfAborted(ctx.signal);
  return { backend: ctx.backend, accumulator: acc, skipped };
}

// ---------------------------------------------------------------------------------------------
// Jobs

/** One per worker: keeps recent thumbnails and open IDX files between hovers. */
const thumbnails = new ThumbnailRenderer();

export const JOBS = {
  /** PNG data URI of a dataset item (an id the engine returned: a file, or `images-file#index`). */
  async thumbnail(args: { id: string }): Promise<{ uri: string }> {
    return { uri: await thumbnails.thumbnail(args.id) };
  },

  async summary(args: ModelArgs, ctx: JobContext): Promise<SummaryJobResult> {
    const model = await getModel(args.model);
    return { backend: ctx.backend, summary: summarize(model) };
  },

  async receptiveField(args: ModelArgs, ctx: JobContext): Promise<ReceptiveFieldJobResult> {
    const model = await getModel(args.model);
    return { backend: ctx.backend, ...receptiveField(model) };
  },

  async activations(args: ActivationsArgs, ctx: JobContext): Promise<ActivationsJobResult> {
    const { model, config } = await modelAndConfig(args.model);
    const item = args.image
      ? { id: path.resolve(args.image), input: await loadSingleImage(args.image, model.input, config.preprocessing), label: undefined }
      : await datasetItem(model, config, args);
    const layers = args.layers?.length ? args.layers : activationPoints(model).map((p) => p.layer);
    const result = await activations(model, item.input, layers);
    return {
      backend: ctx.backend,
      image: item.id,
      label: item.label,
      input: item.input,
      inputShape: [model.input.height, model.input.width, model.input.channels],
      layers: result.layers,
    };
  },

  async filters(args: FiltersArgs, ctx: JobContext): Promise<FiltersJobResult> {
    const model = await getModel(args.model);
    const names = args.layers?.length ? args.layers : filterLayers(model);
    const layers: LayerFilters[] = [];
    for (const name of names) {
      throwIfAborted(ctx.signal);
      layers.push(await filters(model, name));
    }
    return { backend: ctx.backend, layers };
  },

  async effectiveReceptiveField(args: ErfArgs, ctx: JobContext): Promise<ErfJobResult> {
    const { model, config } = await modelAndConfig(args.model);
    const images = erfImageStream(model, config.preprocessing, await erfSource(config, args), args, ctx);
    const result = await effectiveReceptiveField(model, args.layer, images.batches, { channel: args.channel, unit: args.unit }, ctx.signal);
    return { backend: ctx.backend, ...result, ...images.summary() };
  },

  async erfRadiiPerLayer(args: ErfRadiiArgs, ctx: JobContext): Promise<ErfRadiiJobResult> {
    const { model, config } = await modelAndConfig(args.model);
    const images = erfImageStream(model, config.preprocessing, await erfSource(config, args), args, ctx);
    const table = await erfRadiiPerLayer(model, images.batches, { layers: args.layers }, ctx.signal);
    const { source, imagesUsed, skipped } = images.summary();
    return { backend: ctx.backend, ...table, source, imagesUsed, skipped };
  },

  async datasetInfo(args: DatasetArgs): Promise<DatasetInfo> {
    const config = await loadCnnLensConfig(args.model);
    const dataset = await datasetFor(config, args.data, args.model);
    return {
      path: dataset.path,
      kind: dataset.kind,
      size: dataset.size,
      classNames: dataset.classNames,
      skipped: dataset.skipped,
      dyingThreshold: config.dyingThreshold,
    };
  },

  scanShard(args: ShardArgs, ctx: JobContext): Promise<ShardResult<ScanAccumulator>> {
    return runShard(args, ctx, (model) => createScanAccumulator(model), accumulateScanBatch);
  },

  async finishScan(args: FinishScanArgs): Promise<ScanResult> {
    const merged = args.shards.reduce((a, b) => mergeScanAccumulators(a, b));
    return finishScan(merged, { dyingThreshold: args.dyingThreshold });
  },

  evaluateShard(args: ShardArgs, ctx: JobContext): Promise<ShardResult<EvalAccumulator>> {
    return runShard(
      args,
      ctx,
      (model, dataset) => {
        if (!dataset.classNames) throw new Error(`${dataset.path}: evaluation needs labelled data (class folders or an IDX labels file)`);
        return createEvalAccumulator(model, dataset.classNames.length);
      },
      accumulateEval,
    );
  },

  async embedShard(args: EmbedShardArgs, ctx: JobContext): Promise<ShardResult<CodesAccumulator>> {
    const config = await loadCnnLensConfig(args.model);
    return runShard(
      args,
      ctx,
      (model, dataset) => createCodesAccumulator(model, embeddingLayer(model, args.layer, config.penultimateLayer), !!dataset.classNames),
      accumulateCodes,
    );
  },

  /** t-SNE / PCA / UMAP of codes; frames (fresh arrays, transferred) at most every ~100 ms. */
  embedProject(args: EmbedProjectArgs, ctx: JobContext): Promise<EmbeddingProjection> {
    return projectCodes(args.codes, args.n, args.dims, args.labels, args.options, {
      signal: ctx.signal,
      // The optimisation's progress travels with its frames.
      onProgress: (done, total, phase) => {
        if (phase !== 'optimize') ctx.progress(done, total, { phase } satisfies EmbedProgressDetail);
      },
      onFrame: (frame) => ctx.progress(frame.iteration, frame.iterations, { phase: 'optimize', frame } satisfies EmbedProgressDetail),
    });
  },

  /** Transfer learning: options resolved, data and layers checked, nothing trained. */
  async planTraining(args: PlanTrainingArgs, ctx: JobContext): Promise<TrainingPlan> {
    const { model, config } = await modelAndConfig(args.model);
    return { ...(await prepareTraining(model, config, args.mode, args.options)).plan, backend: ctx.backend };
  },

  /** Frozen-base features of items [start, end) for head training (see training/featureCache.ts). */
  async extractFeaturesShard(args: FeatureShardArgs, ctx: JobContext): Promise<FeatureShard> {
    const { model, config } = await modelAndConfig(args.model);
    const { data, split, cut } = await prepareTraining(model, config, 'head', args.options);
    return extractFeatureShard(model, data, {
      cutAt: cut!.cutAt,
      base: cut!.base,
      start: args.start,
      end: args.end,
      batchSize: args.batchSize ?? 64,
      validation: split.validation,
      preprocessing: config.preprocessing,
      signal: ctx.signal,
      onProgress: (done, total) => ctx.progress(done, total),
    });
  },

  /** Trains the new head on the merged feature shards and saves base + head (one worker). */
  trainHead(args: TrainHeadArgs, ctx: JobContext): Promise<TrainingResult> {
    return trainHeadJob(args, ctx);
  },

  /** Fine-tunes the model's top layers and saves the result (one worker). */
  fineTune(args: FineTuneArgs, ctx: JobContext): Promise<TrainingResult> {
    return fineTuneJob(args, ctx);
  },

  /** Data-parallel fine-tuning's second worker: gradients of half batches for a `fineTune` lead. */
  gradientPeer(args: GradientPeerArgs, ctx: JobContext): Promise<GradientPeerResult> {
    return gradientPeerJob(args, ctx);
  },

  async finishEvaluate(args: FinishEvalArgs): Promise<EvalResult> {
    const merged = args.shards.reduce((a, b) => mergeEvalAccumulators(a, b));
    return finishEval(merged, args.classNames);
  },
};

export type Jobs = typeof JOBS;
export type JobName = keyof Jobs;
export type JobArgs<K extends JobName> = Parameters<Jobs[K]>[0];
export type JobResultOf<K extends JobName> = Awaited<ReturnType<Jobs[K]>>;
