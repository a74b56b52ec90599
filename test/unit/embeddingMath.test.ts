/**
 * The numerical pieces of the embeddings (src/engine/embedding/): exact kNN against brute force,
 * perplexity calibration (each row's entropy = log2 perplexity), the symmetrised P, PCA against a
 * decomposition known by construction (both eigen-solvers), and the quality figures on hand-made
 * layouts (trustworthiness 1 for an isometry, a known penalty for one swapped pair; 10-NN
 * accuracy by hand). Every TF.js step leaves tf.memory().numTensors at its baseline.
 */
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { exactKnn } from '../../src/engine/embedding/knn';
import { conditionalAffinities, neighboursForPerplexity, symmetrize } from '../../src/engine/embedding/affinities';
import { pca, topEigen } from '../../src/engine/embedding/pca';
import { symmetricEigen } from '../../src/engine/embedding/symmetricEigen';
import { knn2d, knnAccuracy, trustworthiness } from '../../src/engine/embedding/quality';
import { normalRandom, sampleIndices } from '../../src/engine/random';
import { assertNoLeak, useWasm } from './analysisFixtures';

before(useWasm);

function randomData(n: number, d: number, seed: number): Float32Array {
  const r = normalRandom(seed);
  return Float32Array.from({ length: n * d }, () => r());
}

function bruteForceKnn(x: ArrayLike<number>, n: number, d: number, k: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < n; i++) {
    const dist: [number, number][] = [];
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      let s = 0;
      for (let c = 0; c < d; c++) s += (x[i * d + c] - x[j * d + c]) ** 2;
      dist.push([s, j]);
    }
    dist.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    out.push(dist.slice(0, k).map((e) => e[1]));
  }
  return out;
}

test('exact kNN (TF.js blocks + topk) equals brute force and leaves no tensors', async () => {
  const n = 300, d = 7, k = 12;
  const x = randomData(n, d, 3);
  const baseline = tf.memory().numTensors;
  const g = await exactKnn(x, n, d, k);
  assertNoLeak(baseline, 'exactKnn');
  const ref = bruteForceKnn(x, n, d, k);
  for (let i = 0; i < n; i++) {
    assert.deepEqual(Array.from(g.indices.subarray(i * k, (i + 1) * k)), ref[i], `neighbours of point ${i}`);
    for (let c = 0; c < k; c++) {
      const j = ref[i][c];
      let s = 0;
      for (let e = 0; e < d; e++) s += (x[i * d + e] - x[j * d + e]) ** 2;
      assert.ok(Math.abs(g.distances[i * k + c] - Math.sqrt(s)) < 1e-4, `distance ${i}→${j}`);
    }
  }
});

test('kNN rejects impossible requests with a message', async () => {
  await assert.rejects(exactKnn(new Float32Array(10), 5, 2, 5), /cannot find 5 neighbours among 5 points/);
});

test('perplexity calibration: every row has entropy log2(perplexity) and sums to 1', async () => {
  const n = 400, d = 10;
  for (const perplexity of [5, 30]) {
    const k = neighboursForPerplexity(perplexity, n);
    assert.equal(k, 3 * perplexity);
    const knn = await exactKnn(randomData(n, d, 7), n, d, k);
    const p = conditionalAffinities(knn, perplexity);
    for (let i = 0; i < n; i++) {
      let sum = 0;
      let h = 0;
      for (let c = 0; c < k; c++) {
        const v = p[i * k + c];
        sum += v;
        if (v > 0) h -= v * Math.log2(v);
      }
      assert.ok(Math.abs(sum - 1) < 1e-12, `row ${i} sums to ${sum}`);
      assert.ok(Math.abs(h - Math.log2(perplexity)) < 1e-4, `row ${i}: entropy ${h} bits, want ${Math.log2(perplexity)}`);
      // Nearer neighbours get more probability.
      for (let c = 1; c < k; c++) assert.ok(p[i * k + c] <= p[i * k + c - 1] + 1e-15);
    }
  }
});

test('symmetrised P is symmetric, sums to 1 and has (p_j|i + p_i|j) / 2n entries', async () => {
  const n = 200, d = 5, perplexity = 10;
  const k = neighboursForPerplexity(perplexity, n);
  const knn = await exactKnn(randomData(n, d, 11), n, d, k);
  const cond = conditionalAffinities(knn, perplexity);
  const P = symmetrize(knn, cond);
  const dense = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let t = P.rowPtr[i]; t < P.rowPtr[i + 1]; t++) {
      if (t > P.rowPtr[i]) assert.ok(P.cols[t] > P.cols[t - 1], 'columns ascend within a row');
      dense[i * n + P.cols[t]] = P.values[t];
    }
  }
  let total = 0;
  for (let i = 0; i < n * n; i++) total += dense[i];
  assert.ok(Math.abs(total - 1) < 1e-12);
  const condDense = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) condDense[i * n + knn.indices[i * k + c]] = cond[i * k + c];
  for (let i = 0; i < n; i++) {
    assert.equal(dense[i * n + i], 0);
    for (let j = 0; j < n; j++) {
      assert.equal(dense[i * n + j], dense[j * n + i]);
      assert.ok(Math.abs(dense[i * n + j] - (condDense[i * n + j] + condDense[j * n + i]) / (2 * n)) < 1e-15);
    }
  }
});

