/**
 * Folders of PNG / JPEG images, in the two layouts people actually have:
 *  - one sub-folder per class (the Keras `image_dataset_from_directory` layout) → labelled;
 *  - a flat folder of images → unlabelled (`kind: 'flat-folder'`).
 * Listing only reads directory entries (never file contents) and is sorted, so every worker that
 * opens the same folder sees the same item order and can shard by index. Decoding happens while
 * streaming batches; files that fail then are reported in that batch's `skipped`, not fatal, so one
 * bad file does not abort an analysis of thousands.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_DECODE_LIMITS, decodeImage, type DecodeLimits } from './decode';
import { checkPreprocessing, preprocessImageInto } from './imageGeometry';
import { resolveItems } from './range';
import type { Batch, BatchOptions, Dataset, SkippedFile } from './types';

/** Listing goes by extension (cheap); decoding then sniffs the real format from the bytes. */
const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.jpe', '.jfif']);

export interface OpenImageFolderOptions {
  /**
   * Class order from `cnnlens.json`. Label i is `classNames[i]`; folders not named there are
   * skipped. Without it, classes are the sub-folder names sorted by code point (Python's
   * `sorted()`, hence the same indices Keras assigned when the model was trained).
   */
  classNames?: string[];
  decodeLimits?: DecodeLimits;
}

export interface ImageFolderItem {
  file: string;
  label?: number;
}

/** Code-point order, independent of the machine's locale (unlike `localeCompare`). */
function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isImageName(name: string): boolean {
  return IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase());
}

interface Entry {
  name: string;
  full: string;
  isDir: boolean;
  isFile: boolean;
  isLink: boolean;
}

/** Sorted, non-hidden entries; symlinks resolved to what they point at. */
async function listEntries(dir: string): Promise<Entry[]> {
  const dirents = await fs.promises.readdir(dir, { withFileTypes: true });
  const entries: Entry[] = [];
  for (const d of dirents) {
    if (d.name.startsWith('.')) continue; // hidden files and folders (.DS_Store, .git, ...)
    const full = path.join(dir, d.name);
    let isDir = d.isDirectory();
    let isFile = d.isFile();
    if (d.isSymbolicLink()) {
      try {
        const st = await fs.promises.stat(full);
        isDir = st.isDirectory();
        isFile = st.isFile();
      } catch {
        // dangling link: neither file nor folder, reported as skipped by the caller
      }
    }
    entries.push({ name: d.name, full, isDir, isFile, isLink: d.isSymbolicLink() });
  }
  return entries.sort((a, b) => byCodePoint(a.name, b.name));
}

/**
 * Images under a class folder, recursively (Keras includes nested folders too). Symlinked
 * sub-folders are not followed, as Keras' default `follow_links=False`, which also rules out loops.
 */
async function collectImages(dir: string, skipped: SkippedFile[], out: string[]): Promise<void> {
  for (const e of await listEntries(dir)) {
    if (e.isDir) {
      if (e.isLink) skipped.push({ file: e.full, reason: 'symbolic link to a folder (not followed)' });
      else await collectImages(e.full, skipped, out);
    } else if (e.isFile && isImageName(e.name)) {
      out.push(e.full);
    } else {
      skipped.push({ file: e.full, reason: e.isFile ? 'not a PNG or JPEG file' : 'not a regular file' });
    }
  }
}

export class ImageFolderDataset implements Dataset {
  constructor(
    readonly path: string,
    readonly kind: 'image-folder' | 'flat-folder',
    /** Items in listing order: the index used by `start` / `end` / `indices`. */
    readonly items: readonly ImageFolderItem[],
    readonly classNames: string[] | undefined,
    readonly skipped: SkippedFile[],
    private readonly limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
  ) {}

  get size(): number {
    return this.items.length;
  }

  async *batches(options: BatchOptions): AsyncGenerator<Batch> {
    const { count: total, at, batchSize } = resolveItems(this.path, options, this.size);
    checkPreprocessing(options.preprocessing, options.geometry);
    const perImage = options.geometry.height * options.geometry.width * options.geometry.channels;
    const labelled = this.kind === 'image-folder';
    for (let first = 0; first < total; first += batchSize) {
      if (options.signal?.aborted) return;
      const last = Math.min(total, first + batchSize);
      const n = last - first;
      const images = new Float32Array(n * perImage);
      const labels = labelled ? new Int32Array(n) : undefined;
      const ids: string[] = [];
      const skipped: SkippedFile[] = [];

      // Synchronous reads: batches are produced inside an engine worker that has nothing else to
      // do meanwhile, and fs.promises.readFile costs ~0.1 ms of CPU per small file (open, fstat,
      // read, read, close as separate promise round trips) against ~0.02 ms for readFileSync.
      for (let i = 0; i < n; i++) {
        const item = this.items[at(first + i)];
        try {
          const decoded = decodeImage(fs.readFileSync(item.file), item.file, this.limits);
          preprocessImageInto(decoded, options.geometry, options.preprocessing, images, ids.length * perImage);
        } catch (e) {
          skipped.push({ file: item.file, reason: reasonOf(item.file, e) });
          continue;
        }
        if (labels) labels[ids.length] = item.label ?? -1;
        ids.push(item.file);
      }
      const count = ids.length;
      yield {
        // Shrink only when files were skipped, so the common case allocates exactly once.
        images: count === n ? images : images.slice(0, count * perImage),
        count,
        labels: labels && (count === n ? labels : labels.slice(0, count)),
        ids,
        skipped,
      };
    }
  }
}

