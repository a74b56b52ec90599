/**
 * Roughness (Geary's C) and the noisy-filter test (src/engine/analyses/filterRoughness.ts):
 * hand-computed values, the randomisation moments against Monte-Carlo permutations, the test's
 * calibration on white noise, its power on smooth shapes, and its decisions against exact
 * permutation tests on the sample models' own filters.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { NOISY_Z, perFilterTestable, roughness, roughnessSums, structureZ } from '../../src/engine/analyses/filterRoughness';
import { normalRandom, shuffleInPlace, uniformRandom, type Rng } from '../../src/engine/random';
import { loadModel } from '../../src/engine/io/models';
import { approx, useWasm } from './analysisFixtures';

const root = path.resolve(__dirname, '../../..');

const C = (k: ArrayLike<number>, kh: number, kw: number, ch = 1): number => roughness(roughnessSums(k, kh, kw, ch)!);
const Z = (k: ArrayLike<number>, kh: number, kw: number, ch = 1): number | null => structureZ(roughnessSums(k, kh, kw, ch)!);

test('roughness: hand-computed values', () => {
  // Ramp 0..4: 12 neighbour pairs differ by 1 → D = 12; S = Σ (v − 2)² = 12; E = 2 · 12 · 12 / 8 = 36.
  const ramp = [0, 1, 2, 1, 2, 3, 2, 3, 4];
  approx(C(ramp, 3, 3), 1 / 3, 1e-12, 'ramp');
  // Sobel: D = 16, S = 12, E = 36 → 4/9.
  approx(C([-1, 0, 1, -2, 0, 2, -1, 0, 1], 3, 3), 4 / 9, 1e-12, 'sobel');
  // Laplacian and checkerboard: neighbours alternate, C = 1.8.
  approx(C([0, -1, 0, -1, 4, -1, 0, -1, 0], 3, 3), 1.8, 1e-12, 'laplacian');
  approx(C([1, -1, 1, -1, 1, -1, 1, -1, 1], 3, 3), 1.8, 1e-12, 'checkerboard');
  // A constant kernel is perfectly smooth and has no arrangement to test.
  assert.equal(C(new Array(9).fill(0.3), 3, 3), 0);
  assert.equal(Z(new Array(9).fill(0.3), 3, 3), null);
  // 1×1 kernels have no neighbour pairs; 1×3 kernels no defined variance (n < 4).
  assert.equal(roughnessSums([0.7, -0.2, 0.1], 1, 1, 3), null);
  assert.equal(Z([1, 2, 3], 1, 3), null);
  // An offset common to all weights is invisible in a min–max tile, and changes nothing here.
  approx(C(ramp.map((v) => v + 40), 3, 3), 1 / 3, 1e-9, 'offset ramp');
  approx(Z(ramp.map((v) => v + 40), 3, 3)!, Z(ramp, 3, 3)!, 1e-9, 'offset z');
  // Channels pool their sums: a smooth channel and its negative stay as smooth as one.
  const two = new Float64Array(18);
  for (let i = 0; i < 9; i++) [two[2 * i], two[2 * i + 1]] = [ramp[i], -ramp[i]];
  approx(C(two, 3, 3, 2), 1 / 3, 1e-12, 'two channels');
  assert.ok(Z(two, 3, 3, 2)! < Z(ramp, 3, 3)!, 'two smooth channels are stronger evidence than one');
});

/** `draws` random arrangements of `kernel`, each channel permuted on its own: their roughness. */
function permutedRoughness(kernel: ArrayLike<number>, kh: number, kw: number, ch: number, draws: number, random: Rng): Float64Array {
  const n = kh * kw;
  const columns = Array.from({ length: ch }, (_, c) => Float64Array.from({ length: n }, (_, i) => kernel[i * ch + c]));
  const buf = new Float64Array(n * ch);
  const out = new Float64Array(draws);
  for (let d = 0; d < draws; d++) {
    for (let c = 0; c < ch; c++) {
      shuffleInPlace(columns[c], random);
      for (let i = 0; i < n; i++) buf[i * ch + c] = columns[c][i];
    }
    out[d] = C(buf, kh, kw, ch);
  }
  return out;
}

test('the randomisation moments match Monte-Carlo permutations (mean 1, spread within 4 %)', () => {
  const random = uniformRandom(11);
  const heavy = normalRandom(12);
  for (const [kh, kw, ch] of [
    [3, 3, 1],
    [3, 3, 8],
    [5, 5, 1],
    [2, 2, 4],
  ]) {
    // Cubed normals: heavy tails, where the kurtosis term of the variance matters most.
    const kernel = Array.from({ length: kh * kw * ch }, () => heavy() ** 3);
    const s = roughnessSums(kernel, kh, kw, ch)!;
    const draws = permutedRoughness(kernel, kh, kw, ch, 20000, random);
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    const sd = Math.sqrt(draws.reduce((a, b) => a + (b - mean) ** 2, 0) / draws.length);
    approx(mean, 1, 0.01, `${kh}×${kw}×${ch} mean`);
    const predicted = Math.sqrt(s.v!) / s.e;
    assert.ok(Math.abs(sd / predicted - 1) < 0.04, `${kh}×${kw}×${ch}: Monte-Carlo spread ${sd}, formula ${predicted}`);
  }
});

