/**
 * t-SNE with FFT-interpolated repulsion (src/engine/embedding/tsne.ts, fftRepulsion.ts): the
 * interpolated forces against the exact O(N²) sums (converging with the grid), well-separated
 * Gaussian clusters separated in 2-D, determinism for a seed, frames as fresh copies, and
 * cancellation. Speed is measured in bench/embed.ts, not here.
 */
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { FftRepulsion, exactRepulsion } from '../../src/engine/embedding/fftRepulsion';
import { attractiveForces, tsne, type TsneFrame } from '../../src/engine/embedding/tsne';
import { tsneAffinities } from '../../src/engine/embedding/tsne';
import { knnAccuracy } from '../../src/engine/embedding/quality';
import { normalRandom } from '../../src/engine/random';
import { assertNoLeak, useWasm } from './analysisFixtures';

before(useWasm);

/** `clusters` Gaussian blobs in `d` dimensions, centres 10 apart along different axes. */
function blobs(perCluster: number, clusters: number, d: number, seed: number): { x: Float32Array; labels: Int32Array; n: number } {
  const r = normalRandom(seed);
  const n = perCluster * clusters;
  const x = new Float32Array(n * d);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % clusters;
    labels[i] = c;
    for (let j = 0; j < d; j++) x[i * d + j] = r() + (j === c ? 10 : 0);
  }
  return { x, labels, n };
}

/** Relative L2 error of the normalised repulsive forces (what enters the gradient) and of Z. */
function repulsionError(y: Float64Array, n: number, rep: FftRepulsion): { force: number; z: number } {
  const exact = new Float64Array(2 * n);
  const fft = new Float64Array(2 * n);
  const ze = exactRepulsion(y, n, exact);
  const zf = rep.compute(y, n, fft);
  let num = 0;
  let den = 0;
  for (let i = 0; i < 2 * n; i++) {
    num += (exact[i] / ze - fft[i] / zf) ** 2;
    den += (exact[i] / ze) ** 2;
  }
  return { force: Math.sqrt(num / den), z: Math.abs(zf - ze) / ze };
}

test('FFT-interpolated repulsion matches the exact O(N²) forces and converges with the grid', async () => {
  // A real layout: t-SNE of 600 points in 10 clusters, stopped at 300 iterations (extent ≈ 30).
  const { x, n } = blobs(60, 10, 10, 1);
  const r = await tsne(x, n, 10, { iterations: 300, seed: 1 });
  const y = Float64Array.from(r.points);
  let width = 0;
  for (let i = 0; i < n; i++) width = Math.max(width, Math.abs(y[2 * i]), Math.abs(y[2 * i + 1]));
  assert.ok(width > 5, `layout spread ${width}`);

  // FIt-SNE's default resolution (3 nodes per unit box): about 1e-2.
  const coarse = repulsionError(y, n, new FftRepulsion({ maxFftSize: 4096 }));
  console.log(`# repulsion error vs exact, ${n} points, extent ±${width.toFixed(1)}: boxes of side 1 ${coarse.force.toExponential(2)} (Z ${coarse.z.toExponential(2)})`);
  assert.ok(coarse.force < 2e-2, `force error at FIt-SNE's resolution: ${coarse.force}`);
  assert.ok(coarse.z < 5e-3, `Z error: ${coarse.z}`);
  // Boxes of side 1/2 and 1/4: the error falls by about 2³ per halving (cubic interpolation).
  const fine = repulsionError(y, n, new FftRepulsion({ intervalWidth: 0.5, maxFftSize: 4096 }));
  const finer = repulsionError(y, n, new FftRepulsion({ intervalWidth: 0.25, maxFftSize: 4096 }));
  console.log(`#   side 1/2 ${fine.force.toExponential(2)}, side 1/4 ${finer.force.toExponential(2)}`);
  assert.ok(fine.force < 1e-2 && finer.force < 2e-3, `errors ${coarse.force} → ${fine.force} → ${finer.force}`);
  assert.ok(finer.force < fine.force && fine.force < coarse.force);

  // A tiny layout (the first iterations) is resolved to rounding error.
  const tiny = y.map((v) => v * 1e-4);
  assert.ok(repulsionError(tiny, n, new FftRepulsion()).force < 1e-9);
});

