/**
 * The plain-data half of the embeddings (no TF.js, so the client and the VS Code side can use
 * it): option, frame and result types, option checks, and merging the codes of dataset shards.
 * `analyses/embed.ts` re-exports all of it.
 */

export type EmbedMethod = 'tsne' | 'pca' | 'umap';
export const EMBED_METHODS: readonly EmbedMethod[] = ['tsne', 'pca', 'umap'];

export interface EmbedOptions {
  /** Layer whose output is embedded (default: `penultimateLayer` of cnnlens.json, else the input of the last Dense layer). */
  layer?: string;
  method?: EmbedMethod;
  /** At most this many images, spread evenly over the dataset (not the first N: listings go class by class). */
  limit?: number;
  /** t-SNE perplexity (default 30). */
  perplexity?: number;
  /** t-SNE step size (default "auto" = max(N / 12, 200)). */
  learningRate?: number | 'auto';
  /** t-SNE iterations (default 750) or UMAP epochs (default umap-js's). */
  iterations?: number;
  /** t-SNE early exaggeration (default 12, for the first 250 iterations). */
  earlyExaggeration?: number;
  /** t-SNE initialisation (default "pca"). */
  init?: 'pca' | 'random';
  /** Seed for every random choice (t-SNE random init, UMAP, the trustworthiness subsample). Default 42. */
  seed?: number;
  /** UMAP n_neighbors (default 15). */
  neighbors?: number;
  /** UMAP min_dist (default 0.1). */
  minDist?: number;
}

export interface EmbeddingFrame {
  iteration: number;
  iterations: number;
  /** 2N interleaved x, y. */
  points: Float32Array;
}

export interface EmbeddingResult {
  method: EmbedMethod;
  layer: string;
  /** Code length. */
  dims: number;
  /** 2N interleaved x, y. */
  points: Float32Array;
  labels: Int32Array | null;
  predicted: Int32Array;
  classNames: string[] | null;
  /** File path per point, or "<idx file>#<index>". */
  ids: string[];
  knnAccuracy: number | null;
  trustworthiness: number;
  /** Points trustworthiness was computed on (all, or a seeded random subsample). */
  trustworthinessSample: number;
  /** Projection: neighbour graph, affinities, optimisation (not the quality figures). */
  seconds: number;
  /** Forward passes that produced the codes. */
  codeSeconds: number;
}

/** What an embedding job is doing, reported with its progress. */
export type EmbedPhase = 'codes' | 'neighbors' | 'affinities' | 'optimize' | 'quality';

export interface EmbedHooks {
  signal?: AbortSignal;
  onProgress?(done: number, total: number, phase: EmbedPhase): void;
  onFrame?(frame: EmbeddingFrame): void;
}

/** Neighbourhood size of both quality figures. */
export const QUALITY_K = 10;
/** Trustworthiness is exact up to this many points, then computed on a subsample of this size. */
export const TRUSTWORTHINESS_SAMPLE = 5000;

// ---------------------------------------------------------------------------------------------
// Options

export function checkEmbedOptions(o: EmbedOptions): void {
  if (o.method !== undefined && !EMBED_METHODS.includes(o.method)) throw new Error(`embed: method must be one of ${EMBED_METHODS.join(', ')} (got "${o.method}")`);
  const positive = (name: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw new Error(`embed: ${name} must be a number > 0 (got ${v})`);
  };
  const whole = (name: string, v: number | undefined, min: number) => {
    if (v !== undefined && !(Number.isInteger(v) && v >= min)) throw new Error(`embed: ${name} must be a whole number ≥ ${min} (got ${v})`);
  };
  positive('perplexity', o.perplexity);
  if (o.learningRate !== 'auto') positive('learningRate', o.learningRate);
  whole('iterations', o.iterations, 1);
  positive('earlyExaggeration', o.earlyExaggeration);
  if (o.init !== undefined && o.init !== 'pca' && o.init !== 'random') throw new Error(`embed: init must be "pca" or "random" (got "${o.init}")`);
  whole('seed', o.seed, 0);
  whole('neighbors', o.neighbors, 2);
  whole('limit', o.limit, 1);
  if (o.minDist !== undefined && !(Number.isFinite(o.minDist) && o.minDist >= 0)) throw new Error(`embed: minDist must be a number ≥ 0 (got ${o.minDist})`);
}

export interface CodesAccumulator {
  kind: 'codes';
  model: string;
  layer: string;
  /** Code length (0 until the first batch when the layer's shape is not static). */
  dims: number;
  count: number;
  /** count × dims values (the arrays may be longer than needed; `count` says how much is used). */
  codes: Float32Array;
  labels: Int32Array | null;
  predicted: Int32Array;
  ids: string[];
}

/** Concatenates shard accumulators in order into one with exactly-sized arrays. */
export function mergeCodes(parts: readonly CodesAccumulator[]): CodesAccumulator {
  if (parts.length === 0) throw new Error('mergeCodes: nothing to merge');
  const withData = parts.filter((p) => p.count > 0);
  const dims = withData[0]?.dims ?? 0;
  for (const p of withData) {
    if (p.dims !== dims || p.layer !== parts[0].layer) throw new Error(`Cannot merge codes of "${p.layer}" (${p.dims} values) with "${parts[0].layer}" (${dims} values)`);
  }
  const count = parts.reduce((s, p) => s + p.count, 0);
  const codes = new Float32Array(count * dims);
  const predicted = new Int32Array(count);
  const labelled = parts.every((p) => p.labels);
  const labels = labelled ? new Int32Array(count) : null;
  const ids: string[] = [];
  let o = 0;
  for (const p of parts) {
    codes.set(p.codes.subarray(0, p.count * dims), o * dims);
    predicted.set(p.predicted.subarray(0, p.count), o);
    if (labels && p.labels) labels.set(p.labels.subarray(0, p.count), o);
    ids.push(...p.ids.slice(0, p.count));
    o += p.count;
  }
  return { kind: 'codes', model: parts[0].model, layer: parts[0].layer, dims, count, codes, labels, predicted, ids };
}
