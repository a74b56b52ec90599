/**
 * Dead-filter scan over a dataset, as a mergeable accumulator so a pool of workers can each scan
 * a shard and the lead merges:
 *
 *     const acc = createScanAccumulator(model);              // in each worker
 *     for await (const b of shard) await accumulateBatch(acc, model, b);
 *     ... post acc (plain data) to the lead ...
 *     const result = finishScan(accs.reduce(mergeScanAccumulators), { dyingThreshold: 0.01 });
 *
 * For every unit (channel) of every conv/dense layer, taken after its activation (see
 * `activationPoints.ts`), the scan counts the images it fires on (its spatial maximum > 0 on
 * that image), and its mean (over images and positions) and maximum over the dataset.
 *
 * - dead  = fires on no scanned image;
 * - dying = fires on some, but on fewer than `dyingThreshold` of the images (dead units are not
 *   repeated in `dying`: the two lists are disjoint).
 * Both lists stay empty when the activation has no "off" state (leaky_relu, elu, linear, ...).
 *
 * Memory is bounded by the batch: one forward pass per batch returns all activation points, each
 * is reduced on the backend (max/mean over positions, then over the batch), and only per-unit
 * vectors are downloaded, in a single read.
 */
import * as tf from '@tensorflow/tfjs';
import type { InspectableModel } from '../model/inspectableModel';
import type { Batch } from '../io/datasets/types';
import { activationPoints } from './activationPoints';
import { batchTensor } from './common';

export interface ScanOptions {
  /** Conv/dense layers to scan (default: all of them). */
  layers?: readonly string[];
}

export interface ScanLayerAccumulator {
  name: string;
  className: string;
  /** Layer whose output is scanned (the tensor after the activation). */
  point: string;
  activation: string;
  units: number;
  channelAxis: number;
  deadApplicable: boolean;
  reason: string;
  /** Per unit: number of images on which the unit's spatial maximum was > 0. */
  fires: Float64Array;
  /** Per unit: sum over images of the unit's mean over positions. */
  sum: Float64Array;
  /** Per unit: maximum over all images and positions (−Infinity before any image). */
  max: Float64Array;
}

/** Plain data (typed arrays, strings, numbers): can be posted between workers as-is. */
export interface ScanAccumulator {
  kind: 'scan';
  model: string;
  images: number;
  layers: ScanLayerAccumulator[];
}

export interface ScanLayerResult {
  name: string;
  className: string;
  point: string;
  activation: string;
  units: number;
  deadApplicable: boolean;
  /** Why dead does (not) apply, and where the activation was found. */
  reason: string;
  /** Units that fired on no image. */
  dead: number[];
  /** Units that fired on some image but on fewer than `dyingThreshold` of them. */
  dying: number[];
  /** Per unit: images it fired on. */
  firingCount: number[];
  /** Per unit: `firingCount / images`. */
  firingRate: number[];
  /** Per unit: mean activation over images and positions. */
  mean: number[];
  /** Per unit: maximum activation over the dataset. */
  max: number[];
}

export interface ScanResult {
  images: number;
  dyingThreshold: number;
  layers: ScanLayerResult[];
}

export function createScanAccumulator(model: InspectableModel, options: ScanOptions = {}): ScanAccumulator {
  const points = activationPoints(model, options.layers);
  return {
    kind: 'scan',
    model: model.path,
    images: 0,
    layers: points.map((p) => ({
      name: p.layer,
      className: p.className,
      point: p.point,
      activation: p.activation,
      units: p.units,
      channelAxis: p.channelAxis,
      deadApplicable: p.deadApplicable,
      reason: p.reason,
      fires: new Float64Array(p.units),
      sum: new Float64Array(p.units),
      max: new Float64Array(p.units).fill(-Infinity),
    })),
  };
}

/**
 * One forward pass, reduced on the backend to `[fires, sum, max]` per unit for every scanned
 * layer, concatenated into one small 1-D tensor (the caller downloads and disposes it).
 */
function reduceBatch(acc: ScanAccumulator, model: InspectableModel, batch: Batch): tf.Tensor1D {
  const pointNames = [...new Set(acc.layers.map((l) => l.point))];
  const x = batchTensor(model, batch.images, batch.count);
  try {
    // Returns a tensor (never a typed array) from tidy: all intermediates are freed here.
    return tf.tidy(() => {
      const outs = model.run(x, pointNames);
      const parts: tf.Tensor1D[] = [];
      for (const layer of acc.layers) {
        const t = outs[pointNames.indexOf(layer.point)];
        const rank = t.rank;
        if (rank < 2) throw new Error(`${model.path}: output of "${layer.point}" has rank ${rank}; expected [batch, ..., units]`);
        const channelAxis = layer.channelAxis < rank ? layer.channelAxis : rank - 1;
        if (t.shape[channelAxis] !== layer.units) {
          throw new Error(`${model.path}: "${layer.point}" has ${t.shape[channelAxis]} units, the scan expected ${layer.units}`);
        }
        const axes: number[] = [];
        for (let a = 1; a < rank; a++) if (a !== channelAxis) axes.push(a);
        // [N, units]: per image, spatial max and spatial mean.
        let perImageMax: tf.Tensor2D;
        let perImageMean: tf.Tensor2D;
        if (rank === 4 && channelAxis === 3) {
          // NHWC: a max / average pool whose window is the whole map reduces H and W in one
          // pass with channels innermost. tf.max / tf.mean over axes [1, 2] first transpose the
          // whole activation to put the reduced axes last (on wasm 3-8x slower, see bench/).
          const [n, h, w, c] = t.shape as [number, number, number, number];
          const x4 = t as tf.Tensor4D;
          perImageMax = tf.reshape(tf.maxPool(x4, [h, w], [h, w], 'valid'), [n, c]);
          perImageMean = tf.reshape(tf.avgPool(x4, [h, w], [h, w], 'valid'), [n, c]);
        } else {
          perImageMax = (axes.length ? tf.max(t, axes) : t) as tf.Tensor2D;
          perImageMean = (axes.length ? tf.mean(t, axes) : t) as tf.Tensor2D;
        }
        parts.push(tf.sum(tf.cast(tf.greater(perImageMax, 0), 'float32'), 0) as tf.Tensor1D);
        parts.push(tf.sum(perImageMean, 0) as tf.Tensor1D);
        parts.push(tf.max(perImageMax, 0) as tf.Tensor1D);
      }
      return tf.concat1d(parts);
    });
  } finally {
    x.dispose();
  }
}

