/**
 * How faithful a 2-D embedding is:
 *
 * - 10-NN accuracy: leave-one-out majority vote of each point's k nearest neighbours in 2-D
 *   (ties go to the class whose member is nearest). How well classes separate on screen; the
 *   figure scikit-learn / openTSNE benchmarks report.
 * - Trustworthiness (Venna & Kaski 2001; scikit-learn's `trustworthiness`): penalises 2-D
 *   neighbours that are far apart in the original space, by how far down the high-dimensional
 *   ranking they sit. 1 = every 2-D neighbourhood is also a neighbourhood of the codes. It needs
 *   each point's rank of its 2-D neighbours among all points, O(N²): above `sampleSize` points
 *   it is computed exactly on a seeded random subsample (both spaces restricted to the sample).
 */
import * as tf from '@tensorflow/tfjs';
import { sampleIndices } from '../random';

/** Exact k nearest neighbours in 2-D (excluding the point itself), via a uniform bucket grid. */
export function knn2d(points: ArrayLike<number>, n: number, k: number): Int32Array {
  if (!(k >= 1 && k < n)) throw new Error(`2-D kNN: cannot find ${k} neighbours among ${n} points`);
  let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = points[2 * i], y = points[2 * i + 1];
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  // About two points per cell on average.
  const side = Math.max(1, Math.ceil(Math.sqrt(n / 2)));
  const cell = Math.max(maxX - minX, maxY - minY, 1e-12) / side;
  const cellOf = (v: number, lo: number) => Math.min(side - 1, Math.max(0, Math.floor((v - lo) / cell)));
  const start = new Int32Array(side * side + 1);
  const cx = new Int32Array(n);
  const cy = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    cx[i] = cellOf(points[2 * i], minX);
    cy[i] = cellOf(points[2 * i + 1], minY);
    start[cy[i] * side + cx[i] + 1]++;
  }
  for (let c = 0; c < side * side; c++) start[c + 1] += start[c];
  const fill = start.slice(0, side * side);
  const members = new Int32Array(n);
  for (let i = 0; i < n; i++) members[fill[cy[i] * side + cx[i]]++] = i;

  const out = new Int32Array(n * k);
  const bestD = new Float64Array(k);
  const bestI = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    const x = points[2 * i], y = points[2 * i + 1];
    let count = 0;
    const visit = (gx: number, gy: number) => {
      if (gx < 0 || gy < 0 || gx >= side || gy >= side) return;
      const c = gy * side + gx;
      for (let t = start[c]; t < start[c + 1]; t++) {
        const j = members[t];
        if (j === i) continue;
        const dx = points[2 * j] - x, dy = points[2 * j + 1] - y;
        const d = dx * dx + dy * dy;
        if (count === k && d >= bestD[k - 1]) continue;
        // Insertion into the sorted list of the best k (ties keep the lower index first).
        let p = count < k ? count++ : k - 1;
        while (p > 0 && (bestD[p - 1] > d || (bestD[p - 1] === d && bestI[p - 1] > j))) {
          bestD[p] = bestD[p - 1];
          bestI[p] = bestI[p - 1];
          p--;
        }
        bestD[p] = d;
        bestI[p] = j;
      }
    };
    for (let r = 0; ; r++) {
      if (r === 0) visit(cx[i], cy[i]);
      else {
        for (let t = -r; t <= r; t++) {
          visit(cx[i] + t, cy[i] - r);
          visit(cx[i] + t, cy[i] + r);
        }
        for (let t = -r + 1; t <= r - 1; t++) {
          visit(cx[i] - r, cy[i] + t);
          visit(cx[i] + r, cy[i] + t);
        }
      }
      // Every point outside rings 0..r is at least r cells away.
      if (count === k && bestD[k - 1] <= (r * cell) ** 2) break;
      if (r > side) break;
    }
    out.set(bestI, i * k);
  }
  return out;
}

