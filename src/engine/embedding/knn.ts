/**
 * Exact k-nearest neighbours (Euclidean) of N points in d dimensions, for the t-SNE affinities
 * and the UMAP graph.
 *
 * Brute force on TF.js in blocks of rows: for a block A of centred points, `2·A·Xᵀ − ‖x‖²` ranks
 * every point x by distance (‖a‖² is constant per row), `tf.topk` keeps the k + 1 best, and only
 * those are downloaded. Measured on this project's 2-core VM (wasm backend, one thread,
 * bench/embed.ts): 10,000 × 128 in 2–4 s, 50,000 × 128 in 65–70 s — half of a 50k t-SNE, but
 * within its 5-minute budget, so an approximate index (and its recall loss) is not needed.
 */
import * as tf from '@tensorflow/tfjs';

export interface KnnGraph {
  n: number;
  k: number;
  /** Row-major n×k neighbour indices, nearest first; a point is never its own neighbour. */
  indices: Int32Array;
  /** Row-major n×k Euclidean distances (not squared), ascending per row. */
  distances: Float32Array;
}

export interface KnnHooks {
  signal?: AbortSignal;
  /** Rows done so far, of n. */
  onProgress?(done: number, total: number): void;
}

/** Floats of the block × n score matrix kept on the backend at once (~64 MB). */
const BLOCK_FLOATS = 16_000_000;

export async function exactKnn(data: Float32Array, n: number, d: number, k: number, hooks: KnnHooks = {}): Promise<KnnGraph> {
  if (data.length !== n * d) throw new Error(`kNN: expected ${n}×${d} = ${n * d} values, got ${data.length}`);
  if (!(k >= 1 && k < n)) throw new Error(`kNN: cannot find ${k} neighbours among ${n} points`);
  // Centre first: ‖a‖² + ‖b‖² − 2ab loses precision in float32 when the norms dwarf the distances.
  const centred = new Float32Array(data.length);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += data[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const v = data[i * d + j] - mean[j];
      centred[i * d + j] = v;
      s += v * v;
    }
    norms[i] = s;
  }
  const kk = Math.min(n, k + 1);
  const block = Math.max(32, Math.min(1024, Math.floor(BLOCK_FLOATS / n)));
  const indices = new Int32Array(n * k);
  const distances = new Float32Array(n * k);
  const x = tf.tensor2d(centred, [n, d]);
  // A·Xᵀ with Xᵀ materialised is several times faster on wasm than matMul(…, transposeB).
  const xt = tf.transpose(x);
  const sq = tf.tensor1d(Float32Array.from(norms));
  try {
    for (let start = 0; start < n; start += block) {
      if (hooks.signal?.aborted) throw new Error('Cancelled');
      const rows = Math.min(block, n - start);
      const top = tf.tidy(() => {
        const a = tf.slice(x, [start, 0], [rows, d]);
        const scores = tf.sub(tf.mul(tf.matMul(a, xt), 2), sq);
        return tf.topk(scores, kk, true);
      });
      let vals: Float32Array;
      let idx: Int32Array;
      try {
        [vals, idx] = (await Promise.all([top.values.data(), top.indices.data()])) as [Float32Array, Int32Array];
      } finally {
        top.values.dispose();
        top.indices.dispose();
      }
      for (let r = 0; r < rows; r++) {
        const i = start + r;
        let out = 0;
        for (let c = 0; c < kk && out < k; c++) {
          const j = idx[r * kk + c];
          if (j === i) continue;
          indices[i * k + out] = j;
          distances[i * k + out] = Math.sqrt(Math.max(0, norms[i] - vals[r * kk + c]));
          out++;
        }
      }
      hooks.onProgress?.(start + rows, n);
    }
  } finally {
    x.dispose();
    xt.dispose();
    sq.dispose();
  }
  return { n, k, indices, distances };
}
