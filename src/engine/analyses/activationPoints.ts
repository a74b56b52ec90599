/**
 * Where is a conv/dense layer's output "after its activation"?
 *
 * - If the layer applies an activation itself (`Conv2D(activation='relu')`), its own output.
 * - If it is linear, follow the unique chain of consumers through layers that are the identity
 *   or a per-channel affine map at inference (BatchNormalization, Dropout variants, linear
 *   Activation; for graph models BiasAdd, FusedBatchNorm*, Identity, Add/Mul with a constant)
 *   to the first activation layer (Activation, ReLU, LeakyReLU, ELU, PReLU, ThresholdedReLU,
 *   Softmax; graph ops Relu, Relu6, LeakyRelu, Elu, Sigmoid, ...). The chain stops, with
 *   activation `linear`, at a branch (several consumers) or a merge (Add, Concatenate, ...).
 *
 * "Dead" is only meaningful for activations that output exactly 0 when a unit is off: relu,
 * relu6, thresholded_relu. For leaky_relu / elu / selu / prelu a negative output still carries
 * signal, and linear / tanh / sigmoid / softmax / ... never switch off, so such units are never
 * reported dead; `reason` says why.
 */
import type { InspectableModel, LayerNode } from '../model/inspectableModel';
import { cfg, cfgStrings, consumersOf, isChannelsFirst, layerMap } from './common';

export interface ActivationPoint {
  /** The conv/dense layer. */
  layer: string;
  className: string;
  /** The layer whose output is the tensor after the activation (may be `layer` itself). */
  point: string;
  /** Layers from `layer` to `point`, both included. */
  chain: string[];
  /** Activation applied at `point`, snake_case (`relu`, `leaky_relu`, `linear`, ...). */
  activation: string;
  /** Number of units (output channels / dense units). 0 if the shape is unknown. */
  units: number;
  /** Axis of the units in the point's output shape (batch included): last, or 1 for channels_first. */
  channelAxis: number;
  /** Whether "dead" (never positive) is meaningful for this activation. */
  deadApplicable: boolean;
  /** Human-readable explanation of `activation` / `deadApplicable`. */
  reason: string;
}

const KERAS_UNIT_LAYERS = new Set([
  'Conv1D',
  'Conv2D',
  'Conv3D',
  'Conv2DTranspose',
  'Conv3DTranspose',
  'DepthwiseConv2D',
  'SeparableConv1D',
  'SeparableConv2D',
  'Dense',
]);

const GRAPH_UNIT_OPS = new Set([
  'Conv2D',
  '_FusedConv2D',
  'FusedConv2D',
  'Conv3D',
  'Conv2DBackpropInput',
  'DepthwiseConv2dNative',
  'FusedDepthwiseConv2dNative',
  'MatMul',
  '_FusedMatMul',
  'FusedMatMul',
]);

/** Keras layers that are the identity, or a per-channel affine map, at inference time. */
const KERAS_PASS_THROUGH = new Set([
  'BatchNormalization',
  'Dropout',
  'SpatialDropout1D',
  'SpatialDropout2D',
  'SpatialDropout3D',
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
]);

const GRAPH_PASS_THROUGH = new Set(['BiasAdd', 'FusedBatchNorm', 'FusedBatchNormV2', 'FusedBatchNormV3', 'Identity']);
/** Graph binary ops that are a per-channel affine step when the other operand is a constant. */
const GRAPH_AFFINE_WITH_CONST = new Set(['Add', 'AddV2', 'Sub', 'Mul']);

const KERAS_ACTIVATION_LAYERS = new Set(['Activation', 'ReLU', 'LeakyReLU', 'ELU', 'PReLU', 'ThresholdedReLU', 'Softmax']);

const GRAPH_ACTIVATION_OPS: Record<string, string> = {
  Relu: 'relu',
  Relu6: 'relu6',
  LeakyRelu: 'leaky_relu',
  Elu: 'elu',
  Selu: 'selu',
  Prelu: 'prelu',
  Sigmoid: 'sigmoid',
  Tanh: 'tanh',
  Softmax: 'softmax',
  Softplus: 'softplus',
  Softsign: 'softsign',
};

const DEAD_APPLICABLE = new Set(['relu', 'relu6', 'thresholded_relu']);
const NEGATIVE_CARRIES_SIGNAL = new Set(['leaky_relu', 'elu', 'selu', 'prelu', 'gelu', 'swish', 'silu', 'mish']);

/** True for the layers whose units the analyses track: convolutions and dense layers. */
export function isUnitLayer(node: LayerNode): boolean {
  return KERAS_UNIT_LAYERS.has(node.className) || GRAPH_UNIT_OPS.has(node.className);
}

/** Is "dead" meaningful for this activation, and why (not). */
export function deadApplicability(activation: string): { applicable: boolean; reason: string } {
  if (DEAD_APPLICABLE.has(activation)) {
    return { applicable: true, reason: `${activation} outputs exactly 0 when a unit is off, so a unit that never outputs > 0 is dead` };
  }
  if (activation === 'linear') {
    return { applicable: false, reason: 'no activation follows: the output can take any value, so a unit is never "off"' };
  }
  if (NEGATIVE_CARRIES_SIGNAL.has(activation)) {
    return {
      applicable: false,
      reason: `${activation} passes negative inputs on (scaled), so a negative output still carries signal and the unit is never dead`,
    };
  }
  return { applicable: false, reason: `${activation} does not output an exact 0 for inactive units, so "dead" does not apply` };
}