/** Leave-one-out k-NN classification accuracy in 2-D (labels < 0 are unlabelled and skipped). */
export function knnAccuracy(points: ArrayLike<number>, labels: ArrayLike<number>, n: number, k = 10): number {
  const kk = Math.min(k, n - 1);
  if (kk < 1) return NaN;
  const nn = knn2d(points, n, kk);
  let classes = 0;
  for (let i = 0; i < n; i++) classes = Math.max(classes, labels[i] + 1);
  const votes = new Int32Array(classes);
  const first = new Int32Array(classes);
  let correct = 0;
  let counted = 0;
  for (let i = 0; i < n; i++) {
    if (labels[i] < 0) continue;
    votes.fill(0);
    first.fill(kk);
    for (let r = 0; r < kk; r++) {
      const c = labels[nn[i * kk + r]];
      if (c < 0) continue;
      votes[c]++;
      if (first[c] > r) first[c] = r;
    }
    let best = -1;
    for (let c = 0; c < classes; c++) {
      if (votes[c] === 0) continue;
      if (best < 0 || votes[c] > votes[best] || (votes[c] === votes[best] && first[c] < first[best])) best = c;
    }
    counted++;
    if (best === labels[i]) correct++;
  }
  return counted ? correct / counted : NaN;
}

export interface Trustworthiness {
  value: number;
  /** Points the value was computed on (n, or the subsample size). */
  sample: number;
}

/**
 * Trustworthiness of `low` (2-D, interleaved) against `high` (row-major n×d), neighbourhood
 * size k, exactly over all points when n ≤ sampleSize, else over a seeded subsample.
 */
export function trustworthiness(
  high: Float32Array,
  low: ArrayLike<number>,
  n: number,
  d: number,
  options: { k?: number; sampleSize?: number; seed?: number } = {},
): Trustworthiness {
  const sampleSize = options.sampleSize ?? 5000;
  const idx = sampleIndices(n, Math.min(n, sampleSize), options.seed ?? 0);
  const s = idx.length;
  // The normalisation 2 / (s k (2s − 3k − 1)) needs k < s / 2 (scikit-learn's condition).
  const k = Math.min(options.k ?? 10, Math.floor((s - 1) / 2));
  if (k < 1) return { value: 1, sample: s };
  const sub = new Float32Array(s * d);
  const sub2 = new Float32Array(2 * s);
  for (let a = 0; a < s; a++) {
    sub.set(high.subarray(idx[a] * d, (idx[a] + 1) * d), a * d);
    sub2[2 * a] = low[2 * idx[a]];
    sub2[2 * a + 1] = low[2 * idx[a] + 1];
  }
  const lowNn = knn2d(sub2, s, k);

  // High-dimensional squared distances, a block of rows at a time (centred for float32 accuracy).
  const mean = new Float64Array(d);
  for (let a = 0; a < s; a++) for (let j = 0; j < d; j++) mean[j] += sub[a * d + j];
  for (let j = 0; j < d; j++) {
    mean[j] /= s;
    for (let a = 0; a < s; a++) sub[a * d + j] -= mean[j];
  }
  const norms = new Float32Array(s);
  for (let a = 0; a < s; a++) {
    let v = 0;
    for (let j = 0; j < d; j++) v += sub[a * d + j] ** 2;
    norms[a] = v;
  }
  const block = Math.max(16, Math.min(1024, Math.floor(8_000_000 / s)));
  const x = tf.tensor2d(sub, [s, d]);
  const xt = tf.transpose(x);
  const sq = tf.tensor1d(norms);
  let penalty = 0;
  const thresholds = new Float64Array(k);
  const ranks = new Int32Array(k);
  try {
    for (let startRow = 0; startRow < s; startRow += block) {
      const rows = Math.min(block, s - startRow);
      const dist = tf.tidy(() => {
        const a = tf.slice(x, [startRow, 0], [rows, d]);
        const an = tf.slice(sq, [startRow], [rows]).reshape([rows, 1]);
        return tf.add(tf.sub(an, tf.mul(tf.matMul(a, xt), 2)), sq);
      });
      let dd: Float32Array;
      try {
        dd = dist.dataSync() as Float32Array;
      } finally {
        dist.dispose();
      }
      for (let r = 0; r < rows; r++) {
        const i = startRow + r;
        const o = r * s;
        for (let t = 0; t < k; t++) {
          thresholds[t] = dd[o + lowNn[i * k + t]];
          ranks[t] = 1;
        }
        // rank(j) = 1 + number of other points strictly closer to i than j is.
        for (let l = 0; l < s; l++) {
          if (l === i) continue;
          const v = dd[o + l];
          for (let t = 0; t < k; t++) if (v < thresholds[t]) ranks[t]++;
        }
        for (let t = 0; t < k; t++) if (ranks[t] > k) penalty += ranks[t] - k;
      }
    }
  } finally {
    x.dispose();
    xt.dispose();
    sq.dispose();
  }
  const value = 1 - (2 / (s * k * (2 * s - 3 * k - 1))) * penalty;
  return { value, sample: s };
}
