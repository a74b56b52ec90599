/**
 * Principal component analysis of N points in d dimensions: the PCA projection method, the
 * t-SNE initialisation, and the PCA-50 pre-reduction of raw pixels in the bench.
 *
 * The covariance matrix (N·d² multiply-adds, the only expensive step) is computed by TF.js in row
 * blocks; its top-k eigenvectors by subspace iteration with Rayleigh–Ritz (d² per iteration in
 * JS), which needs only k + a few vectors instead of a full d×d decomposition (d = 784 for
 * pixels). Signs are fixed (largest-magnitude entry positive) so results are deterministic.
 */
import * as tf from '@tensorflow/tfjs';
import { symmetricEigen } from './symmetricEigen';
import { normalRandom } from '../random';

export interface PcaResult {
  /** Per-dimension mean, `d` values. */
  mean: Float64Array;
  /** Principal axes, row-major `k × d` (row `i` is component `i`, unit length). */
  components: Float64Array;
  /** Variance along each component (eigenvalues of the covariance, decreasing). */
  variances: Float64Array;
  /** The centred data projected on the components, row-major `n × k`. */
  projected: Float32Array;
}

const ROW_BLOCK = 8192;

/** Sample covariance `(X − μ)ᵀ(X − μ) / (n − 1)` as a row-major d×d Float64Array. */
export function covariance(data: Float32Array, n: number, d: number, mean: Float64Array): Float64Array {
  const mu = tf.tensor1d(Float32Array.from(mean));
  let acc: tf.Tensor2D = tf.zeros([d, d]);
  try {
    for (let s = 0; s < n; s += ROW_BLOCK) {
      const rows = Math.min(ROW_BLOCK, n - s);
      const next = tf.tidy(() => {
        const block = tf.sub(tf.tensor2d(data.subarray(s * d, (s + rows) * d), [rows, d]), mu);
        // An explicit transpose: matMul(…, transposeA) is several times slower on wasm.
        return tf.add(acc, tf.matMul(tf.transpose(block), block)) as tf.Tensor2D;
      });
      acc.dispose();
      acc = next;
    }
    const raw = acc.dataSync();
    const out = new Float64Array(d * d);
    const denom = Math.max(1, n - 1);
    // Symmetrise: float32 accumulation leaves the two triangles a few ulps apart.
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) out[i * d + j] = (raw[i * d + j] + raw[j * d + i]) / (2 * denom);
    return out;
  } finally {
    acc.dispose();
    mu.dispose();
  }
}

/** Orthonormalises the b columns of a row-major d×b matrix in place (modified Gram–Schmidt, twice). */
function orthonormalizeColumns(q: Float64Array, d: number, b: number, rand: () => number): void {
  for (let pass = 0; pass < 2; pass++) {
    for (let j = 0; j < b; j++) {
      for (let l = 0; l < j; l++) {
        let dot = 0;
        for (let i = 0; i < d; i++) dot += q[i * b + j] * q[i * b + l];
        for (let i = 0; i < d; i++) q[i * b + j] -= dot * q[i * b + l];
      }
      let norm = 0;
      for (let i = 0; i < d; i++) norm += q[i * b + j] * q[i * b + j];
      norm = Math.sqrt(norm);
      if (norm < 1e-12) {
        // The column fell into the span of the others (rank-deficient covariance): restart it.
        for (let i = 0; i < d; i++) q[i * b + j] = rand();
        j--;
        continue;
      }
      for (let i = 0; i < d; i++) q[i * b + j] /= norm;
    }
  }
}

export interface TopEigen {
  values: Float64Array;
  /** Row-major k×d, one eigenvector per row. */
  vectors: Float64Array;
  iterations: number;
}

/**
 * Top-k eigenpairs of a symmetric positive semi-definite d×d matrix. Small matrices are
 * decomposed whole (Jacobi); larger ones by subspace iteration on k + max(8, k/2) vectors until
 * every wanted Ritz pair's residual ‖Cu − θu‖ is below `tol`·θ₁.
 */