function positiveNumber(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : v == null ? NaN : Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * The activation a node applies to its output, normalised to snake_case, or undefined when it
 * applies none (and is not an activation layer).
 */
export function nodeActivation(node: LayerNode): string | undefined {
  const c = node.className;
  if (c === 'ReLU') {
    const slope = positiveNumber(cfg(node.config, 'negative_slope'));
    if (slope && slope > 0) return 'leaky_relu';
    const max = positiveNumber(cfg(node.config, 'max_value'));
    return max === 6 ? 'relu6' : 'relu';
  }
  if (c === 'LeakyReLU') {
    const alpha = positiveNumber(cfg(node.config, 'alpha', 'negative_slope'));
    return alpha === 0 ? 'relu' : 'leaky_relu';
  }
  if (Object.hasOwn(GRAPH_ACTIVATION_OPS, c)) return GRAPH_ACTIVATION_OPS[c];
  if (c === '_FusedConv2D' || c === 'FusedConv2D' || c === 'FusedDepthwiseConv2dNative' || c === '_FusedMatMul' || c === 'FusedMatMul') {
    for (const op of cfgStrings(node.config, 'fused_ops', 'fusedOps')) {
      const key = Object.keys(GRAPH_ACTIVATION_OPS).find((k) => k.toLowerCase() === op.toLowerCase());
      const act = key ? GRAPH_ACTIVATION_OPS[key] : undefined;
      if (act) return act;
    }
    if (node.activation && node.activation !== 'linear') return node.activation;
    return 'linear';
  }
  if (node.activation) return node.activation;
  const act = cfg(node.config, 'activation');
  if (typeof act === 'string') return act.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
  return undefined;
}

function isActivationNode(node: LayerNode): boolean {
  return KERAS_ACTIVATION_LAYERS.has(node.className) || Object.hasOwn(GRAPH_ACTIVATION_OPS, node.className);
}

function isPassThrough(node: LayerNode, byName: Map<string, LayerNode>): boolean {
  if (KERAS_PASS_THROUGH.has(node.className) || GRAPH_PASS_THROUGH.has(node.className)) return true;
  if (GRAPH_AFFINE_WITH_CONST.has(node.className) && node.inbound.length === 2) {
    // One operand is the chain, the other must be a constant for this to be a per-channel step.
    return node.inbound.some((n) => byName.get(n)?.className === 'Const');
  }
  return false;
}

function channelAxisOf(layer: LayerNode, pointShape: readonly (number | null)[]): number {
  const rank = pointShape.length;
  if (KERAS_UNIT_LAYERS.has(layer.className) && layer.className !== 'Dense' && isChannelsFirst(layer)) return 1;
  if (GRAPH_UNIT_OPS.has(layer.className) && isChannelsFirst(layer)) return 1;
  return Math.max(rank - 1, 0);
}

/** Resolves the activation point of one conv/dense layer. */
export function activationPointOf(model: InspectableModel, layerName: string, ctx?: PointContext): ActivationPoint {
  const c = ctx ?? pointContext(model);
  const layer = c.byName.get(layerName);
  if (!layer) throw new Error(`${model.path}: no layer named "${layerName}"`);
  if (!isUnitLayer(layer)) throw new Error(`${model.path}: layer "${layerName}" (${layer.className}) is not a convolution or dense layer`);

  const chain = [layer.name];
  let current = layer;
  let activation = nodeActivation(layer) ?? 'linear';
  let stopNote = '';
  while (activation === 'linear') {
    const consumers = c.consumers.get(current.name) ?? [];
    if (consumers.length !== 1) {
      stopNote =
        consumers.length === 0
          ? `; nothing consumes ${current.name}`
          : `; ${current.name} feeds ${consumers.length} layers (${consumers.slice(0, 3).join(', ')}${consumers.length > 3 ? ', ...' : ''})`;
      break;
    }
    const next = c.byName.get(consumers[0]);
    if (!next) break;
    if (isActivationNode(next)) {
      chain.push(next.name);
      current = next;
      activation = nodeActivation(next) ?? 'linear';
      continue; // a linear Activation layer passes through
    }
    if (isPassThrough(next, c.byName)) {
      chain.push(next.name);
      current = next;
      continue;
    }
    stopNote = `; the next layer, ${next.name} (${next.className}), is not an activation`;
    break;
  }

  const shape = current.outputShape;
  const channelAxis = channelAxisOf(layer, shape);
  const units = shape.length > 0 ? (shape[channelAxis] ?? 0) : 0;
  const app = deadApplicability(activation);
  let reason = app.reason;
  if (activation === 'linear') reason += stopNote;
  else if (current.name !== layer.name) reason += ` (activation found at ${current.name}, after ${chain.slice(1, -1).length ? chain.slice(1, -1).join(' → ') : 'the layer itself'})`;
  return {
    layer: layer.name,
    className: layer.className,
    point: current.name,
    chain,
    activation,
    units,
    channelAxis,
    deadApplicable: app.applicable,
    reason,
  };
}

export interface PointContext {
  byName: Map<string, LayerNode>;
  consumers: Map<string, string[]>;
}

export function pointContext(model: InspectableModel): PointContext {
  return { byName: layerMap(model), consumers: consumersOf(model) };
}

/**
 * Activation points of the given conv/dense layers (default: all of them, in topological order).
 */
export function activationPoints(model: InspectableModel, layers?: readonly string[]): ActivationPoint[] {
  const ctx = pointContext(model);
  const names = layers ?? model.layers.filter(isUnitLayer).map((l) => l.name);
  return names.map((n) => activationPointOf(model, n, ctx));
}
