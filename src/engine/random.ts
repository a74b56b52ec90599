/**
 * Seeded pseudo-random numbers for everything the engine randomises — t-SNE / PCA / UMAP
 * initialisation and sampling, the training split, batch order and augmentation — so a seed
 * reproduces a run exactly on every machine (users compare runs; tests assert exact results).
 */

export type Rng = () => number;

/** mulberry32: uniform in [0, 1), 2^32 period; fast and good enough for initialisation and sampling. */
export function uniformRandom(seed: number): Rng {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples (Box–Muller over `uniformRandom`). */
export function normalRandom(seed: number): () => number {
  const u = uniformRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** `count` distinct indices of `[0, n)` in increasing order (partial Fisher–Yates). */
export function sampleIndices(n: number, count: number, seed: number): Int32Array {
  if (count >= n) return Int32Array.from({ length: n }, (_, i) => i);
  const rand = uniformRandom(seed);
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rand() * (n - i));
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  return perm.slice(0, count).sort();
}

/** Fisher–Yates shuffle of `values` in place. */
export function shuffleInPlace<T extends { length: number; [i: number]: number }>(values: T, random: Rng): T {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = values[i];
    values[i] = values[j];
    values[j] = t;
  }
  return values;
}

/** A seed derived from a base seed and a purpose, so streams for different uses do not coincide. */
export function deriveSeed(seed: number, purpose: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(purpose + 1, 0xc2b2ae35)) >>> 0;
}
