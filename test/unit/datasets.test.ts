/**
 * Dataset readers, decoding, preprocessing and cnnlens.json. Fixtures are written to a temp dir
 * by the tests themselves (PNGs by hand or with pngjs, JPEGs with jpeg-js); the IDX tests also read
 * the real Fashion-MNIST test set, checked against bytes dumped once with `zcat | od`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import * as zlib from 'node:zlib';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import {
  DEFAULT_PREPROCESSING,
  decodeImage,
  loadSingleImage,
  openDataset,
  preprocessImage,
  readIdxFile,
  type Batch,
  type BatchOptions,
  type DecodedImage,
  type Dataset,
  type Preprocessing,
} from '../../src/engine/io/datasets';
import { resizeBilinear, resizeNearest } from '../../src/engine/io/datasets/imageGeometry';
import { IdxDataset } from '../../src/engine/io/datasets/idx';
import {
  CNNLENS_CONFIG_KEYS,
  CNNLENS_PREPROCESSING_KEYS,
  loadCnnLensConfig,
  parseCnnLensConfig,
} from '../../src/engine/config/cnnlensConfig';

const ROOT = path.resolve(__dirname, '../../..');
const FASHION = '/usr/share/datasets/fashion-mnist';
const T10K_IMAGES = path.join(FASHION, 't10k-images-idx3-ubyte.gz');
const T10K_LABELS = path.join(FASHION, 't10k-labels-idx1-ubyte.gz');
const haveFashion = fs.existsSync(T10K_IMAGES) && fs.existsSync(T10K_LABELS);

// Known values, from `zcat t10k-images-idx3-ubyte.gz | od -A d -t u1 -j OFFSET -N 28`
// (OFFSET = 16 + 784 * image + 28 * row) and `zcat t10k-labels-idx1-ubyte.gz | od -t u1 -j 8`.
const IMAGE0_ROW10 = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 53, 129, 120, 147, 175, 157, 166, 135, 154, 168, 140, 0, 0];
const IMAGE9999_ROW14 = [0, 0, 1, 0, 4, 71, 32, 37, 45, 45, 69, 128, 100, 120, 132, 123, 135, 171, 179, 161, 127, 122, 183, 100, 39, 68, 76, 0];
const FIRST_LABELS = [9, 2, 1, 1, 6, 1, 4, 6, 5, 7, 4, 5];
const LAST_LABELS = [5, 6, 8, 9, 1, 9, 1, 8, 1, 5]; // images 9990..9999

const GREY28 = { height: 28, width: 28, channels: 1 };

let tmp: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnlens-datasets-'));
});
after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function tmpDir(...parts: string[]): string {
  const p = path.join(tmp, ...parts);
  fs.mkdirSync(p, { recursive: true });
  return p;
}

function tmpPath(...parts: string[]): string {
  const p = path.join(tmp, ...parts);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  return p;
}

async function collect(ds: Dataset, options: Partial<BatchOptions> = {}): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of ds.batches({ batchSize: 4, geometry: GREY28, preprocessing: DEFAULT_PREPROCESSING, ...options })) {
    out.push(b);
  }
  return out;
}

function approxArray(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5, what = 'values'): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

// --- fixture writers -------------------------------------------------------------------------

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/**
 * A PNG written byte by byte, so every colour type / bit depth (palette, 16-bit) can be made,
 * which pngjs' writer cannot. `samples` are per row, unfiltered, already in the bit depth.
 */
