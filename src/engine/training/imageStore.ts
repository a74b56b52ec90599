/**
 * Decoded, preprocessed training images by item index. Training visits every image once per
 * epoch in a new order, so the images are decoded once and kept in memory when they fit in the
 * budget (1 GiB: ~340,000 Fashion-MNIST images, ~1,700 at 224×224×3); beyond it they are decoded
 * again for each batch, so memory stays bounded by the batch. Either way an unreadable file is
 * found in the first pass (`load`) and left out, not discovered in the middle of an epoch.
 */
import * as fs from 'node:fs';
import type { InputGeometry } from '../model/inspectableModel';
import type { Preprocessing, SkippedFile } from '../io/datasets/types';
import { decodeImage } from '../io/datasets/decode';
import { checkPreprocessing, preprocessImageInto } from '../io/datasets/imageGeometry';
import type { TrainingItem } from './trainingData';

export const DEFAULT_IMAGE_BUDGET_BYTES = 1 << 30;

function reason(file: string, e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.startsWith(`${file}: `) ? m.slice(file.length + 2) : m;
}

/**
 * Decodes `indices` of `items` into `out` (one image after the other); returns the indices that
 * were read (unreadable files are left out, so `read.length` images are filled) and the failures.
 */
export function decodeItems(
  items: readonly TrainingItem[],
  indices: ArrayLike<number>,
  geometry: InputGeometry,
  preprocessing: Preprocessing,
  out: Float32Array,
): { read: Int32Array; skipped: SkippedFile[] } {
  const per = geometry.height * geometry.width * geometry.channels;
  const read: number[] = [];
  const skipped: SkippedFile[] = [];
  for (let k = 0; k < indices.length; k++) {
    const item = items[indices[k]];
    try {
      // Synchronous reads, as in the dataset reader: this runs in a worker with nothing else to do.
      preprocessImageInto(decodeImage(fs.readFileSync(item.file), item.file), geometry, preprocessing, out, read.length * per);
      read.push(indices[k]);
    } catch (e) {
      skipped.push({ file: item.file, reason: reason(item.file, e) });
    }
  }
  return { read: Int32Array.from(read), skipped };
}

export class ImageStore {
  readonly perImage: number;
  private cache?: Float32Array;
  /** item index → row in `cache` */
  private rowOf = new Map<number, number>();

  private constructor(
    private readonly items: readonly TrainingItem[],
    readonly geometry: InputGeometry,
    private readonly preprocessing: Preprocessing,
  ) {
    this.perImage = geometry.height * geometry.width * geometry.channels;
  }

  /**
   * Decodes every listed item once (checking it can be read); keeps them when they fit in
   * `budgetBytes`. `onProgress(done, total)` after each chunk; stops (throws) when `signal` aborts.
   */
  static async load(
    items: readonly TrainingItem[],
    indices: Int32Array,
    geometry: InputGeometry,
    preprocessing: Preprocessing,
    options: { budgetBytes?: number; signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
  ): Promise<{ store: ImageStore; readable: Set<number>; skipped: SkippedFile[] }> {
    checkPreprocessing(preprocessing, geometry);
    const store = new ImageStore(items, geometry, preprocessing);
    const keep = indices.length * store.perImage * 4 <= (options.budgetBytes ?? DEFAULT_IMAGE_BUDGET_BYTES);
    const chunk = 256;
    const scratch = new Float32Array(chunk * store.perImage);
    if (keep) store.cache = new Float32Array(indices.length * store.perImage);
    const readable = new Set<number>();
    const skipped: SkippedFile[] = [];
    for (let s = 0; s < indices.length; s += chunk) {
      if (options.signal?.aborted) throw new Error('Cancelled');
      const part = indices.subarray(s, Math.min(indices.length, s + chunk));
      const r = decodeItems(items, part, geometry, preprocessing, scratch);
      skipped.push(...r.skipped);
      r.read.forEach((index, k) => {
        readable.add(index);
        if (store.cache) {
          const row = store.rowOf.size;
          store.rowOf.set(index, row);
          store.cache.set(scratch.subarray(k * store.perImage, (k + 1) * store.perImage), row * store.perImage);
        }
      });
      options.onProgress?.(Math.min(indices.length, s + chunk), indices.length);
      await new Promise((resolve) => setImmediate(resolve));
    }
    return { store, readable, skipped };
  }

  /** Whether the images are held in memory (false: decoded for every batch). */
  get inMemory(): boolean {
    return this.cache !== undefined;
  }

  /** The images of `indices` (all readable, checked by `load`), one after the other. */
  batch(indices: ArrayLike<number>): Float32Array {
    const out = new Float32Array(indices.length * this.perImage);
    if (this.cache) {
      for (let k = 0; k < indices.length; k++) {
        const row = this.rowOf.get(indices[k]);
        if (row === undefined) throw new Error(`image ${indices[k]} was not loaded`);
        out.set(this.cache.subarray(row * this.perImage, (row + 1) * this.perImage), k * this.perImage);
      }
      return out;
    }
    const r = decodeItems(this.items, indices, this.geometry, this.preprocessing, out);
    if (r.skipped.length) throw new Error(`${r.skipped[0].file}: ${r.skipped[0].reason} (the file changed during training)`);
    return out;
  }
}
