/**
 * The scatter plot's two renderers: WebGL (points as GL_POINTS, one draw call for all of them,
 * a second one for the emphasised points on top) and a 2-D canvas fallback for webviews without
 * WebGL (e.g. software rendering disabled). Both take interleaved positions and one RGBA colour
 * per point; alpha 0 hides a point. Every dot is rimmed with a darker shade of its own colour so
 * light colours stay visible on light themes.
 */
import type { PlotView } from './pointGrid';
import type { Rgb } from './palette';

export interface PlotStyle {
  /** Dot diameter in CSS pixels. */
  pointSize: number;
  /** Rim colour of emphasised points (e.g. the theme's error colour). */
  emphasisRim: Rgb;
}

export interface PlotData {
  /** `x0, y0, x1, y1, …` */
  positions: Float32Array;
  /** `r, g, b, a` per point; a = 0 hides it. */
  colours: Uint8Array;
  /** Indices drawn again on top, larger, with `emphasisRim` (misclassified points). */
  emphasis: Uint32Array;
}

export interface ScatterRenderer {
  readonly kind: 'webgl' | '2d';
  draw(data: PlotData, view: PlotView, cssWidth: number, cssHeight: number, dpr: number, style: PlotStyle): void;
  dispose(): void;
}

const VERTEX = `
attribute vec2 a_pos;
attribute vec4 a_col;
uniform vec2 u_scale;
uniform vec2 u_offset;
uniform float u_size;
varying vec4 v_col;
void main() {
  gl_Position = vec4(a_pos * u_scale + u_offset, 0.0, 1.0);
  gl_PointSize = a_col.a > 0.0 ? u_size : 0.0;
  v_col = a_col;
}`;

const FRAGMENT = `
precision mediump float;
varying vec4 v_col;
// Not u_size: a uniform shared by both shaders must have the same precision in each (highp in
// the vertex shader by default), else the program does not link.
uniform float u_pixels;
uniform vec4 u_rim;
void main() {
  vec2 d = gl_PointCoord * 2.0 - 1.0;
  float r = length(d);
  if (r > 1.0) discard;
  float rimWidth = u_rim.a > 0.0 ? 2.0 : 1.0;
  float inner = 1.0 - 2.0 * rimWidth / u_pixels;
  vec3 rim = u_rim.a > 0.0 ? u_rim.rgb : v_col.rgb * 0.62;
  gl_FragColor = vec4(r > inner ? rim : v_col.rgb, v_col.a);
}`;

function compile(gl: WebGLRenderingContext, type: number, source: string): WebGLShader {
  const shader = gl.createShader(type);
  if (!shader) throw new Error('WebGL: cannot create a shader');
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) throw new Error(`WebGL: ${gl.getShaderInfoLog(shader)}`);
  return shader;
}

export class WebGlRenderer implements ScatterRenderer {
  readonly kind = 'webgl' as const;
  private readonly program: WebGLProgram;
  private readonly posBuffer: WebGLBuffer;
  private readonly colBuffer: WebGLBuffer;
  private readonly empPosBuffer: WebGLBuffer;
  private readonly empColBuffer: WebGLBuffer;
  private readonly loc: {
    pos: number;
    col: number;
    scale: WebGLUniformLocation;
    offset: WebGLUniformLocation;
    size: WebGLUniformLocation;
    pixels: WebGLUniformLocation;
    rim: WebGLUniformLocation;
  };
  private uploaded: { positions?: Float32Array; colours?: Uint8Array; emphasis?: Uint32Array } = {};
  private emphasisCount = 0;
  /**
   * WebGL emulated on the CPU (SwiftShader, llvmpipe: machines without a GPU, VMs, remote
   * desktops). There the 2-D canvas draws the same points faster (bench/scatterPlot.mjs), so the
   * plot prefers it. Unknown when the browser hides the renderer's name: then assumed false.
   */
  readonly software: boolean;

