/**
 * Perceptually uniform colour scale for feature maps (viridis, from matplotlib), as a 256-entry
 * lookup table interpolated from 17 published stops: dark = low, yellow = high. Grey-scale would
 * hide small differences; a rainbow scale would invent edges.
 */
const VIRIDIS_STOPS = [
  '440154', '481a6c', '472f7d', '414487', '39568c', '31688e', '2a788e', '23888e', '1f988b',
  '22a884', '35b779', '54c568', '7ad151', 'a5db36', 'd2e21b', 'f1e51d', 'fde725',
];

function buildLut(stops: string[]): Uint8Array {
  const rgb = stops.map((h) => [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16)));
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (rgb.length - 1);
    const k = Math.min(rgb.length - 2, Math.floor(t));
    const f = t - k;
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(rgb[k][c] * (1 - f) + rgb[k + 1][c] * f);
  }
  return lut;
}

export const VIRIDIS: Uint8Array = buildLut(VIRIDIS_STOPS);

/** Index into a 256-entry LUT for `value` scaled from [lo, hi]; a flat map (hi == lo) maps to 0. */
export function lutIndex(value: number, lo: number, hi: number): number {
  if (!(hi > lo)) return 0;
  const t = (value - lo) / (hi - lo);
  return t <= 0 ? 0 : t >= 1 ? 255 : Math.round(t * 255);
}
