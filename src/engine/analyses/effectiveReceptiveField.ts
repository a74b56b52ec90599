/**
 * Effective receptive field (ERF, Luo et al. 2016, "Understanding the Effective Receptive Field in
 * Deep Convolutional Neural Networks"): how strongly each input pixel actually influences one
 * output unit, as opposed to the theoretical receptive field (which pixels it can see at all).
 *
 * For one unit — position (y, x) of a layer's output, one channel or all channels summed — the
 * gradient of the unit with respect to the input image is taken per image; its absolute value,
 * summed over the input's colour channels, is averaged over the images and scaled so the largest
 * value is 1. Luo et al. show this map is roughly Gaussian and fills only part of the theoretical
 * field; `radii` quantify that: the radius around the unit's theoretical-field centre that holds a
 * given fraction of the gradient mass, to put beside the theoretical size.
 *
 * Coordinates are input pixel indices (row, column), pixel i's centre at i, so a theoretical box
 * [top, left, bottom, right] (inclusive, `receptiveField.ts`) has its centre at the mean of its
 * edges. The gradient is exact (TF.js autodiff through `InspectableModel.run`, Layers models in
 * inference mode, Graph models through `GraphModel.execute`); images are processed
 * `ERF_BATCH_SIZE` at a time to bound the memory the backward pass holds.
 */
import * as tf from '@tensorflow/tfjs';
import type { InspectableModel, LayerNode } from '../model/inspectableModel';
import { findLayer } from '../model/inspectableModel';
import { isChannelsFirst } from './common';
import { receptiveField, unitReceptiveBox, type LayerReceptiveField, type ReceptiveFieldReport } from './receptiveField';

export interface ErfOptions {
  /** Output channel whose unit is followed; default: all channels summed. */
  channel?: number;
  /** Output position [y, x]; default the centre unit [⌊H/2⌋, ⌊W/2⌋]. */
  unit?: [number, number];
  /** Fractions of the gradient mass for `radii`; default [0.5, 0.9]. */
  fractions?: number[];
}

export interface ErfTheoretical {
  size: [number, number];
  stride: [number, number];
  padding: [number, number];
  /** [top, left, bottom, right], inclusive input pixels; may extend beyond the image. */
  box: [number, number, number, number];
}

export interface ErfResult {
  layer: string;
  /** The channel followed, or null for all channels summed. */
  channel: number | null;
  unit: [number, number];
  /** The layer's output [H, W]; [1, 1] for a layer without spatial axes (Dense), whose units are channels. */
  outputSize: [number, number];
  inputSize: [number, number];
  /** Images averaged (images whose gradient was not finite are left out, see `note`). */
  images: number;
  /** inputH*inputW, mean |d unit / d input| over the images (summed over input channels), scaled so max = 1; all 0 for a dead unit. */
  heatmap: Float32Array;
  /** Gradient-mass centre in input pixels [y, x]; NaN for a dead unit. */
  centre: [number, number];
  /** Euclidean radius (input pixels) around the theoretical RF centre of the unit holding that fraction of the gradient mass; NaN for a dead unit. */
  radii: { fraction: number; radius: number }[];
  theoretical?: ErfTheoretical;
  /** Images on which the unit's gradient was zero everywhere (the unit did not respond to them). */
  zeroGradientImages: number;
  /** Why the result is partial or empty: dead unit, non-finite gradients, no theoretical field. */
  note?: string;
}

/** Images per forward/backward pass. */
export const ERF_BATCH_SIZE = 8;
export const ERF_DEFAULT_FRACTIONS: readonly number[] = [0.5, 0.9];

type Inputs = AsyncIterable<tf.Tensor4D> | tf.Tensor4D[];

// ---------------------------------------------------------------------------------------------
// The unit followed

interface ErfTarget {
  layer: LayerNode;
  /** Output rank 4 (spatial map) or 2 (vector of units). */
  spatial: boolean;
  outputSize: [number, number];
  channels: number;
  channel: number | null;
  unit: [number, number];
}

