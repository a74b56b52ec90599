/**
 * Embeddings of a model's codes: the output of one layer (default: the input of the last Dense
 * layer, i.e. the features the classifier sees) for N images, projected to 2-D by t-SNE, PCA or
 * UMAP, with two quality figures (10-NN accuracy in 2-D, trustworthiness at k = 10).
 *
 * Two halves, so the pool can split the expensive forward passes:
 * - codes: a mergeable accumulator like scan/evaluate (`createCodesAccumulator`,
 *   `accumulateCodes`, `mergeCodes`), one per dataset shard; conv outputs are global-average
 *   pooled to one value per channel; the prediction (arg-max of the model's output) comes from the
 *   same forward pass;
 * - projection: `projectCodes`, one job, streaming frames while t-SNE / UMAP iterate.
 * `embed` runs both in-process.
 */
import * as tf from '@tensorflow/tfjs';
import type { InspectableModel } from '../model/inspectableModel';
import { findLayer } from '../model/inspectableModel';
import type { Batch, Dataset, Preprocessing } from '../io/datasets/types';
import { batchTensor, isChannelsFirst } from './common';
import { nodeActivation } from './activationPoints';
import { DEFAULT_PREPROCESSING } from '../io/datasets/imageGeometry';
import { evenSampleIndices } from '../io/datasets/range';
import { pca } from '../embedding/pca';
import { tsne, TSNE_DEFAULTS } from '../embedding/tsne';
import { umapEmbed } from '../embedding/umap';
import { knnAccuracy, trustworthiness } from '../embedding/quality';
import {
  checkEmbedOptions,
  mergeCodes,
  QUALITY_K,
  TRUSTWORTHINESS_SAMPLE,
  type CodesAccumulator,
  type EmbedHooks,
  type EmbeddingFrame,
  type EmbeddingResult,
  type EmbedMethod,
  type EmbedOptions,
} from '../embedding/embedData';

// The option, frame and result types live in the TF-free embedData.ts (the client needs them).
export * from '../embedding/embedData';

// ---------------------------------------------------------------------------------------------
// Codes

/**
 * The layer whose output is embedded: `layer` if given, else `configured` (cnnlens.json's
 * `penultimateLayer`), else the layer feeding the model's last Dense (graph models: MatMul) layer.
 */
export function embeddingLayer(model: InspectableModel, layer?: string, configured?: string): string {
  const name = layer ?? configured;
  if (name) return findLayer(model, name).name;
  const dense = [...model.layers].reverse().find((l) => l.className === 'Dense' || l.className === 'MatMul' || l.className === '_FusedMatMul');
  if (!dense) throw new Error(`${model.path}: no Dense layer whose input could be embedded; name a layer (--layer NAME, or "penultimateLayer" in cnnlens.json)`);
  const input = dense.inbound[0];
  if (!input) throw new Error(`${model.path}: the last Dense layer "${dense.name}" has no input layer to embed; name a layer with --layer`);
  return input;
}

export function createCodesAccumulator(model: InspectableModel, layer: string, labelled: boolean): CodesAccumulator {
  const node = findLayer(model, layer);
  if (node.outputShape.length < 2) throw new Error(`${model.path}: layer "${layer}" has output shape [${node.outputShape.join(', ')}]; expected [batch, ...]`);
  return { kind: 'codes', model: model.path, layer, dims: 0, count: 0, codes: new Float32Array(0), labels: labelled ? new Int32Array(0) : null, predicted: new Int32Array(0), ids: [] };
}

function grow<T extends Float32Array | Int32Array>(a: T, needed: number): T {
  if (a.length >= needed) return a;
  const next = new (a.constructor as new (n: number) => T)(Math.max(needed, a.length * 2, 256));
  next.set(a);
  return next;
}

