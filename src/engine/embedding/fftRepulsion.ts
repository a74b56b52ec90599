/**
 * Repulsive t-SNE forces in O(N) per iteration by polynomial interpolation on an equispaced grid
 * and FFT convolution — the method of FIt-SNE (Linderman, Rachh, Hoskins, Steinerberger &
 * Kluger, Nature Methods 2019), as openTSNE also implements it.
 *
 * With w_ij = 1 / (1 + ‖y_i − y_j‖²), the gradient needs, for every point i,
 *     Σ_j w_ij² (y_i − y_j)     and     Z = Σ_{i≠j} w_ij.
 * Both follow from four sums against the single kernel K = w², with charges 1, x_j, y_j and
 * ‖y_j‖² (w = w²(1 + ‖y_i − y_j‖²) expands into them):
 *     φ0 = Σ K, φx = Σ K x_j, φy = Σ K y_j, φ3 = Σ K ‖y_j‖²
 *     Σ_j w_ij² (y_i − y_j) = y_i φ0 − (φx, φy)
 *     Σ_j w_ij = (1 + ‖y_i‖²) φ0 − 2 y_i·(φx, φy) + φ3          (includes j = i, which adds 1)
 * The square around the points is cut into boxes (about one per unit of embedding, at least
 * `minIntervals` per side) with p = 3 Lagrange nodes each; charges are spread onto the nodes, the
 * node-to-node sums are one 2-D convolution per charge (circulant embedding, FFT), and potentials
 * are interpolated back with the same weights.
 *
 * FFT: `fft.js` (radix-4, power-of-two sizes). The grid side L is the power of two that holds
 * the 2m − 1 offsets of m nodes per side, and m is then raised to fill it (a finer grid at no extra
 * FFT cost). Two real charges travel as one complex signal (the kernel's spectrum is real, since
 * the kernel is even), so the four charges cost two complex 2-D FFT round trips. The kernel's
 * spectrum depends only on L and the node spacing; the box side is rounded up to a step of
 * 2^(1/16) so it can be reused over many iterations as the embedding grows slowly.
 */
import FFT = require('fft.js');

export interface FftRepulsionOptions {
  /** Target box side in embedding units (FIt-SNE's 1 / intervals_per_integer). Default 1. */
  intervalWidth?: number;
  /** Minimum boxes per side. Default 10 (openTSNE's min_num_intervals). */
  minIntervals?: number;
  /** Lagrange nodes per box and dimension (FIt-SNE's n_interpolation_points). Default 3. */
  nodesPerInterval?: number;
  /**
   * Largest FFT side L (a power of two). Beyond it the boxes grow instead of the grid, trading
   * accuracy for time once the embedding is very expanded. Default `defaultMaxFftSize(n)`.
   */
  maxFftSize?: number;
}

/**
 * The FFT side at which the grid stops growing for n points: the smallest power of two with
 * L² ≥ 20·n, and at least 256 (n ≤ 3,276 → 256, 10,000 → 512, 50,000 → 1024), so the FFT's cost
 * stays in proportion to the O(n) work of each iteration. Up to L/6 boxes of side 1 (FIt-SNE's
 * default resolution) fit: an embedding 42 units wide at 256, 85 at 512, 170 at 1024.
 */
export function defaultMaxFftSize(n: number): number {
  return Math.max(256, nextPow2(Math.ceil(Math.sqrt(20 * Math.max(1, n)))));
}

/** Weights of the p Lagrange polynomials through equispaced nodes (j + 0.5) / p of a unit box, at u. */
function lagrange(p: number, nodes: Float64Array, denom: Float64Array, u: number, out: Float64Array, o: number): void {
  for (let j = 0; j < p; j++) {
    let v = 1;
    for (let l = 0; l < p; l++) if (l !== j) v *= u - nodes[l];
    out[o + j] = v / denom[j];
  }
}

function nextPow2(x: number): number {
  let p = 2;
  while (p < x) p *= 2;
  return p;
}

