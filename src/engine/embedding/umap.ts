/**
 * UMAP (McInnes, Healy & Melville 2018) through `umap-js`, fed with this engine's exact k-NN
 * graph (umap-js would otherwise run its own NN-descent on JS arrays) and a seeded random source,
 * stepped one epoch at a time so the caller gets frames and can cancel.
 */
import { UMAP } from 'umap-js';
import { exactKnn } from './knn';
import { uniformRandom } from '../random';

export interface UmapOptions {
  /** Neighbours per point, the point itself included (umap's n_neighbors). Default 15. */
  neighbors?: number;
  minDist?: number;
  /** Optimisation epochs; default umap-js's (500 below 2,500 points, down to 200 above 7,500). */
  iterations?: number;
  seed?: number;
}

export interface UmapHooks {
  signal?: AbortSignal;
  onProgress?(phase: 'neighbors' | 'optimize', done: number, total: number): void;
  onFrame?(frame: { iteration: number; iterations: number; points: Float32Array }): void;
  frameIntervalMs?: number;
}

function flatten(embedding: number[][]): Float32Array {
  const out = new Float32Array(embedding.length * 2);
  for (let i = 0; i < embedding.length; i++) {
    out[2 * i] = embedding[i][0];
    out[2 * i + 1] = embedding[i][1];
  }
  return out;
}

export async function umapEmbed(
  data: Float32Array,
  n: number,
  d: number,
  options: UmapOptions = {},
  hooks: UmapHooks = {},
): Promise<{ points: Float32Array; iterations: number; timings: { neighbors: number; optimize: number } }> {
  const neighbors = options.neighbors ?? 15;
  if (!(Number.isInteger(neighbors) && neighbors >= 2)) throw new Error(`UMAP: neighbors must be a whole number ≥ 2 (got ${neighbors})`);
  if (n <= neighbors) throw new Error(`UMAP needs more points than neighbors (${n} points, ${neighbors} neighbors)`);
  const t0 = performance.now();
  const knn = await exactKnn(data, n, d, neighbors - 1, { signal: hooks.signal, onProgress: (done, total) => hooks.onProgress?.('neighbors', done, total) });
  // umap-js expects each point as its own first neighbour at distance 0, like umap-learn.
  const knnIndices: number[][] = [];
  const knnDistances: number[][] = [];
  for (let i = 0; i < n; i++) {
    const idx = [i];
    const dist = [0];
    for (let c = 0; c < knn.k; c++) {
      idx.push(knn.indices[i * knn.k + c]);
      dist.push(knn.distances[i * knn.k + c]);
    }
    knnIndices.push(idx);
    knnDistances.push(dist);
  }
  const t1 = performance.now();
  const umap = new UMAP({
    nComponents: 2,
    nNeighbors: neighbors,
    minDist: options.minDist ?? 0.1,
    ...(options.iterations ? { nEpochs: options.iterations } : {}),
    random: uniformRandom(options.seed ?? 42),
  });
  umap.setPrecomputedKNN(knnIndices, knnDistances);
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) rows.push(Array.from(data.subarray(i * d, (i + 1) * d)));
  const epochs = umap.initializeFit(rows);
  const frameInterval = hooks.frameIntervalMs ?? 100;
  let lastFrame = performance.now();
  for (let e = 0; e < epochs; e++) {
    if (hooks.signal?.aborted) throw new Error('Cancelled');
    umap.step();
    const now = performance.now();
    if (e === epochs - 1 || now - lastFrame >= frameInterval) {
      lastFrame = now;
      hooks.onProgress?.('optimize', e + 1, epochs);
      hooks.onFrame?.({ iteration: e + 1, iterations: epochs, points: flatten(umap.getEmbedding()) });
    }
    await new Promise((r) => setImmediate(r));
  }
  return {
    points: flatten(umap.getEmbedding()),
    iterations: epochs,
    timings: { neighbors: (t1 - t0) / 1000, optimize: (performance.now() - t1) / 1000 },
  };
}
