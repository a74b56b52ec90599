/**
 * Adapts a TF.js `LayersModel` (loaded from TF.js Layers JSON, or translated from Keras) to
 * `InspectableModel`. Intermediate outputs come from sub-models that share the original layers
 * (and so its weights); they are cached because building one walks the whole graph.
 */
import * as tf from '@tensorflow/tfjs';
import type { InputGeometry, InspectableModel, LayerNode, ModelFormat } from './inspectableModel';
import { findLayer } from './inspectableModel';

/** Activation applied by a layer, normalised to Keras' snake_case names. */
export function layerActivation(className: string, config: Record<string, unknown>): string | undefined {
  switch (className) {
    case 'ReLU': {
      // TF.js' getConfig() says maxValue / negativeSlope; Keras configs say max_value / negative_slope.
      const max = config.maxValue ?? config.max_value;
      const slope = Number(config.negativeSlope ?? config.negative_slope ?? 0);
      if (slope) return 'leaky_relu';
      return max != null && Number(max) === 6 ? 'relu6' : 'relu';
    }
    case 'LeakyReLU':
      return 'leaky_relu';
    case 'ELU':
      return 'elu';
    case 'PReLU':
      return 'prelu';
    case 'ThresholdedReLU':
      return 'thresholded_relu';
    case 'Softmax':
      return 'softmax';
  }
  const act = config.activation;
  if (typeof act === 'string') return toSnake(act);
  if (act && typeof act === 'object' && 'class_name' in act) return toSnake(String((act as { class_name: unknown }).class_name));
  return undefined;
}

function toSnake(name: string): string {
  // TF.js serialises activations in camelCase in some versions ("leakyRelu"); Keras uses snake_case.
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

function shapeList(shape: tf.Shape | tf.Shape[]): (number | null)[][] {
  if (shape.length > 0 && Array.isArray(shape[0])) return (shape as tf.Shape[]).map((s) => [...s]);
  return [[...(shape as tf.Shape)]];
}

function geometryOf(model: tf.LayersModel, file: string): InputGeometry {
  const shape = model.inputs[0].shape;
  if (shape.length !== 4) {
    throw new Error(`${file}: the model's input has shape [${shape.join(', ')}]; CNN Lens needs images [batch, height, width, channels]`);
  }
  const [, h, w, c] = shape;
  if (h == null || w == null || c == null) {
    throw new Error(`${file}: the model's input shape [${shape.join(', ')}] has an unknown height, width or channel count`);
  }
  return { height: h, width: w, channels: c };
}

/**
 * Index of the inbound node through which `layer` takes part in `model`. Usually 0, but a
 * nested model (e.g. a pretrained base called on the outer input) has its own internal node 0
 * (no inbound layers, wired to its own Input), and a shared layer has one node per call; the
 * container records which nodes are its own (`containerNodes`, keyed "<layer>_ib-<index>").
 */
function nodeIndexIn(model: tf.LayersModel, layer: tf.layers.Layer): number {
  const own = (model as unknown as { containerNodes?: Set<string> }).containerNodes;
  if (own) {
    for (let i = 0; i < layer.inboundNodes.length; i++) if (own.has(`${layer.name}_ib-${i}`)) return i;
  }
  return 0;
}

export function fromLayersModel(loaded: tf.LayersModel, file: string, format: ModelFormat): InspectableModel {
  // A Sequential keeps its graph in an inner model and reports no output layers of its own; the
  // equivalent functional model over the same layers (same weights) has the full graph.
  const model = loaded instanceof tf.Sequential ? tf.model({ inputs: loaded.inputs, outputs: loaded.outputs, name: loaded.name }) : loaded;
  const input = geometryOf(model, file);
  const byName = new Map<string, tf.layers.Layer>();
  const nodeIndex = new Map<string, number>();
  const nodes: LayerNode[] = [];

  for (const inLayer of model.inputLayers) {
    byName.set(inLayer.name, inLayer);
    nodes.push({
      name: inLayer.name,
      className: 'InputLayer',
      inbound: [],
      outputShape: [...(inLayer.outputShape as tf.Shape)],
      inputShapes: [],
      config: inLayer.getConfig() as Record<string, unknown>,
      weights: [],
    });
  }
  for (const layer of model.layers) {
    if (byName.has(layer.name)) continue;
    byName.set(layer.name, layer);
    const config = layer.getConfig() as Record<string, unknown>;
    const className = layer.getClassName();
    const index = nodeIndexIn(model, layer);
    nodeIndex.set(layer.name, index);
    const node = layer.inboundNodes[index];
    const inbound = node?.inboundLayers.map((l) => l.name) ?? [];
    nodes.push({
      name: layer.name,
      className,
      inbound,
      outputShape: shapeList(node ? node.outputShapes : layer.outputShape)[0],
      inputShapes: node ? shapeList(node.inputShapes) : [],
      activation: layerActivation(className, config),
      config,
      weights: layer.weights.map((w) => ({
        name: w.originalName.split('/').pop() ?? w.originalName,
        shape: w.shape.map((d) => d ?? -1),
        trainable: w.trainable,
      })),
    });
  }

  const outputLayer = model.outputLayers[0].name;
  const subModels = new Map<string, tf.LayersModel>();

  const inspectable: InspectableModel = {
    path: file,
    format,
    name: model.name,
    input,
    layers: nodes,
    outputLayer,
    layersModel: loaded,
    run(x: tf.Tensor4D, layerNames: readonly string[]): tf.Tensor[] {
      for (const n of layerNames) findLayer(inspectable, n);
      if (layerNames.length === 0) return [];
      const key = layerNames.join('\u0000');
      let sub = subModels.get(key);
      if (!sub) {
        const outputs = layerNames.map((n) => byName.get(n)!.getOutputAt(nodeIndex.get(n) ?? 0) as tf.SymbolicTensor);
        sub = tf.model({ inputs: model.inputs, outputs });
        if (subModels.size > 32) subModels.delete(subModels.keys().next().value as string);
        subModels.set(key, sub);
      }
      const out = sub.predict(x);
      return Array.isArray(out) ? out : [out];
    },
    layerWeights(layerName: string): tf.Tensor[] {
      findLayer(inspectable, layerName);
      return byName.get(layerName)!.weights.map((w) => w.read());
    },
    dispose(): void {
      subModels.clear();
      // Only the loaded model is disposed: the functional view and the sub-models share its layers,
      // and a layer's dispose() frees its weights on the first call and throws on a second.
      loaded.dispose();
    },
  };
  return inspectable;
}
