/**
 * The images an effective-receptive-field job runs on, as the stream of input tensors the analysis
 * consumes: images spread evenly over a dataset, a contiguous range of it, or one image file. While streaming it records what the caller
 * reports besides the ERF itself — the ids of the images used, their mean (the picture the heat
 * map is drawn over) and files that could not be decoded — and reports progress per batch.
 *
 * Each tensor is disposed when the consumer asks for the next one (or stops), so at most one
 * input batch is alive at a time.
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { InspectableModel } from './model/inspectableModel';
import { evenSampleIndices, loadSingleImage, type Dataset, type Preprocessing, type SkippedFile } from './io/datasets';
import { ERF_BATCH_SIZE } from './analyses/effectiveReceptiveField';

/** Images an ERF job uses when no limit is given (Luo et al. average over a few dozen). */
export const ERF_DEFAULT_IMAGES = 32;

export type ErfImageSource = { kind: 'image'; file: string } | { kind: 'dataset'; dataset: Dataset };

export interface ErfImageRange {
  /**
   * First item of a contiguous range [start, start + limit). Without it the `limit` images are
   * spread evenly over the dataset: listings go class by class, so the first N would show only
   * the first classes.
   */
  start?: number;
  /** At most this many images (default ERF_DEFAULT_IMAGES). */
  limit?: number;
}

export interface ErfImagesSummary {
  /** The dataset path, or the image file. */
  source: string;
  /** Image ids in order: file paths, or `file#index` for IDX records. */
  imagesUsed: string[];
  /** Mean of the preprocessed inputs, HWC (`height * width * channels`). */
  meanInput: Float32Array;
  inputShape: [number, number, number];
  skipped: SkippedFile[];
}

export interface ErfImageStream {
  batches: AsyncIterable<tf.Tensor4D>;
  /** Valid once `batches` has been consumed. */
  summary(): ErfImagesSummary;
}

export function erfImageStream(
  model: InspectableModel,
  preprocessing: Preprocessing,
  source: ErfImageSource,
  range: ErfImageRange,
  ctx: { signal: AbortSignal; progress(done: number, total: number): void },
): ErfImageStream {
  const { height, width, channels } = model.input;
  const per = height * width * channels;
  const sum = new Float64Array(per);
  const ids: string[] = [];
  const skipped: SkippedFile[] = [];

  const limit = range.limit ?? ERF_DEFAULT_IMAGES;
  if (!Number.isInteger(limit) || limit <= 0) throw new Error(`the image limit must be a positive whole number (got ${limit})`);
  let total = 1;
  let items: { start: number; end: number } | { indices: number[] } | undefined;
  if (source.kind === 'dataset') {
    const size = source.dataset.size;
    const start = range.start;
    if (start === undefined) {
      total = Math.min(size, limit);
      items = total < size ? { indices: evenSampleIndices(size, total) } : { start: 0, end: size };
    } else {
      if (!Number.isInteger(start) || start < 0 || start >= size) {
        throw new Error(`${source.dataset.path}: no image number ${start} to start from (the dataset has ${size})`);
      }
      total = Math.min(size, start + limit) - start;
      items = { start, end: start + total };
    }
  }

  function record(images: Float32Array, batchIds: string[]): tf.Tensor4D {
    for (let i = 0; i < images.length; i++) sum[i % per] += images[i];
    ids.push(...batchIds);
    return tf.tensor4d(images, [batchIds.length, height, width, channels]);
  }

  async function* batches(): AsyncGenerator<tf.Tensor4D> {
    if (source.kind === 'image') {
      const input = await loadSingleImage(source.file, model.input, preprocessing);
      const t = record(input, [path.resolve(source.file)]);
      try {
        yield t;
      } finally {
        t.dispose();
      }
      ctx.progress(1, 1);
      return;
    }
    let done = 0;
    for await (const batch of source.dataset.batches({
      batchSize: ERF_BATCH_SIZE,
      geometry: model.input,
      preprocessing,
      ...items,
      signal: ctx.signal,
    })) {
      skipped.push(...batch.skipped);
      if (batch.count > 0) {
        const t = record(batch.images.subarray(0, batch.count * per), batch.ids.slice(0, batch.count));
        try {
          yield t;
        } finally {
          t.dispose();
        }
      }
      done += batch.count + batch.skipped.length;
      ctx.progress(done, total);
    }
  }

  return {
    batches: batches(),
    summary() {
      const meanInput = new Float32Array(per);
      if (ids.length) for (let i = 0; i < per; i++) meanInput[i] = sum[i] / ids.length;
      const from = source.kind === 'image' ? path.resolve(source.file) : source.dataset.path;
      return { source: from, imagesUsed: ids, meanInput, inputShape: [height, width, channels], skipped };
    },
  };
}