test('white noise is judged noisy about 95 % of the time, at every kernel shape judged one by one', () => {
  const noise = normalRandom(2026);
  for (const [k, ch] of [
    [3, 2],
    [3, 32],
    [5, 1],
    [7, 1],
    [11, 3],
  ]) {
    assert.ok(perFilterTestable(k, k, ch));
    let noisy = 0;
    const trials = 4000;
    for (let t = 0; t < trials; t++) {
      const z = Z(Array.from({ length: k * k * ch }, noise), k, k, ch)!;
      if (Math.abs(z) < NOISY_Z) noisy++;
    }
    const share = noisy / trials;
    assert.ok(share > 0.93 && share < 0.975, `${k}×${k}×${ch}: ${share} of white-noise kernels noisy`);
  }
});

test('single-channel 3×3 kernels are judged as a layer only: even a clean ramp barely reaches significance', () => {
  assert.equal(perFilterTestable(3, 3, 1), false);
  assert.equal(perFilterTestable(1, 1, 64), false);
  assert.equal(perFilterTestable(1, 3, 64), false);
  assert.equal(perFilterTestable(3, 3, 2), true);
  assert.equal(perFilterTestable(5, 5, 1), true);
  const ramp = Z([0, 1, 2, 1, 2, 3, 2, 3, 4], 3, 3)!;
  const sobel = Z([-1, 0, 1, -2, 0, 2, -1, 0, 1], 3, 3)!;
  assert.ok(ramp > -3 && sobel > -2.5, `ramp z ${ramp}, sobel z ${sobel}`);
});

function grid(k: number, f: (x: number, y: number) => number): number[] {
  const c = (k - 1) / 2;
  const out: number[] = [];
  for (let y = 0; y < k; y++) for (let x = 0; x < k; x++) out.push(f(x - c, y - c));
  return out;
}

test('smooth shapes at a scale of a pixel or more are never noisy (5×5 and larger), whatever their orientation', () => {
  for (const k of [5, 7, 11]) {
    for (const sigma of [1, 1.5, 2, 3]) {
      const g = (x: number, y: number): number => Math.exp(-(x * x + y * y) / (2 * sigma * sigma));
      const shapes: [string, number[]][] = [[`blob σ${sigma}`, grid(k, g)]];
      for (let o = 0; o < 8; o++) {
        const th = (o * Math.PI) / 8;
        const u = (x: number, y: number): number => x * Math.cos(th) + y * Math.sin(th);
        shapes.push([`edge σ${sigma} θ${o}`, grid(k, (x, y) => -u(x, y) * g(x, y))]);
        shapes.push([`bar σ${sigma} θ${o}`, grid(k, (x, y) => Math.exp(-(u(x, y) ** 2) / (2 * sigma * sigma)))]);
        if (sigma >= 1.5) shapes.push([`gabor σ${sigma} θ${o}`, grid(k, (x, y) => g(x, y) * Math.cos((2 * Math.PI * u(x, y)) / (4 * sigma)))]);
      }
      for (const [name, w] of shapes) {
        const z = Z(w, k, k)!;
        assert.ok(z <= -NOISY_Z, `${k}×${k} ${name}: z ${z}`);
        assert.ok(C(w, k, k) < 0.6, `${k}×${k} ${name}: roughness ${C(w, k, k)}`);
      }
    }
  }
});

test("the normal approximation takes the exact permutation test's decision on the sample models' conv2 filters", async (t) => {
  await useWasm();
  const random = uniformRandom(5);
  for (const sample of ['fashion-mnist-cnn', 'fashion-mnist-cnn-high-lr']) {
    const model = await loadModel(path.join(root, 'samples', sample, 'model.json'));
    const kernel = model.layerWeights('conv2')[0];
    const [kh, kw, cin, cout] = kernel.shape;
    const raw = kernel.dataSync();
    let same = 0;
    const judged = 24;
    for (let f = 0; f < judged; f++) {
      const w = Float64Array.from({ length: kh * kw * cin }, (_, i) => raw[i * cout + f]);
      const observed = C(w, kh, kw, cin);
      const draws = permutedRoughness(w, kh, kw, cin, 1000, random);
      const below = draws.filter((d) => d <= observed).length / draws.length;
      const above = draws.filter((d) => d >= observed).length / draws.length;
      const exactNoisy = 2 * Math.min(below, above) >= 0.05;
      if (exactNoisy === Math.abs(Z(w, kh, kw, cin)!) < NOISY_Z) same++;
    }
    t.diagnostic(`${sample}: ${same} of ${judged} decisions the same`);
    assert.ok(same >= judged - 2, `${sample}: only ${same} of ${judged} decisions agree with the permutation test`);
    model.dispose();
  }
});
