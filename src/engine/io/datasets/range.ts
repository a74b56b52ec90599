/**
 * Checks and defaults the `[start, end)` range and batch size of `BatchOptions`. Shared by every
 * reader so sharding behaves identically whatever the dataset format: workers split `[0, size)`
 * by index and must get disjoint, complete slices.
 */
import type { BatchOptions } from './types';

export interface ResolvedRange {
  start: number;
  end: number;
  batchSize: number;
}

export function resolveRange(datasetPath: string, options: BatchOptions, size: number): ResolvedRange {
  const { batchSize } = options;
  const start = options.start ?? 0;
  const end = options.end ?? size;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`${datasetPath}: batchSize must be a positive integer (got ${batchSize})`);
  }
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > size || start > end) {
    throw new RangeError(`${datasetPath}: range [${start}, ${end}) is not within the dataset's ${size} items`);
  }
  return { start, end, batchSize };
}
