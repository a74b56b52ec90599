/**
 * PNG / JPEG decoding in plain JavaScript (pngjs, jpeg-js), so datasets can be read without
 * tfjs-node's native image ops and inside workers. Output is 8-bit, interleaved, with the image's
 * own channel count: 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA). Mapping those to the
 * model's channels (dropping or compositing alpha, grey↔RGB) is `imageGeometry.ts`'s job, so the
 * decoder never guesses what the model wants.
 */
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

export interface DecodedImage {
  width: number;
  height: number;
  /** Interleaved channels per pixel (1, 2, 3 or 4). */
  channels: number;
  /** True when the last channel is alpha (straight, not premultiplied). */
  alpha: boolean;
  /** `height * width * channels` bytes, row-major, interleaved. */
  data: Uint8Array;
  /** Where the pixels came from, used to name the file in later errors. */
  source?: string;
}

export interface DecodeLimits {
  /** Refuse images with more pixels than this (megapixels). Guards against decompression bombs. */
  maxResolutionInMP: number;
  /** jpeg-js' cap on memory allocated while decoding one JPEG. */
  maxMemoryUsageInMB: number;
}

/**
 * Generous for CNN inputs (which are rarely above 1 MP) while keeping one hostile file in a
 * dataset from exhausting memory.
 */
export const DEFAULT_DECODE_LIMITS: DecodeLimits = { maxResolutionInMP: 64, maxMemoryUsageInMB: 512 };

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export type ImageFormat = 'png' | 'jpeg';

/** Sniffs the format from the magic bytes; file extensions lie (e.g. `.png` files that are JPEGs). */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return undefined;
}

/**
 * Decodes a PNG or JPEG. `file` is only used in error messages, which always name it:
 * "FILE: corrupt PNG (…)", "FILE: corrupt JPEG (…)", "FILE: not a PNG or JPEG image".
 */
export function decodeImage(bytes: Uint8Array, file: string, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): DecodedImage {
  const format = sniffImageFormat(bytes);
  if (format === 'png') return decodePng(bytes, file, limits);
  if (format === 'jpeg') return decodeJpeg(bytes, file, limits);
  throw new Error(`${file}: not a PNG or JPEG image`);
}

function checkResolution(file: string, kind: string, width: number, height: number, limits: DecodeLimits): void {
  if (width * height > limits.maxResolutionInMP * 1e6) {
    const mp = ((width * height) / 1e6).toFixed(1);
    throw new Error(`${file}: ${kind} too large (${width}×${height} = ${mp} MP, limit ${limits.maxResolutionInMP} MP)`);
  }
}

function decodePng(bytes: Uint8Array, file: string, limits: DecodeLimits): DecodedImage {
  // Check IHDR's size before pngjs allocates width*height*4 bytes for the bitmap.
  if (bytes.length >= 24) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    checkResolution(file, 'PNG', view.getUint32(16, false), view.getUint32(20, false), limits);
  }
  // `PNG.sync.read` returns pngjs' parsed metadata object, typed loosely by @types/pngjs.
  let png: { width: number; height: number; data: Buffer; alpha?: boolean; color?: boolean; palette?: unknown; colorType?: number };
  try {
    // pngjs expands every colour type / bit depth to 8-bit RGBA (16-bit is rounded to 8-bit,
    // palettes and tRNS are applied), and keeps the original colour type in the metadata.
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) as unknown as typeof png;
  } catch (e) {
    throw new Error(`${file}: corrupt PNG (${(e as Error).message})`);
  }
  const { width, height } = png;
  // Palette images are colour (their palette entries are RGB) even if every entry is grey;
  // tRNS chunks set `alpha` too, which is what we want (transparent pixels become black later).
  const color = png.colorType === undefined ? Boolean(png.color) : (png.colorType & 2) !== 0;
  const alpha = Boolean(png.alpha);
  const colorChannels = color ? 3 : 1;
  const channels = colorChannels + (alpha ? 1 : 0);
  const rgba = png.data;
  if (rgba.length < width * height * 4) {
    throw new Error(`${file}: corrupt PNG (pixel data shorter than ${width}×${height})`);
  }
  const data = new Uint8Array(width * height * channels);
  const n = width * height;
  for (let p = 0, o = 0; p < n; p++) {
    const i = p * 4;
    data[o++] = rgba[i];
    if (color) {
      data[o++] = rgba[i + 1];
      data[o++] = rgba[i + 2];
    }
    if (alpha) data[o++] = rgba[i + 3];
  }
  return { width, height, channels, alpha, data, source: file };
}

/**
 * Number of components in the JPEG frame header (1 = greyscale). jpeg-js always returns RGB, so
 * this lets a greyscale JPEG stay 1-channel instead of becoming three identical channels.
 */
function jpegComponentCount(bytes: Uint8Array): number | undefined {
  let pos = 2;
  while (pos + 4 <= bytes.length) {
    if (bytes[pos] !== 0xff) return undefined;
    const marker = bytes[pos + 1];
    if (marker === 0xff) {
      pos++; // fill byte
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      pos += 2; // markers without a length
      continue;
    }
    const length = (bytes[pos + 2] << 8) | bytes[pos + 3];
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) return pos + 9 < bytes.length ? bytes[pos + 9] : undefined;
    if (marker === 0xda || marker === 0xd9) return undefined; // scan data / end: no frame header seen
    pos += 2 + length;
  }
  return undefined;
}

function decodeJpeg(bytes: Uint8Array, file: string, limits: DecodeLimits): DecodedImage {
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      // Tolerates MCU-count quirks that other decoders accept; truncated files still fail
      // ("marker was not found"), which is what lets a dataset report them.
      tolerantDecoding: true,
      maxResolutionInMP: limits.maxResolutionInMP,
      maxMemoryUsageInMB: limits.maxMemoryUsageInMB,
    });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (/maxResolutionInMP|maxMemoryUsageInMB|allocate enough memory/.test(message)) {
      throw new Error(`${file}: JPEG too large (${message})`);
    }
    throw new Error(`${file}: corrupt JPEG (${message})`);
  }
  const { width, height } = decoded;
  if (!(width > 0 && height > 0) || decoded.data.length < width * height * 3) {
    throw new Error(`${file}: corrupt JPEG (no image data)`);
  }
  if (jpegComponentCount(bytes) === 1) {
    const n = width * height;
    const grey = new Uint8Array(n);
    for (let p = 0; p < n; p++) grey[p] = decoded.data[p * 3];
    return { width, height, channels: 1, alpha: false, data: grey, source: file };
  }
  return { width, height, channels: 3, alpha: false, data: decoded.data, source: file };
}
