/**
 * Checks and defaults which items a `BatchOptions` asks for: a `[start, end)` range, or an
 * explicit ascending `indices` list. Shared by every reader so sharding and sampling behave
 * identically whatever the dataset format: workers split the items by position and must get
 * disjoint, complete slices.
 */
import type { BatchOptions } from './types';

export interface ResolvedItems {
  /** How many items the stream yields (corrupt files included, reported as skipped). */
  count: number;
  /** Dataset index of the k-th item of the stream; strictly increasing in k. */
  at(k: number): number;
  batchSize: number;
}

export function resolveItems(datasetPath: string, options: BatchOptions, size: number): ResolvedItems {
  const { batchSize, indices } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`${datasetPath}: batchSize must be a positive integer (got ${batchSize})`);
  }
  if (indices) {
    if (options.start !== undefined || options.end !== undefined) {
      throw new RangeError(`${datasetPath}: give either indices or a [start, end) range, not both`);
    }
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k];
      if (!Number.isInteger(i) || i < 0 || i >= size) {
        throw new RangeError(`${datasetPath}: item index ${i} (indices[${k}]) is not within the dataset's ${size} items`);
      }
      // Ascending order is what lets a stream (IDX, gzipped) serve the list in one forward pass.
      if (k > 0 && i <= indices[k - 1]) {
        throw new RangeError(`${datasetPath}: indices must be strictly ascending (indices[${k}] = ${i} after ${indices[k - 1]})`);
      }
    }
    return { count: indices.length, at: (k) => indices[k], batchSize };
  }
  const start = options.start ?? 0;
  const end = options.end ?? size;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > size || start > end) {
    throw new RangeError(`${datasetPath}: range [${start}, ${end}) is not within the dataset's ${size} items`);
  }
  return { count: end - start, at: (k) => start + k, batchSize };
}

/**
 * `count` item indices spread evenly over `[0, size)`: `floor(i · size / count)`, ascending, the
 * first one 0. Datasets are listed class by class (image folders) or in file order, so "the first
 * N" would cover only the first classes; an even spread covers them all in proportion. All of
 * `[0, size)` when `count >= size`.
 */
export function evenSampleIndices(size: number, count: number): number[] {
  if (!Number.isInteger(size) || size < 0) throw new RangeError(`evenSampleIndices: size must be a whole number (got ${size})`);
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`evenSampleIndices: count must be a whole number (got ${count})`);
  const n = Math.min(count, size);
  const out = new Array<number>(n);
  // i · size stays an exact integer in a double for any realistic dataset (< 2^53).
  for (let i = 0; i < n; i++) out[i] = Math.floor((i * size) / n);
  return out;
}
