/** Turns analysis results into grid images (CLI `--out`, the HTML report). */
import type { LayerActivations } from '../analyses/activations';
import type { FilterTiles } from '../analyses/filters';
import { featureMapGrid, tileGrid } from './grid';
import type { RgbaImage } from './png';

/** Enlargement so that a tile is at least ~48 px on screen, whatever the map size. */
function scaleFor(size: number): number {
  return Math.max(1, Math.min(12, Math.round(48 / Math.max(1, size))));
}

/** Feature maps of the first image: one tile per channel (dense layers: one 1×1 tile per unit). */
export function activationGrid(layer: LayerActivations, imageIndex = 0): RgbaImage {
  const values = layer.values[imageIndex];
  if (!values) throw new Error(`no activation values for layer "${layer.layer}"`);
  if (layer.shape.length === 3) {
    const [h, w, c] = layer.shape;
    return featureMapGrid(values, h, w, c, { scale: scaleFor(Math.max(h, w)), gap: 2 });
  }
  // Dense / flattened outputs: a strip of units on one shared colour scale, so magnitudes compare.
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return featureMapGrid(values, 1, 1, values.length, { scale: 10, gap: 1, columns: Math.min(32, values.length), shared: [lo, hi] });
}

/** Filter tiles of a conv layer, one tile per (filter, input channel) as the analysis laid them out. */
export function filterGrid(layer: FilterTiles): RgbaImage {
  const { kernelHeight: kh, kernelWidth: kw, tileChannels } = layer;
  const per = kh * kw * tileChannels;
  const count = layer.filters * layer.tilesPerFilter;
  const tiles: Float32Array[] = [];
  for (let i = 0; i < count; i++) tiles.push(layer.tiles.subarray(i * per, (i + 1) * per));
  return tileGrid(tiles, kh, kw, tileChannels === 3 ? 3 : 1, {
    scale: scaleFor(Math.max(kh, kw)),
    gap: 2,
    columns: layer.tilesPerFilter > 1 ? layer.tilesPerFilter : undefined,
  });
}
