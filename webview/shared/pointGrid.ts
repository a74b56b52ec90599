/**
 * Picking and view geometry for the scatter plot, kept free of the DOM so unit tests run it in
 * Node. Picking uses a uniform grid over the points' bounding box (a counting sort of the point
 * indices by cell, about four points per cell), so a hover looks at a handful of cells instead of
 * all 50,000 points; it is rebuilt only when the positions change.
 */

export interface Bounds {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

/** Bounding box of interleaved `x, y` pairs (non-finite values are ignored). */
export function pointBounds(points: Float32Array): Bounds {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (let i = 0; i + 1 < points.length; i += 2) {
    const x = points[i];
    const y = points[i + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  if (minX > maxX) return { minX: -1, minY: -1, maxX: 1, maxY: 1 };
  return { minX, minY, maxX, maxY };
}

export class PointGrid {
  readonly bounds: Bounds;
  readonly cols: number;
  readonly rows: number;
  private readonly cellW: number;
  private readonly cellH: number;
  /** Point indices ordered by cell; cell c holds `order[start[c] .. start[c + 1])`. */
  private readonly order: Uint32Array;
  private readonly start: Uint32Array;

  constructor(readonly points: Float32Array) {
    const n = points.length >> 1;
    this.bounds = pointBounds(points);
    const side = Math.max(1, Math.min(1024, Math.ceil(Math.sqrt(n / 4))));
    this.cols = side;
    this.rows = side;
    const b = this.bounds;
    this.cellW = (b.maxX - b.minX || 1) / side;
    this.cellH = (b.maxY - b.minY || 1) / side;
    const cellOf = new Int32Array(n);
    const counts = new Uint32Array(side * side + 1);
    for (let i = 0; i < n; i++) {
      const c = this.cell(points[2 * i], points[2 * i + 1]);
      cellOf[i] = c;
      if (c >= 0) counts[c + 1]++;
    }
    for (let c = 1; c < counts.length; c++) counts[c] += counts[c - 1];
    this.start = counts.slice();
    const fill = counts;
    this.order = new Uint32Array(fill[fill.length - 1]);
    for (let i = 0; i < n; i++) {
      const c = cellOf[i];
      if (c >= 0) this.order[fill[c]++] = i;
    }
  }

  private col(x: number): number {
    return Math.min(this.cols - 1, Math.max(0, Math.floor((x - this.bounds.minX) / this.cellW)));
  }

  private row(y: number): number {
    return Math.min(this.rows - 1, Math.max(0, Math.floor((y - this.bounds.minY) / this.cellH)));
  }

  private cell(x: number, y: number): number {
    if (!Number.isFinite(x) || !Number.isFinite(y)) return -1;
    return this.row(y) * this.cols + this.col(x);
  }

  /**
   * The point nearest to (x, y) within `radius` (data units) that `accept` allows, or -1.
   * Ties go to the later index, which the plot draws on top.
   */
  nearest(x: number, y: number, radius: number, accept?: (index: number) => boolean): number {
    const p = this.points;
    const c0 = this.col(x - radius);
    const c1 = this.col(x + radius);
    const r0 = this.row(y - radius);
    const r1 = this.row(y + radius);
    let best = -1;
    let bestD = radius * radius;
    for (let r = r0; r <= r1; r++) {
      for (let c = c0; c <= c1; c++) {
        const cell = r * this.cols + c;
        for (let k = this.start[cell]; k < this.start[cell + 1]; k++) {
          const i = this.order[k];
          const dx = p[2 * i] - x;
          const dy = p[2 * i + 1] - y;
          const d = dx * dx + dy * dy;
          if (d <= bestD && (d < bestD || i > best) && (!accept || accept(i))) {
            best = i;
            bestD = d;
          }
        }
      }
    }
    return best;
  }
}

/**
 * Where the plot looks: data point (cx, cy) at the canvas centre, `scale` CSS pixels per data
 * unit, y up. Screen x = w/2 + (x − cx)·scale, screen y = h/2 − (y − cy)·scale.
 */
export interface PlotView {
  cx: number;
  cy: number;
  scale: number;
}

/** The view that shows `bounds` whole inside a `width × height` canvas with `margin` pixels spare. */
export function fitView(bounds: Bounds, width: number, height: number, margin = 16): PlotView {
  const w = Math.max(1, width - 2 * margin);
  const h = Math.max(1, height - 2 * margin);
  const spanX = bounds.maxX - bounds.minX;
  const spanY = bounds.maxY - bounds.minY;
  const scale = Math.min(spanX > 0 ? w / spanX : Infinity, spanY > 0 ? h / spanY : Infinity);
  return {
    cx: (bounds.minX + bounds.maxX) / 2,
    cy: (bounds.minY + bounds.maxY) / 2,
    scale: Number.isFinite(scale) ? scale : 1,
  };
}

export function toScreen(v: PlotView, width: number, height: number, x: number, y: number): [number, number] {
  return [width / 2 + (x - v.cx) * v.scale, height / 2 - (y - v.cy) * v.scale];
}

export function toData(v: PlotView, width: number, height: number, sx: number, sy: number): [number, number] {
  return [v.cx + (sx - width / 2) / v.scale, v.cy - (sy - height / 2) / v.scale];
}

/** Zooms by `factor` keeping the data point under screen position (sx, sy) where it is. */
export function zoomAbout(v: PlotView, factor: number, width: number, height: number, sx: number, sy: number): PlotView {
  const [x, y] = toData(v, width, height, sx, sy);
  const scale = Math.min(1e9, Math.max(1e-9, v.scale * factor));
  return { scale, cx: x - (sx - width / 2) / scale, cy: y + (sy - height / 2) / scale };
}

/** Moves the view by (dx, dy) screen pixels (the content follows the pointer). */
export function panBy(v: PlotView, dx: number, dy: number): PlotView {
  return { scale: v.scale, cx: v.cx - dx / v.scale, cy: v.cy + dy / v.scale };
}
