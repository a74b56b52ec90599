/**
 * IDX files (the MNIST / Fashion-MNIST format): a 4-byte magic number, one big-endian uint32 per
 * dimension, then the raw unsigned bytes. Only the two layouts those datasets use are accepted
 * (0x00000803 images N×H×W, 0x00000801 labels N) so a wrong file fails early with a clear message.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import type { InputGeometry } from '../../model/inspectableModel';
import { checkPreprocessing, preprocessImageInto } from './imageGeometry';
import { resolveItems } from './range';
import type { Batch, BatchOptions, Dataset, SkippedFile } from './types';

const IMAGES_MAGIC = 0x00000803;
const LABELS_MAGIC = 0x00000801;

function hex8(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}

/** Gzip is recognised by its magic bytes, not the `.gz` suffix, so renamed files still work. */
function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** Parses and checks the header; returns the dimensions and the header length in bytes. */
function parseIdxHeader(file: string, buf: Uint8Array): { dims: number[]; headerBytes: number } {
  if (buf.length < 4) {
    throw new Error(`${file}: truncated IDX file (${buf.length} bytes, header needs at least 4)`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== IMAGES_MAGIC && magic !== LABELS_MAGIC) {
    throw new Error(
      `${file}: not an IDX file (magic number ${hex8(magic)}, expected ${hex8(IMAGES_MAGIC)} or ${hex8(LABELS_MAGIC)})`,
    );
  }
  const ndims = buf[3];
  const headerBytes = 4 + 4 * ndims;
  if (buf.length < headerBytes) {
    throw new Error(`${file}: truncated IDX file (header needs ${headerBytes} bytes, file has ${buf.length})`);
  }
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  return { dims, headerBytes };
}

function product(dims: number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/**
 * Reads a whole IDX file (gzipped or not) into memory. Meant for small files (labels) and
 * scripts; the dataset reader streams image files instead.
 */
export async function readIdxFile(file: string): Promise<{ dims: number[]; data: Uint8Array }> {
  let buf: Uint8Array = await fs.promises.readFile(file);
  if (isGzip(buf)) {
    try {
      buf = zlib.gunzipSync(buf);
    } catch (e) {
      throw new Error(`${file}: corrupt gzip data (${(e as Error).message})`);
    }
  }
  const { dims, headerBytes } = parseIdxHeader(file, buf);
  const expected = product(dims);
  const available = buf.length - headerBytes;
  if (available < expected) {
    throw new Error(
      `${file}: truncated IDX file (dimensions ${dims.join('×')} need ${expected} data bytes, file has ${available})`,
    );
  }
  // Copy so the caller does not keep the (possibly larger) file buffer alive.
  return { dims, data: buf.slice(headerBytes, headerBytes + expected) };
}

// ---------------------------------------------------------------------------------------------
// Streaming dataset. Image files are tens of MB uncompressed (60k × 28 × 28 for MNIST train), so
// they are never read whole: a batch range is served by streaming the file and skipping bytes
// up to `start` (and, for an `indices` list, between the wanted records). Labels are one byte per
// image and are read whole.
// ---------------------------------------------------------------------------------------------

/** Longest possible IDX header: magic + 255 dimensions. */
const MAX_HEADER_BYTES = 4 + 4 * 255;

async function sniffGzip(file: string): Promise<boolean> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const head = new Uint8Array(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return isGzip(head.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

/** The decompressed (if gzipped) bytes of `file` from byte `from` on, as a stream. */
function openIdxStream(file: string, gzip: boolean, from = 0): Readable {
  if (!gzip) return fs.createReadStream(file, { start: from, highWaterMark: 64 * 1024 });
  // pipeline (not .pipe) so a read error also fails the gunzip stream we iterate over. Its
  // callback error is ignored on purpose: the same error surfaces through the iteration.
  return pipeline(fs.createReadStream(file, { highWaterMark: 64 * 1024 }), zlib.createGunzip(), () => {});
}

function describeStreamError(file: string, e: unknown): Error {
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string' && err.code.startsWith('Z_')) {
    return new Error(`${file}: truncated or corrupt gzip data (${err.message})`);
  }
  if (err && err.code === 'ENOENT') return new Error(`${file}: no such file`);
  return err instanceof Error ? err : new Error(String(err));
}

/** Reads only the header, decompressing just the first block of a gzipped file. */
async function readIdxHeader(file: string): Promise<{ dims: number[]; headerBytes: number; gzip: boolean }> {
  const gzip = await sniffGzip(file);
  const stream = openIdxStream(file, gzip);
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= MAX_HEADER_BYTES) break;
    }
  } catch (e) {
    throw describeStreamError(file, e);
  } finally {
    stream.destroy();
  }
  const prefix = Buffer.concat(chunks, length);
  return { ...parseIdxHeader(file, prefix), gzip };
}

