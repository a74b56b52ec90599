/**
 * How rough a convolution kernel is, and whether that roughness can be told from white noise.
 *
 * Roughness is Geary's C over the kernel's 4-neighbour pairs, pooled over its input channels:
 *
 *     C = Σ_c D_c / Σ_c E[D_c],   D_c = Σ over neighbour pairs (w_a − w_b)² in channel c,
 *                                 E[D_c] = 2 · pairs · S_c / (n − 1),  S_c = Σ (w − mean_c)²
 *
 * (n = kh·kw). E[D_c] is what D_c averages to when channel c's weights are put in a random
 * arrangement, so white noise scores 1 at every kernel size, smooth shapes less (a 3×3 ramp 0.33,
 * Sobel 0.44), and patterns whose neighbours alternate more (a Laplacian or checkerboard 1.8).
 * Each channel is centred first because the tiles are shown min–max normalised: an offset common
 * to all weights is invisible in a tile, and must not make a kernel look smooth.
 *
 * Whether a filter is *noisy* is a test, not a threshold: under the hypothesis that its weights
 * sit in a random arrangement (each channel permuted on its own), D has a known mean and variance
 * (Cliff & Ord's randomisation moments of Geary's C, which depend on the weights' kurtosis), and
 * z = (D − E[D]) / sd(D). A filter is noisy when |z| < 1.96: its neighbours are neither more alike
 * nor more different than chance would make them (two-sided, 5 %). The normal approximation was
 * checked against 400-draw permutation tests on the sample models' conv1 and conv2 filters (63 of
 * 64 decisions the same) and its spread against Monte-Carlo permutations within 2 %
 * (test/unit/filterRoughness.test.ts).
 *
 * A kernel with few weights cannot be told from noise unless it is almost perfect: a 3×3
 * single-channel kernel has 9 weights, and even a clean ramp reaches only z = −2.8, Sobel −2.4.
 * So filters are judged one by one only where a moderately smooth filter (C = 0.5) would sit
 * 2.5 standard deviations from noise (`perFilterTest`); 3×3 kernels on one input channel (first
 * layers on grey images, depthwise layers) are judged as a layer only. The layer test pools every
 * filter's sums, which are independent under the hypothesis, and has power to spare.
 */

/** |z| below which a filter's arrangement is indistinguishable from a random one (two-sided 5 %). */
export const NOISY_Z = 1.96;
/** Filters are judged one by one when C = 0.5 lies at least this many null spreads below 1. */
const PER_FILTER_MIN_Z = 2.5;

/** Sums of one filter (or of many, added), from which C and z follow. */
export interface RoughnessSums {
  /** Σ of squared neighbour differences (D). */
  d: number;
  /** Its mean under random arrangement (E[D]). */
  e: number;
  /** Its variance under random arrangement; null when n < 4, where the moments are undefined. */
  v: number | null;
}

interface GridWeights {
  n: number;
  pairs: number;
  /** Cliff & Ord's S0, S1, S2 for the symmetric binary 4-neighbour weights of a kh×kw grid. */
  s0: number;
  s1: number;
  s2: number;
}

function gridWeights(kh: number, kw: number): GridWeights {
  const pairs = kh * (kw - 1) + kw * (kh - 1);
  let sumDegree2 = 0;
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      const degree = (x > 0 ? 1 : 0) + (x + 1 < kw ? 1 : 0) + (y > 0 ? 1 : 0) + (y + 1 < kh ? 1 : 0);
      sumDegree2 += degree * degree;
    }
  }
  // Ordered pairs each weigh 1: S0 = 2·pairs, S1 = ½ Σ (w_ij + w_ji)² = 4·pairs, S2 = Σ_i (2·deg_i)².
  return { n: kh * kw, pairs, s0: 2 * pairs, s1: 4 * pairs, s2: 4 * sumDegree2 };
}

/** Variance of Geary's C under randomisation for values of kurtosis `k` (Cliff & Ord 1981). */
function gearyVariance(g: GridWeights, k: number): number {
  const { n, s0, s1, s2 } = g;
  const n2 = n * n;
  const a = (n - 1) * s1 * (n2 - 3 * n + 3 - (n - 1) * k);
  const b = 0.25 * (n - 1) * s2 * (n2 + 3 * n - 6 - (n2 - n + 2) * k);
  const c = s0 * s0 * (n2 - 3 - (n - 1) ** 2 * k);
  return (a - b + c) / (n * (n - 2) * (n - 3) * s0 * s0);
}

/**
 * Sums of one filter stored as `[kh][kw][channels]` (channels innermost); null when the kernel
 * has no neighbour pairs (1×1).
 */
export function roughnessSums(kernel: ArrayLike<number>, kh: number, kw: number, channels = 1): RoughnessSums | null {
  const g = gridWeights(kh, kw);
  if (g.pairs === 0) return null;
  const { n } = g;
  let d = 0;
  let e = 0;
  let v: number | null = n >= 4 ? 0 : null;
  for (let c = 0; c < channels; c++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += kernel[i * channels + c];
    mean /= n;
    let m2 = 0;
    let m4 = 0;
    for (let i = 0; i < n; i++) {
      const dev = kernel[i * channels + c] - mean;
      m2 += dev * dev;
      m4 += dev * dev * dev * dev;
    }
    if (m2 === 0) continue; // a constant channel has no arrangement to judge
    for (let y = 0; y < kh; y++) {
      for (let x = 0; x < kw; x++) {
        const w = kernel[(y * kw + x) * channels + c];
        if (x + 1 < kw) d += (w - kernel[(y * kw + x + 1) * channels + c]) ** 2;
        if (y + 1 < kh) d += (w - kernel[((y + 1) * kw + x) * channels + c]) ** 2;
      }
    }
    const expected = (2 * g.pairs * m2) / (n - 1);
    e += expected;
    if (v !== null) v += expected * expected * gearyVariance(g, (n * m4) / (m2 * m2));
  }
  return { d, e, v };
}

/** Geary's C of the sums; 0 for a kernel whose channels are all constant (nothing varies). */
export function roughness(s: RoughnessSums): number {
  return s.e > 0 ? s.d / s.e : 0;
}

/** z of the sums under random arrangement; null when it is undefined (constant, n < 4). */
export function structureZ(s: RoughnessSums): number | null {
  if (s.e === 0 || s.v === null || !(s.v > 0)) return null;
  return (s.d - s.e) / Math.sqrt(s.v);
}

export function addSums(a: RoughnessSums, b: RoughnessSums): RoughnessSums {
  return { d: a.d + b.d, e: a.e + b.e, v: a.v === null || b.v === null ? null : a.v + b.v };
}

/**
 * Whether single filters of this shape can be told from noise: a moderately smooth filter
 * (C = 0.5) must lie `PER_FILTER_MIN_Z` null spreads below 1 for Gaussian-distributed weights.
 */
export function perFilterTestable(kh: number, kw: number, channels: number): boolean {
  const g = gridWeights(kh, kw);
  if (g.pairs === 0 || g.n < 4) return false;
  const spread = Math.sqrt(gearyVariance(g, 3) / channels);
  return 0.5 / spread >= PER_FILTER_MIN_Z;
}