test('the full gradient with FFT repulsion agrees with the exact gradient', async () => {
  const { x, n } = blobs(40, 5, 8, 2);
  const aff = await tsneAffinities(x, n, 8, 20);
  const r = normalRandom(5);
  const y = Float64Array.from({ length: 2 * n }, () => r() * 3);
  const attr = new Float64Array(2 * n);
  attractiveForces(aff.p, y, attr);
  // Exact attraction by the dense double sum over P.
  const dense = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    for (let t = aff.p.rowPtr[i]; t < aff.p.rowPtr[i + 1]; t++) {
      const j = aff.p.cols[t];
      const dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
      const w = 1 / (1 + dx * dx + dy * dy);
      dense[2 * i] += aff.p.values[t] * w * dx;
      dense[2 * i + 1] += aff.p.values[t] * w * dy;
    }
  }
  for (let i = 0; i < 2 * n; i++) assert.ok(Math.abs(attr[i] - dense[i]) < 1e-15);
  const exact = new Float64Array(2 * n);
  const ze = exactRepulsion(y, n, exact);
  const gradientError = (rep: FftRepulsion): number => {
    const fft = new Float64Array(2 * n);
    const zf = rep.compute(y, n, fft);
    let num = 0, den = 0;
    for (let i = 0; i < 2 * n; i++) {
      const ge = 4 * (attr[i] - exact[i] / ze);
      const gf = 4 * (attr[i] - fft[i] / zf);
      num += (ge - gf) ** 2;
      den += ge * ge;
    }
    return Math.sqrt(num / den);
  };
  // A dense random layout (200 points within ±9) is the hard case for the interpolation.
  const atDefault = gradientError(new FftRepulsion());
  const atHalf = gradientError(new FftRepulsion({ intervalWidth: 0.5 }));
  console.log(`# full KL gradient error vs exact (random layout, ${n} points): boxes of side 1 ${atDefault.toExponential(2)}, 1/2 ${atHalf.toExponential(2)}`);
  assert.ok(atDefault < 5e-2, `gradient error ${atDefault}`);
  assert.ok(atHalf < 1e-2, `gradient error with boxes of side 1/2: ${atHalf}`);
});

test('t-SNE (FFT repulsion) separates well-separated Gaussian clusters (10-NN accuracy 1), no tensors left', async () => {
  const { x, labels, n } = blobs(80, 6, 12, 3);
  const baseline = tf.memory().numTensors;
  // 480 points would get exact repulsion by default; force the interpolation.
  const r = await tsne(x, n, 12, { seed: 7, exactRepulsionUpTo: 0 });
  assertNoLeak(baseline, 'tsne');
  assert.equal(r.points.length, 2 * n);
  assert.ok(r.points.every(Number.isFinite));
  assert.equal(knnAccuracy(r.points, labels, n, 10), 1);
  assert.equal(r.learningRate, 200); // auto: max(480 / 12, 200)
  assert.equal(r.iterations, 750);
});

test('same seed, same embedding; frames are fresh copies ending at the result; random init differs by seed', async () => {
  const { x, n } = blobs(30, 4, 6, 4);
  const frames: TsneFrame[] = [];
  const a = await tsne(x, n, 6, { iterations: 120, init: 'random', seed: 5 }, { onFrame: (f) => frames.push(f), frameIntervalMs: 0 });
  const b = await tsne(x, n, 6, { iterations: 120, init: 'random', seed: 5 });
  const c = await tsne(x, n, 6, { iterations: 120, init: 'random', seed: 6 });
  assert.deepEqual(Array.from(a.points), Array.from(b.points));
  assert.notDeepEqual(Array.from(a.points), Array.from(c.points));
  assert.equal(frames.length, 120);
  assert.deepEqual(frames.map((f) => f.iteration), Array.from({ length: 120 }, (_, i) => i + 1));
  assert.ok(frames.every((f) => f.iterations === 120 && f.points.length === 2 * n));
  assert.notEqual(frames[0].points.buffer, frames[1].points.buffer);
  assert.notDeepEqual(Array.from(frames[0].points), Array.from(frames[119].points));
  assert.deepEqual(Array.from(frames[119].points), Array.from(a.points));
  // PCA initialisation needs no seed: two runs agree too.
  const p1 = await tsne(x, n, 6, { iterations: 50 });
  const p2 = await tsne(x, n, 6, { iterations: 50, seed: 99 });
  assert.deepEqual(Array.from(p1.points), Array.from(p2.points));
});

test('cancellation stops the optimisation within an iteration', async () => {
  const { x, n } = blobs(50, 4, 6, 5);
  const controller = new AbortController();
  let last = 0;
  const run = tsne(x, n, 6, { iterations: 5000 }, {
    signal: controller.signal,
    frameIntervalMs: 0,
    onFrame: (f) => {
      last = f.iteration;
      if (f.iteration === 20) controller.abort();
    },
  });
  await assert.rejects(run, /Cancelled/);
  assert.equal(last, 20);
});

test('bad options are errors naming the option', async () => {
  const { x, n } = blobs(10, 2, 3, 6);
  await assert.rejects(tsne(x, n, 3, { iterations: 0 }), /iterations must be a whole number/);
  await assert.rejects(tsne(x, n, 3, { learningRate: -1 }), /learning rate must be > 0/);
  await assert.rejects(tsne(x, n, 3, { perplexity: 0 }), /perplexity must be > 0/);
  await assert.rejects(tsne(x, 5, 3), /expected 5×3/);
});