  /** Throws when the canvas has no WebGL (the caller then uses `Canvas2dRenderer`). */
  constructor(private readonly canvas: HTMLCanvasElement) {
    const gl = canvas.getContext('webgl', { antialias: true, premultipliedAlpha: false, preserveDrawingBuffer: true, alpha: true });
    if (!gl) throw new Error('WebGL is not available');
    this.gl = gl;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const name = info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL) ?? '') : '';
    this.software = /swiftshader|llvmpipe|softpipe|software/i.test(name);
    const program = gl.createProgram();
    if (!program) throw new Error('WebGL: cannot create a program');
    gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, VERTEX));
    gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, FRAGMENT));
    gl.linkProgram(program);
    if (!gl.getProgramParameter(program, gl.LINK_STATUS)) throw new Error(`WebGL: ${gl.getProgramInfoLog(program)}`);
    this.program = program;
    const buffer = () => {
      const b = gl.createBuffer();
      if (!b) throw new Error('WebGL: cannot create a buffer');
      return b;
    };
    this.posBuffer = buffer();
    this.colBuffer = buffer();
    this.empPosBuffer = buffer();
    this.empColBuffer = buffer();
    const uniform = (name: string) => {
      const u = gl.getUniformLocation(program, name);
      if (!u) throw new Error(`WebGL: no uniform ${name}`);
      return u;
    };
    this.loc = {
      pos: gl.getAttribLocation(program, 'a_pos'),
      col: gl.getAttribLocation(program, 'a_col'),
      scale: uniform('u_scale'),
      offset: uniform('u_offset'),
      size: uniform('u_size'),
      pixels: uniform('u_pixels'),
      rim: uniform('u_rim'),
    };
  }

  private readonly gl: WebGLRenderingContext;

  private upload(data: PlotData): void {
    const gl = this.gl;
    const u = this.uploaded;
    if (u.positions !== data.positions) {
      gl.bindBuffer(gl.ARRAY_BUFFER, this.posBuffer);
      gl.bufferData(gl.ARRAY_BUFFER, data.positions, gl.DYNAMIC_DRAW);
    }
    if (u.colours !== data.colours) {
      gl.bindBuffer(gl.ARRAY_BUFFER, this.colBuffer);
      gl.bufferData(gl.ARRAY_BUFFER, data.colours, gl.STATIC_DRAW);
    }
    if (u.positions !== data.positions || u.colours !== data.colours || u.emphasis !== data.emphasis) {
      // The emphasised points as their own small arrays: WebGL 1 cannot draw an index list of
      // 32-bit indices without an extension, and this list is short.
      const n = data.emphasis.length;
      const pos = new Float32Array(2 * n);
      const col = new Uint8Array(4 * n);
      for (let k = 0; k < n; k++) {
        const i = data.emphasis[k];
        pos[2 * k] = data.positions[2 * i];
        pos[2 * k + 1] = data.positions[2 * i + 1];
        col.set(data.colours.subarray(4 * i, 4 * i + 4), 4 * k);
      }
      gl.bindBuffer(gl.ARRAY_BUFFER, this.empPosBuffer);
      gl.bufferData(gl.ARRAY_BUFFER, pos, gl.DYNAMIC_DRAW);
      gl.bindBuffer(gl.ARRAY_BUFFER, this.empColBuffer);
      gl.bufferData(gl.ARRAY_BUFFER, col, gl.DYNAMIC_DRAW);
      this.emphasisCount = n;
    }
    this.uploaded = { positions: data.positions, colours: data.colours, emphasis: data.emphasis };
  }

  private bind(pos: WebGLBuffer, col: WebGLBuffer): void {
    const gl = this.gl;
    gl.bindBuffer(gl.ARRAY_BUFFER, pos);
    gl.enableVertexAttribArray(this.loc.pos);
    gl.vertexAttribPointer(this.loc.pos, 2, gl.FLOAT, false, 0, 0);
    gl.bindBuffer(gl.ARRAY_BUFFER, col);
    gl.enableVertexAttribArray(this.loc.col);
    gl.vertexAttribPointer(this.loc.col, 4, gl.UNSIGNED_BYTE, true, 0, 0);
  }

  draw(data: PlotData, view: PlotView, cssWidth: number, cssHeight: number, dpr: number, style: PlotStyle): void {
    const gl = this.gl;
    if (gl.isContextLost()) return;
    this.upload(data);
    gl.viewport(0, 0, this.canvas.width, this.canvas.height);
    gl.clearColor(0, 0, 0, 0);
    gl.clear(gl.COLOR_BUFFER_BIT);
    gl.enable(gl.BLEND);
    gl.blendFunc(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA);
    gl.useProgram(this.program);
    const sx = (2 * view.scale) / cssWidth;
    const sy = (2 * view.scale) / cssHeight;
    gl.uniform2f(this.loc.scale, sx, sy);
    gl.uniform2f(this.loc.offset, -view.cx * sx, -view.cy * sy);
    const size = Math.max(1, style.pointSize * dpr);
    gl.uniform1f(this.loc.size, size);
    gl.uniform1f(this.loc.pixels, size);
    gl.uniform4f(this.loc.rim, 0, 0, 0, 0);
    this.bind(this.posBuffer, this.colBuffer);
    gl.drawArrays(gl.POINTS, 0, data.positions.length >> 1);
    if (this.emphasisCount > 0) {
      const big = size * 1.8;
      gl.uniform1f(this.loc.size, big);
      gl.uniform1f(this.loc.pixels, big);
      const [r, g, b] = style.emphasisRim;
      gl.uniform4f(this.loc.rim, r / 255, g / 255, b / 255, 1);
      this.bind(this.empPosBuffer, this.empColBuffer);
      gl.drawArrays(gl.POINTS, 0, this.emphasisCount);
    }
  }

  dispose(): void {
    const gl = this.gl;
    for (const b of [this.posBuffer, this.colBuffer, this.empPosBuffer, this.empColBuffer]) gl.deleteBuffer(b);
    gl.deleteProgram(this.program);
  }
}

