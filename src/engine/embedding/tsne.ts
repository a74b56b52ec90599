/**
 * t-SNE (van der Maaten & Hinton 2008) with FFT-interpolated repulsion (FIt-SNE, Linderman et al.
 * 2019), following openTSNE's defaults: exact k-NN graph with k = 3·perplexity, perplexity
 * calibrated per point, P symmetrised, PCA initialisation scaled to a standard deviation of
 * 1e-4, early exaggeration 12 for 250 iterations with momentum 0.5, then momentum 0.8, gains
 * (delta-bar-delta), learning rate "auto" = max(N / 12, 200) (Belkina et al. 2019; the gradient
 * below omits the constant 4, as FIt-SNE and openTSNE do, so this matches scikit-learn ≥ 1.2).
 *
 * Why hand-written: the t-SNEs on npm (`tsne-js`, `@keckelt/tsne`, tsne.js ports) are exact
 * O(N²) per iteration; measured on this project's 2-core VM `tsne-js` needed 523 s for 1,000
 * points and `@keckelt/tsne` 375 s for 2,500 (table in the project's shared notes). The
 * interpolation here is O(N) per iteration plus FFTs of a grid whose size follows the
 * embedding's extent (capped in proportion to N), not N² (bench/embed.ts: 10,000 points in
 * 19–28 s, 50,000 in 124–152 s on the shared VM). The FFT itself comes from `fft.js`.
 */
import { exactKnn, type KnnGraph } from './knn';
import { conditionalAffinities, effectivePerplexity, neighboursForPerplexity, symmetrize, type SparseAffinities } from './affinities';
import { FftRepulsion, exactRepulsion, type FftRepulsionOptions } from './fftRepulsion';
import { pca } from './pca';
import { normalRandom } from '../random';

export interface TsneOptions {
  perplexity?: number;
  /** Step size; `'auto'` (default) = max(N / earlyExaggeration, 200). */
  learningRate?: number | 'auto';
  /** Total iterations including the early-exaggeration phase (default 750, openTSNE's 250 + 500). */
  iterations?: number;
  earlyExaggeration?: number;
  earlyExaggerationIterations?: number;
  init?: 'pca' | 'random';
  seed?: number;
  /** Interpolation grid of the repulsive forces (defaults: see `FftRepulsion`). */
  repulsion?: FftRepulsionOptions;
  /**
   * Up to this many points the repulsive forces are summed exactly (O(N²), but then cheaper than
   * the FFT grid, and exact). Default 1,000; 0 always interpolates.
   */
  exactRepulsionUpTo?: number;
}

export interface TsneFrame {
  iteration: number;
  iterations: number;
  /** The current embedding, interleaved x, y (a fresh copy). */
  points: Float32Array;
}

export type TsnePhase = 'neighbors' | 'affinities' | 'optimize';

export interface TsneHooks {
  signal?: AbortSignal;
  onProgress?(phase: TsnePhase, done: number, total: number): void;
  /** Called at most every `frameIntervalMs` during the optimisation, and after the last iteration. */
  onFrame?(frame: TsneFrame): void;
  frameIntervalMs?: number;
}

export interface TsneResult {
  /** Interleaved x, y. */
  points: Float32Array;
  perplexity: number;
  learningRate: number;
  iterations: number;
  /** Seconds spent in each phase. */
  timings: { neighbors: number; affinities: number; optimize: number };
}

/** Below this many points the exact O(N²) repulsion costs less than the FFT grid (about 1,000² pair terms ≈ one 256² FFT pass). */
export const EXACT_REPULSION_UP_TO = 1000;

export const TSNE_DEFAULTS = {
  perplexity: 30,
  iterations: 750,
  earlyExaggeration: 12,
  earlyExaggerationIterations: 250,
  init: 'pca' as const,
  seed: 42,
};

function cancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new Error('Cancelled');
}

const yieldToEventLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Initial layout: first two principal components (or Gaussian noise), scaled to std 1e-4. */
export function initialLayout(data: Float32Array, n: number, d: number, init: 'pca' | 'random', seed: number): Float64Array {
  const y = new Float64Array(2 * n);
  if (init === 'pca' && d >= 2 && n >= 2) {
    const p = pca(data, n, d, 2);
    y.set(p.projected);
  } else {
    const rand = normalRandom(seed);
    for (let i = 0; i < y.length; i++) y[i] = rand();
  }
  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[2 * i];
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (y[2 * i] - mean) ** 2;
  const std = Math.sqrt(v / n);
  const scale = std > 0 ? 1e-4 / std : 1;
  for (let i = 0; i < y.length; i++) y[i] *= scale;
  return y;
}

/** Σ_j p_ij w_ij (y_i − y_j) over the sparse P, into `out` (interleaved). */
export function attractiveForces(p: SparseAffinities, y: Float64Array, out: Float64Array): void {
  const { n, rowPtr, cols, values } = p;
  for (let i = 0; i < n; i++) {
    const xi = y[2 * i], yi = y[2 * i + 1];
    let fx = 0, fy = 0;
    for (let t = rowPtr[i], e = rowPtr[i + 1]; t < e; t++) {
      const j = cols[t];
      const dx = xi - y[2 * j], dy = yi - y[2 * j + 1];
      const pw = values[t] / (1 + dx * dx + dy * dy);
      fx += pw * dx;
      fy += pw * dy;
    }
    out[2 * i] = fx;
    out[2 * i + 1] = fy;
  }
}

