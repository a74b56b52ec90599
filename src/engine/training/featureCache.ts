/**
 * Features of the frozen base, computed once per training job and kept in memory, so each epoch
 * of head training costs only the head (as Teachable Machine does): the base's output at the cut
 * for every image of a shard `[start, end)` of the data listing. Shards run on the pool's workers
 * like `scan` shards; the head-training job merges them.
 *
 * The same pass scans the base for dead units on the shard's validation images (the scan
 * accumulator of `analyses/scan.ts`, restricted to the base's conv/dense layers): the base is
 * frozen, so those counts hold for every epoch.
 */
import * as tf from '@tensorflow/tfjs';
import type { InspectableModel } from '../model/inspectableModel';
import type { Preprocessing, SkippedFile } from '../io/datasets/types';
import { activationPoints } from '../analyses/activationPoints';
import { accumulateBatch, createScanAccumulator, type ScanAccumulator } from '../analyses/scan';
import { batchTensor } from '../analyses/common';
import { decodeItems } from './imageStore';
import type { TrainingData } from './trainingData';

export interface FeatureShard {
  /** `indices.length × featureSize` floats, row k = features of item `indices[k]`. */
  features: Float32Array;
  /** Items of the shard that could be read (unreadable files are left out), ascending. */
  indices: Int32Array;
  featureSize: number;
  /** Dead-unit scan of the base over the shard's validation images. */
  scan: ScanAccumulator;
  skipped: SkippedFile[];
  fingerprint: string;
}

/** The base's conv/dense layers whose activation point is inside the base too. */
export function baseScanLayers(model: InspectableModel, base: Set<string>): string[] {
  return activationPoints(model)
    .filter((p) => base.has(p.layer) && p.chain.every((l) => base.has(l)))
    .map((p) => p.layer);
}

export interface FeatureShardOptions {
  cutAt: string;
  base: Set<string>;
  start: number;
  end: number;
  batchSize: number;
  /** Validation item indices (any order; only those in the shard matter). */
  validation: ArrayLike<number>;
  preprocessing: Preprocessing;
  signal?: AbortSignal;
  onProgress?(done: number, total: number): void;
}

export async function extractFeatureShard(model: InspectableModel, data: TrainingData, o: FeatureShardOptions): Promise<FeatureShard> {
  if (!(o.start >= 0 && o.end <= data.items.length && o.start <= o.end)) {
    throw new Error(`${data.path}: range [${o.start}, ${o.end}) is not within the ${data.items.length} images`);
  }
  const featureSize = model.layers.find((l) => l.name === o.cutAt)!.outputShape.slice(1).reduce<number>((a, d) => a * (d ?? 0), 1);
  const per = model.input.height * model.input.width * model.input.channels;
  const isValidation = new Set(Array.from(o.validation));
  const scan = createScanAccumulator(model, { layers: baseScanLayers(model, o.base) });
  const total = o.end - o.start;
  const features = new Float32Array(total * featureSize);
  const indices: number[] = [];
  const skipped: SkippedFile[] = [];
  const images = new Float32Array(o.batchSize * per);
  for (let first = o.start; first < o.end; first += o.batchSize) {
    if (o.signal?.aborted) throw new Error('Cancelled');
    const wanted = Int32Array.from({ length: Math.min(o.end, first + o.batchSize) - first }, (_, k) => first + k);
    const r = decodeItems(data.items, wanted, model.input, o.preprocessing, images);
    skipped.push(...r.skipped);
    const n = r.read.length;
    if (n > 0) {
      const x = batchTensor(model, images.subarray(0, n * per), n);
      try {
        const [f] = model.run(x, [o.cutAt]);
        try {
          features.set(f.dataSync() as Float32Array, indices.length * featureSize);
        } finally {
          f.dispose();
        }
      } finally {
        x.dispose();
      }
      // The validation images of this batch, for the base's dead-unit scan.
      const rows: number[] = [];
      r.read.forEach((index, k) => isValidation.has(index) && rows.push(k));
      if (rows.length > 0 && scan.layers.length > 0) {
        const val = new Float32Array(rows.length * per);
        rows.forEach((k, j) => val.set(images.subarray(k * per, (k + 1) * per), j * per));
        await accumulateBatch(scan, model, { images: val, count: rows.length, ids: [], skipped: [] });
      } else {
        scan.images += rows.length;
      }
      indices.push(...r.read);
    }
    o.onProgress?.(Math.min(o.end, first + o.batchSize) - o.start, total);
    // Let a pending cancel message in between batches (the compute itself is synchronous).
    await new Promise((r2) => setImmediate(r2));
  }
  return {
    features: indices.length === total ? features : features.slice(0, indices.length * featureSize),
    indices: Int32Array.from(indices),
    featureSize,
    scan,
    skipped,
    fingerprint: data.fingerprint,
  };
}

/** Rows of a row-major matrix (features or images) gathered into one `[rows, ...shape]` tensor. */
export function gatherRows(source: Float32Array, rowSize: number, rows: ArrayLike<number>, shape: number[]): tf.Tensor {
  const out = new Float32Array(rows.length * rowSize);
  for (let k = 0; k < rows.length; k++) out.set(source.subarray(rows[k] * rowSize, (rows[k] + 1) * rowSize), k * rowSize);
  return tf.tensor(out, [rows.length, ...shape]);
}
