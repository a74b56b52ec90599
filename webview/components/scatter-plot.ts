/**
 * `<scatter-plot>`: a 2-D point cloud (50,000 points pan and zoom smoothly) drawn with WebGL, or
 * with a 2-D canvas where WebGL is unavailable. Pan by dragging, zoom with the wheel about the
 * cursor; keyboard (when focused): +/− zoom, arrows pan, 0 resets the view, Space probes the point
 * nearest the centre, Enter opens the probed point, Escape clears it. Hover picking uses a uniform
 * grid (`PointGrid`) built when the positions change.
 *
 * Properties: `points` (x, y interleaved), `classes` (colour index per point, or null), `colours`
 * (per class), `hidden` (class indices not drawn), `emphasis` (1 = emphasised point) with
 * `highlight` (dim the rest, rim the emphasised ones), `selected` (a linked selection, marked),
 * `label`. New `points` are fitted into view until the user pans or zooms; `resetView()` (or the
 * 0 key) fits again.
 * Events: `point-hover` ({ index, x, y }: position within the element; index −1 when none),
 * `point-click` ({ index }), `plot-rendered` ({ points, renderer }) after drawing new data.
 */
import { LitElement, css, html } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { keyed } from 'lit/directives/keyed.js';
import { PointGrid, fitView, panBy, pointBounds, toData, toScreen, zoomAbout, type PlotView } from '../shared/pointGrid';
import { Canvas2dRenderer, WebGlRenderer, type PlotData, type ScatterRenderer } from '../shared/scatterRenderers';
import { parseCssColour, type Rgb } from '../shared/palette';
import { baseStyles } from '../shared/styles';

const POINT_SIZE = 5;
/** Hover reaches this many CSS pixels beyond a dot's edge. */
const PICK_SLACK = 4;
const DIM_ALPHA = 80;

@customElement('scatter-plot')
export class ScatterPlot extends LitElement {
  @property({ attribute: false }) points: Float32Array = new Float32Array(0);
  @property({ attribute: false }) classes: Int32Array | null = null;
  @property({ attribute: false }) colours: readonly Rgb[] = [];
  @property({ attribute: false }) hiddenClasses: ReadonlySet<number> = new Set();
  @property({ attribute: false }) emphasis: Uint8Array | null = null;
  @property({ type: Boolean }) highlight = false;
  @property({ type: Number }) selected = -1;
  @property() label = 'Scatter plot';
  /**
   * `auto`: WebGL when the GPU renders it, else the 2-D canvas (faster than WebGL emulated on the
   * CPU); `webgl` / `2d` force one (tests, benchmarks).
   */
  @property() renderer: 'auto' | 'webgl' | '2d' = 'auto';

  @state() private hovered = -1;
  /** Draw with the 2-D canvas (no WebGL, software WebGL, a lost context, or asked to). */
  @state() private fallback = false;
  /** Bumped to get a fresh canvas: a canvas keeps the first kind of context it handed out. */
  @state() private canvasEpoch = 0;
  @query('canvas') private canvas!: HTMLCanvasElement;