/** Error message without the leading "FILE: " (the file is already in `SkippedFile.file`). */
function reasonOf(file: string, e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.startsWith(`${file}: `) ? message.slice(file.length + 2) : message;
}

/**
 * Lists a folder as a labelled (sub-folder per class) or flat dataset, decided by content: it is
 * labelled when at least one sub-folder holds images. Throws when no image is found.
 */
export async function openImageFolder(dir: string, options: OpenImageFolderOptions = {}): Promise<ImageFolderDataset> {
  const root = path.resolve(dir);
  const entries = await listEntries(root);
  const skipped: SkippedFile[] = [];
  const topImages: string[] = [];
  const folders: { name: string; full: string; images: string[]; skipped: SkippedFile[] }[] = [];
  for (const e of entries) {
    if (e.isDir) {
      const images: string[] = [];
      const inner: SkippedFile[] = [];
      await collectImages(e.full, inner, images);
      folders.push({ name: e.name, full: e.full, images, skipped: inner });
    } else if (e.isFile && isImageName(e.name)) {
      topImages.push(e.full);
    } else {
      skipped.push({ file: e.full, reason: e.isFile ? 'not a PNG or JPEG file' : 'not a regular file' });
    }
  }

  const labelled = folders.some((f) => f.images.length > 0);
  if (!labelled) {
    for (const f of folders) {
      skipped.push(...f.skipped);
      skipped.push({ file: f.full, reason: 'sub-folder without PNG or JPEG images' });
    }
    if (topImages.length === 0) throw emptyError(root, skipped);
    return new ImageFolderDataset(
      root,
      'flat-folder',
      topImages.map((file) => ({ file })),
      undefined,
      skipped,
      options.decodeLimits,
    );
  }

  for (const file of topImages) {
    skipped.push({ file, reason: 'image outside the class folders (a labelled dataset has one sub-folder per class)' });
  }
  let classNames: string[];
  if (options.classNames) {
    classNames = options.classNames.slice();
    if (!folders.some((f) => classNames.includes(f.name))) {
      throw new Error(
        `${root}: none of the class folders (${folders.map((f) => f.name).join(', ')}) ` +
          `is among the classNames from cnnlens.json (${classNames.join(', ')})`,
      );
    }
  } else {
    // Every non-hidden sub-folder is a class, empty or not, exactly as Keras indexes them:
    // dropping an empty one would shift all later labels against the model's outputs.
    classNames = folders.map((f) => f.name);
  }
  const items: ImageFolderItem[] = [];
  for (const f of folders) {
    const label = classNames.indexOf(f.name);
    if (label < 0) {
      skipped.push({ file: f.full, reason: 'class folder not listed in classNames (cnnlens.json)' });
      continue;
    }
    skipped.push(...f.skipped);
    if (f.images.length === 0) {
      skipped.push({
        file: f.full,
        reason: `empty class folder (no PNG or JPEG images); class index ${label} is kept so labels still match`,
      });
    }
    for (const file of f.images) items.push({ file, label });
  }
  if (items.length === 0) throw emptyError(root, skipped);
  return new ImageFolderDataset(root, 'image-folder', items, classNames, skipped, options.decodeLimits);
}

function emptyError(root: string, skipped: SkippedFile[]): Error {
  const detail = skipped.length > 0 ? ` (${skipped.length} entries skipped, e.g. ${skipped[0].file}: ${skipped[0].reason})` : '';
  // A folder holding MNIST-style files is a common mix-up: the dataset is one of those files.
  const idx = skipped
    .map((s) => s.file)
    .filter((f) => path.dirname(f) === root && /-images[-.]idx3-ubyte(\.gz)?$/i.test(f))
    .map((f) => path.basename(f));
  const hint = idx.length > 0 ? `; to use IDX data, pass the images file itself (${idx.join(', ')})` : '';
  return new Error(`${root}: no PNG or JPEG images found${detail}${hint}`);
}