function resolveTarget(model: InspectableModel, layerName: string, options: ErfOptions): ErfTarget {
  const layer = findLayer(model, layerName);
  const where = `${model.path}: layer "${layerName}"`;
  if (layer.inbound.length === 0) throw new Error(`${where} is the model's input; pick a layer after it`);
  const shape = layer.outputShape;
  const dims = shape.slice(1);
  if (dims.some((d) => d == null || d <= 0)) throw new Error(`${where} has output shape [${shape.join(', ')}] with unknown sizes`);
  let spatial: boolean;
  let outputSize: [number, number];
  let channels: number;
  if (shape.length === 4) {
    if (isChannelsFirst(layer)) throw new Error(`${where} is channels-first; the effective receptive field needs channels-last (NHWC) outputs`);
    spatial = true;
    outputSize = [shape[1]!, shape[2]!];
    channels = shape[3]!;
  } else if (shape.length === 2) {
    spatial = false;
    outputSize = [1, 1];
    channels = shape[1]!;
  } else {
    throw new Error(`${where} has output shape [${shape.join(', ')}]; the effective receptive field needs a feature map [H, W, C] or a vector of units`);
  }
  const channel = options.channel ?? null;
  if (channel !== null && (!Number.isInteger(channel) || channel < 0 || channel >= channels)) {
    throw new Error(`${where} has ${channels} ${spatial ? 'channels' : 'units'} (0…${channels - 1}); there is no ${spatial ? 'channel' : 'unit'} ${channel}`);
  }
  const unit: [number, number] = options.unit ?? [Math.floor(outputSize[0] / 2), Math.floor(outputSize[1] / 2)];
  if (unit.length !== 2 || unit.some((u, a) => !Number.isInteger(u) || u < 0 || u >= outputSize[a])) {
    throw new Error(`${where} has output positions 0…${outputSize[0] - 1} × 0…${outputSize[1] - 1}; there is no unit (${unit.join(', ')})`);
  }
  return { layer, spatial, outputSize, channels, channel, unit };
}

// ---------------------------------------------------------------------------------------------
// Gradient of the unit, per image

/** Σ over input channels of |d unit / d input| for each image: `n * H * W` values. */
function gradientMagnitude(model: InspectableModel, target: ErfTarget, x: tf.Tensor4D): Float32Array {
  const { unit, channel, spatial } = target;
  const objective = (t: tf.Tensor): tf.Scalar => {
    const [out] = model.run(t as tf.Tensor4D, [target.layer.name]);
    const picked = spatial
      ? out.slice([0, unit[0], unit[1], channel ?? 0], [-1, 1, 1, channel === null ? -1 : 1])
      : out.slice([0, channel ?? 0], [-1, channel === null ? -1 : 1]);
    // Images are independent (inference mode), so the gradient of the batch sum is per image.
    return picked.sum();
  };
  try {
    return tf.tidy(() => tf.grad(objective)(x).abs().sum(3).dataSync() as Float32Array);
  } catch (err) {
    const text = err instanceof Error ? err.message.split('\n')[0] : String(err);
    const hint = model.format === 'tfjs-graph' ? ' (a graph op on the path has no gradient in TF.js)' : '';
    throw new Error(`${model.path}: cannot take the gradient of layer "${target.layer.name}" with respect to the input${hint}: ${text}`);
  }
}

/** Running sums for one unit over the images seen so far. */
class ErfAccumulator {
  readonly sum: Float64Array;
  images = 0;
  zeroImages = 0;
  nonFiniteImages = 0;

  constructor(
    readonly model: InspectableModel,
    readonly target: ErfTarget,
  ) {
    this.sum = new Float64Array(model.input.height * model.input.width);
  }

  /**
   * Softmax outputs sum to 1 whatever the input, so "all channels summed" of a softmax layer has
   * no gradient (only rounding noise): skipped, and said so in the note.
   */
  get constantSum(): boolean {
    return this.target.channel === null && this.target.layer.activation === 'softmax';
  }

  add(x: tf.Tensor4D): void {
    const per = this.sum.length;
    if (this.constantSum) {
      this.images += x.shape[0];
      this.zeroImages += x.shape[0];
      return;
    }
    const g = gradientMagnitude(this.model, this.target, x);
    for (let i = 0; i < x.shape[0]; i++) {
      const image = g.subarray(i * per, (i + 1) * per);
      let total = 0;
      for (const v of image) total += v;
      if (!Number.isFinite(total)) {
        this.nonFiniteImages++;
        continue;
      }
      this.images++;
      if (total === 0) {
        this.zeroImages++;
        continue;
      }
      for (let p = 0; p < per; p++) this.sum[p] += image[p];
    }
  }