  private painter: ScatterRenderer | undefined;
  private view: PlotView = { cx: 0, cy: 0, scale: 1 };
  private userMoved = false;
  private grid: PointGrid | undefined;
  private data: PlotData | undefined;
  private drawScheduled = false;
  private lastReported: unknown[] = [];
  private drag: { x: number; y: number; moved: boolean; id: number } | undefined;
  private size = { w: 0, h: 0 };
  private resizeObserver?: ResizeObserver;
  private rim: Rgb = [229, 83, 75];

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
        position: relative;
        min-height: 200px;
        border: 1px solid var(--vscode-editorWidget-border, var(--vscode-panel-border, transparent));
        background: var(--vscode-editor-background);
        /* read by the plot for the emphasised points' rim */
        --scatter-emphasis: var(--vscode-editorError-foreground, var(--vscode-errorForeground));
      }
      canvas {
        position: absolute;
        inset: 0;
        width: 100%;
        height: 100%;
        display: block;
        cursor: crosshair;
        touch-action: none;
      }
      canvas.dragging {
        cursor: grabbing;
      }
      canvas:focus-visible {
        outline: 1px solid var(--vscode-focusBorder);
        outline-offset: -1px;
      }
      .marker {
        position: absolute;
        width: 14px;
        height: 14px;
        margin: -9px 0 0 -9px;
        border: 2px solid var(--vscode-focusBorder);
        border-radius: 50%;
        pointer-events: none;
        display: none;
      }
      .marker.selected {
        border-color: var(--vscode-editor-foreground);
        border-style: dashed;
      }
      .marker.on {
        display: block;
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    this.resizeObserver = new ResizeObserver(() => this.onResize());
  }

  override disconnectedCallback(): void {
    this.resizeObserver?.disconnect();
    this.painter?.dispose();
    this.painter = undefined;
    super.disconnectedCallback();
  }

  protected override firstUpdated(): void {
    this.resizeObserver?.observe(this);
    this.onResize();
  }

  override render() {
    const aria = `${this.label}: ${this.visibleCount()} points. Drag or arrow keys pan, wheel or plus and minus zoom, 0 resets, Space picks the point at the centre, Enter opens it.`;
    const canvas = keyed(
      `${this.fallback ? '2d' : 'gl'}-${this.canvasEpoch}`,
      html`<canvas
        class=${this.fallback ? 'c2d' : 'gl'}
        tabindex="0"
        role="img"
        aria-label=${aria}
        @pointerdown=${this.onPointerDown}
        @pointermove=${this.onPointerMove}
        @pointerup=${this.onPointerUp}
        @pointerleave=${this.onPointerLeave}
        @wheel=${this.onWheel}
        @keydown=${this.onKeyDown}
      ></canvas>`,
    );
    return html`${canvas}<div class="marker hover"></div><div class="marker selected"></div>`;
  }

  /** Which renderer draws: 'webgl' or '2d' (tests and the view's status line read it). */
  get rendererKind(): 'webgl' | '2d' | undefined {
    return this.painter?.kind;
  }

  protected override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('renderer') && changed.get('renderer') !== undefined) {
      this.fallback = this.renderer === '2d';
      this.canvasEpoch++;
    }
  }

  protected override updated(changed: Map<string, unknown>): void {
    if ((changed.has('fallback') && changed.get('fallback') !== undefined) || (changed.has('canvasEpoch') && changed.get('canvasEpoch') !== undefined)) {
      // A fresh canvas for the 2-D context: give it the plot's size.
      this.painter?.dispose();
      this.painter = undefined;
      this.data = undefined;
      this.lastReported = [];
      this.onResize();
    }
    if (['points', 'classes', 'colours', 'hiddenClasses', 'emphasis', 'highlight'].some((k) => changed.has(k))) {
      if (changed.has('points')) {
        this.grid = undefined;
        const n = this.points.length >> 1;
        if (this.hovered >= n) this.hovered = -1;
        // New positions (a t-SNE frame, a new run) are fitted unless the user has moved the view.
        if (!this.userMoved) this.fit();
      }
      this.data = undefined;
    }
    this.schedule();
  }

  private ensureRenderer(): ScatterRenderer | undefined {
    if (this.painter || !this.canvas) return this.painter;
    if (!this.fallback && this.renderer !== '2d') {
      try {
        const gl = new WebGlRenderer(this.canvas);
        if (gl.software && this.renderer === 'auto') {
          // This canvas now holds a WebGL context; the 2-D one comes with the next render's canvas.
          gl.dispose();
          this.fallback = true;
          return undefined;
        }
        this.painter = gl;
        this.canvas.addEventListener('webglcontextlost', (e) => {
          e.preventDefault();
          this.fallback = true;
        });
        return this.painter;
      } catch {
        // No WebGL here (or no shaders): draw with the 2-D canvas instead.
        this.fallback = true;
        return undefined;
      }
    }
    try {
      this.painter = new Canvas2dRenderer(this.canvas);
    } catch {
      this.painter = undefined;
    }
    return this.painter;
  }

  private visibleCount(): number {
    const n = this.points.length >> 1;
    if (!this.classes || this.hiddenClasses.size === 0) return n;
    let k = 0;
    for (let i = 0; i < n; i++) if (!this.hiddenClasses.has(this.classes[i])) k++;
    return k;
  }

  private isVisible(i: number): boolean {
    return !this.classes || !this.hiddenClasses.has(this.classes[i]);
  }

  /** Colours and the emphasised list, rebuilt when data or styling changes (not on pan/zoom). */
  private plotData(): PlotData {
    if (this.data && this.data.positions === this.points) return this.data;
    const n = this.points.length >> 1;
    const colours = new Uint8Array(4 * n);
    const emphasis: number[] = [];
    const cls = this.classes;
    for (let i = 0; i < n; i++) {
      const c = cls ? cls[i] : 0;
      const rgb = this.colours[c] ?? [128, 128, 128];
      colours[4 * i] = rgb[0];
      colours[4 * i + 1] = rgb[1];
      colours[4 * i + 2] = rgb[2];
      const visible = !cls || !this.hiddenClasses.has(c);
      const emphasised = this.highlight && this.emphasis?.[i] === 1;
      colours[4 * i + 3] = !visible ? 0 : this.highlight && !emphasised ? DIM_ALPHA : 255;
      if (visible && emphasised) emphasis.push(i);
    }
    this.data = { positions: this.points, colours, emphasis: Uint32Array.from(emphasis) };
    return this.data;
  }

  private onResize(): void {
    const w = this.clientWidth;
    const h = this.clientHeight;
    if (!w || !h || !this.canvas) return;
    const dpr = window.devicePixelRatio || 1;
    const first = this.size.w === 0;
    this.size = { w, h };
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(h * dpr);
    if (first || !this.userMoved) this.fit();
    this.schedule();
  }

  private fit(): void {
    if (!this.size.w) return;
    this.view = fitView(pointBounds(this.points), this.size.w, this.size.h);
  }

  /** Back to the whole cloud in view. */
  resetView(): void {
    this.userMoved = false;
    this.fit();
    this.schedule();
  }

  private schedule(): void {
    if (this.drawScheduled) return;
    this.drawScheduled = true;
    requestAnimationFrame(() => {
      this.drawScheduled = false;
      this.draw();
    });
  }

  private draw(): void {
    if (!this.size.w || !this.canvas) return;
    const renderer = this.ensureRenderer();
    if (!renderer) {
      if (this.fallback) this.schedule(); // the 2-D canvas arrives with the next render
      return;
    }
    const rimText = getComputedStyle(this).getPropertyValue('--scatter-emphasis');
    this.rim = parseCssColour(rimText, this.rim);
    const data = this.plotData();
    renderer.draw(data, this.view, this.size.w, this.size.h, window.devicePixelRatio || 1, { pointSize: POINT_SIZE, emphasisRim: this.rim });
    this.placeMarkers();
    const key = [this.points, data.colours, renderer.kind];
    if (key.some((k, i) => k !== this.lastReported[i])) {
      this.lastReported = key;
      this.dispatchEvent(new CustomEvent('plot-rendered', { detail: { points: this.visibleCount(), renderer: renderer.kind }, bubbles: true, composed: true }));
    }
  }

  private placeMarkers(): void {
    const root = this.renderRoot as ShadowRoot;
    const place = (el: HTMLElement | null, index: number) => {
      if (!el) return;
      const n = this.points.length >> 1;
      if (index < 0 || index >= n || !this.isVisible(index)) {
        el.classList.remove('on');
        return;
      }
      const [x, y] = toScreen(this.view, this.size.w, this.size.h, this.points[2 * index], this.points[2 * index + 1]);
      el.style.left = `${x}px`;
      el.style.top = `${y}px`;
      el.classList.toggle('on', x >= 0 && y >= 0 && x <= this.size.w && y <= this.size.h);
    };
    place(root.querySelector<HTMLElement>('.marker.hover'), this.hovered);
    place(root.querySelector<HTMLElement>('.marker.selected'), this.selected === this.hovered ? -1 : this.selected);
  }

  private pick(sx: number, sy: number): number {
    const n = this.points.length >> 1;
    if (n === 0) return -1;
    this.grid ??= new PointGrid(this.points);
    const [x, y] = toData(this.view, this.size.w, this.size.h, sx, sy);
    const radius = (POINT_SIZE / 2 + PICK_SLACK) / this.view.scale;
    return this.grid.nearest(x, y, radius, (i) => this.isVisible(i));
  }

  private setHovered(index: number): void {
    if (index === this.hovered) return;
    this.hovered = index;
    let x = 0;
    let y = 0;
    if (index >= 0) [x, y] = toScreen(this.view, this.size.w, this.size.h, this.points[2 * index], this.points[2 * index + 1]);
    this.dispatchEvent(new CustomEvent('point-hover', { detail: { index, x, y }, bubbles: true, composed: true }));
    this.schedule();
  }

  private local(e: PointerEvent | WheelEvent): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }

  private readonly onPointerDown = (e: PointerEvent): void => {
    if (e.button !== 0) return;
    this.canvas.setPointerCapture(e.pointerId);
    this.drag = { x: e.clientX, y: e.clientY, moved: false, id: e.pointerId };
  };

  private readonly onPointerMove = (e: PointerEvent): void => {
    if (this.drag) {
      const dx = e.clientX - this.drag.x;
      const dy = e.clientY - this.drag.y;
      if (!this.drag.moved && Math.hypot(dx, dy) < 3) return;
      this.drag.moved = true;
      this.canvas.classList.add('dragging');
      this.drag.x = e.clientX;
      this.drag.y = e.clientY;
      this.view = panBy(this.view, dx, dy);
      this.userMoved = true;
      this.setHovered(-1);
      this.schedule();
      return;
    }
    const [sx, sy] = this.local(e);
    this.setHovered(this.pick(sx, sy));
  };

  private readonly onPointerUp = (e: PointerEvent): void => {
    const drag = this.drag;
    this.drag = undefined;
    this.canvas.classList.remove('dragging');
    if (this.canvas.hasPointerCapture(e.pointerId)) this.canvas.releasePointerCapture(e.pointerId);
    if (drag && !drag.moved) {
      const [sx, sy] = this.local(e);
      const index = this.pick(sx, sy);
      if (index >= 0) this.dispatchEvent(new CustomEvent('point-click', { detail: { index }, bubbles: true, composed: true }));
    }
  };

  private readonly onPointerLeave = (): void => {
    if (!this.drag) this.setHovered(-1);
  };

  private readonly onWheel = (e: WheelEvent): void => {
    e.preventDefault();
    const [sx, sy] = this.local(e);
    const delta = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
    this.view = zoomAbout(this.view, Math.exp(-delta * 0.0015), this.size.w, this.size.h, sx, sy);
    this.userMoved = true;
    this.setHovered(this.pick(sx, sy));
    this.schedule();
  };

  private readonly onKeyDown = (e: KeyboardEvent): void => {
    const { w, h } = this.size;
    const step = Math.min(w, h) * 0.1;
    switch (e.key) {
      case '+':
      case '=':
        this.view = zoomAbout(this.view, 1.25, w, h, w / 2, h / 2);
        break;
      case '-':
      case '_':
        this.view = zoomAbout(this.view, 0.8, w, h, w / 2, h / 2);
        break;
      case 'ArrowLeft':
        this.view = panBy(this.view, step, 0);
        break;
      case 'ArrowRight':
        this.view = panBy(this.view, -step, 0);
        break;
      case 'ArrowUp':
        this.view = panBy(this.view, 0, step);
        break;
      case 'ArrowDown':
        this.view = panBy(this.view, 0, -step);
        break;
      case '0':
        this.resetView();
        e.preventDefault();
        return;
      case ' ': {
        // The point nearest the centre, searched in growing circles.
        let index = -1;
        for (let r = 8; index < 0 && r <= Math.max(w, h); r *= 2) {
          this.grid ??= new PointGrid(this.points);
          const [x, y] = toData(this.view, w, h, w / 2, h / 2);
          index = this.grid.nearest(x, y, r / this.view.scale, (i) => this.isVisible(i));
        }
        this.setHovered(index);
        e.preventDefault();
        return;
      }
      case 'Enter':
        if (this.hovered >= 0) this.dispatchEvent(new CustomEvent('point-click', { detail: { index: this.hovered }, bubbles: true, composed: true }));
        e.preventDefault();
        return;
      case 'Escape':
        if (this.hovered < 0) return;
        this.setHovered(-1);
        e.preventDefault();
        return;
      default:
        return;
    }
    e.preventDefault();
    this.userMoved = true;
    this.schedule();
  };
}

declare global {
  interface HTMLElementTagNameMap {
    'scatter-plot': ScatterPlot;
  }
}