export class FftRepulsion {
  private readonly intervalWidth: number;
  private readonly minIntervals: number;
  private readonly p: number;
  private readonly maxFftSize: number | undefined;
  private readonly nodes: Float64Array;
  private readonly denom: Float64Array;
  private readonly ffts = new Map<number, FFT>();
  /** Kernel spectrum for the current (L, node spacing), real, symmetric, pre-divided by L². */
  private kernelKey = '';
  private kernelHat = new Float64Array(0);
  // fft.js runs 1.4-1.8x faster on plain arrays than on typed arrays (measured here), so every
  // buffer it reads or writes is a plain number[] of doubles.
  private work = new Float64Array(0);
  /** ROWS row buffers for moving blocks of rows in and out of the column-major intermediate. */
  private blockBufs: number[][] = [];
  private rowIn: number[] = [];
  private rowOut: number[] = [];
  private rowTmp: number[] = [];
  private gridA = new Float64Array(0);
  private gridB = new Float64Array(0);
  private boxX = new Int32Array(0);
  private boxY = new Int32Array(0);
  private wX = new Float64Array(0);
  private wY = new Float64Array(0);
  /** Grid side in FFT points and nodes per side of the last call (for tests and profiling). */
  lastGrid = { fftSize: 0, nodes: 0, boxWidth: 0 };

  constructor(options: FftRepulsionOptions = {}) {
    this.intervalWidth = options.intervalWidth ?? 1;
    this.minIntervals = options.minIntervals ?? 10;
    this.maxFftSize = options.maxFftSize;
    const p = (this.p = options.nodesPerInterval ?? 3);
    this.nodes = Float64Array.from({ length: p }, (_, j) => (j + 0.5) / p);
    this.denom = Float64Array.from({ length: p }, (_, j) => {
      let d = 1;
      for (let l = 0; l < p; l++) if (l !== j) d *= this.nodes[j] - this.nodes[l];
      return d;
    });
  }

  private fft(size: number): FFT {
    let f = this.ffts.get(size);
    if (!f) {
      f = new FFT(size);
      this.ffts.set(size, f);
    }
    return f;
  }

  /**
   * Writes Σ_j w_ij² (y_i − y_j) for every point into `out` (interleaved x, y) and returns
   * Z = Σ_{i≠j} w_ij. `y` is interleaved x, y of n points.
   */
  compute(y: Float64Array, n: number, out: Float64Array): number {
    let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
    for (let i = 0; i < n; i++) {
      const px = y[2 * i], py = y[2 * i + 1];
      if (px < minX) minX = px;
      if (px > maxX) maxX = px;
      if (py < minY) minY = py;
      if (py > maxY) maxY = py;
    }
    const cx = (minX + maxX) / 2;
    const cy = (minY + maxY) / 2;
    const extent = Math.max(maxX - minX, maxY - minY, 1e-9);
    // Box side rounded up to a 2^(1/16) step: the kernel spectrum is reused until it changes.
    const side = Math.pow(2, Math.ceil(Math.log2(extent * (1 + 1e-9)) * 16) / 16);
    const P = this.p;
    const wanted = Math.max(this.minIntervals, Math.ceil(side / this.intervalWidth));
    const L = Math.min(nextPow2(2 * P * wanted - 1), Math.max(nextPow2(4 * P), this.maxFftSize ?? defaultMaxFftSize(n)));
    const boxes = Math.floor((L + 1) / (2 * P));
    const m = boxes * P;
    const h = side / boxes;
    const x0 = cx - side / 2;
    const y0 = cy - side / 2;
    this.lastGrid = { fftSize: L, nodes: m, boxWidth: h };
    this.ensureBuffers(n, m, L);
    this.ensureKernel(L, m, h / P);

    // Spread the charges 1, x, y, x² + y² (coordinates relative to the centre) onto the nodes.
    const { gridA, gridB, boxX, boxY, wX, wY, nodes, denom } = this;
    gridA.fill(0, 0, 2 * m * m);
    gridB.fill(0, 0, 2 * m * m);
    for (let i = 0; i < n; i++) {
      const px = y[2 * i] - cx, py = y[2 * i + 1] - cy;
      let fx = (y[2 * i] - x0) / h;
      let fy = (y[2 * i + 1] - y0) / h;
      let bx = Math.floor(fx);
      let by = Math.floor(fy);
      if (bx >= boxes) bx = boxes - 1;
      if (by >= boxes) by = boxes - 1;
      if (bx < 0) bx = 0;
      if (by < 0) by = 0;
      fx -= bx;
      fy -= by;
      boxX[i] = bx;
      boxY[i] = by;
      lagrange(P, nodes, denom, fx, wX, P * i);
      lagrange(P, nodes, denom, fy, wY, P * i);
      const q3 = px * px + py * py;
      for (let a = 0; a < P; a++) {
        const row = (by * P + a) * m + bx * P;
        const wy = wY[P * i + a];
        for (let b = 0; b < P; b++) {
          const w = wy * wX[P * i + b];
          const g = 2 * (row + b);
          gridA[g] += w;
          gridA[g + 1] += w * px;
          gridB[g] += w * py;
          gridB[g + 1] += w * q3;
        }
      }
    }
    this.convolve(gridA, m, L);
    this.convolve(gridB, m, L);

    let z = 0;
    for (let i = 0; i < n; i++) {
      let p0 = 0, p1 = 0, p2 = 0, p3 = 0;
      const bx = boxX[i], by = boxY[i];
      for (let a = 0; a < P; a++) {
        const row = (by * P + a) * m + bx * P;
        const wy = wY[P * i + a];
        for (let b = 0; b < P; b++) {
          const w = wy * wX[P * i + b];
          const g = 2 * (row + b);
          p0 += w * gridA[g];
          p1 += w * gridA[g + 1];
          p2 += w * gridB[g];
          p3 += w * gridB[g + 1];
        }
      }
      const px = y[2 * i] - cx, py = y[2 * i + 1] - cy;
      out[2 * i] = px * p0 - p1;
      out[2 * i + 1] = py * p0 - p2;
      z += (1 + px * px + py * py) * p0 - 2 * (px * p1 + py * p2) + p3;
    }
    return z - n;
  }