/** A dot's pixels relative to its top-left corner, and which of them are rim. */
interface DotSprite {
  size: number;
  dx: Int16Array;
  dy: Int16Array;
  rim: Uint8Array;
}

function dotSprite(size: number): DotSprite {
  const r = size / 2;
  const dx: number[] = [];
  const dy: number[] = [];
  const rim: number[] = [];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const d = Math.hypot(x + 0.5 - r, y + 0.5 - r);
      if (d > r + 0.25) continue;
      dx.push(x);
      dy.push(y);
      // A 1-pixel rim once dots are big enough to have an inside.
      rim.push(size >= 4 && d > r - 1 ? 1 : 0);
    }
  }
  return { size, dx: Int16Array.from(dx), dy: Int16Array.from(dy), rim: Uint8Array.from(rim) };
}

/** RGBA → one little-endian ImageData pixel. */
function pack(r: number, g: number, b: number, a: number): number {
  return ((a << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

/**
 * 2-D fallback: rasterises every dot on the CPU into one ImageData (a precomputed disc sprite,
 * written as 32-bit pixels) and puts it on the canvas once per frame. Why not canvas paths: with
 * one `rect` per point grouped by colour, 50,000 points took 40–65 ms per pan/zoom frame in
 * headless Chromium here, and software WebGL 95–125 ms; writing pixels directly is a few ms
 * (bench/scatterPlot.mjs). The few emphasised points get their rings from canvas arcs on top.
 */
export class Canvas2dRenderer implements ScatterRenderer {
  readonly kind = '2d' as const;
  private readonly ctx: CanvasRenderingContext2D;
  private image: ImageData | undefined;
  private pixels: Uint32Array | undefined;
  private sprite: DotSprite | undefined;
  private packed: { colours?: Uint8Array; fill: Uint32Array; rim: Uint32Array } = { fill: new Uint32Array(0), rim: new Uint32Array(0) };

  constructor(private readonly canvas: HTMLCanvasElement) {
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('No 2-D canvas context');
    this.ctx = ctx;
  }

  private packedColours(colours: Uint8Array): { fill: Uint32Array; rim: Uint32Array } {
    if (this.packed.colours === colours) return this.packed;
    const n = colours.length >> 2;
    const fill = new Uint32Array(n);
    const rim = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const [r, g, b, a] = [colours[4 * i], colours[4 * i + 1], colours[4 * i + 2], colours[4 * i + 3]];
      fill[i] = pack(r, g, b, a);
      rim[i] = pack(Math.round(r * 0.62), Math.round(g * 0.62), Math.round(b * 0.62), a);
    }
    this.packed = { colours, fill, rim };
    return this.packed;
  }

  draw(data: PlotData, view: PlotView, cssWidth: number, cssHeight: number, dpr: number, style: PlotStyle): void {
    const W = this.canvas.width;
    const H = this.canvas.height;
    if (!W || !H) return;
    if (!this.image || this.image.width !== W || this.image.height !== H) {
      this.image = this.ctx.createImageData(W, H);
      this.pixels = new Uint32Array(this.image.data.buffer);
    }
    const px = this.pixels!;
    px.fill(0);
    const size = Math.max(1, Math.round(style.pointSize * dpr));
    if (this.sprite?.size !== size) this.sprite = dotSprite(size);
    const { dx, dy, rim: isRim } = this.sprite;
    const m = dx.length;
    const { fill, rim } = this.packedColours(data.colours);
    const p = data.positions;
    const colours = data.colours;
    const scale = view.scale * dpr;
    const half = size >> 1;
    // Canvas pixel of data point (x, y): the view's centre sits in the middle, y grows upwards.
    const ox = W / 2 - view.cx * scale - half;
    const oy = H / 2 + view.cy * scale - half;
    const n = p.length >> 1;
    for (let i = 0; i < n; i++) {
      const a = colours[4 * i + 3];
      if (a === 0) continue;
      const x0 = Math.round(ox + p[2 * i] * scale);
      const y0 = Math.round(oy - p[2 * i + 1] * scale);
      if (x0 >= W || y0 >= H || x0 + size <= 0 || y0 + size <= 0) continue;
      const f = fill[i];
      const rr = rim[i];
      const inside = x0 >= 0 && y0 >= 0 && x0 + size <= W && y0 + size <= H;
      if (a === 255 && inside) {
        // The common case: an opaque dot wholly on the canvas, no bounds checks or blending.
        const base = y0 * W + x0;
        for (let k = 0; k < m; k++) px[base + dy[k] * W + dx[k]] = isRim[k] ? rr : f;
        continue;
      }
      for (let k = 0; k < m; k++) {
        const x = x0 + dx[k];
        const y = y0 + dy[k];
        if (x < 0 || y < 0 || x >= W || y >= H) continue;
        const idx = y * W + x;
        const src = isRim[k] ? rr : f;
        const dst = px[idx];
        const da = dst >>> 24;
        if (a === 255 || da === 0) {
          px[idx] = src;
          continue;
        }
        // Source-over of a translucent (dimmed) dot on what is already drawn, un-premultiplied.
        const sa = a / 255;
        const dA = da / 255;
        const outA = sa + dA * (1 - sa);
        const mix = (shift: number) => Math.round((((src >>> shift) & 255) * sa + ((dst >>> shift) & 255) * dA * (1 - sa)) / outA);
        px[idx] = pack(mix(0), mix(8), mix(16), Math.round(outA * 255));
      }
    }
    this.ctx.setTransform(1, 0, 0, 1, 0, 0);
    this.ctx.putImageData(this.image!, 0, 0);
    if (data.emphasis.length) {
      const ctx = this.ctx;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      const s = style.pointSize;
      const big = s * 1.8;
      const hw = cssWidth / 2;
      const hh = cssHeight / 2;
      ctx.beginPath();
      for (const i of data.emphasis) {
        const x = hw + (p[2 * i] - view.cx) * view.scale;
        const y = hh - (p[2 * i + 1] - view.cy) * view.scale;
        ctx.moveTo(x + big / 2, y);
        ctx.arc(x, y, big / 2, 0, 2 * Math.PI);
      }
      const [r, g, b] = style.emphasisRim;
      ctx.strokeStyle = `rgb(${r}, ${g}, ${b})`;
      ctx.lineWidth = 2;
      ctx.stroke();
    }
  }

  dispose(): void {
    this.image = undefined;
    this.pixels = undefined;
    this.packed = { fill: new Uint32Array(0), rim: new Uint32Array(0) };
  }
}