function applyReduced(acc: ScanAccumulator, data: Float32Array, count: number): void {
  let o = 0;
  for (const layer of acc.layers) {
    const u = layer.units;
    for (let i = 0; i < u; i++) layer.fires[i] += data[o + i];
    o += u;
    for (let i = 0; i < u; i++) layer.sum[i] += data[o + i];
    o += u;
    for (let i = 0; i < u; i++) if (data[o + i] > layer.max[i]) layer.max[i] = data[o + i];
    o += u;
  }
  acc.images += count;
}

/** Adds one batch to `acc` (mutated and returned). The download is asynchronous. */
export async function accumulateBatch(acc: ScanAccumulator, model: InspectableModel, batch: Batch): Promise<ScanAccumulator> {
  if (batch.count === 0 || acc.layers.length === 0) {
    acc.images += batch.count;
    return acc;
  }
  const packed = reduceBatch(acc, model, batch);
  let data: Float32Array;
  try {
    data = (await packed.data()) as Float32Array;
  } finally {
    packed.dispose();
  }
  applyReduced(acc, data, batch.count);
  return acc;
}

/** Combines two accumulators of the same model and layers into a new one (inputs untouched). */
export function mergeScanAccumulators(a: ScanAccumulator, b: ScanAccumulator): ScanAccumulator {
  if (a.layers.length !== b.layers.length) {
    throw new Error(`Cannot merge scans of different layer sets (${a.layers.length} vs ${b.layers.length} layers)`);
  }
  return {
    kind: 'scan',
    model: a.model,
    images: a.images + b.images,
    layers: a.layers.map((la, i) => {
      const lb = b.layers[i];
      if (la.name !== lb.name || la.units !== lb.units || la.point !== lb.point) {
        throw new Error(`Cannot merge scans: layer ${i} is "${la.name}" (${la.units} units) in one and "${lb.name}" (${lb.units} units) in the other`);
      }
      const fires = new Float64Array(la.units);
      const sum = new Float64Array(la.units);
      const max = new Float64Array(la.units);
      for (let u = 0; u < la.units; u++) {
        fires[u] = la.fires[u] + lb.fires[u];
        sum[u] = la.sum[u] + lb.sum[u];
        max[u] = Math.max(la.max[u], lb.max[u]);
      }
      return { ...la, fires, sum, max };
    }),
  };
}

export function finishScan(acc: ScanAccumulator, options: { dyingThreshold?: number } = {}): ScanResult {
  const dyingThreshold = options.dyingThreshold ?? 0.01;
  if (!(dyingThreshold >= 0 && dyingThreshold <= 1)) throw new Error(`dyingThreshold must be between 0 and 1 (got ${dyingThreshold})`);
  const n = acc.images;
  return {
    images: n,
    dyingThreshold,
    layers: acc.layers.map((l) => {
      const dead: number[] = [];
      const dying: number[] = [];
      const firingCount = Array.from(l.fires);
      const firingRate = firingCount.map((c) => (n > 0 ? c / n : 0));
      if (l.deadApplicable && n > 0) {
        for (let u = 0; u < l.units; u++) {
          if (firingCount[u] === 0) dead.push(u);
          else if (firingRate[u] < dyingThreshold) dying.push(u);
        }
      }
      return {
        name: l.name,
        className: l.className,
        point: l.point,
        activation: l.activation,
        units: l.units,
        deadApplicable: l.deadApplicable,
        reason: n > 0 ? l.reason : `${l.reason} (no images scanned)`,
        dead,
        dying,
        firingCount,
        firingRate,
        mean: Array.from(l.sum, (s) => (n > 0 ? s / n : 0)),
        max: Array.from(l.max, (m) => (n > 0 ? m : 0)),
      };
    }),
  };
}

export interface ScanRunOptions extends ScanOptions {
  dyingThreshold?: number;
  /** Stops between batches when aborted (the result covers the batches done so far). */
  signal?: AbortSignal;
  /** Called after each batch with the number of images scanned so far. */
  onProgress?: (images: number) => void;
}

/** Scans every batch of `batches` (one worker, no sharding) and returns the result. */
export async function scan(model: InspectableModel, batches: AsyncIterable<Batch>, options: ScanRunOptions = {}): Promise<ScanResult> {
  const acc = createScanAccumulator(model, options);
  for await (const batch of batches) {
    if (options.signal?.aborted) break;
    await accumulateBatch(acc, model, batch);
    options.onProgress?.(acc.images);
  }
  return finishScan(acc, { dyingThreshold: options.dyingThreshold });
}