/** Affinities of `data` (n×d) for a perplexity: exact kNN graph, calibration, symmetrisation. */
export async function tsneAffinities(
  data: Float32Array,
  n: number,
  d: number,
  perplexity: number,
  hooks: TsneHooks = {},
): Promise<{ p: SparseAffinities; knn: KnnGraph; perplexity: number; neighborsSeconds: number; affinitiesSeconds: number }> {
  const perp = effectivePerplexity(perplexity, n);
  const k = neighboursForPerplexity(perp, n);
  const t0 = performance.now();
  const knn = await exactKnn(data, n, d, k, { signal: hooks.signal, onProgress: (done, total) => hooks.onProgress?.('neighbors', done, total) });
  const t1 = performance.now();
  cancelled(hooks.signal);
  const p = symmetrize(knn, conditionalAffinities(knn, perp));
  hooks.onProgress?.('affinities', n, n);
  return { p, knn, perplexity: perp, neighborsSeconds: (t1 - t0) / 1000, affinitiesSeconds: (performance.now() - t1) / 1000 };
}

/** Embeds the rows of `data` (row-major n×d) in 2-D. */
export async function tsne(data: Float32Array, n: number, d: number, options: TsneOptions = {}, hooks: TsneHooks = {}): Promise<TsneResult> {
  if (data.length !== n * d) throw new Error(`t-SNE: expected ${n}×${d} = ${n * d} values, got ${data.length}`);
  if (n < 2) throw new Error(`t-SNE needs at least 2 points (got ${n})`);
  const iterations = options.iterations ?? TSNE_DEFAULTS.iterations;
  const exaggeration = options.earlyExaggeration ?? TSNE_DEFAULTS.earlyExaggeration;
  const exaggerationIterations = Math.min(iterations, options.earlyExaggerationIterations ?? TSNE_DEFAULTS.earlyExaggerationIterations);
  if (!(Number.isInteger(iterations) && iterations >= 1)) throw new Error(`t-SNE: iterations must be a whole number ≥ 1 (got ${iterations})`);
  if (!(exaggeration > 0)) throw new Error(`t-SNE: early exaggeration must be > 0 (got ${exaggeration})`);
  const lrOption = options.learningRate ?? 'auto';
  const learningRate = lrOption === 'auto' ? Math.max(n / exaggeration, 200) : lrOption;
  if (!(learningRate > 0)) throw new Error(`t-SNE: learning rate must be > 0 or "auto" (got ${lrOption})`);
  const seed = options.seed ?? TSNE_DEFAULTS.seed;

  const aff = await tsneAffinities(data, n, d, options.perplexity ?? TSNE_DEFAULTS.perplexity, hooks);
  const t2 = performance.now();
  const y = initialLayout(data, n, d, options.init ?? TSNE_DEFAULTS.init, seed);
  const update = new Float64Array(2 * n);
  const gains = new Float64Array(2 * n).fill(1);
  const attr = new Float64Array(2 * n);
  const rep = new Float64Array(2 * n);
  const fftRepulsion = new FftRepulsion(options.repulsion);
  const exact = n <= (options.exactRepulsionUpTo ?? EXACT_REPULSION_UP_TO);
  const frameInterval = hooks.frameIntervalMs ?? 100;
  let lastFrame = performance.now();

  for (let it = 0; it < iterations; it++) {
    cancelled(hooks.signal);
    const early = it < exaggerationIterations;
    const exag = early ? exaggeration : 1;
    const momentum = early ? 0.5 : 0.8;
    attractiveForces(aff.p, y, attr);
    const z = exact ? exactRepulsion(y, n, rep) : fftRepulsion.compute(y, n, rep);
    const invZ = z > 0 ? 1 / z : 0;
    for (let t = 0; t < 2 * n; t++) {
      const grad = exag * attr[t] - rep[t] * invZ;
      const u = update[t];
      // Delta-bar-delta: grow the gain while the gradient keeps pointing the same way as the step.
      let g = grad * u < 0 ? gains[t] + 0.2 : gains[t] * 0.8;
      if (g < 0.01) g = 0.01;
      gains[t] = g;
      const nu = momentum * u - learningRate * g * grad;
      update[t] = nu;
      y[t] += nu;
    }
    const now = performance.now();
    const last = it === iterations - 1;
    if (last || now - lastFrame >= frameInterval) {
      lastFrame = now;
      hooks.onProgress?.('optimize', it + 1, iterations);
      hooks.onFrame?.({ iteration: it + 1, iterations, points: Float32Array.from(y) });
    }
    // Let a cancel message (worker) or the UI in between iterations.
    await yieldToEventLoop();
  }
  return {
    points: Float32Array.from(y),
    perplexity: aff.perplexity,
    learningRate,
    iterations,
    timings: { neighbors: aff.neighborsSeconds, affinities: aff.affinitiesSeconds, optimize: (performance.now() - t2) / 1000 },
  };
}
