/**
 * Turns decoded pixels into exactly what the model's input layer expects: its channel count,
 * its height × width, and its value range. Plain TypeScript on typed arrays so it runs anywhere
 * (workers, tests) without TF.js. The steps and their order:
 *   1. channels: alpha composited on black, grey → RGB by replication, RGB → grey by luminance;
 *   2. resize to H × W (bilinear or nearest, half-pixel centres, as `tf.image.resize*` does with
 *      `halfPixelCenters: true`, so images match what a Keras/TF training pipeline produced);
 *   3. `value = (pixel / 255) * scale + offset` per channel, in the model's channel order.
 * Working in floats from step 1 on means no intermediate rounding to 8 bits.
 */
import type { InputGeometry } from '../../model/inspectableModel';
import type { DecodedImage } from './decode';
import type { Preprocessing } from './types';

/** Pixels scaled to [0, 1]: the Keras / TF.js convention (`Rescaling(1/255)`). */
export const DEFAULT_PREPROCESSING: Preprocessing = Object.freeze({
  scale: 1,
  offset: 0,
  channelOrder: 'rgb',
  resize: 'bilinear',
}) as Preprocessing;

/** ITU-R BT.601 luma weights, the ones `tf.image.rgb_to_grayscale` and PIL's "L" mode use. */
const LUMA_R = 0.299;
const LUMA_G = 0.587;
const LUMA_B = 0.114;

function describe(decoded: DecodedImage): string {
  return decoded.source ?? 'image';
}

/**
 * Converts interleaved 8-bit pixels to `targetChannels` (1 or 3) floats in 0..255. Alpha is
 * composited on black (`v * a / 255`), which equals dropping it for opaque pixels and matches
 * how transparent padding looks in most training sets (zeros).
 */
export function convertChannels(decoded: DecodedImage, targetChannels: number): Float32Array {
  const { width, height, channels, alpha, data } = decoded;
  if (targetChannels !== 1 && targetChannels !== 3) {
    throw new Error(
      `${describe(decoded)}: the model input has ${targetChannels} channels; only 1 (grey) or 3 (RGB) are supported`,
    );
  }
  const colour = alpha ? channels - 1 : channels;
  if (colour !== 1 && colour !== 3) {
    const what = alpha ? `${channels} channels (${colour} colour + alpha)` : `${channels} channels`;
    throw new Error(
      `${describe(decoded)}: cannot map an image with ${what} to the model's ${targetChannels}-channel input ` +
        `(expected grey or RGB, optionally with alpha)`,
    );
  }
  const n = width * height;
  if (data.length < n * channels) {
    throw new Error(`${describe(decoded)}: pixel data has ${data.length} bytes, expected ${n * channels}`);
  }
  const out = new Float32Array(n * targetChannels);
  for (let p = 0; p < n; p++) {
    const i = p * channels;
    const a = alpha ? data[i + channels - 1] / 255 : 1;
    if (colour === 1) {
      const v = data[i] * a;
      if (targetChannels === 1) out[p] = v;
      else out[p * 3] = out[p * 3 + 1] = out[p * 3 + 2] = v;
    } else {
      const r = data[i] * a;
      const g = data[i + 1] * a;
      const b = data[i + 2] * a;
      if (targetChannels === 1) out[p] = LUMA_R * r + LUMA_G * g + LUMA_B * b;
      else {
        out[p * 3] = r;
        out[p * 3 + 1] = g;
        out[p * 3 + 2] = b;
      }
    }
  }
  return out;
}

/**
 * Bilinear resize with half-pixel centres, the same arithmetic as TF.js'
 * `resizeBilinear(..., alignCorners=false, halfPixelCenters=true)` (no antialiasing when
 * shrinking, like `tf.image.resize` by default), so results match a TF training pipeline.
 */
export function resizeBilinear(
  src: Float32Array,
  inH: number,
  inW: number,
  channels: number,
  outH: number,
  outW: number,
): Float32Array {
  const out = new Float32Array(outH * outW * channels);
  const ratioH = inH / outH;
  const ratioW = inW / outW;
  // Column taps are the same for every row: compute them once.
  const x0 = new Int32Array(outW);
  const x1 = new Int32Array(outW);
  const xf = new Float64Array(outW);
  for (let x = 0; x < outW; x++) {
    const sx = ratioW * (x + 0.5) - 0.5;
    const lo = Math.max(0, Math.floor(sx));
    x0[x] = lo;
    x1[x] = Math.min(inW - 1, Math.ceil(sx));
    xf[x] = sx - lo;
  }
  for (let y = 0; y < outH; y++) {
    const sy = ratioH * (y + 0.5) - 0.5;
    const y0 = Math.max(0, Math.floor(sy));
    const y1 = Math.min(inH - 1, Math.ceil(sy));
    const yf = sy - y0;
    const row0 = y0 * inW * channels;
    const row1 = y1 * inW * channels;
    for (let x = 0; x < outW; x++) {
      const c0 = x0[x] * channels;
      const c1 = x1[x] * channels;
      const fx = xf[x];
      const o = (y * outW + x) * channels;
      for (let c = 0; c < channels; c++) {
        const tl = src[row0 + c0 + c];
        const tr = src[row0 + c1 + c];
        const bl = src[row1 + c0 + c];
        const br = src[row1 + c1 + c];
        const top = tl + (tr - tl) * fx;
        const bottom = bl + (br - bl) * fx;
        out[o + c] = top + (bottom - top) * yf;
      }
    }
  }
  return out;
}

