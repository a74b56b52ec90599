/**
 * The one shape every analysis sees, whatever file format the model came from.
 *
 * Keras `.h5` and `.keras` files are translated to a TF.js Layers model on load, so they share
 * the Layers adapter (`fromLayersModel`); TF.js Graph models (converter output) have their own
 * adapter in `graphModelAdapter.ts`, where "layers" are graph nodes.
 */
import type * as tf from '@tensorflow/tfjs';

export type ModelFormat = 'tfjs-layers' | 'tfjs-graph' | 'keras-h5' | 'keras-v3';

/** Input image geometry the model expects: height, width, channels (1 = grey, 3 = RGB). */
export interface InputGeometry {
  height: number;
  width: number;
  channels: number;
}

export interface WeightInfo {
  /** Short name, e.g. "kernel", "bias", "gamma", "moving_mean". */
  name: string;
  shape: number[];
  trainable: boolean;
}

export interface LayerNode {
  name: string;
  /** Keras class name (`Conv2D`, `Dense`, ...) or, for graph models, the op (`Conv2D`, `Relu`, ...). */
  className: string;
  /** Names of the layers feeding this one (empty for inputs). */
  inbound: string[];
  /** Output shape including the batch dimension as `null`. First output only for multi-output layers. */
  outputShape: (number | null)[];
  /** Input shapes (one per inbound tensor), batch dimension as `null`. */
  inputShapes: (number | null)[][];
  /** The layer's own activation (`relu`, `linear`, ...); for activation layers, the function they apply. */
  activation?: string;
  /** The layer's serialised config (Keras / TF.js schema); for graph nodes, the node attributes. */
  config: Record<string, unknown>;
  weights: WeightInfo[];
}

export interface InspectableModel {
  readonly path: string;
  readonly format: ModelFormat;
  readonly name: string;
  readonly input: InputGeometry;
  /** Layers in topological order, including the input layer(s). */
  readonly layers: readonly LayerNode[];
  /** Name of the layer producing the model's (first) output. */
  readonly outputLayer: string;
  /**
   * Run a batch `[N, H, W, C]` (already preprocessed) and return the outputs of the named layers,
   * in the order asked. The caller owns (and must dispose) the returned tensors.
   */
  run(input: tf.Tensor4D, layerNames: readonly string[]): tf.Tensor[];
  /** The layer's weight tensors, in `layers[i].weights` order. Owned by the model: do not dispose. */
  layerWeights(layerName: string): tf.Tensor[];
  /** The underlying Layers model, when the format has one (needed for training). */
  readonly layersModel?: tf.LayersModel;
  dispose(): void;
}

/** Error raised for any problem with a model file; the message names the file. */
export class ModelLoadError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'ModelLoadError';
  }
}

export function findLayer(model: InspectableModel, name: string): LayerNode {
  const layer = model.layers.find((l) => l.name === name);
  if (!layer) {
    const names = model.layers.map((l) => l.name);
    const shown = names.length > 12 ? names.slice(0, 12).join(', ') + ', ...' : names.join(', ');
    throw new Error(`${model.path}: no layer named "${name}" (layers: ${shown})`);
  }
  return layer;
}
