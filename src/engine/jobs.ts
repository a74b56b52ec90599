/**
 * The operations an engine worker can run. Each takes plain arguments (paths, names, ranges) and
 * returns plain data, so it can be called in-process or through `WorkerPool`. Dataset-wide
 * operations work on a shard `[start, end)` and return a mergeable accumulator; the client splits
 * the dataset over the pool and asks one worker to merge and finish.
 *
 * Models are cached per worker and reloaded when the file changes on disk.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { BackendName } from './backendNames';
import type { InspectableModel } from './model/inspectableModel';
import { loadModel } from './io/models';
import { openDataset, loadSingleImage, type Batch, type Dataset, type SkippedFile } from './io/datasets';
import { loadCnnLensConfig, type CnnLensConfig } from './config/cnnlensConfig';
import { summarize, type ModelSummary } from './analyses/summary';
import { activations, type LayerActivations } from './analyses/activations';
import { filterLayers, filters, type FilterTiles as LayerFilters } from './analyses/filters';
import { activationPoints } from './analyses/activationPoints';
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

export interface JobContext {
  signal: AbortSignal;
  backend: BackendName;
  /** `detail`: an intermediate result for the caller's `onProgress` (see `JobProgress.detail`). */
  progress(done: number, total: number, detail?: unknown): void;
}

// ---------------------------------------------------------------------------------------------
// Caches

interface CachedModel {
  key: string;
  model: Promise<InspectableModel>;
}
const MODEL_CACHE_SIZE = 3;
const modelCache: CachedModel[] = [];

/** A model file's identity on disk: path + size + mtime of the file (and of its folder's shards). */
async function fileKey(file: string): Promise<string> {
  const st = await fs.promises.stat(file).catch(() => undefined);
  return `${path.resolve(file)}|${st?.size ?? 0}|${st?.mtimeMs ?? 0}`;
}

async function getModel(file: string): Promise<InspectableModel> {
  const key = await fileKey(file);
  const hit = modelCache.find((c) => c.key === key);
  if (hit) return hit.model;
  const stale = modelCache.findIndex((c) => c.key.startsWith(path.resolve(file) + '|'));
  if (stale >= 0) disposeCached(modelCache.splice(stale, 1)[0]);
  const entry: CachedModel = { key, model: loadModel(file) };
  // A failed load must not stay cached.
  entry.model.catch(() => {
    const i = modelCache.indexOf(entry);
    if (i >= 0) modelCache.splice(i, 1);
  });
  modelCache.push(entry);
  while (modelCache.length > MODEL_CACHE_SIZE) disposeCached(modelCache.shift()!);
  return entry.model;
}

function disposeCached(entry: CachedModel): void {
  entry.model.then((m) => m.dispose()).catch(() => undefined);
}

/** Drops every cached model (tests use it to check for leaked tensors). */
export function clearModelCache(): void {
  while (modelCache.length) disposeCached(modelCache.pop()!);
}

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
  start: number;
  end: number;
  batchSize: number;
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

export interface FinishEvalArgs {
  shards: EvalAccumulator[];
  classNames?: string[];
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
  let done = 0;
  for await (const batch of dataset.batches({
    batchSize: args.batchSize,
    geometry: model.input,
    preprocessing: config.preprocessing,
    start: args.start,
    end: args.end,
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

export const JOBS = {
  async summary(args: ModelArgs, ctx: JobContext): Promise<SummaryJobResult> {
    const model = await getModel(args.model);
    return { backend: ctx.backend, summary: summarize(model) };
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

  async finishEvaluate(args: FinishEvalArgs): Promise<EvalResult> {
    const merged = args.shards.reduce((a, b) => mergeEvalAccumulators(a, b));
    return finishEval(merged, args.classNames);
  },
};

export type Jobs = typeof JOBS;
export type JobName = keyof Jobs;
export type JobArgs<K extends JobName> = Parameters<Jobs[K]>[0];
export type JobResultOf<K extends JobName> = Awaited<ReturnType<Jobs[K]>>;
