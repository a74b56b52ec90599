/**
 * Small images for hovers and the scan report, as PNG data URIs (no `vscode` import): the
 * firing-rate histogram of a layer and the tiles of its dead filters.
 */
import type { FilterTiles } from '../engine/analyses/filters';
import { tileGrid } from '../engine/render/grid';
import { pngDataUri, type RgbaImage } from '../engine/render/png';
import { firingRateHistogram } from './logic';

const DEAD_RGB: [number, number, number] = [229, 83, 75];
const DYING_RGB: [number, number, number] = [230, 170, 40];
const ALIVE_RGB: [number, number, number] = [55, 148, 255];
const AXIS_RGB: [number, number, number] = [128, 128, 128];

function fillRect(img: RgbaImage, x0: number, y0: number, w: number, h: number, rgb: [number, number, number], alpha = 255): void {
  for (let y = Math.max(0, y0); y < Math.min(img.height, y0 + h); y++) {
    for (let x = Math.max(0, x0); x < Math.min(img.width, x0 + w); x++) {
      const o = (y * img.width + x) * 4;
      img.data[o] = rgb[0];
      img.data[o + 1] = rgb[1];
      img.data[o + 2] = rgb[2];
      img.data[o + 3] = alpha;
    }
  }
}

/**
 * Bar chart of the firing-rate histogram (transparent background, readable on light and dark
 * themes): the first bar (rate 0, dead) red, bars below the dying threshold amber, others blue.
 */
export function histogramImage(
  rates: readonly number[],
  options: { bins?: number; dyingThreshold?: number; width?: number; height?: number } = {},
): RgbaImage {
  const bins = options.bins ?? 10;
  const counts = firingRateHistogram(rates, bins);
  const bars = counts.length;
  const barWidth = Math.max(4, Math.floor((options.width ?? 220) / bars) - 2);
  const gap = 2;
  const width = bars * (barWidth + gap) + gap;
  const height = options.height ?? 60;
  const img: RgbaImage = { width, height, data: new Uint8Array(width * height * 4) };
  const max = Math.max(1, ...counts);
  const plot = height - 3;
  for (let b = 0; b < bars; b++) {
    const h = counts[b] > 0 ? Math.max(2, Math.round((counts[b] / max) * plot)) : 0;
    const lower = b === 0 ? 0 : (b - 1) / bins;
    const colour = b === 0 ? DEAD_RGB : lower < (options.dyingThreshold ?? 0.01) ? DYING_RGB : ALIVE_RGB;
    fillRect(img, gap + b * (barWidth + gap), plot - h, barWidth, h, colour);
  }
  fillRect(img, 0, height - 2, width, 2, AXIS_RGB);
  return img;
}

export function histogramDataUri(rates: readonly number[], dyingThreshold: number): string {
  return pngDataUri(histogramImage(rates, { dyingThreshold }));
}

/**
 * One tile per listed filter (at most `max`): the filter's RGB tile for first layers, else the
 * mean of its per-input-channel tiles. Returns undefined when no listed filter exists.
 */
export function filterTilesImage(layer: FilterTiles, filterIndices: readonly number[], max = 64): RgbaImage | undefined {
  const { kernelHeight: kh, kernelWidth: kw, tileChannels, tilesPerFilter } = layer;
  const per = kh * kw * tileChannels;
  const tiles: Float32Array[] = [];
  for (const f of filterIndices.slice(0, max)) {
    if (f < 0 || f >= layer.filters) continue;
    const tile = new Float32Array(per);
    for (let t = 0; t < tilesPerFilter; t++) {
      const base = (f * tilesPerFilter + t) * per;
      for (let i = 0; i < per; i++) tile[i] += layer.tiles[base + i] / tilesPerFilter;
    }
    tiles.push(tile);
  }
  if (!tiles.length) return undefined;
  const scale = Math.max(2, Math.min(8, Math.round(24 / Math.max(kh, kw))));
  return tileGrid(tiles, kh, kw, tileChannels === 3 ? 3 : 1, { scale, gap: 2, columns: Math.min(16, tiles.length) });
}

export function filterTilesDataUri(layer: FilterTiles, filterIndices: readonly number[]): string | undefined {
  const img = filterTilesImage(layer, filterIndices);
  return img ? pngDataUri(img) : undefined;
}
