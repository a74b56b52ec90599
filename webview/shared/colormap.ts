/**
 * Colour scales for canvases. Viridis (perceptually uniform, readable for colour-blind users and
 * in every theme) from a degree-6 polynomial fit, tabulated once to 256 RGB entries.
 */
const C = [
  [0.2777273272234177, 0.005407344544966578, 0.3340998053353061],
  [0.1050930431085774, 1.404613529898575, 1.384590162594685],
  [-0.3308618287255563, 0.214847559468213, 0.09509516302823659],
  [-4.634230498983486, -5.799100973351585, -19.33244095627987],
  [6.228269936347081, 14.17993336680509, 56.69055260068105],
  [4.776384997670288, -13.74514537774601, -65.35303263337234],
  [-5.435455855934631, 4.645852612178535, 26.3124352495832],
];

export const VIRIDIS: Uint8ClampedArray = (() => {
  const lut = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    for (let k = 0; k < 3; k++) {
      let v = 0;
      for (let d = C.length - 1; d >= 0; d--) v = v * t + C[d][k];
      lut[i * 3 + k] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
  }
  return lut;
})();

export function viridisCss(t: number): string {
  const i = Math.round(Math.min(1, Math.max(0, t)) * 255) * 3;
  return `rgb(${VIRIDIS[i]}, ${VIRIDIS[i + 1]}, ${VIRIDIS[i + 2]})`;
}

/**
 * Draws channel `channel` of an HWC tensor (`channels` innermost) into `canvas` at one canvas
 * pixel per value, mapping [lo, hi] to viridis. A constant map draws as the scale's low end.
 */
export function drawChannel(
  canvas: HTMLCanvasElement,
  values: Float32Array,
  height: number,
  width: number,
  channels: number,
  channel: number,
  lo: number,
  hi: number,
): void {
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const img = ctx.createImageData(width, height);
  const px = img.data;
  const span = hi > lo ? hi - lo : 1;
  for (let i = 0, n = width * height; i < n; i++) {
    const v = values[i * channels + channel];
    const t = Number.isFinite(v) ? (v - lo) / span : 0;
    const k = Math.round(Math.min(1, Math.max(0, t)) * 255) * 3;
    px[i * 4] = VIRIDIS[k];
    px[i * 4 + 1] = VIRIDIS[k + 1];
    px[i * 4 + 2] = VIRIDIS[k + 2];
    px[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

/** Draws an HWC image as-is: RGB when it has 3 channels, else grey from channel 0; values min–max scaled. */
export function drawImage(canvas: HTMLCanvasElement, values: Float32Array, height: number, width: number, channels: number): void {
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < lo) lo = values[i];
    if (values[i] > hi) hi = values[i];
  }
  const span = hi > lo ? hi - lo : 1;
  const img = ctx.createImageData(width, height);
  const px = img.data;
  const rgb = channels === 3;
  for (let i = 0, n = width * height; i < n; i++) {
    for (let k = 0; k < 3; k++) {
      const v = values[i * channels + (rgb ? k : 0)];
      px[i * 4 + k] = Math.round(((v - lo) / span) * 255);
    }
    px[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

/** Draws `[0,1]` tiles: `tileChannels` 3 → RGB, 1 → grey. */
export function drawTile(canvas: HTMLCanvasElement, tiles: Float32Array, offset: number, height: number, width: number, tileChannels: number): void {
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const img = ctx.createImageData(width, height);
  const px = img.data;
  for (let i = 0, n = width * height; i < n; i++) {
    for (let k = 0; k < 3; k++) px[i * 4 + k] = Math.round(tiles[offset + i * tileChannels + (tileChannels === 3 ? k : 0)] * 255);
    px[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}
