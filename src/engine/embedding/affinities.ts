/**
 * t-SNE input affinities over the k-nearest-neighbour graph (k = 3·perplexity, as in
 * Barnes-Hut / FIt-SNE / openTSNE): a Gaussian per point whose bandwidth is found by binary
 * search so the conditional distribution has the requested perplexity, then symmetrised,
 * P = (P_{j|i} + P_{i|j}) / 2N, stored as a sparse CSR matrix that sums to 1.
 */
import type { KnnGraph } from './knn';

export interface SparseAffinities {
  n: number;
  /** CSR row pointers, n + 1 entries. */
  rowPtr: Int32Array;
  /** Column of each stored entry, ascending within a row. */
  cols: Int32Array;
  /** P_ij of each stored entry (all entries sum to 1). */
  values: Float64Array;
}

/** Largest usable perplexity for n points (k = 3·perplexity neighbours must exist). */
export function effectivePerplexity(perplexity: number, n: number): number {
  if (!(perplexity > 0)) throw new Error(`t-SNE: perplexity must be > 0 (got ${perplexity})`);
  return Math.max(1, Math.min(perplexity, (n - 1) / 3));
}

/** Neighbours used for a perplexity (3·perplexity, at most n − 1). */
export function neighboursForPerplexity(perplexity: number, n: number): number {
  return Math.max(1, Math.min(n - 1, Math.floor(3 * perplexity)));
}

/**
 * P_{j|i} over each point's k neighbours (row-major n×k, rows sum to 1), from Euclidean
 * distances; the Gaussian is on squared distances. The binary search stops when the entropy is
 * within `tol` nats of log(perplexity).
 */
export function conditionalAffinities(knn: KnnGraph, perplexity: number, tol = 1e-5, maxSteps = 200): Float64Array {
  const { n, k, distances } = knn;
  const target = Math.log(Math.min(perplexity, k));
  const p = new Float64Array(n * k);
  const d2 = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    let dmin = Infinity;
    for (let j = 0; j < k; j++) {
      const dd = distances[i * k + j];
      d2[j] = dd * dd;
      if (d2[j] < dmin) dmin = d2[j];
    }
    // Shift by the nearest distance: the same P, without exp() underflowing for far-apart data.
    for (let j = 0; j < k; j++) d2[j] -= dmin;
    let beta = 1;
    let lo = 0;
    let hi = Infinity;
    let sum = 0;
    for (let step = 0; step < maxSteps; step++) {
      sum = 0;
      let weighted = 0;
      for (let j = 0; j < k; j++) {
        const e = Math.exp(-beta * d2[j]);
        p[i * k + j] = e;
        sum += e;
        weighted += d2[j] * e;
      }
      // H = log Σe + β Σ d²e / Σe (natural log)
      const h = Math.log(sum) + (beta * weighted) / sum;
      const diff = h - target;
      if (Math.abs(diff) < tol) break;
      if (diff > 0) {
        // Too flat: narrow the Gaussian.
        lo = beta;
        beta = hi === Infinity ? beta * 2 : (beta + hi) / 2;
      } else {
        hi = beta;
        beta = (beta + lo) / 2;
      }
    }
    for (let j = 0; j < k; j++) p[i * k + j] /= sum;
  }
  return p;
}

/** P = (P_{j|i} + P_{i|j}) / 2n as CSR; `conditional` is row-major n×k over `knn.indices`. */
export function symmetrize(knn: KnnGraph, conditional: Float64Array): SparseAffinities {
  const { n, k, indices } = knn;
  // Row i holds its own k neighbours plus every point that has i among its neighbours.
  const counts = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    counts[i + 1] += k;
    for (let c = 0; c < k; c++) counts[indices[i * k + c] + 1]++;
  }
  for (let i = 0; i < n; i++) counts[i + 1] += counts[i];
  const fill = counts.slice(0, n);
  const tmpCols = new Int32Array(counts[n]);
  const tmpVals = new Float64Array(counts[n]);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      const j = indices[i * k + c];
      const v = conditional[i * k + c];
      tmpCols[fill[i]] = j;
      tmpVals[fill[i]++] = v;
      tmpCols[fill[j]] = i;
      tmpVals[fill[j]++] = v;
    }
  }
  // Sort each row by column and merge duplicates (an edge present in both directions).
  const rowPtr = new Int32Array(n + 1);
  const cols = new Int32Array(counts[n]);
  const values = new Float64Array(counts[n]);
  let out = 0;
  const order: number[] = [];
  const scale = 1 / (2 * n);
  for (let i = 0; i < n; i++) {
    rowPtr[i] = out;
    const s = counts[i];
    const e = counts[i + 1];
    order.length = 0;
    for (let t = s; t < e; t++) order.push(t);
    order.sort((a, b) => tmpCols[a] - tmpCols[b]);
    let last = -1;
    for (const t of order) {
      const j = tmpCols[t];
      if (j === last) {
        values[out - 1] += tmpVals[t] * scale;
      } else {
        cols[out] = j;
        values[out++] = tmpVals[t] * scale;
        last = j;
      }
    }
  }
  rowPtr[n] = out;
  return { n, rowPtr, cols: cols.slice(0, out), values: values.slice(0, out) };
}