/** One forward pass: pooled codes `[N, dims]` and the predicted class `[N]` (the caller disposes both). */
function codesOfBatch(model: InspectableModel, layer: string, batch: Batch): [tf.Tensor2D, tf.Tensor1D] {
  const x = batchTensor(model, batch.images, batch.count);
  const outNode = findLayer(model, model.outputLayer);
  const node = findLayer(model, layer);
  try {
    return tf.tidy(() => {
      const [code, out] = model.run(x, [layer, model.outputLayer]);
      let pooled: tf.Tensor2D;
      if (code.rank === 2) pooled = code as tf.Tensor2D;
      else if (code.rank === 4) pooled = tf.mean(code, isChannelsFirst(node) ? [2, 3] : [1, 2]) as tf.Tensor2D;
      else if (code.rank === 3) pooled = tf.mean(code, isChannelsFirst(node) ? [2] : [1]) as tf.Tensor2D;
      else pooled = tf.reshape(code, [code.shape[0], -1]);
      const flat = tf.reshape(out, [out.shape[0], -1]);
      let predicted: tf.Tensor1D;
      if (flat.shape[1] === 1) {
        const threshold = nodeActivation(outNode) === 'sigmoid' ? 0.5 : 0;
        predicted = tf.cast(tf.greater(tf.reshape(flat, [-1]), threshold), 'int32') as tf.Tensor1D;
      } else predicted = tf.argMax(flat, -1) as tf.Tensor1D;
      return [tf.cast(pooled, 'float32') as tf.Tensor2D, predicted] as [tf.Tensor2D, tf.Tensor1D];
    });
  } finally {
    x.dispose();
  }
}

/** Adds one batch to `acc` (mutated and returned). */
export async function accumulateCodes(acc: CodesAccumulator, model: InspectableModel, batch: Batch): Promise<CodesAccumulator> {
  if (batch.count === 0) return acc;
  const [codes, predicted] = codesOfBatch(model, acc.layer, batch);
  let c: Float32Array;
  let p: Int32Array;
  try {
    if (acc.dims === 0) acc.dims = codes.shape[1];
    else if (codes.shape[1] !== acc.dims) throw new Error(`${model.path}: layer "${acc.layer}" gave ${codes.shape[1]} values per image after ${acc.dims}`);
    [c, p] = (await Promise.all([codes.data(), predicted.data()])) as [Float32Array, Int32Array];
  } finally {
    codes.dispose();
    predicted.dispose();
  }
  const n = acc.count + batch.count;
  acc.codes = grow(acc.codes, n * acc.dims);
  acc.codes.set(c, acc.count * acc.dims);
  acc.predicted = grow(acc.predicted, n);
  acc.predicted.set(p, acc.count);
  if (acc.labels) {
    if (!batch.labels) throw new Error(`${model.path}: batch starting at ${batch.ids[0] ?? '?'} has no labels in a labelled dataset`);
    acc.labels = grow(acc.labels, n);
    acc.labels.set(batch.labels.subarray(0, batch.count), acc.count);
  }
  acc.ids.push(...batch.ids.slice(0, batch.count));
  acc.count = n;
  return acc;
}

// ---------------------------------------------------------------------------------------------
// Projection

export interface EmbeddingProjection {
  method: EmbedMethod;
  points: Float32Array;
  knnAccuracy: number | null;
  trustworthiness: number;
  trustworthinessSample: number;
  seconds: number;
  /** Seconds of the quality figures (not in `seconds`). */
  qualitySeconds: number;
  /** Per-phase seconds of the projection (t-SNE: neighbors, affinities, optimize). */
  timings: Record<string, number>;
}

