/**
 * Feature maps of chosen layers for a few images, with per-channel statistics.
 *
 * Values come back per image (NHWC without the batch dimension, or `[units]` for dense layers).
 * Statistics are per channel (last axis) over all images and positions: mean, max, min, the
 * fraction of exact zeros and the fraction ≤ 0. Whether a channel that is ≤ 0 everywhere counts
 * as "dead" depends on the activation that produced the tensor (see `activationPoints.ts`):
 * after leaky_relu / elu / linear a negative value is signal, so `deadApplicable` is false and
 * `deadChannels` stays empty.
 */
import * as tf from '@tensorflow/tfjs';
import type { InspectableModel, LayerNode } from '../model/inspectableModel';
import { findLayer } from '../model/inspectableModel';
import type { Batch } from '../io/datasets/types';
import { asBatchImages, imageCount, layerMap } from './common';
import { deadApplicability, nodeActivation } from './activationPoints';

export interface ChannelStats {
  mean: Float32Array;
  max: Float32Array;
  min: Float32Array;
  /** Fraction of values exactly 0. */
  zeroFraction: Float32Array;
  /** Fraction of values ≤ 0. */
  nonPositiveFraction: Float32Array;
}

export interface LayerActivations {
  layer: string;
  className: string;
  /** Shape of one image's output (batch dimension removed), e.g. `[H, W, C]` or `[units]`. */
  shape: number[];
  /** Channels (size of the last axis). */
  channels: number;
  /** The activation that produced this tensor, as far as it can be told (`linear` if none). */
  activation: string;
  deadApplicable: boolean;
  reason: string;
  /** One array per image (empty when `includeValues` is false). */
  values: Float32Array[];
  /** Per-channel statistics over all images and positions (outputs of rank ≥ 2). */
  stats?: ChannelStats;
  /** Channels that never output > 0 on these images — only when `deadApplicable`. */
  deadChannels: number[];
}

export interface ActivationsResult {
  images: number;
  layers: LayerActivations[];
}

export interface ActivationsOptions {
  /** Images run per forward pass (bounds backend memory). Default 16. */
  batchSize?: number;
  /** Return the per-image values (default true); false returns statistics only. */
  includeValues?: boolean;
}

/** Layers that keep the sign pattern (and exact zeros) of their single input. */
const SIGN_PRESERVING = new Set([
  'MaxPooling1D',
  'MaxPooling2D',
  'MaxPooling3D',
  'GlobalMaxPooling1D',
  'GlobalMaxPooling2D',
  'GlobalMaxPooling3D',
  'Dropout',
  'SpatialDropout1D',
  'SpatialDropout2D',
  'SpatialDropout3D',
  'Flatten',
  'Reshape',
  'ZeroPadding2D',
  'Cropping2D',
  'MaxPool',
  'Identity',
  'Squeeze',
]);

/** The activation behind a tensor: the layer's own, or inherited through max-pooling / reshapes. */
function tensorActivation(node: LayerNode, byName: Map<string, LayerNode>): string {
  let cur: LayerNode | undefined = node;
  for (let guard = 0; cur && guard < 64; guard++) {
    const act = nodeActivation(cur);
    if (act) return act;
    if (!SIGN_PRESERVING.has(cur.className) || cur.inbound.length !== 1) break;
    cur = byName.get(cur.inbound[0]);
  }
  return 'linear';
}

interface StatsAcc {
  sum: Float64Array;
  max: Float32Array;
  min: Float32Array;
  zeros: Float64Array;
  nonPos: Float64Array;
  countPerChannel: number;
}

function newStats(c: number): StatsAcc {
  return {
    sum: new Float64Array(c),
    max: new Float32Array(c).fill(-Infinity),
    min: new Float32Array(c).fill(Infinity),
    zeros: new Float64Array(c),
    nonPos: new Float64Array(c),
    countPerChannel: 0,
  };
}

function addStats(acc: StatsAcc, data: Float32Array, c: number): void {
  const { sum, max, min, zeros, nonPos } = acc;
  for (let i = 0, ch = 0; i < data.length; i++) {
    const v = data[i];
    sum[ch] += v;
    if (v > max[ch]) max[ch] = v;
    if (v < min[ch]) min[ch] = v;
    if (v <= 0) {
      nonPos[ch]++;
      if (v === 0) zeros[ch]++;
    }
    if (++ch === c) ch = 0;
  }
  acc.countPerChannel += data.length / c;
}

function finishStats(acc: StatsAcc, c: number): ChannelStats {
  const n = acc.countPerChannel || 1;
  const mean = new Float32Array(c);
  const zeroFraction = new Float32Array(c);
  const nonPositiveFraction = new Float32Array(c);
  for (let i = 0; i < c; i++) {
    mean[i] = acc.sum[i] / n;
    zeroFraction[i] = acc.zeros[i] / n;
    nonPositiveFraction[i] = acc.nonPos[i] / n;
  }
  return { mean, max: acc.max, min: acc.min, zeroFraction, nonPositiveFraction };
}

/**
 * Runs `images` through the model and returns the outputs of `layers` (in the order asked).
 * `images` is a `Batch` or a bare NHWC Float32Array of whole images at the model's input size.
 */
export async function activations(
  model: InspectableModel,
  images: Batch | Float32Array,
  layers: readonly string[],
  options: ActivationsOptions = {},
): Promise<ActivationsResult> {
  const { images: data, count } = asBatchImages(images);
  const n = imageCount(model, data, count);
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? 16));
  const includeValues = options.includeValues ?? true;
  const byName = layerMap(model);
  const nodes = layers.map((l) => findLayer(model, l));
  const { height, width, channels } = model.input;
  const perImage = height * width * channels;

  const results: LayerActivations[] = nodes.map((node) => {
    const activation = tensorActivation(node, byName);
    const app = deadApplicability(activation);
    return {
      layer: node.name,
      className: node.className,
      shape: [],
      channels: 0,
      activation,
      deadApplicable: app.applicable,
      reason: app.reason,
      values: [],
      deadChannels: [],
    };
  });
  const stats: (StatsAcc | undefined)[] = nodes.map(() => undefined);

  for (let start = 0; start < n; start += batchSize) {
    const m = Math.min(batchSize, n - start);
    const x = tf.tensor4d(data.subarray(start * perImage, (start + m) * perImage), [m, height, width, channels]);
    let outs: tf.Tensor[] = [];
    try {
      outs = layers.length ? model.run(x, layers) : [];
      for (let li = 0; li < outs.length; li++) {
        const out = outs[li];
        const shape = out.shape.slice(1);
        const r = results[li];
        const c = shape.length ? shape[shape.length - 1] : 1;
        r.shape = shape;
        r.channels = c;
        // Download outside any tidy: tidy would walk a returned typed array element by element.
        const values = (await out.data()) as Float32Array;
        const per = values.length / m;
        if (includeValues) {
          for (let i = 0; i < m; i++) r.values.push(values.slice(i * per, (i + 1) * per));
        }
        if (shape.length >= 1) {
          const acc = (stats[li] ??= newStats(c));
          addStats(acc, values, c);
        }
      }
    } finally {
      for (const t of outs) t.dispose();
      x.dispose();
    }
  }

  for (let li = 0; li < results.length; li++) {
    const r = results[li];
    const acc = stats[li];
    if (!acc || r.shape.length < 1) continue;
    r.stats = finishStats(acc, r.channels);
    if (r.deadApplicable) {
      for (let ch = 0; ch < r.channels; ch++) if (!(r.stats.max[ch] > 0)) r.deadChannels.push(ch);
    }
  }
  return { images: n, layers: results };
}