  private ensureBuffers(n: number, m: number, L: number): void {
    if (this.boxX.length < n) {
      this.boxX = new Int32Array(n);
      this.boxY = new Int32Array(n);
      this.wX = new Float64Array(this.p * n);
      this.wY = new Float64Array(this.p * n);
    }
    if (this.gridA.length < 2 * m * m) {
      this.gridA = new Float64Array(2 * m * m);
      this.gridB = new Float64Array(2 * m * m);
    }
    if (this.work.length < 2 * m * L) this.work = new Float64Array(2 * m * L);
    if (this.rowIn.length !== 2 * L) {
      this.blockBufs = Array.from({ length: 8 }, () => new Array<number>(2 * L).fill(0));
      this.rowIn = new Array<number>(2 * L).fill(0);
      this.rowOut = new Array<number>(2 * L).fill(0);
      this.rowTmp = new Array<number>(2 * L).fill(0);
    }
  }

  /** Spectrum of the kernel sampled at node offsets (circulant embedding), real and symmetric. */
  private ensureKernel(L: number, m: number, spacing: number): void {
    const key = `${L}|${m}|${spacing}`;
    if (key === this.kernelKey) return;
    const f = this.fft(L);
    const full = new Float64Array(2 * L * L);
    const offset = (a: number): number | undefined => (a < m ? a : a > L - m ? a - L : undefined);
    for (let a = 0; a < L; a++) {
      const da = offset(a);
      if (da === undefined) continue;
      for (let b = 0; b < L; b++) {
        const db = offset(b);
        if (db === undefined) continue;
        const r2 = (da * da + db * db) * spacing * spacing;
        const w = 1 / (1 + r2);
        full[2 * (a * L + b)] = w * w;
      }
    }
    const row = new Array<number>(2 * L).fill(0);
    const tmp = new Array<number>(2 * L).fill(0);
    for (let a = 0; a < L; a++) {
      for (let t = 0; t < 2 * L; t++) row[t] = full[2 * a * L + t];
      f.transform(tmp, row);
      for (let t = 0; t < 2 * L; t++) full[2 * a * L + t] = tmp[t];
    }
    const hat = new Float64Array(L * L);
    const scale = 1 / (L * L);
    for (let b = 0; b < L; b++) {
      for (let a = 0; a < L; a++) {
        row[2 * a] = full[2 * (a * L + b)];
        row[2 * a + 1] = full[2 * (a * L + b) + 1];
      }
      f.transform(tmp, row);
      for (let a = 0; a < L; a++) hat[b * L + a] = tmp[2 * a] * scale;
    }
    this.kernelHat = hat;
    this.kernelKey = key;
  }

