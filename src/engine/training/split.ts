/**
 * The train / validation split: stratified (each class contributes the same fraction to the
 * validation set, so a small class is never left out of it) and seeded (the same data and seed
 * always give the same split, in every worker and on every run).
 */
import { uniformRandom, shuffleInPlace } from '../random';

export interface Split {
  /** Item indices, ascending. */
  train: Int32Array;
  validation: Int32Array;
}

/**
 * Splits items `0..labels.length-1` by class. Each class with n ≥ 2 items puts
 * round(n · fraction) of them, but at least 1 and at most n − 1, into validation.
 */
export function stratifiedSplit(labels: ArrayLike<number>, classes: number, fraction: number, seed: number): Split {
  const random = uniformRandom(seed);
  const train: number[] = [];
  const validation: number[] = [];
  for (let c = 0; c < classes; c++) {
    const members: number[] = [];
    for (let i = 0; i < labels.length; i++) if (labels[i] === c) members.push(i);
    if (members.length === 0) continue;
    shuffleInPlace(members, random);
    const n = members.length;
    const k = n < 2 ? 0 : Math.min(n - 1, Math.max(1, Math.round(n * fraction)));
    validation.push(...members.slice(0, k));
    train.push(...members.slice(k));
  }
  return { train: Int32Array.from(train).sort(), validation: Int32Array.from(validation).sort() };
}