const IMAGES_NAME = /^(.*)-images([-.])idx3-ubyte(\.gz)?$/i;
const LABELS_NAME = /^(.*)-labels([-.])idx1-ubyte(\.gz)?$/i;

async function firstExisting(candidates: string[]): Promise<string | undefined> {
  for (const candidate of candidates) {
    try {
      if ((await fs.promises.stat(candidate)).isFile()) return candidate;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

/** Builds the partner's candidate names, preferring the same separator and compression. */
function partnerCandidates(file: string, pattern: RegExp, partnerKind: 'images' | 'labels'): string[] {
  const match = path.basename(file).match(pattern);
  if (!match) return [];
  const [, stem, sep, gz] = match;
  const partnerTail = partnerKind === 'images' ? 'idx3-ubyte' : 'idx1-ubyte';
  const seps = sep === '-' ? ['-', '.'] : ['.', '-'];
  const exts = gz ? ['.gz', ''] : ['', '.gz'];
  const out: string[] = [];
  for (const s of seps) for (const e of exts) out.push(path.join(path.dirname(file), `${stem}-${partnerKind}${s}${partnerTail}${e}`));
  return out;
}

/**
 * The labels file beside an images file, by the standard naming
 * `X-images-idx3-ubyte[.gz]` ↔ `X-labels-idx1-ubyte[.gz]` (or the `X-images.idx3-ubyte` variant).
 */
export function findIdxLabelsFile(imagesFile: string): Promise<string | undefined> {
  return firstExisting(partnerCandidates(imagesFile, IMAGES_NAME, 'labels'));
}

/** The images file beside a labels file (inverse of `findIdxLabelsFile`). */
export function findIdxImagesFile(labelsFile: string): Promise<string | undefined> {
  return firstExisting(partnerCandidates(labelsFile, LABELS_NAME, 'images'));
}

export interface OpenIdxOptions {
  /** Class names in label order (from `cnnlens.json`); default "0", "1", … */
  classNames?: string[];
}

/** An IDX image file (N × H × W greyscale records) with its labels when found beside it. */
export class IdxDataset implements Dataset {
  readonly kind = 'idx' as const;
  readonly skipped: SkippedFile[] = [];

  constructor(
    /** The images file. */
    readonly path: string,
    readonly size: number,
    /** Geometry of the records themselves (H × W × 1); batches are resized to the model's. */
    readonly recordGeometry: InputGeometry,
    private readonly headerBytes: number,
    private readonly gzip: boolean,
    /** One label per record, when a labels file was found. */
    readonly labels: Uint8Array | undefined,
    readonly labelsPath: string | undefined,
    readonly classNames: string[] | undefined,
  ) {}

  async *batches(options: BatchOptions): AsyncGenerator<Batch> {
    const { count: total, at, batchSize } = resolveItems(this.path, options, this.size);
    checkPreprocessing(options.preprocessing, options.geometry);
    if (total === 0 || options.signal?.aborted) return;
    const { height, width } = this.recordGeometry;
    const recordBytes = height * width;
    const outPerImage = options.geometry.height * options.geometry.width * options.geometry.channels;
    const firstByte = this.headerBytes + at(0) * recordBytes;
    // Uncompressed files seek straight to the first item; gzip has no random access, so those
    // bytes are decompressed and dropped as they stream past (still never more than one chunk in
    // memory). Records between two wanted items (`indices`) are dropped the same way.
    const stream = openIdxStream(this.path, this.gzip, this.gzip ? 0 : firstByte);
    let toSkip = this.gzip ? firstByte : 0;

    // One record is assembled here when it straddles two chunks.
    const record = new Uint8Array(recordBytes);
    const image = { width, height, channels: 1, alpha: false, data: record, source: this.path };
    let filled = 0;
    let taken = 0;
    let batch = this.newBatch(Math.min(batchSize, total), outPerImage);
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        let pos = 0;
        while (pos < chunk.length && taken < total) {
          if (toSkip > 0) {
            const skip = Math.min(toSkip, chunk.length - pos);
            pos += skip;
            toSkip -= skip;
            continue;
          }
          const take = Math.min(recordBytes - filled, chunk.length - pos);
          record.set(chunk.subarray(pos, pos + take), filled);
          filled += take;
          pos += take;
          if (filled < recordBytes) break;
          filled = 0;
          const index = at(taken);
          const slot = batch.count;
          preprocessImageInto(image, options.geometry, options.preprocessing, batch.images, slot * outPerImage);
          if (batch.labels && this.labels) batch.labels[slot] = this.labels[index];
          batch.ids.push(`${this.path}#${index}`);
          batch.count++;
          taken++;
          if (taken < total) toSkip = (at(taken) - index - 1) * recordBytes;
          if (batch.count * outPerImage === batch.images.length) {
            yield batch;
            if (options.signal?.aborted || taken >= total) return;
            batch = this.newBatch(Math.min(batchSize, total - taken), outPerImage);
          }
        }
        if (taken >= total) break;
      }
    } catch (e) {
      throw describeStreamError(this.path, e);
    } finally {
      stream.destroy();
    }
    if (taken < total) {
      throw new Error(
        `${this.path}: truncated IDX file (header promises ${this.size} images of ${height}×${width}, data ends at image ${at(taken)})`,
      );
    }
  }

  private newBatch(count: number, outPerImage: number): Batch {
    return {
      images: new Float32Array(count * outPerImage),
      count: 0,
      labels: this.labels ? new Int32Array(count) : undefined,
      ids: [],
      skipped: [],
    };
  }
}

/**
 * Opens an IDX images file (or a labels file, whose images file is then found beside it) as a
 * streaming dataset. Only the header and the labels are read here.
 */
export async function openIdxDataset(file: string, options: OpenIdxOptions = {}): Promise<IdxDataset> {
  let imagesFile = file;
  let header = await readIdxHeader(file);
  let labelsFile: string | undefined;
  if (header.dims.length === 1) {
    // A labels file was named: use it, and find its images.
    labelsFile = file;
    const found = await findIdxImagesFile(file);
    if (!found) {
      throw new Error(`${file}: this is an IDX labels file and no images file (…-images-idx3-ubyte[.gz]) was found beside it`);
    }
    imagesFile = found;
    header = await readIdxHeader(imagesFile);
  } else {
    labelsFile = await findIdxLabelsFile(file);
  }
  if (header.dims.length !== 3) {
    throw new Error(`${imagesFile}: expected an IDX images file (N × H × W), found ${header.dims.length} dimensions`);
  }
  const [size, height, width] = header.dims;
  if (size === 0) throw new Error(`${imagesFile}: the IDX file holds no images`);
  if (height === 0 || width === 0) throw new Error(`${imagesFile}: IDX images have an empty size ${height}×${width}`);
  if (!header.gzip) {
    // Uncompressed: a short file can be caught now instead of in the middle of an analysis.
    const { size: bytes } = await fs.promises.stat(imagesFile);
    const expected = header.headerBytes + size * height * width;
    if (bytes < expected) {
      throw new Error(`${imagesFile}: truncated IDX file (dimensions ${size}×${height}×${width} need ${expected} bytes, file has ${bytes})`);
    }
  }

  let labels: Uint8Array | undefined;
  let classNames: string[] | undefined;
  if (labelsFile) {
    const read = await readIdxFile(labelsFile);
    if (read.dims.length !== 1) {
      throw new Error(`${labelsFile}: expected an IDX labels file (one dimension), found ${read.dims.length} dimensions`);
    }
    if (read.dims[0] !== size) {
      throw new Error(`${labelsFile}: has ${read.dims[0]} labels but ${imagesFile} has ${size} images`);
    }
    labels = read.data;
    let maxLabel = 0;
    for (const l of labels) if (l > maxLabel) maxLabel = l;
    const classCount = maxLabel + 1;
    if (options.classNames) {
      if (options.classNames.length < classCount) {
        throw new Error(
          `${labelsFile}: labels go up to ${maxLabel} but classNames lists only ${options.classNames.length} names`,
        );
      }
      classNames = options.classNames.slice();
    } else {
      // IDX files carry no names (Fashion-MNIST's are only in its README): use the indices.
      classNames = Array.from({ length: classCount }, (_, i) => String(i));
    }
  }
  return new IdxDataset(
    imagesFile,
    size,
    { height, width, channels: 1 },
    header.headerBytes,
    header.gzip,
    labels,
    labelsFile,
    classNames,
  );
}
