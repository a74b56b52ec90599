/**
 * Picture of an effective receptive field: the heat map over the (mean) input image, with the
 * unit's theoretical receptive-field box and the ERF radii drawn on top, so effective and
 * theoretical sizes can be compared at a glance.
 *
 *   - background: the input image in grey, scaled to its own [min, max] and dimmed, so the
 *     overlay stays readable whatever the preprocessing;
 *   - heat: viridis, blended with opacity √heat, so the faint tail of the gradient (which is most
 *     of the theoretical field, Luo et al.) stays visible instead of vanishing under a linear ramp;
 *   - circles: one per radius, around the theoretical centre, white;
 *   - box: the theoretical field, clipped to the image (it may extend over the padding), red,
 *     drawn last.
 * Pixels are enlarged by an integer factor (nearest neighbour) so small inputs stay legible.
 */
import type { ErfResult } from '../analyses/effectiveReceptiveField';
import { VIRIDIS, lutIndex } from './colormap';
import type { RgbaImage } from './png';

export interface ErfImageOptions {
  /** Integer enlargement; default so that the longer side is at least ~256 px (at most 16×). */
  scale?: number;
}

const BOX_COLOUR: [number, number, number] = [255, 64, 64];
const CIRCLE_COLOUR: [number, number, number] = [255, 255, 255];
const BACKGROUND_BRIGHTNESS = 0.6;

/** Grey level in [0, 1] per input pixel: luminance for RGB, scaled to the image's own range. */
function greyBackground(meanInput: Float32Array, height: number, width: number, channels: number): Float32Array {
  const grey = new Float32Array(height * width);
  for (let p = 0; p < height * width; p++) {
    grey[p] = channels === 3 ? 0.299 * meanInput[p * 3] + 0.587 * meanInput[p * 3 + 1] + 0.114 * meanInput[p * 3 + 2] : meanInput[p * channels];
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of grey) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  for (let p = 0; p < grey.length; p++) grey[p] = hi > lo ? (grey[p] - lo) / (hi - lo) : 0;
  return grey;
}

export function erfImage(result: ErfResult, meanInput: Float32Array, inputChannels: number, options: ErfImageOptions = {}): RgbaImage {
  const [h, w] = result.inputSize;
  if (result.heatmap.length !== h * w) throw new Error(`ERF of layer "${result.layer}": heat map has ${result.heatmap.length} values for a ${h}×${w} input`);
  if (meanInput.length !== h * w * inputChannels) {
    throw new Error(`ERF of layer "${result.layer}": mean input has ${meanInput.length} values for a ${h}×${w}×${inputChannels} input`);
  }
  const scale = Math.max(1, Math.floor(options.scale ?? Math.min(16, Math.ceil(256 / Math.max(h, w)))));
  const width = w * scale;
  const height = h * scale;
  const data = new Uint8Array(width * height * 4);
  const grey = greyBackground(meanInput, h, w, inputChannels);

  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      const heat = result.heatmap[p];
      const alpha = heat > 0 ? Math.sqrt(Math.min(1, heat)) : 0;
      const k = lutIndex(heat, 0, 1) * 3;
      const g = grey[p] * 255 * BACKGROUND_BRIGHTNESS;
      const rgb = [0, 1, 2].map((c) => Math.round(g * (1 - alpha) + VIRIDIS[k + c] * alpha));
      for (let dy = 0; dy < scale; dy++) {
        let o = ((y * scale + dy) * width + x * scale) * 4;
        for (let dx = 0; dx < scale; dx++, o += 4) {
          data[o] = rgb[0];
          data[o + 1] = rgb[1];
          data[o + 2] = rgb[2];
          data[o + 3] = 255;
        }
      }
    }
  }

  const put = (px: number, py: number, colour: [number, number, number]): void => {
    if (px < 0 || py < 0 || px >= width || py >= height) return;
    const o = (py * width + px) * 4;
    data[o] = colour[0];
    data[o + 1] = colour[1];
    data[o + 2] = colour[2];
  };

  const centre = result.theoretical
    ? [(result.theoretical.box[0] + result.theoretical.box[2]) / 2, (result.theoretical.box[1] + result.theoretical.box[3]) / 2]
    : result.centre;
  const cy = (centre[0] + 0.5) * scale;
  const cx = (centre[1] + 0.5) * scale;
  for (const { radius } of result.radii) {
    if (!Number.isFinite(radius)) continue;
    const r = Math.max(radius * scale, 1);
    // One point per output pixel of circumference, so the outline has no gaps.
    const steps = Math.max(16, Math.ceil(2 * Math.PI * r * 2));
    for (let s = 0; s < steps; s++) {
      const a = (2 * Math.PI * s) / steps;
      put(Math.round(cx + r * Math.cos(a) - 0.5), Math.round(cy + r * Math.sin(a) - 0.5), CIRCLE_COLOUR);
    }
  }
  // The box goes on top of the circles: it is the reference the ERF is compared with.
  if (result.theoretical) {
    // Outer edges of the box's pixels, in output pixels; only the parts inside the image are drawn.
    const [top, left, bottom, right] = result.theoretical.box;
    const y0 = top * scale;
    const x0 = left * scale;
    const y1 = (bottom + 1) * scale - 1;
    const x1 = (right + 1) * scale - 1;
    const thick = scale >= 4 ? 2 : 1;
    for (let t = 0; t < thick; t++) {
      for (let x = Math.max(x0, 0); x <= Math.min(x1, width - 1); x++) {
        put(x, y0 + t, BOX_COLOUR);
        put(x, y1 - t, BOX_COLOUR);
      }
      for (let y = Math.max(y0, 0); y <= Math.min(y1, height - 1); y++) {
        put(x0 + t, y, BOX_COLOUR);
        put(x1 - t, y, BOX_COLOUR);
      }
    }
  }

  return { width, height, data };
}