  finish(fractions: readonly number[], rf: ReceptiveFieldReport | string): ErfResult {
    const { height: h, width: w } = this.model.input;
    const { target } = this;
    const where = `unit (${target.unit.join(', ')})${target.channel === null ? '' : ` of ${target.spatial ? 'channel' : 'unit'} ${target.channel}`}`;
    const notes: string[] = [];

    let theoretical: ErfTheoretical | undefined;
    let rfCentre: [number, number] | undefined;
    if (typeof rf === 'string') notes.push(`no theoretical receptive field: ${rf}`);
    else {
      const entry: LayerReceptiveField | undefined = rf.layers.find((l) => l.name === target.layer.name);
      if (entry) {
        const box = unitReceptiveBox(entry, target.unit);
        theoretical = { size: [...entry.size], stride: [...entry.stride], padding: [...entry.padding], box };
        rfCentre = [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2];
      } else notes.push(`no theoretical receptive field for layer "${target.layer.name}"`);
    }

    let mass = 0;
    let max = 0;
    for (const v of this.sum) {
      mass += v;
      if (v > max) max = v;
    }
    const heatmap = new Float32Array(h * w);
    let centre: [number, number] = [NaN, NaN];
    let radii = fractions.map((fraction) => ({ fraction, radius: NaN }));
    if (this.nonFiniteImages > 0) notes.push(`${this.nonFiniteImages} image(s) left out: their gradient is not finite (NaN or ±∞)`);
    if (mass > 0) {
      let cy = 0;
      let cx = 0;
      for (let p = 0; p < h * w; p++) {
        heatmap[p] = this.sum[p] / max;
        cy += Math.floor(p / w) * this.sum[p];
        cx += (p % w) * this.sum[p];
      }
      centre = [cy / mass, cx / mass];
      // Without a theoretical field the gradient-mass centre stands in for its centre.
      radii = massRadii(this.sum, w, rfCentre ?? centre, mass, fractions);
      if (!rfCentre) notes.push('radii are measured around the gradient-mass centre');
      if (this.zeroImages > 0) {
        notes.push(`${where} has a zero gradient on ${this.zeroImages} of ${this.images} images (it did not respond to them); they count as zeros in the mean`);
      }
    } else if (this.constantSum) {
      notes.unshift(`layer "${target.layer.name}" is a softmax: its outputs always sum to 1, so their sum does not depend on the input; pick one channel`);
    } else if (this.images > 0) {
      notes.unshift(`${where} of layer "${target.layer.name}" has a zero gradient on all ${this.images} images: it never responds to them (a dead unit, e.g. a ReLU that never fires), so it has no effective receptive field`);
    } else {
      notes.unshift(`no usable images for ${where} of layer "${target.layer.name}"`);
    }

    return {
      layer: target.layer.name,
      channel: target.channel,
      unit: [...target.unit],
      outputSize: [...target.outputSize],
      inputSize: [h, w],
      images: this.images,
      heatmap,
      centre,
      radii,
      ...(theoretical ? { theoretical } : {}),
      zeroGradientImages: this.zeroImages,
      ...(notes.length ? { note: notes.join('; ') } : {}),
    };
  }
}

/**
 * For each fraction f: the smallest distance r from `centre` such that the pixels within r hold
 * at least f of `mass` (pixels sorted by distance; a relative 1e-9 slack absorbs rounding).
 */
export function massRadii(values: ArrayLike<number>, width: number, centre: [number, number], mass: number, fractions: readonly number[]): { fraction: number; radius: number }[] {
  const n = values.length;
  const dist = new Float64Array(n);
  const order = new Uint32Array(n);
  for (let p = 0; p < n; p++) {
    dist[p] = Math.hypot(Math.floor(p / width) - centre[0], (p % width) - centre[1]);
    order[p] = p;
  }
  order.sort((a, b) => dist[a] - dist[b]);
  return fractions.map((fraction) => {
    const goal = fraction * mass * (1 - 1e-9);
    let cum = 0;
    for (const p of order) {
      cum += values[p];
      if (cum >= goal) return { fraction, radius: dist[p] };
    }
    return { fraction, radius: dist[order[n - 1]] };
  });
}

// ---------------------------------------------------------------------------------------------
// Feeding images

function checkFractions(fractions: readonly number[]): void {
  for (const f of fractions) {
    if (!(f > 0 && f <= 1)) throw new Error(`ERF mass fraction ${f} is not in (0, 1]`);
  }
}

