/**
 * Thumbnails of dataset items for the embedding view's hover, as PNG data URIs, without TF.js:
 * image files are decoded with the pure-JS decoders and shrunk by box averaging; IDX records are
 * read through the streaming IDX reader. They are rendered in an engine worker (job `thumbnail`),
 * not on the extension host: decoding a large JPEG photo takes long enough to freeze the editor. The caller
 * passes an item id the engine returned (`Batch.ids`: a file path, or `images-file#index`), never
 * a path from a webview. Results are kept in a small LRU cache: hovering back and forth is free.
 */
import * as fs from 'node:fs';
import { DEFAULT_PREPROCESSING, decodeImage, openIdxDataset, type IdxDataset } from '../io/datasets';
import type { DecodedImage } from '../io/datasets';
import { pngDataUri, type RgbaImage } from './png';

/** Longest side of a thumbnail in pixels (smaller images keep their size; CSS scales them up). */
export const THUMBNAIL_SIZE = 96;
const CACHE_SIZE = 256;

/** `…/t10k-images-idx3-ubyte.gz#12` → the file and record 12. */
export function parseIdxId(id: string): { file: string; index: number } | undefined {
  const m = /^(.*)#(\d+)$/.exec(id);
  return m ? { file: m[1], index: Number(m[2]) } : undefined;
}

/** Any decoded image (grey, grey + alpha, RGB, RGBA) → RGBA, shrunk by box averaging to fit `max`. */
export function thumbnailRgba(image: DecodedImage, max = THUMBNAIL_SIZE): RgbaImage {
  const { width: w, height: h, channels: c } = image;
  const f = Math.max(1, Math.ceil(Math.max(w, h) / max));
  const tw = Math.max(1, Math.floor(w / f));
  const th = Math.max(1, Math.floor(h / f));
  const out = new Uint8Array(tw * th * 4);
  const grey = c <= 2;
  const hasAlpha = c === 2 || c === 4;
  for (let ty = 0; ty < th; ty++) {
    for (let tx = 0; tx < tw; tx++) {
      const sum = [0, 0, 0, 0];
      for (let y = ty * f; y < ty * f + f; y++) {
        for (let x = tx * f; x < tx * f + f; x++) {
          const o = (y * w + x) * c;
          const r = image.data[o];
          sum[0] += r;
          sum[1] += grey ? r : image.data[o + 1];
          sum[2] += grey ? r : image.data[o + 2];
          sum[3] += hasAlpha ? image.data[o + c - 1] : 255;
        }
      }
      const n = f * f;
      const o = (ty * tw + tx) * 4;
      for (let k = 0; k < 4; k++) out[o + k] = Math.round(sum[k] / n);
    }
  }
  return { width: tw, height: th, data: out };
}

export class ThumbnailRenderer {
  private readonly cache = new Map<string, Promise<string>>();
  private readonly idx = new Map<string, Promise<IdxDataset>>();

  /** The PNG data URI of item `id`; rejects with a message naming the file when it cannot be read. */
  thumbnail(id: string): Promise<string> {
    const hit = this.cache.get(id);
    if (hit) {
      // Refresh its place in the LRU order.
      this.cache.delete(id);
      this.cache.set(id, hit);
      return hit;
    }
    const made = this.render(id);
    made.catch(() => this.cache.delete(id));
    this.cache.set(id, made);
    while (this.cache.size > CACHE_SIZE) this.cache.delete(this.cache.keys().next().value as string);
    return made;
  }

  private async render(id: string): Promise<string> {
    const record = parseIdxId(id);
    if (record && !fs.existsSync(id)) return pngDataUri(thumbnailRgba(await this.idxRecord(record.file, record.index)));
    let bytes: Buffer;
    try {
      bytes = await fs.promises.readFile(id);
    } catch (e) {
      throw new Error(`${id}: cannot read (${(e as Error).message})`);
    }
    return pngDataUri(thumbnailRgba(decodeImage(bytes, id)));
  }

  private async idxRecord(file: string, index: number): Promise<DecodedImage> {
    let dataset = this.idx.get(file);
    if (!dataset) {
      dataset = openIdxDataset(file);
      dataset.catch(() => this.idx.delete(file));
      this.idx.set(file, dataset);
    }
    const d = await dataset;
    if (index >= d.size) throw new Error(`${file}: no record ${index} (the file has ${d.size})`);
    const geometry = { ...d.recordGeometry, channels: 1 };
    for await (const batch of d.batches({ batchSize: 1, start: index, end: index + 1, geometry, preprocessing: DEFAULT_PREPROCESSING })) {
      if (batch.count === 0) continue;
      const data = new Uint8Array(batch.images.length);
      for (let i = 0; i < data.length; i++) data[i] = Math.round(Math.min(1, Math.max(0, batch.images[i])) * 255);
      return { width: geometry.width, height: geometry.height, channels: 1, alpha: false, data, source: file };
    }
    throw new Error(`${file}: could not read record ${index}`);
  }
}