/** n points whose sample covariance is exactly Q diag(s²) Qᵀ for a random orthonormal Q. */
function knownCovariance(n: number, d: number, stds: number[], seed: number): { x: Float32Array; q: number[][]; mean: number[] } {
  const r = normalRandom(seed);
  const k = stds.length;
  // Orthonormal Q (d × k) and centred Z (n × k) with orthonormal columns, by Gram–Schmidt.
  const orth = (rows: number, cols: number, centre: boolean): number[][] => {
    const m: number[][] = Array.from({ length: cols }, () => Array.from({ length: rows }, () => r()));
    for (let j = 0; j < cols; j++) {
      if (centre) {
        const mu = m[j].reduce((a, b) => a + b, 0) / rows;
        m[j] = m[j].map((v) => v - mu);
      }
      for (let l = 0; l < j; l++) {
        const dot = m[j].reduce((a, v, i) => a + v * m[l][i], 0);
        m[j] = m[j].map((v, i) => v - dot * m[l][i]);
      }
      const norm = Math.sqrt(m[j].reduce((a, v) => a + v * v, 0));
      m[j] = m[j].map((v) => v / norm);
    }
    return m;
  };
  const q = orth(d, k, false);
  const z = orth(n, k, true);
  const mean = Array.from({ length: d }, (_, i) => i * 0.5 - 3);
  const x = new Float32Array(n * d);
  const scale = Math.sqrt(n - 1);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < d; c++) {
      let v = mean[c];
      for (let j = 0; j < k; j++) v += z[j][i] * stds[j] * scale * q[j][c];
      x[i * d + c] = v;
    }
  }
  return { x, q, mean };
}

test('PCA recovers a decomposition known by construction (Jacobi path, d ≤ 64)', () => {
  const stds = [5, 3, 2, 1, 0.5];
  const { x, q, mean } = knownCovariance(500, 12, stds, 5);
  const baseline = tf.memory().numTensors;
  const p = pca(x, 500, 12, 3);
  assertNoLeak(baseline, 'pca');
  for (let j = 0; j < 3; j++) {
    assert.ok(Math.abs(p.variances[j] - stds[j] ** 2) < 1e-3 * stds[j] ** 2, `variance ${j}: ${p.variances[j]} vs ${stds[j] ** 2}`);
    let dot = 0;
    for (let c = 0; c < 12; c++) dot += p.components[j * 12 + c] * q[j][c];
    assert.ok(Math.abs(Math.abs(dot) - 1) < 1e-4, `component ${j} ⟂ expected axis: |cos| = ${Math.abs(dot)}`);
  }
  for (let c = 0; c < 12; c++) assert.ok(Math.abs(p.mean[c] - mean[c]) < 1e-4);
  // Projections have the component variances.
  for (let j = 0; j < 3; j++) {
    let s = 0;
    for (let i = 0; i < 500; i++) s += p.projected[i * 3 + j] ** 2;
    assert.ok(Math.abs(s / 499 - stds[j] ** 2) < 1e-3 * stds[j] ** 2);
  }
});

test('PCA by subspace iteration (d > 64) matches the full Jacobi decomposition', () => {
  const stds = Array.from({ length: 20 }, (_, i) => 10 / (i + 1));
  const d = 100;
  const { x, q } = knownCovariance(400, d, stds, 9);
  const p = pca(x, 400, d, 6);
  for (let j = 0; j < 6; j++) {
    assert.ok(Math.abs(p.variances[j] - stds[j] ** 2) < 1e-3 * stds[j] ** 2, `variance ${j}`);
    let dot = 0;
    for (let c = 0; c < d; c++) dot += p.components[j * d + c] * q[j][c];
    assert.ok(Math.abs(Math.abs(dot) - 1) < 1e-4, `component ${j}: |cos| = ${Math.abs(dot)}`);
  }
  // The iterative solver agrees with Jacobi on the same matrix.
  const m = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) m[i * d + j] = Math.exp(-Math.abs(i - j) / 10) + (i === j ? (i % 7) * 0.1 : 0);
  const full = symmetricEigen(m, d);
  const top = topEigen(m, d, 4, 1e-10);
  for (let j = 0; j < 4; j++) assert.ok(Math.abs(top.values[j] - full.values[j]) < 1e-8 * full.values[0], `eigenvalue ${j}`);
});

test('2-D kNN (bucket grid) equals brute force, clustered layout included', () => {
  const r = normalRandom(4);
  const n = 600;
  const pts = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    pts[2 * i] = c * 50 + r() * (c === 0 ? 0.01 : 3);
    pts[2 * i + 1] = r() * (c === 0 ? 0.01 : 3);
  }
  const nn = knn2d(pts, n, 10);
  const ref = bruteForceKnn(pts, n, 2, 10);
  for (let i = 0; i < n; i++) {
    // Same distances (ties may swap indices).
    const dist = (j: number) => (pts[2 * i] - pts[2 * j]) ** 2 + (pts[2 * i + 1] - pts[2 * j + 1]) ** 2;
    assert.deepEqual(Array.from(nn.subarray(i * 10, (i + 1) * 10), dist), ref[i].map(dist), `point ${i}`);
  }
});

