/**
 * A 2-D embedding as a PNG-ready image: points coloured by class (Tableau 10, the categorical
 * palette matplotlib and TensorBoard use), a title line and a legend with each class's name and
 * count. For the CLI's `embed --out`; the VS Code view draws its own canvas.
 */
import type { RgbaImage } from './png';
import { drawText, GLYPH_HEIGHT, textWidth } from './bitmapFont';

const TABLEAU10: readonly [number, number, number][] = [
  [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
  [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207],
];

/** Colour of class `c`: Tableau 10, then evenly spaced hues for classes beyond ten. */
export function classColor(c: number, classes: number): [number, number, number] {
  if (c < 0) return [160, 160, 160];
  if (classes <= TABLEAU10.length) return [...TABLEAU10[c]] as [number, number, number];
  const h = (c / classes) * 6;
  const x = 1 - Math.abs((h % 2) - 1);
  const [r, g, b] = h < 1 ? [1, x, 0] : h < 2 ? [x, 1, 0] : h < 3 ? [0, 1, x] : h < 4 ? [0, x, 1] : h < 5 ? [x, 0, 1] : [1, 0, x];
  return [Math.round(40 + 180 * r), Math.round(40 + 180 * g), Math.round(40 + 180 * b)];
}

export interface ScatterOptions {
  /** Plot area side in pixels (default 720). */
  size?: number;
  title?: string;
  /** Legend names per class index (default "0", "1", …). */
  classNames?: readonly string[] | null;
  /** What the colours mean, shown above the legend (default "class"). */
  legendTitle?: string;
}

const MARGIN = 16;
const SCALE = 2; // text scale: 10×14 px glyphs

/** `points`: interleaved x, y; `classes`: class per point (or null: one colour). */
export function scatterPlot(points: ArrayLike<number>, classes: ArrayLike<number> | null, options: ScatterOptions = {}): RgbaImage {
  const n = points.length / 2;
  const size = options.size ?? 720;
  let classCount = 0;
  if (classes) for (let i = 0; i < n; i++) classCount = Math.max(classCount, classes[i] + 1);
  const names = Array.from({ length: classCount }, (_, c) => options.classNames?.[c] ?? String(c));
  const counts = new Array<number>(classCount).fill(0);
  if (classes) for (let i = 0; i < n; i++) if (classes[i] >= 0) counts[classes[i]]++;
  const lineH = GLYPH_HEIGHT * SCALE + 8;
  const legendLabels = names.map((name, c) => `${name} (${counts[c]})`);
  const legendTitle = options.legendTitle ?? 'class';
  const legendW = classCount ? Math.max(textWidth(legendTitle, SCALE), ...legendLabels.map((l) => textWidth(l, SCALE) + 22)) + 2 * MARGIN : 0;
  const titleH = options.title ? lineH + MARGIN : 0;
  const width = MARGIN + size + MARGIN + legendW;
  const height = Math.max(titleH + size + 2 * MARGIN, titleH + MARGIN + (classCount + 1) * lineH + MARGIN);
  const data = new Uint8Array(width * height * 4).fill(255);

  if (options.title) drawText(data, width, height, options.title, MARGIN, MARGIN, [30, 30, 30], SCALE);
  // Plot frame.
  const px0 = MARGIN;
  const py0 = titleH + MARGIN;
  for (let t = 0; t <= size; t++) {
    for (const [x, y] of [[px0 + t, py0], [px0 + t, py0 + size], [px0, py0 + t], [px0 + size, py0 + t]]) {
      const o = (y * width + x) * 4;
      data[o] = data[o + 1] = data[o + 2] = 200;
    }
  }
  // Same scale on both axes, so distances on screen mean the same in x and y.
  let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
  for (let i = 0; i < n; i++) {
    minX = Math.min(minX, points[2 * i]);
    maxX = Math.max(maxX, points[2 * i]);
    minY = Math.min(minY, points[2 * i + 1]);
    maxY = Math.max(maxY, points[2 * i + 1]);
  }
  const span = Math.max(maxX - minX, maxY - minY, 1e-12);
  const inner = size - 12;
  const scale = inner / span;
  const ox = px0 + 6 + (inner - (maxX - minX) * scale) / 2;
  const oy = py0 + 6 + (inner - (maxY - minY) * scale) / 2;
  const radius = n > 20000 ? 1 : n > 2000 ? 1.5 : 2.5;
  const alpha = n > 20000 ? 0.5 : 0.75;
  const r = Math.ceil(radius);
  for (let i = 0; i < n; i++) {
    const cx = ox + (points[2 * i] - minX) * scale;
    // Screen y grows downwards; embeddings are drawn with y up.
    const cy = oy + (maxY - points[2 * i + 1]) * scale;
    const col = classColor(classes ? classes[i] : 0, Math.max(1, classCount));
    for (let dy = -r; dy <= r; dy++) {
      for (let dx = -r; dx <= r; dx++) {
        if (dx * dx + dy * dy > radius * radius) continue;
        const x = Math.round(cx) + dx;
        const y = Math.round(cy) + dy;
        if (x <= px0 || y <= py0 || x >= px0 + size || y >= py0 + size) continue;
        const o = (y * width + x) * 4;
        for (let ch = 0; ch < 3; ch++) data[o + ch] = Math.round(data[o + ch] * (1 - alpha) + col[ch] * alpha);
      }
    }
  }
  // Legend.
  if (classCount) {
    const lx = px0 + size + 2 * MARGIN;
    let ly = titleH + MARGIN;
    drawText(data, width, height, legendTitle, lx, ly, [30, 30, 30], SCALE);
    ly += lineH;
    for (let c = 0; c < classCount; c++) {
      const col = classColor(c, classCount);
      for (let y = 0; y < 12; y++) {
        for (let x = 0; x < 12; x++) {
          const o = ((ly + 1 + y) * width + lx + x) * 4;
          data[o] = col[0];
          data[o + 1] = col[1];
          data[o + 2] = col[2];
        }
      }
      drawText(data, width, height, legendLabels[c], lx + 22, ly, [30, 30, 30], SCALE);
      ly += lineH;
    }
  }
  return { width, height, data };
}