/** Nearest-neighbour resize with half-pixel centres (`floor((i + 0.5) * in / out)`). */
export function resizeNearest(
  src: Float32Array,
  inH: number,
  inW: number,
  channels: number,
  outH: number,
  outW: number,
): Float32Array {
  const out = new Float32Array(outH * outW * channels);
  const cols = new Int32Array(outW);
  for (let x = 0; x < outW; x++) cols[x] = Math.min(inW - 1, Math.floor(((x + 0.5) * inW) / outW));
  for (let y = 0; y < outH; y++) {
    const sy = Math.min(inH - 1, Math.floor(((y + 0.5) * inH) / outH));
    for (let x = 0; x < outW; x++) {
      const i = (sy * inW + cols[x]) * channels;
      const o = (y * outW + x) * channels;
      for (let c = 0; c < channels; c++) out[o + c] = src[i + c];
    }
  }
  return out;
}

/** Expands a scalar or per-channel array to one value per model channel, checking its length. */
function perChannel(value: number | number[], name: string, channels: number): number[] {
  if (typeof value === 'number') return new Array<number>(channels).fill(value);
  if (value.length === 1) return new Array<number>(channels).fill(value[0]);
  if (value.length !== channels) {
    throw new Error(
      `preprocessing.${name} has ${value.length} values but the model input has ${channels} channel${channels === 1 ? '' : 's'}`,
    );
  }
  return value.slice();
}

/**
 * Writes one preprocessed image (`height * width * channels` floats, HWC) into `out` at
 * `outOffset`, so batch readers fill their batch array in place without a copy per image.
 */
export function preprocessImageInto(
  decoded: DecodedImage,
  geometry: InputGeometry,
  preprocessing: Preprocessing,
  out: Float32Array,
  outOffset: number,
): void {
  const { height, width, channels } = geometry;
  const scale = perChannel(preprocessing.scale, 'scale', channels);
  const offset = perChannel(preprocessing.offset, 'offset', channels);
  // A grey image for an RGB model is resized as one channel and replicated afterwards: the same
  // numbers (resizing is per channel) for a third of the work (e.g. Fashion-MNIST → 128×128×3).
  const colour = decoded.alpha ? decoded.channels - 1 : decoded.channels;
  const work = colour === 1 && channels === 3 ? 1 : channels;
  let pixels = convertChannels(decoded, work);
  if (decoded.height !== height || decoded.width !== width) {
    const resize = preprocessing.resize === 'nearest' ? resizeNearest : resizeBilinear;
    pixels = resize(pixels, decoded.height, decoded.width, work, height, width);
  }
  const n = height * width;
  if (outOffset + n * channels > out.length) {
    throw new RangeError(`preprocessImageInto: output array too small (${out.length} < ${outOffset + n * channels})`);
  }
  // Scale and offset are given in the model's channel order, i.e. after any RGB → BGR swap
  // (that is how Caffe-style means such as [103.939, 116.779, 123.68] are usually written).
  const bgr = preprocessing.channelOrder === 'bgr' && channels === 3;
  for (let p = 0; p < n; p++) {
    const i = p * work;
    const o = outOffset + p * channels;
    for (let c = 0; c < channels; c++) {
      const from = work === 1 ? 0 : bgr ? 2 - c : c;
      out[o + c] = (pixels[i + from] / 255) * scale[c] + offset[c];
    }
  }
}

/** One image → `height * width * channels` floats (HWC), ready to be a `[1, H, W, C]` input. */
export function preprocessImage(
  decoded: DecodedImage,
  geometry: InputGeometry,
  preprocessing: Preprocessing = DEFAULT_PREPROCESSING,
): Float32Array {
  const out = new Float32Array(geometry.height * geometry.width * geometry.channels);
  preprocessImageInto(decoded, geometry, preprocessing, out, 0);
  return out;
}

/** Validates preprocessing against the model once, before streaming, so a bad config fails fast. */
export function checkPreprocessing(preprocessing: Preprocessing, geometry: InputGeometry): void {
  perChannel(preprocessing.scale, 'scale', geometry.channels);
  perChannel(preprocessing.offset, 'offset', geometry.channels);
  if (geometry.channels !== 1 && geometry.channels !== 3) {
    throw new Error(`the model input has ${geometry.channels} channels; only 1 (grey) or 3 (RGB) are supported`);
  }
  if (!(geometry.height > 0 && geometry.width > 0)) {
    throw new Error(`the model input size ${geometry.height}×${geometry.width} is not a fixed positive size`);
  }
}
