/**
 * Lays out many small images (feature-map channels, filter tiles) as one grid image, each tile
 * enlarged by an integer factor with nearest-neighbour sampling so single pixels stay visible.
 */
import { VIRIDIS, lutIndex } from './colormap';
import type { RgbaImage } from './png';

export interface GridLayout {
  /** Tiles per row; default: a near-square grid. */
  columns?: number;
  /** Integer enlargement of each tile. */
  scale?: number;
  /** Gap between tiles in output pixels. */
  gap?: number;
  /** Background colour of gaps, RGB. */
  background?: [number, number, number];
}

interface TileSource {
  count: number;
  height: number;
  width: number;
  /** RGB of pixel (y, x) of tile t, each 0..255. */
  pixel(t: number, y: number, x: number, out: Uint8Array): void;
}

function renderGrid(src: TileSource, layout: GridLayout): RgbaImage {
  const columns = Math.max(1, layout.columns ?? Math.ceil(Math.sqrt(src.count)));
  const rows = Math.max(1, Math.ceil(src.count / columns));
  const scale = Math.max(1, Math.floor(layout.scale ?? 1));
  const gap = Math.max(0, Math.floor(layout.gap ?? 1));
  const bg = layout.background ?? [40, 40, 40];
  const tw = src.width * scale;
  const th = src.height * scale;
  const width = columns * tw + (columns + 1) * gap;
  const height = rows * th + (rows + 1) * gap;
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    data[i * 4] = bg[0];
    data[i * 4 + 1] = bg[1];
    data[i * 4 + 2] = bg[2];
    data[i * 4 + 3] = 255;
  }
  const rgb = new Uint8Array(3);
  for (let t = 0; t < src.count; t++) {
    const ox = gap + (t % columns) * (tw + gap);
    const oy = gap + Math.floor(t / columns) * (th + gap);
    for (let y = 0; y < src.height; y++) {
      for (let x = 0; x < src.width; x++) {
        src.pixel(t, y, x, rgb);
        for (let dy = 0; dy < scale; dy++) {
          let o = ((oy + y * scale + dy) * width + ox + x * scale) * 4;
          for (let dx = 0; dx < scale; dx++, o += 4) {
            data[o] = rgb[0];
            data[o + 1] = rgb[1];
            data[o + 2] = rgb[2];
          }
        }
      }
    }
  }
  return { width, height, data };
}

/**
 * Feature maps of one image, `values` laid out HWC, one tile per channel in the viridis scale.
 * Each channel is scaled to its own [min, max] unless `shared` is given, so weak channels stay
 * readable; a channel that is constant renders as the darkest colour.
 */
export function featureMapGrid(
  values: Float32Array,
  height: number,
  width: number,
  channels: number,
  layout: GridLayout & { shared?: [number, number] } = {},
): RgbaImage {
  const lo = new Float32Array(channels).fill(Infinity);
  const hi = new Float32Array(channels).fill(-Infinity);
  for (let i = 0; i < height * width; i++) {
    for (let c = 0; c < channels; c++) {
      const v = values[i * channels + c];
      if (v < lo[c]) lo[c] = v;
      if (v > hi[c]) hi[c] = v;
    }
  }
  if (layout.shared) {
    lo.fill(layout.shared[0]);
    hi.fill(layout.shared[1]);
  }
  return renderGrid(
    {
      count: channels,
      height,
      width,
      pixel(t, y, x, out) {
        const k = lutIndex(values[(y * width + x) * channels + t], lo[t], hi[t]) * 3;
        out[0] = VIRIDIS[k];
        out[1] = VIRIDIS[k + 1];
        out[2] = VIRIDIS[k + 2];
      },
    },
    layout,
  );
}

/** Tiles already normalised to [0, 1], each `height * width * channels` (channels 1 or 3). */
export function tileGrid(
  tiles: readonly Float32Array[],
  height: number,
  width: number,
  channels: 1 | 3,
  layout: GridLayout = {},
): RgbaImage {
  return renderGrid(
    {
      count: tiles.length,
      height,
      width,
      pixel(t, y, x, out) {
        const base = (y * width + x) * channels;
        for (let c = 0; c < 3; c++) {
          const v = tiles[t][base + (channels === 3 ? c : 0)];
          out[c] = Math.max(0, Math.min(255, Math.round(v * 255)));
        }
      },
    },
    layout,
  );
}
