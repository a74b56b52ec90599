/**
 * Helpers shared by the analyses' unit tests (summary, activations, filters, scan, evaluate):
 * backend start-up, wrapping hand-built TF.js models, batches, a seeded PRNG and a tensor-leak
 * check.
 */
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/engine/backend';
import { fromLayersModel } from '../../src/engine/model/layersModelAdapter';
import type { InspectableModel } from '../../src/engine/model/inspectableModel';
import type { Batch } from '../../src/engine/io/datasets/types';
import { uniformRandom } from '../../src/engine/random';

/** The analyses must pass on wasm (the engine's default backend in Node). */
export async function useWasm(): Promise<void> {
  const info = await initBackend('wasm');
  assert.equal(info.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
}

/**
 * Wraps a hand-built model. A `tf.Sequential` is re-expressed as the equivalent functional model
 * (same layers and weights) so the adapter sees `inputLayers` / `outputLayers` as for a loaded model.
 */
export function wrap(model: tf.LayersModel, name = 'test-model'): InspectableModel {
  const functional = model instanceof tf.Sequential ? tf.model({ inputs: model.inputs, outputs: model.outputs, name: model.name }) : model;
  return fromLayersModel(functional, `${name}.json`, 'tfjs-layers');
}

/** Sets a layer's weights from nested JS arrays, in `layer.weights` order. */
export function setWeights(layer: tf.layers.Layer, values: { data: number[]; shape: number[] }[]): void {
  const ts = values.map((v) => tf.tensor(v.data, v.shape));
  layer.setWeights(ts);
  ts.forEach((t) => t.dispose());
}

export function batchOf(images: Float32Array, count: number, labels?: number[], firstId = 0): Batch {
  return {
    images,
    count,
    ...(labels ? { labels: Int32Array.from(labels) } : {}),
    ids: Array.from({ length: count }, (_, i) => `img${firstId + i}`),
    skipped: [],
  };
}

/** Splits `count` images (each `per` floats) into batches of `size`. */
export function batchesOf(images: Float32Array, per: number, count: number, size: number, labels?: number[]): Batch[] {
  const out: Batch[] = [];
  for (let s = 0; s < count; s += size) {
    const n = Math.min(size, count - s);
    out.push(batchOf(images.slice(s * per, (s + n) * per), n, labels?.slice(s, s + n), s));
  }
  return out;
}

export async function* iterate<T>(items: T[]): AsyncIterable<T> {
  for (const it of items) yield it;
}

/** mulberry32: deterministic uniform [0, 1) (the engine's generator). */
export const seeded = uniformRandom;

/** Standard normal samples (Box–Muller over `seeded`). */
export function gaussian(seed: number): () => number {
  const u = seeded(seed);
  return () => Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u());
}

/** Asserts no tensor was leaked since `baseline` was taken. */
export function assertNoLeak(baseline: number, what: string): void {
  assert.equal(tf.memory().numTensors, baseline, `${what} leaked ${tf.memory().numTensors - baseline} tensor(s)`);
}

/** ‖actual − expected‖∞ / ‖expected‖∞: the relative error the kernel and training tests bound. */
export function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(actual.length, expected.length, 'length mismatch');
  let maxRef = 0;
  let maxDiff = 0;
  for (let i = 0; i < expected.length; i++) {
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
    maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
  }
  return maxDiff / Math.max(maxRef, 1e-30);
}

export function approx(actual: number, expected: number, tol = 1e-5, what = ''): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what} expected ${expected}, got ${actual} (tolerance ${tol})`);
}

export function approxArray(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5, what = ''): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) approx(actual[i], expected[i], tol, `${what}[${i}]`);
}