test('10-NN accuracy on hand-made layouts: separated classes 1, interleaved 0, ties to the nearest', () => {
  // Two classes on two far-apart lines.
  const n = 40;
  const pts = new Float32Array(2 * n);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i < 20 ? 0 : 1;
    pts[2 * i] = i;
    pts[2 * i + 1] = i < 20 ? 0 : 1000;
  }
  assert.equal(knnAccuracy(pts, labels, n, 10), 1);
  // Alternating classes on a line: with k = 2 both nearest neighbours are of the other class.
  const line = new Float32Array(2 * 10);
  const alt = new Int32Array(10);
  for (let i = 0; i < 10; i++) {
    line[2 * i] = i;
    alt[i] = i % 2;
  }
  assert.equal(knnAccuracy(line, alt, 10, 2), 0);
  // k = 2 with a 1–1 tie goes to the nearer neighbour's class: points 0 (class 0), 1 (class 1) at
  // distance 1, 2 (class 0) at distance 3.
  const tie = Float32Array.from([0, 0, 1, 0, 3, 0]);
  const tieLabels = Int32Array.from([0, 1, 0]);
  // point 0: neighbours 1 (d 1, class 1) and 2 (d 3, class 0) → tie → class 1: wrong.
  // point 1: neighbours 0 (d 1, class 0), 2 (d 2, class 0) → class 0: wrong.
  // point 2: neighbours 1 (d 2, class 1), 0 (d 3, class 0) → tie → class 1: wrong.
  assert.equal(knnAccuracy(tie, tieLabels, 3, 2), 0);
});

test('trustworthiness: 1 for an isometry, exact penalty for one swapped pair, subsample reported', () => {
  const n = 60, d = 3;
  const high = randomData(n, d, 21);
  // 2-D data and a rotated, shifted copy of it.
  const flat = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    flat[2 * i] = high[i * d];
    flat[2 * i + 1] = high[i * d + 1];
  }
  const a = 0.7;
  const rotated = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    rotated[2 * i] = Math.cos(a) * flat[2 * i] - Math.sin(a) * flat[2 * i + 1] + 5;
    rotated[2 * i + 1] = Math.sin(a) * flat[2 * i] + Math.cos(a) * flat[2 * i + 1] - 2;
  }
  const baseline = tf.memory().numTensors;
  const t = trustworthiness(flat, rotated, n, 2, { k: 5 });
  assertNoLeak(baseline, 'trustworthiness');
  assert.ok(Math.abs(t.value - 1) < 1e-12, `isometry: ${t.value}`);
  assert.equal(t.sample, n);

  // Points on a line at 0..9 whose 2-D layout swaps the two ends: compared with the definition
  // (penalty = Σ over 2-D neighbours of max(0, high-D rank − k)) evaluated by brute force.
  const lineHigh = Float32Array.from({ length: 10 }, (_, i) => i);
  const lineLow = new Float32Array(20);
  for (let i = 0; i < 10; i++) lineLow[2 * i] = i === 0 ? 9 : i === 9 ? 0 : i;
  const k = 2;
  const t2 = trustworthiness(lineHigh, lineLow, 10, 1, { k });
  // Definition, by brute force.
  const lowNn = knn2d(lineLow, 10, k);
  let penalty = 0;
  for (let i = 0; i < 10; i++) {
    for (let c = 0; c < k; c++) {
      const j = lowNn[i * k + c];
      const dij = Math.abs(lineHigh[i] - lineHigh[j]);
      let rank = 1;
      for (let l = 0; l < 10; l++) if (l !== i && Math.abs(lineHigh[i] - lineHigh[l]) < dij) rank++;
      penalty += Math.max(0, rank - k);
    }
  }
  assert.ok(penalty > 0);
  const expected = 1 - (2 / (10 * k * (2 * 10 - 3 * k - 1))) * penalty;
  assert.ok(Math.abs(t2.value - expected) < 1e-12, `${t2.value} vs ${expected}`);
  assert.ok(t2.value < 1);

  // Above sampleSize the figure comes from a seeded subsample of that size.
  const big = randomData(500, 4, 8);
  const low = new Float32Array(1000);
  for (let i = 0; i < 500; i++) {
    low[2 * i] = big[i * 4];
    low[2 * i + 1] = big[i * 4 + 1];
  }
  const s1 = trustworthiness(big, low, 500, 4, { sampleSize: 200, seed: 3 });
  const s2 = trustworthiness(big, low, 500, 4, { sampleSize: 200, seed: 3 });
  assert.equal(s1.sample, 200);
  assert.equal(s1.value, s2.value);
  assert.ok(s1.value > 0.5 && s1.value < 1);
  assert.deepEqual(Array.from(sampleIndices(10, 4, 1)).every((v, i, arr) => i === 0 || v > arr[i - 1]), true);
});