function makePng(
  width: number,
  height: number,
  colorType: number,
  bitDepth: number,
  samples: number[],
  extra: Buffer[] = [],
): Buffer {
  const perPixel = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[colorType]!;
  const bytesPerSample = bitDepth === 16 ? 2 : 1;
  const rowBytes = width * perPixel * bytesPerSample;
  const raw = Buffer.alloc((rowBytes + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (rowBytes + 1)] = 0; // filter: none
    for (let i = 0; i < width * perPixel; i++) {
      const v = samples[y * width * perPixel + i];
      const o = y * (rowBytes + 1) + 1 + i * bytesPerSample;
      if (bitDepth === 16) raw.writeUInt16BE(v, o);
      else raw[o] = v;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bitDepth;
  ihdr[9] = colorType;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    ...extra,
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** RGB PNG through pngjs' own writer (the path most real files take). */
function pngjsRgb(width: number, height: number, rgb: number[]): Buffer {
  const png = new PNG({ width, height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.from(rgb);
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false });
}

function makeJpeg(width: number, height: number, rgb: [number, number, number]): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let p = 0; p < width * height; p++) data.set([...rgb, 255], p * 4);
  return jpeg.encode({ width, height, data }, 95).data;
}

function idxBytes(magic: number, dims: number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

// --- IDX -------------------------------------------------------------------------------------

describe('IDX: readIdxFile', { skip: !haveFashion && 'Fashion-MNIST not installed' }, () => {
  it('reads the gzipped Fashion-MNIST test images and labels with known values', async () => {
    const images = await readIdxFile(T10K_IMAGES);
    assert.deepEqual(images.dims, [10000, 28, 28]);
    assert.equal(images.data.length, 10000 * 784);
    assert.deepEqual(Array.from(images.data.subarray(280, 308)), IMAGE0_ROW10);
    const at = 9999 * 784 + 14 * 28;
    assert.deepEqual(Array.from(images.data.subarray(at, at + 28)), IMAGE9999_ROW14);

    const labels = await readIdxFile(T10K_LABELS);
    assert.deepEqual(labels.dims, [10000]);
    assert.deepEqual(Array.from(labels.data.subarray(0, 12)), FIRST_LABELS);
    assert.deepEqual(Array.from(labels.data.subarray(9990)), LAST_LABELS);
  });
});

describe('IDX: bad files', () => {
  it('rejects a wrong magic number with the exact message', async () => {
    const file = tmpPath('bad-magic', 'x-images-idx3-ubyte');
    fs.writeFileSync(file, idxBytes(0x00000c03, [1, 2, 2], new Uint8Array(4)));
    await assert.rejects(readIdxFile(file), {
      message: `${file}: not an IDX file (magic number 0x00000c03, expected 0x00000803 or 0x00000801)`,
    });
    await assert.rejects(openDataset(file), /not an IDX file \(magic number 0x00000c03/);
    // Float IDX (type 0x0D) is not accepted either.
    fs.writeFileSync(file, idxBytes(0x00000d03, [1, 2, 2], new Uint8Array(16)));
    await assert.rejects(readIdxFile(file), /magic number 0x00000d03/);
  });

  it('rejects truncated IDX files, plain and gzipped', async () => {
    const full = idxBytes(0x803, [10, 4, 4], new Uint8Array(160).fill(7));
    const plain = tmpPath('truncated', 'p-images-idx3-ubyte');
    fs.writeFileSync(plain, full.subarray(0, 16 + 5 * 16));
    await assert.rejects(readIdxFile(plain), { message: new RegExp(`^${escape(plain)}: truncated IDX file`) });
    await assert.rejects(openDataset(plain), { message: new RegExp(`^${escape(plain)}: truncated IDX file`) });

    // Valid gzip around short data: found while streaming, after the records that do exist.
    const shortGz = tmpPath('truncated', 's-images-idx3-ubyte.gz');
    fs.writeFileSync(shortGz, zlib.gzipSync(full.subarray(0, 16 + 5 * 16)));
    const ds = await openDataset(shortGz);
    assert.equal(ds.size, 10);
    await assert.rejects(collect(ds, { geometry: { height: 4, width: 4, channels: 1 } }), /truncated IDX file .* data ends at image 5/);

    // A gzip stream cut in the middle.
    const big = idxBytes(0x803, [200, 28, 28], Uint8Array.from({ length: 200 * 784 }, (_, i) => (i * 31) % 251));
    const gz = zlib.gzipSync(big);
    const cutGz = tmpPath('truncated', 'c-images-idx3-ubyte.gz');
    fs.writeFileSync(cutGz, gz.subarray(0, Math.floor(gz.length / 2)));
    await assert.rejects(readIdxFile(cutGz), { message: new RegExp(`^${escape(cutGz)}: corrupt gzip data`) });
    const cut = await openDataset(cutGz);
    await assert.rejects(collect(cut, { batchSize: 32 }), { message: new RegExp(`^${escape(cutGz)}: truncated or corrupt gzip data`) });

    // Header itself cut short.
    const tiny = tmpPath('truncated', 't-images-idx3-ubyte');
    fs.writeFileSync(tiny, full.subarray(0, 9));
    await assert.rejects(readIdxFile(tiny), /truncated IDX file \(header needs 16 bytes, file has 9\)/);
  });

  it('rejects a labels file whose count differs from the images', async () => {
    const dir = tmpDir('mismatch');
    fs.writeFileSync(path.join(dir, 'm-images-idx3-ubyte'), idxBytes(0x803, [3, 2, 2], new Uint8Array(12)));
    fs.writeFileSync(path.join(dir, 'm-labels-idx1-ubyte'), idxBytes(0x801, [2], new Uint8Array([0, 1])));
    await assert.rejects(openDataset(path.join(dir, 'm-images-idx3-ubyte')), /has 2 labels but .* has 3 images/);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('IDX: streaming dataset', { skip: !haveFashion && 'Fashion-MNIST not installed' }, () => {
  it('opens the images file, finds the labels beside it and names classes "0".."9"', async () => {
    const ds = (await openDataset(T10K_IMAGES)) as IdxDataset;
    assert.equal(ds.kind, 'idx');
    assert.equal(ds.size, 10000);
    assert.equal(ds.labelsPath, T10K_LABELS);
    assert.deepEqual(ds.classNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    assert.deepEqual(ds.recordGeometry, GREY28);
    assert.deepEqual(ds.skipped, []);
  });

  it('naming the labels file opens its images; classNames option overrides', async () => {
    const names = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
    const ds = await openDataset(T10K_LABELS, { classNames: names });
    assert.equal(ds.path, T10K_IMAGES);
    assert.deepEqual(ds.classNames, names);
    await assert.rejects(openDataset(T10K_IMAGES, { classNames: ['a', 'b'] }), /labels go up to 9 but classNames lists only 2/);
  });

  it('streams the first and last images with the known pixels and labels', async () => {
    const ds = await openDataset(T10K_IMAGES);
    const first = await collect(ds, { start: 0, end: 3, batchSize: 8 });
    assert.equal(first.length, 1);
    assert.equal(first[0].count, 3);
    approxArray(first[0].images.subarray(280, 308), IMAGE0_ROW10.map((v) => v / 255), 1e-7, 'image 0 row 10');
    assert.deepEqual(Array.from(first[0].labels!), FIRST_LABELS.slice(0, 3));
    assert.deepEqual(first[0].ids, [0, 1, 2].map((i) => `${T10K_IMAGES}#${i}`));

    const last = await collect(ds, { start: 9990, end: 10000, batchSize: 4 });
    assert.deepEqual(last.map((b) => b.count), [4, 4, 2]);
    assert.deepEqual(last.flatMap((b) => Array.from(b.labels!)), LAST_LABELS);
    const b = last[2];
    const at = 784 + 14 * 28; // second image of the last batch = image 9999
    approxArray(b.images.subarray(at, at + 28), IMAGE9999_ROW14.map((v) => v / 255), 1e-7, 'image 9999 row 14');
    assert.deepEqual(b.ids, [`${T10K_IMAGES}#9998`, `${T10K_IMAGES}#9999`]);
  });

  it('shards [start, end) into exactly those items, identical to one pass', async () => {
    const ds = await openDataset(T10K_IMAGES);
    const whole = await collect(ds, { start: 0, end: 1000, batchSize: 1000 });
    assert.equal(whole.length, 1);
    const shards = [
      [0, 333],
      [333, 334],
      [334, 1000],
    ];
    const parts: Batch[] = [];
    for (const [start, end] of shards) {
      const batches = await collect(ds, { start, end, batchSize: 64 });
      const ids = batches.flatMap((x) => x.ids);
      assert.deepEqual(ids, Array.from({ length: end - start }, (_, i) => `${T10K_IMAGES}#${start + i}`));
      assert.ok(batches.every((x) => x.count <= 64));
      parts.push(...batches);
    }
    const joined = new Float32Array(1000 * 784);
    let o = 0;
    for (const p of parts) {
      joined.set(p.images, o);
      o += p.images.length;
    }
    assert.equal(o, joined.length);
    assert.deepEqual(joined, whole[0].images);
    assert.deepEqual(Int32Array.from(parts.flatMap((p) => Array.from(p.labels!))), whole[0].labels);
    // Empty and invalid ranges.
    assert.deepEqual(await collect(ds, { start: 5, end: 5 }), []);
    await assert.rejects(collect(ds, { start: 10, end: 5 }), /range \[10, 5\)/);
    await assert.rejects(collect(ds, { start: 0, end: 10001 }), /range \[0, 10001\)/);
    await assert.rejects(collect(ds, { batchSize: 0 }), /batchSize must be a positive integer/);
  });

  it('reads an uncompressed copy with dot-style names the same as the gzipped original', async () => {
    const images = await readIdxFile(T10K_IMAGES);
    const labels = await readIdxFile(T10K_LABELS);
    const dir = tmpDir('dotnames');
    const n = 500;
    fs.writeFileSync(path.join(dir, 'sub-images.idx3-ubyte'), idxBytes(0x803, [n, 28, 28], images.data.subarray(0, n * 784)));
    fs.writeFileSync(path.join(dir, 'sub-labels.idx1-ubyte'), idxBytes(0x801, [n], labels.data.subarray(0, n)));
    const plain = await openDataset(path.join(dir, 'sub-images.idx3-ubyte'));
    assert.equal(plain.size, n);
    const gz = await openDataset(T10K_IMAGES);
    const a = await collect(plain, { start: 123, end: 377, batchSize: 50 });
    const b = await collect(gz, { start: 123, end: 377, batchSize: 50 });
    assert.deepEqual(a.map((x) => x.images), b.map((x) => x.images));
    assert.deepEqual(a.map((x) => x.labels), b.map((x) => x.labels));
  });

  it('resizes and replicates IDX records to the model geometry', async () => {
    const ds = await openDataset(T10K_IMAGES);
    const [b] = await collect(ds, { start: 0, end: 2, batchSize: 2, geometry: { height: 32, width: 32, channels: 3 } });
    assert.equal(b.images.length, 2 * 32 * 32 * 3);
    // Grey replicated: R = G = B everywhere.
    for (let p = 0; p < 2 * 32 * 32; p++) {
      assert.equal(b.images[p * 3], b.images[p * 3 + 1]);
      assert.equal(b.images[p * 3], b.images[p * 3 + 2]);
    }
  });

  it('keeps memory bounded by the batch while streaming all 10k images', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const ds = await openDataset(T10K_IMAGES);
    // Twice: array-buffer memory is released by a sweeper that can lag one collection behind.
    gc();
    gc();
    const baseline = process.memoryUsage().arrayBuffers;
    let peak = 0;
    let seen = 0;
    let batches = 0;
    for await (const b of ds.batches({ batchSize: 100, geometry: GREY28, preprocessing: DEFAULT_PREPROCESSING })) {
      // Each batch owns exactly batch-sized arrays (not views into a whole-dataset buffer).
      assert.equal(b.images.length, 100 * 784);
      assert.equal(b.images.buffer.byteLength, 100 * 784 * 4);
      assert.equal(b.labels!.buffer.byteLength, 100 * 4);
      seen += b.count;
      if (++batches % 10 === 0) {
        gc();
        gc();
        peak = Math.max(peak, process.memoryUsage().arrayBuffers - baseline);
      }
    }
    assert.equal(seen, 10000);
    // The whole file is 7.8 MB of bytes (31 MB as floats); a streaming reader holds one batch
    // (313 KB) plus stream buffers.
    assert.ok(peak < 3 * 1024 * 1024, `array-buffer memory grew by ${(peak / 1048576).toFixed(1)} MB while streaming`);
  });

  it('stops when the signal is aborted between batches', async () => {
    const ds = await openDataset(T10K_IMAGES);
    const controller = new AbortController();
    let n = 0;
    for await (const _b of ds.batches({ batchSize: 10, geometry: GREY28, preprocessing: DEFAULT_PREPROCESSING, signal: controller.signal })) {
      n++;
      controller.abort();
    }
    assert.equal(n, 1);
  });
});

// --- decoding --------------------------------------------------------------------------------

describe('decode', () => {
  it('decodes every PNG colour type to its own channel count', () => {
    const grey = decodeImage(makePng(2, 1, 0, 8, [10, 200]), 'g.png');
    assert.deepEqual([grey.channels, grey.alpha, Array.from(grey.data)], [1, false, [10, 200]]);

    const greyAlpha = decodeImage(makePng(1, 1, 4, 8, [100, 128]), 'ga.png');
    assert.deepEqual([greyAlpha.channels, greyAlpha.alpha, Array.from(greyAlpha.data)], [2, true, [100, 128]]);

    const rgb = decodeImage(pngjsRgb(2, 1, [1, 2, 3, 4, 5, 6]), 'rgb.png');
    assert.deepEqual([rgb.channels, rgb.alpha, Array.from(rgb.data)], [3, false, [1, 2, 3, 4, 5, 6]]);

    const rgba = decodeImage(makePng(1, 1, 6, 8, [1, 2, 3, 4]), 'rgba.png');
    assert.deepEqual([rgba.channels, rgba.alpha, Array.from(rgba.data)], [4, true, [1, 2, 3, 4]]);

    // 16-bit → 8-bit by rounding v * 255 / 65535.
    const g16 = decodeImage(makePng(3, 1, 0, 16, [0x8080, 1000, 65535]), 'g16.png');
    assert.deepEqual([g16.channels, Array.from(g16.data)], [1, [128, 4, 255]]);

    // Palette (with and without a tRNS chunk).
    const plte = chunk('PLTE', Buffer.from([255, 0, 0, 0, 0, 255]));
    const pal = decodeImage(makePng(2, 1, 3, 8, [1, 0], [plte]), 'pal.png');
    assert.deepEqual([pal.channels, pal.alpha, Array.from(pal.data)], [3, false, [0, 0, 255, 255, 0, 0]]);
    const trns = chunk('tRNS', Buffer.from([0]));
    const palA = decodeImage(makePng(2, 1, 3, 8, [1, 0], [plte, trns]), 'pala.png');
    assert.deepEqual([palA.channels, palA.alpha, Array.from(palA.data)], [4, true, [0, 0, 255, 255, 255, 0, 0, 0]]);
  });

  it('decodes a JPEG (sniffed by content, whatever the extension)', () => {
    const img = decodeImage(makeJpeg(8, 8, [200, 100, 50]), 'photo.png');
    assert.equal(img.width, 8);
    assert.equal(img.channels, 3);
    approxArray(img.data.subarray(0, 3), [200, 100, 50], 3, 'jpeg pixel');
  });

  it('reports a corrupt PNG naming the file', () => {
    const png = makePng(4, 4, 0, 8, new Array(16).fill(9));
    const flipped = Buffer.from(png);
    flipped[flipped.length - 20] ^= 0xff; // inside IDAT: CRC mismatch
    assert.throws(() => decodeImage(flipped, 'bad.png'), /^Error: bad\.png: corrupt PNG \(/);
    assert.throws(() => decodeImage(png.subarray(0, 40), 'short.png'), /^Error: short\.png: corrupt PNG \(/);
  });

  it('reports a corrupt JPEG naming the file', () => {
    const jpg = makeJpeg(16, 16, [10, 20, 30]);
    assert.throws(() => decodeImage(jpg.subarray(0, Math.floor(jpg.length / 2)), 'cut.jpg'), /^Error: cut\.jpg: corrupt JPEG \(/);
    const garbage = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.alloc(64, 7)]);
    assert.throws(() => decodeImage(garbage, 'garbage.jpg'), /^Error: garbage\.jpg: corrupt JPEG \(/);
  });

  it('rejects files that are neither PNG nor JPEG', () => {
    assert.throws(() => decodeImage(Buffer.from('hello, not an image'), 'notes.png'), {
      message: 'notes.png: not a PNG or JPEG image',
    });
    assert.throws(() => decodeImage(new Uint8Array(0), 'empty.jpg'), { message: 'empty.jpg: not a PNG or JPEG image' });
  });

  it('refuses PNGs above the resolution limit before allocating them', () => {
    const png = makePng(4, 4, 0, 8, new Array(16).fill(0));
    const huge = Buffer.from(png);
    huge.writeUInt32BE(100000, 16); // IHDR width (CRC now wrong, but the size check comes first)
    huge.writeUInt32BE(100000, 20);
    assert.throws(() => decodeImage(huge, 'huge.png'), /huge\.png: PNG too large \(100000×100000/);
  });
});

// --- preprocessing ---------------------------------------------------------------------------

function image(width: number, height: number, channels: number, data: number[], alpha = false): DecodedImage {
  return { width, height, channels, alpha, data: Uint8Array.from(data), source: 'fixture.png' };
}

describe('preprocessing', () => {
  it('converts RGB to grey by luminance (0.299, 0.587, 0.114)', () => {
    const rgb = image(2, 2, 3, [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]);
    const out = preprocessImage(rgb, { height: 2, width: 2, channels: 1 }, DEFAULT_PREPROCESSING);
    approxArray(out, [76.245 / 255, 149.685 / 255, 29.07 / 255, 18.15 / 255], 1e-6, 'luminance');
  });

  it('replicates grey to RGB and composites alpha on black', () => {
    const out = preprocessImage(image(1, 1, 1, [51]), { height: 1, width: 1, channels: 3 }, DEFAULT_PREPROCESSING);
    approxArray(out, [0.2, 0.2, 0.2], 1e-7);
    const rgba = preprocessImage(image(2, 1, 4, [200, 100, 50, 255, 200, 100, 50, 51], true), { height: 1, width: 2, channels: 3 });
    approxArray(rgba, [200 / 255, 100 / 255, 50 / 255, 0.2 * (200 / 255), 0.2 * (100 / 255), 0.2 * (50 / 255)], 1e-6);
    const greyAlpha = preprocessImage(image(1, 1, 2, [255, 0], true), { height: 1, width: 1, channels: 1 });
    approxArray(greyAlpha, [0]);
  });

  it('resizes bilinearly with half-pixel centres (hand-computed)', () => {
    const up = resizeBilinear(Float32Array.from([0, 100, 200, 255]), 2, 2, 1, 4, 4);
    approxArray(
      up,
      [0, 25, 75, 100, 50, 72.1875, 116.5625, 138.75, 150, 166.5625, 199.6875, 216.25, 200, 213.75, 241.25, 255],
      1e-4,
      'upscale',
    );
    approxArray(resizeBilinear(Float32Array.from([0, 10, 20, 30]), 1, 4, 1, 1, 2), [5, 25], 1e-6, 'downscale');
    approxArray(resizeNearest(Float32Array.from([0, 100]), 1, 2, 1, 1, 4), [0, 0, 100, 100], 0, 'nearest');
    // Through preprocessImage, with per-channel data kept apart.
    const rgb = image(2, 1, 3, [0, 100, 200, 100, 0, 50]);
    const out = preprocessImage(rgb, { height: 1, width: 4, channels: 3 }, { ...DEFAULT_PREPROCESSING, scale: 255 });
    approxArray(out, [0, 100, 200, 25, 75, 162.5, 75, 25, 87.5, 100, 0, 50], 1e-4, 'rgb resize');
  });

  it('applies scale, offset (scalar or per channel) and BGR order', () => {
    const px = image(1, 1, 3, [255, 0, 51]);
    const g = { height: 1, width: 1, channels: 3 };
    approxArray(preprocessImage(px, g, { ...DEFAULT_PREPROCESSING, scale: 2, offset: -1 }), [1, -1, -0.6], 1e-6);
    const caffe: Preprocessing = { scale: 255, offset: [-103.939, -116.779, -123.68], channelOrder: 'bgr', resize: 'bilinear' };
    approxArray(preprocessImage(px, g, caffe), [51 - 103.939, 0 - 116.779, 255 - 123.68], 1e-4);
    assert.throws(() => preprocessImage(px, g, { ...DEFAULT_PREPROCESSING, scale: [1, 2] }), /preprocessing\.scale has 2 values but the model input has 3 channels/);
  });

  it('rejects an image whose channel count cannot be mapped, naming the file', () => {
    const twoChannels = image(1, 1, 2, [1, 2]); // 2 channels, not marked as alpha
    assert.throws(() => preprocessImage(twoChannels, { height: 1, width: 1, channels: 1 }), /^Error: fixture\.png: cannot map an image with 2 channels/);
    const cmyk = image(1, 1, 4, [1, 2, 3, 4]);
    assert.throws(() => preprocessImage(cmyk, { height: 1, width: 1, channels: 3 }), /fixture\.png: cannot map an image with 4 channels/);
    assert.throws(() => preprocessImage(image(1, 1, 1, [1]), { height: 1, width: 1, channels: 4 }), /only 1 \(grey\) or 3 \(RGB\)/);
  });
});

// --- image folders ---------------------------------------------------------------------------

describe('image folders', () => {
  let labelled: string;
  before(() => {
    labelled = tmpDir('labelled');
    const w = (rel: string, data: Buffer | string): void => fs.writeFileSync(tmpPath('labelled', rel), data);
    w('cat/a.png', makePng(2, 2, 0, 8, [0, 255, 255, 0]));
    w('cat/b.jpg', makeJpeg(4, 4, [128, 128, 128]));
    w('cat/notes.txt', 'not an image');
    w('cat/.hidden.png', 'hidden: ignored without a report');
    w('cat/nested/c.png', makePng(1, 1, 0, 8, [7]));
    w('dog/a.png', pngjsRgb(1, 1, [10, 20, 30]));
    w('dog/broken.png', 'PNG pretending'); // named .png, fails at decode
    w('dog/real-png.jpg', makePng(1, 1, 0, 8, [99])); // extension lies
    w('dog/z.png', makePng(1, 1, 0, 8, [1]));
    tmpDir('labelled', 'empty');
    w('README.md', '# dataset');
    w('.DS_Store', 'junk');
  });

  it('lists class folders sorted, skips non-images and empty folders with reasons', async () => {
    const ds = await openDataset(labelled);
    assert.equal(ds.kind, 'image-folder');
    assert.deepEqual(ds.classNames, ['cat', 'dog', 'empty']);
    assert.equal(ds.size, 7);
    const skipped = ds.skipped.map((s) => [path.relative(labelled, s.file), s.reason]);
    assert.equal(skipped.length, 3, JSON.stringify(skipped));
    assert.deepEqual(skipped.find(([f]) => f === 'README.md')?.[1], 'not a PNG or JPEG file');
    assert.deepEqual(skipped.find(([f]) => f === path.join('cat', 'notes.txt'))?.[1], 'not a PNG or JPEG file');
    assert.match(String(skipped.find(([f]) => f === 'empty')?.[1]), /empty class folder.*class index 2 is kept/);
  });

  it('streams batches with labels, reporting files that fail to decode in that batch', async () => {
    const ds = await openDataset(labelled);
    const batches = await collect(ds, { batchSize: 4, geometry: { height: 2, width: 2, channels: 1 } });
    assert.equal(batches.length, 2);
    const ids = batches.flatMap((b) => b.ids.map((f) => path.relative(labelled, f)));
    assert.deepEqual(ids, ['cat/a.png', 'cat/b.jpg', 'cat/nested/c.png', 'dog/a.png', 'dog/real-png.jpg', 'dog/z.png'].map((p) => p.split('/').join(path.sep)));
    assert.deepEqual(batches.flatMap((b) => Array.from(b.labels!)), [0, 0, 0, 1, 1, 1]);
    assert.deepEqual(batches.map((b) => b.count), [4, 2]);
    // dog/broken.png is item 4 (0-based), in the second batch.
    assert.equal(batches[0].skipped.length, 0);
    assert.equal(batches[1].skipped.length, 1);
    assert.equal(path.relative(labelled, batches[1].skipped[0].file), path.join('dog', 'broken.png'));
    assert.equal(batches[1].skipped[0].reason, 'not a PNG or JPEG image');
    // Arrays shrink to the images actually decoded.
    assert.equal(batches[1].images.length, 2 * 4);
    assert.equal(batches[1].labels!.length, 2);
    // First image (grey 2×2 checkerboard) with default preprocessing.
    approxArray(batches[0].images.subarray(0, 4), [0, 1, 1, 0], 1e-7);
    // dog/a.png is RGB → grey luminance, resized 1×1 → 2×2.
    const lum = (0.299 * 10 + 0.587 * 20 + 0.114 * 30) / 255;
    approxArray(batches[0].images.subarray(12, 16), [lum, lum, lum, lum], 1e-6);
  });

  it('shards [start, end) into exactly those files', async () => {
    const ds = (await openDataset(labelled)) as Dataset & { items: { file: string }[] };
    const all = ds.items.map((i) => i.file);
    for (const [start, end] of [
      [0, 2],
      [2, 5],
      [5, 7],
    ]) {
      const batches = await collect(ds, { start, end, batchSize: 2, geometry: { height: 2, width: 2, channels: 1 } });
      const seen = batches.flatMap((b) => [...b.ids, ...b.skipped.map((s) => s.file)]).sort();
      assert.deepEqual(seen, all.slice(start, end).sort());
    }
  });

  it('uses the class order from classNames, skipping unlisted folders', async () => {
    const ds = await openDataset(labelled, { classNames: ['dog', 'cat'] });
    assert.deepEqual(ds.classNames, ['dog', 'cat']);
    assert.equal(ds.size, 7);
    assert.match(ds.skipped.find((s) => path.basename(s.file) === 'empty')!.reason, /not listed in classNames/);
    const batches = await collect(ds, { batchSize: 10, geometry: { height: 2, width: 2, channels: 1 } });
    assert.deepEqual(Array.from(batches[0].labels!), [1, 1, 1, 0, 0, 0]);
    await assert.rejects(openDataset(labelled, { classNames: ['bird'] }), /none of the class folders/);
  });

  it('treats a folder of images without class folders as flat and unlabelled', async () => {
    const dir = tmpDir('flat');
    fs.writeFileSync(path.join(dir, 'b.png'), makePng(1, 1, 0, 8, [255]));
    fs.writeFileSync(path.join(dir, 'a.jpeg'), makeJpeg(2, 2, [0, 0, 0]));
    fs.writeFileSync(path.join(dir, 'list.csv'), 'a,b');
    fs.mkdirSync(path.join(dir, 'thumbs'));
    const ds = await openDataset(dir);
    assert.equal(ds.kind, 'flat-folder');
    assert.equal(ds.classNames, undefined);
    assert.equal(ds.size, 2);
    assert.equal(ds.skipped.length, 2);
    const [b] = await collect(ds, { geometry: { height: 1, width: 1, channels: 3 } });
    assert.equal(b.labels, undefined);
    assert.deepEqual(b.ids.map((f) => path.basename(f)), ['a.jpeg', 'b.png']);
    approxArray(b.images.subarray(3), [1, 1, 1], 1e-7);
  });

  it('an empty dataset is an error', async () => {
    const dir = tmpPath('nothing', 'readme.txt');
    fs.writeFileSync(dir, 'no images here');
    tmpDir('nothing', 'empty-class');
    await assert.rejects(openDataset(path.dirname(dir)), /no PNG or JPEG images found \(2 entries skipped/);
    await assert.rejects(openDataset(path.join(tmp, 'does-not-exist')), /does-not-exist: no such file or folder/);
    const idxFolder = tmpDir('idx-folder');
    fs.writeFileSync(path.join(idxFolder, 'train-images-idx3-ubyte.gz'), 'x');
    await assert.rejects(openDataset(idxFolder), /pass the images file itself \(train-images-idx3-ubyte\.gz\)/);
  });
});

describe('loadSingleImage', () => {
  it('loads and preprocesses one image', async () => {
    const file = tmpPath('single', 'one.png');
    fs.writeFileSync(file, makePng(2, 2, 0, 8, [0, 51, 102, 255]));
    const out = await loadSingleImage(file, { height: 2, width: 2, channels: 1 }, DEFAULT_PREPROCESSING);
    approxArray(out, [0, 0.2, 0.4, 1], 1e-7);
  });

  it('a corrupt or missing file is an error naming it', async () => {
    const file = tmpPath('single', 'corrupt.png');
    const png = makePng(2, 2, 0, 8, [0, 51, 102, 255]);
    fs.writeFileSync(file, png.subarray(0, png.length - 15));
    await assert.rejects(loadSingleImage(file, GREY28, DEFAULT_PREPROCESSING), { message: new RegExp(`^${escape(file)}: corrupt PNG`) });
    await assert.rejects(loadSingleImage(path.join(tmp, 'nope.png'), GREY28, DEFAULT_PREPROCESSING), /nope\.png: no such file/);
    await assert.rejects(openDataset(file), /is a single image; a dataset is a folder of images or an IDX file/);
  });
});

// --- cnnlens.json ----------------------------------------------------------------------------

describe('cnnlens.json', () => {
  function modelDir(name: string, config?: string): string {
    const dir = tmpDir('models', name);
    fs.writeFileSync(path.join(dir, 'model.json'), '{}');
    if (config !== undefined) fs.writeFileSync(path.join(dir, 'cnnlens.json'), config);
    return path.join(dir, 'model.json');
  }

  it('no file gives the defaults', async () => {
    const config = await loadCnnLensConfig(modelDir('none'));
    assert.deepEqual(config, { preprocessing: { scale: 1, offset: 0, channelOrder: 'rgb', resize: 'bilinear' }, dyingThreshold: 0.01 });
  });

  it('reads, fills defaults and resolves the dataset relative to the file', async () => {
    const model = modelDir(
      'full',
      JSON.stringify({
        $schema: 'x',
        preprocessing: { scale: 2, offset: [-1, -1, -1] },
        classNames: ['a', 'b'],
        dataset: '../data/test',
        dyingThreshold: 0.05,
        penultimateLayer: 'dense_1',
      }),
    );
    const config = await loadCnnLensConfig(model);
    assert.equal(config.file, path.join(path.dirname(model), 'cnnlens.json'));
    assert.deepEqual(config.preprocessing, { scale: 2, offset: [-1, -1, -1], channelOrder: 'rgb', resize: 'bilinear' });
    assert.deepEqual(config.classNames, ['a', 'b']);
    assert.equal(config.dataset, path.resolve(path.dirname(model), '../data/test'));
    assert.equal(config.dyingThreshold, 0.05);
    assert.equal(config.penultimateLayer, 'dense_1');
    assert.equal(config.inputLayer, undefined);
    // Also found when given the model's folder.
    assert.equal((await loadCnnLensConfig(path.dirname(model))).dyingThreshold, 0.05);
  });

  it('malformed JSON is an error naming the file and the position', async () => {
    const model = modelDir('malformed', '{\n  "dyingThreshold": 0.1,\n  "classNames": ["a", "b",]\n}');
    const file = path.join(path.dirname(model), 'cnnlens.json');
    await assert.rejects(loadCnnLensConfig(model), (e: Error) => {
      assert.ok(e.message.startsWith(`${file}: invalid JSON at line 3, column 27 (Unexpected token ']')`), e.message);
      return true;
    });
    // A message V8 gives without a position still gets one.
    assert.throws(() => parseCnnLensConfig('{"a": tru}', 'c.json'), /^CnnLensConfigError: c\.json: invalid JSON at line 1, column 7/);
    assert.throws(() => parseCnnLensConfig('', 'c.json'), /c\.json: invalid JSON at line 1, column 1/);
  });

  it('an unknown key is an error naming the file and the key', async () => {
    const model = modelDir('unknown', '{"preprocessing": {"scale": 2}, "ofset": 1}');
    const file = path.join(path.dirname(model), 'cnnlens.json');
    await assert.rejects(loadCnnLensConfig(model), { message: `${file}: unknown key "ofset" (allowed: ${CNNLENS_CONFIG_KEYS.join(', ')})` });
    assert.throws(() => parseCnnLensConfig('{"preprocessing": {"mean": [1]}}', 'c.json'), /c\.json: unknown key "preprocessing\.mean"/);
  });

  it('wrong types are errors naming the key', () => {
    const cases: [string, RegExp][] = [
      ['{"dyingThreshold": "high"}', /"dyingThreshold" must be a number between 0 and 1 \(got "high"\)/],
      ['{"dyingThreshold": 5}', /"dyingThreshold" must be a number between 0 and 1/],
      ['{"classNames": ["a", 3]}', /"classNames\[1\]" must be a string \(got a number\)/],
      ['{"classNames": ["a", "a"]}', /"classNames" lists "a" twice/],
      ['{"preprocessing": {"scale": "1/255"}}', /"preprocessing\.scale" must be a number or a non-empty array/],
      ['{"preprocessing": {"channelOrder": "RGB"}}', /"preprocessing\.channelOrder" must be "rgb" or "bgr"/],
      ['{"preprocessing": []}', /"preprocessing" must be an object \(got an array\)/],
      ['{"dataset": 3}', /"dataset" must be a non-empty path string/],
      ['{"inputLayer": ""}', /"inputLayer" must be a non-empty layer name/],
      ['[1]', /c\.json: must contain a JSON object \(got an array\)/],
    ];
    for (const [text, re] of cases) assert.throws(() => parseCnnLensConfig(text, 'c.json'), re, text);
  });

  it('the JSON schema lists the same keys, and the docs example is valid', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(ROOT, 'schemas/cnnlens.schema.json'), 'utf8'));
    assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(Object.keys(schema.properties).sort(), [...CNNLENS_CONFIG_KEYS].sort());
    assert.deepEqual(Object.keys(schema.properties.preprocessing.properties).sort(), [...CNNLENS_PREPROCESSING_KEYS].sort());
    for (const [key, prop] of Object.entries(schema.properties as Record<string, { description?: string }>)) {
      assert.ok(prop.description, `schema property ${key} has a description`);
    }
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## `cnnlens.json`'));
    const example = /```json\n([\s\S]*?)```/.exec(section);
    assert.ok(example, 'the README documents cnnlens.json with a json example');
    const config = parseCnnLensConfig(example[1], path.join(ROOT, 'models/cnnlens.json'));
    assert.equal(config.classNames?.length, 10);
  });
});
