/**
 * Seeded randomness for training: the split, the batch order, the augmentation. mulberry32 (the
 * generator the sample-training scripts use): tiny, fast, and the same sequence on every machine,
 * so a seed reproduces a run exactly.
 */

export type Rng = () => number;

/** A generator of floats in [0, 1) from a 32-bit seed. */
export function rng(seed: number): Rng {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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
