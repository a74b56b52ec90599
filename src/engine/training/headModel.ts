/**
 * The new classifier head as TF.js layers, and the model that is saved: the source model's
 * layers up to the cut (frozen, sharing the source's weights) with the head applied on the cut
 * layer's output. Training calls the head's layers directly on cached features; since they are
 * the same layer objects, the saved model carries the trained weights.
 */
import * as tf from '@tensorflow/tfjs';
import type { HeadLayerSpec } from './headSpec';
import { deriveSeed } from '../random';

/** The head's layers, built (weights initialised, seeded) for features of `featureShape`. */
export function buildHeadLayers(specs: HeadLayerSpec[], seed: number, featureShape: number[]): tf.layers.Layer[] {
  const layers = specs.map((s, i) =>
    s.className === 'Flatten'
      ? tf.layers.flatten({ name: s.name })
      : tf.layers.dense({
          name: s.name,
          units: s.units!,
          activation: s.activation,
          // Seeded, so the same seed gives the same head (Keras' defaults: Glorot-uniform, zero bias).
          kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(seed, 100 + i) }),
          biasInitializer: 'zeros',
        }),
  );
  // A symbolic call builds each layer inside its name scope, so its weights are saved as
  // "<layer>/kernel" (a bare `build()` would name them "kernel").
  let t = tf.input({ shape: featureShape });
  for (const layer of layers) t = layer.apply(t) as tf.SymbolicTensor;
  return layers;
}

/**
 * The head on concrete tensors (features in, softmax out), as the ops a Dense layer runs
 * (`fused.matMul` with bias and ReLU, then softmax) on the layers' own variables. Not
 * `layer.apply`: on the tiny tensors of a head, tfjs-layers' per-call bookkeeping costs more than
 * the arithmetic (bench/README.md, "Training"), and this runs once per batch and epoch.
 */
export function applyHead(layers: tf.layers.Layer[], x: tf.Tensor): tf.Tensor {
  let t = x;
  for (const layer of layers) {
    if (layer.getClassName() === 'Flatten') {
      t = tf.reshape(t, [t.shape[0], -1]);
      continue;
    }
    const { kernel, bias, activation } = denseParts(layer);
    t = tf.fused.matMul({ a: t as tf.Tensor2D, b: kernel, bias, activation: activation === 'relu' ? 'relu' : 'linear' });
    if (activation === 'softmax') t = tf.softmax(t);
  }
  return t;
}

/** A head Dense layer's variables (kernel, then bias: the order of its `trainableWeights`) and activation name. */
export function denseParts(layer: tf.layers.Layer): { kernel: tf.Tensor2D; bias: tf.Tensor1D; activation: string } {
  const [kernel, bias] = layer.weights.map((w) => w.read());
  const activation = (layer as unknown as { activation: { getClassName(): string } }).activation.getClassName();
  return { kernel: kernel as tf.Tensor2D, bias: bias as tf.Tensor1D, activation };
}

/** The output of layer `name` inside `model`, as a symbolic tensor to build on. */
function symbolicOutput(model: tf.LayersModel, name: string): tf.SymbolicTensor {
  const layer = model.getLayer(name);
  if (layer.inboundNodes.length !== 1) {
    throw new Error(`layer "${name}" is used ${layer.inboundNodes.length} times in the model (shared or nested); cut at another layer`);
  }
  return layer.output as tf.SymbolicTensor;
}

/**
 * base (up to `cutAt`) + head, as one functional model over the source's own layers. Builds the
 * head's weights. The source's layers up to the cut are marked non-trainable (saved so).
 */
export function attachHead(source: tf.LayersModel, cutAt: string, head: tf.layers.Layer[], name: string): tf.LayersModel {
  // A Sequential keeps its graph in an inner model; the functional view over the same layers has it.
  const graph = source instanceof tf.Sequential ? tf.model({ inputs: source.inputs, outputs: source.outputs }) : source;
  let t: tf.SymbolicTensor = symbolicOutput(graph, cutAt);
  for (const layer of head) t = layer.apply(t) as tf.SymbolicTensor;
  const full = tf.model({ inputs: graph.inputs, outputs: t, name });
  const headSet = new Set(head);
  for (const layer of full.layers) if (!headSet.has(layer)) layer.trainable = false;
  return full;
}

/**
 * Frees the weights of every layer given (and of nested models' layers), each once. Used instead
 * of `model.dispose()` when layers are shared by several models, where reference counting would
 * either leave weights behind or free them twice.
 */
export function disposeLayerWeights(layers: Iterable<tf.layers.Layer>): void {
  const seen = new Set<tf.LayerVariable>();
  const visit = (layer: tf.layers.Layer): void => {
    const nested = (layer as unknown as { layers?: tf.layers.Layer[] }).layers;
    if (Array.isArray(nested)) nested.forEach(visit);
    for (const w of layer.weights) {
      if (seen.has(w)) continue;
      seen.add(w);
      try {
        w.dispose();
      } catch {
        // already freed
      }
    }
  };
  for (const layer of layers) visit(layer);
}