/** Projects `n` codes of length `dims` (row-major) to 2-D and scores the result. */
export async function projectCodes(
  codes: Float32Array,
  n: number,
  dims: number,
  labels: Int32Array | null,
  options: EmbedOptions = {},
  hooks: EmbedHooks = {},
): Promise<EmbeddingProjection> {
  checkEmbedOptions(options);
  if (codes.length < n * dims) throw new Error(`embed: ${codes.length} code values for ${n} points of ${dims}`);
  if (n < 3) throw new Error(`embed: need at least 3 images to embed (got ${n})`);
  const method = options.method ?? 'tsne';
  const seed = options.seed ?? TSNE_DEFAULTS.seed;
  const data = codes.length === n * dims ? codes : codes.subarray(0, n * dims);
  const frame = (f: EmbeddingFrame) => hooks.onFrame?.(f);
  const t0 = performance.now();
  let points: Float32Array;
  let timings: Record<string, number> = {};
  if (method === 'tsne') {
    const r = await tsne(
      data,
      n,
      dims,
      { perplexity: options.perplexity, learningRate: options.learningRate, iterations: options.iterations, earlyExaggeration: options.earlyExaggeration, init: options.init, seed },
      { signal: hooks.signal, onProgress: (phase, done, total) => hooks.onProgress?.(done, total, phase), onFrame: frame },
    );
    points = r.points;
    timings = r.timings;
  } else if (method === 'umap') {
    const r = await umapEmbed(
      data,
      n,
      dims,
      { neighbors: options.neighbors, minDist: options.minDist, iterations: options.iterations, seed },
      { signal: hooks.signal, onProgress: (phase, done, total) => hooks.onProgress?.(done, total, phase), onFrame: frame },
    );
    points = r.points;
    timings = r.timings;
  } else {
    const k = Math.min(2, dims);
    const p = pca(data, n, dims, k);
    points = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) points[2 * i + c] = p.projected[i * k + c];
    hooks.onProgress?.(1, 1, 'optimize');
    frame({ iteration: 1, iterations: 1, points: points.slice() });
  }
  const seconds = (performance.now() - t0) / 1000;
  if (hooks.signal?.aborted) throw new Error('Cancelled');
  hooks.onProgress?.(0, 1, 'quality');
  const t1 = performance.now();
  const acc = labels ? knnAccuracy(points, labels, n, QUALITY_K) : null;
  const trust = trustworthiness(data, points, n, dims, { k: QUALITY_K, sampleSize: TRUSTWORTHINESS_SAMPLE, seed });
  hooks.onProgress?.(1, 1, 'quality');
  return {
    method,
    points,
    knnAccuracy: acc == null || Number.isNaN(acc) ? null : acc,
    trustworthiness: trust.value,
    trustworthinessSample: trust.sample,
    seconds,
    qualitySeconds: (performance.now() - t1) / 1000,
    timings,
  };
}

// ---------------------------------------------------------------------------------------------
// In-process

export interface EmbedRunOptions extends EmbedOptions {
  preprocessing?: Preprocessing;
  batchSize?: number;
  /** cnnlens.json's `penultimateLayer`, used when `layer` is not given. */
  penultimateLayer?: string;
}

/** Codes of `limit` images spread evenly over `dataset` (all by default), in one pass. */
export async function extractCodes(
  model: InspectableModel,
  dataset: Dataset,
  options: EmbedRunOptions = {},
  hooks: EmbedHooks = {},
): Promise<CodesAccumulator & { seconds: number }> {
  const t0 = performance.now();
  const layer = embeddingLayer(model, options.layer, options.penultimateLayer);
  const acc = createCodesAccumulator(model, layer, !!dataset.classNames);
  const total = Math.min(dataset.size, options.limit ?? dataset.size);
  // Listings go class by class, so the first N would cover only the first classes.
  const items = total < dataset.size ? { indices: evenSampleIndices(dataset.size, total) } : {};
  for await (const batch of dataset.batches({
    batchSize: options.batchSize ?? 64,
    geometry: model.input,
    preprocessing: options.preprocessing ?? DEFAULT_PREPROCESSING,
    ...items,
    signal: hooks.signal,
  })) {
    if (hooks.signal?.aborted) throw new Error('Cancelled');
    await accumulateCodes(acc, model, batch);
    hooks.onProgress?.(acc.count, total, 'codes');
  }
  if (hooks.signal?.aborted) throw new Error('Cancelled');
  return { ...mergeCodes([acc]), seconds: (performance.now() - t0) / 1000 };
}

/** Codes of `dataset` through `model`, projected to 2-D (everything in this thread). */
export async function embed(model: InspectableModel, dataset: Dataset, options: EmbedRunOptions = {}, hooks: EmbedHooks = {}): Promise<EmbeddingResult> {
  checkEmbedOptions(options);
  const codes = await extractCodes(model, dataset, options, hooks);
  if (codes.count === 0) throw new Error(`${dataset.path}: no images could be read`);
  const projection = await projectCodes(codes.codes, codes.count, codes.dims, codes.labels, options, hooks);
  return {
    method: projection.method,
    layer: codes.layer,
    dims: codes.dims,
    points: projection.points,
    labels: codes.labels,
    predicted: codes.predicted,
    classNames: dataset.classNames ? [...dataset.classNames] : null,
    ids: codes.ids,
    knnAccuracy: projection.knnAccuracy,
    trustworthiness: projection.trustworthiness,
    trustworthinessSample: projection.trustworthinessSample,
    seconds: projection.seconds,
    codeSeconds: codes.seconds,
  };
}