function checkInput(model: InspectableModel, x: tf.Tensor4D): void {
  const { height, width, channels } = model.input;
  const s = x.shape;
  if (s.length !== 4 || s[1] !== height || s[2] !== width || s[3] !== channels) {
    throw new Error(`${model.path}: input batch has shape [${s.join(', ')}]; the model takes [N, ${height}, ${width}, ${channels}]`);
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new Error('Cancelled');
}

/**
 * Runs `each` on every input batch, split into chunks of at most ERF_BATCH_SIZE images; checks
 * `signal` before each chunk. Input tensors stay the caller's (never disposed here).
 */
async function forEachChunk(model: InspectableModel, inputs: Inputs, signal: AbortSignal | undefined, each: (x: tf.Tensor4D) => void): Promise<void> {
  for await (const batch of inputs as AsyncIterable<tf.Tensor4D>) {
    checkInput(model, batch);
    const n = batch.shape[0];
    for (let start = 0; start < n; start += ERF_BATCH_SIZE) {
      throwIfAborted(signal);
      const size = Math.min(ERF_BATCH_SIZE, n - start);
      const chunk = size === n ? batch : batch.slice([start, 0, 0, 0], [size, -1, -1, -1]);
      try {
        each(chunk);
      } finally {
        if (chunk !== batch) chunk.dispose();
      }
      // Let a pending cancel message in between chunks (the compute itself is synchronous).
      await new Promise((r) => setImmediate(r));
    }
  }
  throwIfAborted(signal);
}

function theoreticalFields(model: InspectableModel): ReceptiveFieldReport | string {
  try {
    return receptiveField(model);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

// ---------------------------------------------------------------------------------------------
// Public API

/**
 * ERF of one unit of `layer` over the images in `inputs` (batches `[N, H, W, C]`, preprocessed
 * for the model; the caller keeps ownership of them). A dead unit gives an all-zero heat map,
 * NaN centre and radii, and a `note`; bad layer / channel / unit → an Error naming them.
 */
export async function effectiveReceptiveField(
  model: InspectableModel,
  layer: string,
  inputs: AsyncIterable<tf.Tensor4D> | tf.Tensor4D[],
  options: ErfOptions = {},
  signal?: AbortSignal,
): Promise<ErfResult> {
  const fractions = options.fractions ?? ERF_DEFAULT_FRACTIONS;
  checkFractions(fractions);
  const acc = new ErfAccumulator(model, resolveTarget(model, layer, options));
  await forEachChunk(model, inputs, signal, (x) => acc.add(x));
  if (acc.images + acc.nonFiniteImages === 0) throw new Error(`${model.path}: no images to compute the effective receptive field of layer "${layer}" on`);
  return acc.finish(fractions, theoreticalFields(model));
}

/** One row of the per-layer ERF table: the centre unit, all channels summed. */
export interface LayerErfRadii {
  layer: string;
  className: string;
  unit: [number, number];
  outputSize: [number, number];
  /** Theoretical receptive field size [h, w] in input pixels, when known. */
  theoreticalSize?: [number, number];
  /** ERF radii at the table's fractions (NaN for a layer whose centre unit never responds). */
  radii: { fraction: number; radius: number }[];
  centre: [number, number];
  zeroGradientImages: number;
  note?: string;
}

export interface ErfRadiiTable {
  model: string;
  inputSize: [number, number];
  images: number;
  fractions: number[];
  layers: LayerErfRadii[];
}

export interface ErfRadiiOptions {
  /** Layers to include; default every layer after the input whose output is a feature map [H, W, C]. */
  layers?: string[];
  fractions?: number[];
}

/** The layers of the ERF table by default: every non-input layer with a channels-last spatial output. */
export function spatialLayers(model: InspectableModel): string[] {
  return model.layers.filter((l) => l.inbound.length > 0 && l.outputShape.length === 4 && !isChannelsFirst(l)).map((l) => l.name);
}

/**
 * Per spatial layer, the ERF radii at the default fractions (centre unit, all channels summed),
 * for the model editor's receptive-field table: theoretical size beside effective radius. All
 * layers share each image batch (one gradient per layer per batch); heat maps are not returned.
 */
export async function erfRadiiPerLayer(
  model: InspectableModel,
  inputs: AsyncIterable<tf.Tensor4D> | tf.Tensor4D[],
  options: ErfRadiiOptions = {},
  signal?: AbortSignal,
): Promise<ErfRadiiTable> {
  const fractions = options.fractions ?? [...ERF_DEFAULT_FRACTIONS];
  checkFractions(fractions);
  const names = options.layers?.length ? options.layers : spatialLayers(model);
  const accs = names.map((name) => new ErfAccumulator(model, resolveTarget(model, name, {})));
  await forEachChunk(model, inputs, signal, (x) => {
    for (const acc of accs) {
      throwIfAborted(signal);
      acc.add(x);
    }
  });
  const images = accs[0] ? accs[0].images + accs[0].nonFiniteImages : 0;
  if (accs.length && images === 0) throw new Error(`${model.path}: no images to compute effective receptive fields on`);
  const rf = theoreticalFields(model);
  return {
    model: model.path,
    inputSize: [model.input.height, model.input.width],
    images,
    fractions: [...fractions],
    layers: accs.map((acc) => {
      const r = acc.finish(fractions, rf);
      return {
        layer: r.layer,
        className: acc.target.layer.className,
        unit: r.unit,
        outputSize: r.outputSize,
        ...(r.theoretical ? { theoreticalSize: r.theoretical.size } : {}),
        radii: r.radii,
        centre: r.centre,
        zeroGradientImages: r.zeroGradientImages,
        ...(r.note ? { note: r.note } : {}),
      };
    }),
  };
}