export function topEigen(c: Float64Array, d: number, k: number, tol = 1e-6, maxIterations = 2000): TopEigen {
  if (k > d) throw new Error(`PCA: asked for ${k} components of ${d}-dimensional data`);
  const b = Math.min(d, k + Math.max(8, Math.ceil(k / 2)));
  if (d <= 64 || b === d) {
    const e = symmetricEigen(c, d);
    const vectors = new Float64Array(k * d);
    for (let j = 0; j < k; j++) for (let i = 0; i < d; i++) vectors[j * d + i] = e.vectors[i * d + j];
    return { values: e.values.slice(0, k), vectors, iterations: 0 };
  }
  const rand = normalRandom(0x9e3779b9);
  const q = new Float64Array(d * b);
  for (let i = 0; i < q.length; i++) q[i] = rand();
  orthonormalizeColumns(q, d, b, rand);
  const z = new Float64Array(d * b);
  const zw = new Float64Array(d * b);
  const u = new Float64Array(d * b);
  const h = new Float64Array(b * b);
  let theta: Float64Array = new Float64Array(b);
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    // z = C q
    z.fill(0);
    for (let i = 0; i < d; i++) {
      const zi = i * b;
      for (let l = 0; l < d; l++) {
        const cil = c[i * d + l];
        if (cil === 0) continue;
        const ql = l * b;
        for (let j = 0; j < b; j++) z[zi + j] += cil * q[ql + j];
      }
    }
    // h = qᵀ z (b×b, symmetric up to rounding)
    for (let a = 0; a < b; a++) {
      for (let e = a; e < b; e++) {
        let s = 0;
        for (let i = 0; i < d; i++) s += q[i * b + a] * z[i * b + e];
        h[a * b + e] = s;
        h[e * b + a] = s;
      }
    }
    const eig = symmetricEigen(h, b);
    theta = eig.values;
    // Ritz vectors u = q W and C u = z W.
    u.fill(0);
    zw.fill(0);
    for (let i = 0; i < d; i++) {
      for (let a = 0; a < b; a++) {
        const qia = q[i * b + a];
        const zia = z[i * b + a];
        for (let j = 0; j < b; j++) {
          const w = eig.vectors[a * b + j];
          u[i * b + j] += qia * w;
          zw[i * b + j] += zia * w;
        }
      }
    }
    let worst = 0;
    for (let j = 0; j < k; j++) {
      let r = 0;
      for (let i = 0; i < d; i++) {
        const e = zw[i * b + j] - theta[j] * u[i * b + j];
        r += e * e;
      }
      worst = Math.max(worst, Math.sqrt(r));
    }
    if (worst <= tol * Math.max(theta[0], Number.MIN_VALUE)) {
      q.set(u);
      break;
    }
    q.set(zw);
    orthonormalizeColumns(q, d, b, rand);
  }
  const vectors = new Float64Array(k * d);
  for (let j = 0; j < k; j++) for (let i = 0; i < d; i++) vectors[j * d + i] = q[i * b + j];
  return { values: theta.slice(0, k), vectors, iterations };
}

/** Makes each row's largest-magnitude entry positive (eigenvectors are defined up to sign). */
function fixSigns(vectors: Float64Array, k: number, d: number): void {
  for (let j = 0; j < k; j++) {
    let best = 0;
    for (let i = 1; i < d; i++) if (Math.abs(vectors[j * d + i]) > Math.abs(vectors[j * d + best])) best = i;
    if (vectors[j * d + best] < 0) for (let i = 0; i < d; i++) vectors[j * d + i] = -vectors[j * d + i];
  }
}

/** Projects the rows of `data` (n×d) on `components` (k×d) after subtracting `mean`; TF.js in row blocks. */
export function projectOnComponents(data: Float32Array, n: number, d: number, mean: Float64Array, components: Float64Array, k: number): Float32Array {
  const out = new Float32Array(n * k);
  const mu = tf.tensor1d(Float32Array.from(mean));
  // Components transposed on the host: matMul(…, transposeB) is slow on wasm.
  const wt = new Float32Array(d * k);
  for (let j = 0; j < k; j++) for (let i = 0; i < d; i++) wt[i * k + j] = components[j * d + i];
  const w = tf.tensor2d(wt, [d, k]);
  try {
    for (let s = 0; s < n; s += ROW_BLOCK) {
      const rows = Math.min(ROW_BLOCK, n - s);
      const block = tf.tidy(() => tf.matMul(tf.sub(tf.tensor2d(data.subarray(s * d, (s + rows) * d), [rows, d]), mu), w));
      try {
        out.set(block.dataSync() as Float32Array, s * k);
      } finally {
        block.dispose();
      }
    }
  } finally {
    mu.dispose();
    w.dispose();
  }
  return out;
}

/** PCA of the rows of `data` (row-major n×d), keeping `k` components. */
export function pca(data: Float32Array, n: number, d: number, k: number): PcaResult {
  if (data.length !== n * d) throw new Error(`PCA: expected ${n}×${d} = ${n * d} values, got ${data.length}`);
  if (n < 1) throw new Error('PCA: no points');
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += data[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  const c = covariance(data, n, d, mean);
  const top = topEigen(c, d, k);
  fixSigns(top.vectors, k, d);
  return { mean, components: top.vectors, variances: top.values, projected: projectOnComponents(data, n, d, mean, top.vectors, k) };
}
