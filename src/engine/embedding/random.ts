/**
 * Seeded pseudo-random numbers for the embeddings, so a run with the same seed and data gives the
 * same picture (the view re-runs when only colours change; users compare runs).
 */

/** mulberry32: uniform in [0, 1), 2^32 period; fast and good enough for initialisation and sampling. */
export function uniformRandom(seed: number): () => number {
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