  /**
   * In place: the complex m×m grid convolved with the kernel (linear convolution via the
   * circulant embedding of side L). Rows of the input beyond m are zero and outputs beyond m are
   * not needed, so only m row transforms are done each way; the inverse is the forward transform
   * of the conjugate (the kernel spectrum already holds the 1/L² factor). The intermediate is kept
   * column-major (`work[c][r]`, r < m) and rows are moved in blocks of ROWS so memory is read and
   * written in runs of whole cache lines rather than with a stride of L.
   */
  private convolve(grid: Float64Array, m: number, L: number): void {
    const f = this.fft(L);
    const { work, rowIn, kernelHat, blockBufs } = this;
    const L2 = 2 * L;
    const m2 = 2 * m;
    const ROWS = blockBufs.length;
    // Row transforms of the m non-zero rows, written transposed into work (L columns × m rows).
    for (let t = m2; t < L2; t++) rowIn[t] = 0;
    for (let r0 = 0; r0 < m; r0 += ROWS) {
      const rows = Math.min(ROWS, m - r0);
      for (let b = 0; b < rows; b++) {
        const g = 2 * (r0 + b) * m;
        for (let t = 0; t < m2; t++) rowIn[t] = grid[g + t];
        f.transform(blockBufs[b], rowIn);
      }
      for (let c = 0; c < L; c++) {
        const w = c * m2 + 2 * r0;
        for (let b = 0; b < rows; b++) {
          const buf = blockBufs[b];
          work[w + 2 * b] = buf[2 * c];
          work[w + 2 * b + 1] = buf[2 * c + 1];
        }
      }
    }
    // Per column: transform, multiply by the (real) kernel spectrum and conjugate, transform
    // again (= inverse along the column, up to the conjugation undone below); keep rows < m.
    const { rowOut, rowTmp } = this;
    // rowIn[2m…2L) is still zero from the row pass.
    for (let c = 0; c < L; c++) {
      const w = c * m2;
      for (let t = 0; t < m2; t++) rowIn[t] = work[w + t];
      f.transform(rowOut, rowIn);
      const k0 = c * L;
      for (let r = 0; r < L; r++) {
        const kv = kernelHat[k0 + r];
        rowOut[2 * r] *= kv;
        rowOut[2 * r + 1] *= -kv;
      }
      f.transform(rowTmp, rowOut);
      for (let t = 0; t < m2; t++) work[w + t] = rowTmp[t];
    }
    // Row transforms back (gathered from the column-major work in blocks); conjugate and keep
    // the m × m block.
    for (let r0 = 0; r0 < m; r0 += ROWS) {
      const rows = Math.min(ROWS, m - r0);
      for (let c = 0; c < L; c++) {
        const w = c * m2 + 2 * r0;
        for (let b = 0; b < rows; b++) {
          const buf = blockBufs[b];
          buf[2 * c] = work[w + 2 * b];
          buf[2 * c + 1] = work[w + 2 * b + 1];
        }
      }
      for (let b = 0; b < rows; b++) {
        f.transform(rowOut, blockBufs[b]);
        const g = 2 * (r0 + b) * m;
        for (let c = 0; c < m; c++) {
          grid[g + 2 * c] = rowOut[2 * c];
          grid[g + 2 * c + 1] = -rowOut[2 * c + 1];
        }
      }
    }
  }
}

/** Σ_j w_ij² (y_i − y_j) and Z by the direct O(N²) double sum: the reference for tests. */
export function exactRepulsion(y: Float64Array, n: number, out: Float64Array): number {
  out.fill(0, 0, 2 * n);
  let z = 0;
  for (let i = 0; i < n; i++) {
    const xi = y[2 * i], yi = y[2 * i + 1];
    let fx = 0, fy = 0;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const dx = xi - y[2 * j], dy = yi - y[2 * j + 1];
      const w = 1 / (1 + dx * dx + dy * dy);
      z += w;
      fx += w * w * dx;
      fy += w * w * dy;
    }
    out[2 * i] = fx;
    out[2 * i + 1] = fy;
  }
  return z;
}
