/**
 * Plain-data types shared by the dataset readers and the analyses. Batches carry typed arrays,
 * not tensors, so readers never touch TF.js and a batch can cross a worker boundary as-is.
 */
import type { InputGeometry } from '../../model/inspectableModel';

export type DatasetKind = 'image-folder' | 'flat-folder' | 'idx';

/** How raw pixels (0..255) become model input: `value = (pixel / 255) * scale + offset` per channel. */
export interface Preprocessing {
  /** Multiplier applied after dividing by 255. Default 1 (pixels in [0, 1]). */
  scale: number | number[];
  /** Added after scaling. Default 0. */
  offset: number | number[];
  /** Channel order of the model's input when it has 3 channels. */
  channelOrder: 'rgb' | 'bgr';
  /** Resize method when the image size differs from the model input. */
  resize: 'bilinear' | 'nearest';
}

export interface SkippedFile {
  file: string;
  reason: string;
}

export interface Batch {
  /** `count * height * width * channels` floats, NHWC, already preprocessed for the model. */
  images: Float32Array;
  count: number;
  /** Class index per image, when the dataset is labelled. */
  labels?: Int32Array;
  /** Stable identifier per image: a file path, or `file#index` for IDX records. */
  ids: string[];
  /** Files that were in this batch's range but could not be decoded (corrupt, wrong format). */
  skipped: SkippedFile[];
}

export interface BatchOptions {
  batchSize: number;
  geometry: InputGeometry;
  preprocessing: Preprocessing;
  /** First item index (inclusive), default 0. Used to shard a dataset across workers. */
  start?: number;
  /** Last item index (exclusive), default `size`. */
  end?: number;
  /**
   * Exactly these items, strictly ascending, instead of `[start, end)` (not both): e.g. a sample
   * spread over the dataset (`evenSampleIndices`). Labels and ids follow the same items.
   */
  indices?: readonly number[];
  /** Checked between batches; when it reports aborted the stream stops. */
  signal?: AbortSignal;
}

export interface Dataset {
  readonly path: string;
  readonly kind: DatasetKind;
  /** Class names in label order, when labelled. */
  readonly classNames?: string[];
  /** Number of items (images) the dataset lists. Corrupt files are only discovered when read. */
  readonly size: number;
  /** Files ignored while listing (non-images, empty class folders), with the reason. */
  readonly skipped: SkippedFile[];
  /** Streams `[start, end)` (or `indices`) in batches; memory is bounded by the batch size. */
  batches(options: BatchOptions): AsyncIterable<Batch>;
}
