/**
 * Floating-point operations of one forward pass of ONE image (batch dimension = 1).
 *
 * Convention: the `tf.profiler` flops registry, which google-research/receptive_field used for
 * its RF_RESULTS.md table (VGG-16 at 224x224 up to pool5 = 30.713 GFLOPs), so numbers are
 * comparable with published TF-Slim tables:
 *
 * | layer / op                              | FLOPs                                                        |
 * | --------------------------------------- | ------------------------------------------------------------ |
 * | Conv (1D/2D/3D, grouped)                | 2 · outElements · Kh·Kw·Cin/groups  (multiply-add = 2)       |
 * |   + bias                                | + outElements (one add per output, as TF's BiasAdd)          |
 * | Conv2DTranspose                         | 2 · inElements · Kh·Kw·Cout  (+ bias outElements)             |
 * | DepthwiseConv2D                         | 2 · outElements · Kh·Kw  (+ bias)                            |
 * | SeparableConv2D                         | depthwise 2·Hout·Wout·Cin·M·Kh·Kw + pointwise 2·Hout·Wout·Cin·M·Cout (+ bias) |
 * | Dense / MatMul                          | 2 · positions · in · units  (+ bias positions·units)         |
 * | Max/Average pooling                     | pool area · outElements (one op per window element)          |
 * | Global average / max pooling, Mean/Sum  | inElements                                                   |
 * | BatchNormalization (inference)          | 2 · outElements (folded per-channel scale and shift)         |
 * | Add/Subtract/Multiply/Maximum/Minimum   | (inputs − 1) · outElements; Average: inputs · outElements   |
 * | activations (relu, sigmoid, softmax...) | 0 — tf.profiler registers no cost for them; they are          |
 * |   fused or standalone                   |   elementwise and negligible next to convolutions            |
 * | reshaping, padding, dropout, concat...  | 0 (nearest UpSampling too; bilinear: 7 per output)           |
 * | anything else                           | `undefined` (not counted; listed in the summary's totals)    |
 *
 * Graph-model nodes are counted the same way from their op name, their input shapes (filter /
 * matrix operands, usually constants) and attributes (`ksize`, `fused_ops`, `transpose_a`...).
 */
import type { LayerNode } from '../model/inspectableModel';
import { cfg, cfgNumbers, cfgStrings, elementsPerItem, isChannelsFirst, product } from './common';

/** Weight shape by short name, falling back to the first weight of the given rank. */
function weightShape(node: LayerNode, names: string[], rank?: number): number[] | undefined {
  for (const n of names) {
    const w = node.weights.find((x) => x.name === n);
    if (w) return w.shape;
  }
  if (rank != null) return node.weights.find((w) => w.shape.length === rank)?.shape;
  return undefined;
}

function hasBias(node: LayerNode): boolean {
  if (node.weights.some((w) => w.name === 'bias')) return true;
  if (node.weights.length > 0) return false;
  const useBias = cfg(node.config, 'use_bias');
  return useBias === undefined ? true : Boolean(useBias);
}

function outElems(node: LayerNode): number | undefined {
  return elementsPerItem(node.outputShape);
}

function inElems(node: LayerNode, i = 0): number | undefined {
  return elementsPerItem(node.inputShapes[i]);
}

function channelsOf(shape: readonly (number | null)[] | undefined, channelsFirst: boolean): number | undefined {
  if (!shape || shape.length < 2) return undefined;
  const d = channelsFirst ? shape[1] : shape[shape.length - 1];
  return d == null ? undefined : d;
}

function kerasConv(node: LayerNode): number | undefined {
  const out = outElems(node);
  if (out == null) return undefined;
  const cf = isChannelsFirst(node);
  let kernel = weightShape(node, ['kernel']);
  if (!kernel) {
    const ks = cfgNumbers(node.config, 'kernel_size');
    const filters = cfgNumbers(node.config, 'filters')?.[0];
    const cin = channelsOf(node.inputShapes[0], cf);
    const groups = cfgNumbers(node.config, 'groups')?.[0] ?? 1;
    if (!ks || filters == null || cin == null) return undefined;
    const rank = (node.outputShape.length || 4) - 2;
    const k = ks.length === 1 ? new Array(rank).fill(ks[0]) : ks;
    kernel = [...k, cin / groups, filters];
  }
  // kernel = [...spatial, Cin/groups, Cout]: per output element, kernel.size / Cout multiply-adds.
  const cout = kernel[kernel.length - 1];
  const macsPerOutput = product(kernel) / cout;
  return 2 * out * macsPerOutput + (hasBias(node) ? out : 0);
}

function kerasConvTranspose(node: LayerNode): number | undefined {
  const out = outElems(node);
  const input = inElems(node);
  const kernel = weightShape(node, ['kernel']);
  if (out == null || input == null || !kernel) return undefined;
  // kernel = [...spatial, Cout, Cin]: every input element is scattered through Kh·Kw·Cout weights.
  const cin = kernel[kernel.length - 1];
  return 2 * (input / cin) * product(kernel) + (hasBias(node) ? out : 0);
}

function kerasDepthwise(node: LayerNode): number | undefined {
  const out = outElems(node);
  const kernel = weightShape(node, ['depthwise_kernel'], 4);
  if (out == null || !kernel) return undefined;
  const spatial = product(kernel.slice(0, -2));
  return 2 * out * spatial + (hasBias(node) ? out : 0);
}

function kerasSeparable(node: LayerNode): number | undefined {
  const out = outElems(node);
  const dw = weightShape(node, ['depthwise_kernel']);
  const pw = weightShape(node, ['pointwise_kernel']);
  if (out == null || !dw || !pw) return undefined;
  const cout = pw[pw.length - 1];
  const positions = out / cout;
  const mid = pw[pw.length - 2]; // Cin · depth_multiplier
  const spatial = product(dw.slice(0, -2));
  return 2 * positions * mid * spatial + 2 * positions * mid * cout + (hasBias(node) ? out : 0);
}

function kerasDense(node: LayerNode): number | undefined {
  const out = outElems(node);
  const kernel = weightShape(node, ['kernel'], 2);
  if (out == null || !kernel) return undefined;
  const [inDim, units] = kernel;
  const positions = out / units;
  return 2 * positions * inDim * units + (hasBias(node) ? out : 0);
}

function pooling(node: LayerNode): number | undefined {
  const out = outElems(node);
  if (out == null) return undefined;
  const rank = Math.max(node.outputShape.length - 2, 1);
  const ps = cfgNumbers(node.config, 'pool_size', 'ksize', 'kernel_size', 'filter_size');
  if (!ps) return undefined;
  // Graph ops carry ksize as [1, kh, kw, 1]; Keras as [kh, kw] or a single number.
  const area = ps.length === 1 ? Math.pow(ps[0], rank) : product(ps);
  return area * out;
}

function merge(node: LayerNode, extra = 0): number | undefined {
  const out = outElems(node);
  if (out == null) return undefined;
  const n = Math.max(node.inbound.length, node.inputShapes.length, 2);
  return (n - 1 + extra) * out;
}

const ZERO_COST_KERAS = new Set([
  'InputLayer',
  'Flatten',
  'Reshape',
  'Permute',
  'RepeatVector',
  'Dropout',
  'SpatialDropout1D',
  'SpatialDropout2D',
  'SpatialDropout3D',
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
  'ZeroPadding1D',
  'ZeroPadding2D',
  'ZeroPadding3D',
  'Cropping1D',
  'Cropping2D',
  'Cropping3D',
  'Concatenate',
  'Masking',
  'Activation',
  'ReLU',
  'LeakyReLU',
  'ELU',
  'PReLU',
  'ThresholdedReLU',
  'Softmax',
  'Rescaling',
]);

const ZERO_COST_GRAPH = new Set([
  'Placeholder',
  'Const',
  'Identity',
  'IdentityN',
  'NoOp',
  'Reshape',
  'Squeeze',
  'ExpandDims',
  'Shape',
  'Pack',
  'Unpack',
  'StridedSlice',
  'Slice',
  'ConcatV2',
  'Concat',
  'Pad',
  'PadV2',
  'MirrorPad',
  'Transpose',
  'Cast',
  'Relu',
  'Relu6',
  'LeakyRelu',
  'Elu',
  'Selu',
  'Prelu',
  'Sigmoid',
  'Tanh',
  'Softmax',
  'Softplus',
  'Softsign',
  'StopGradient',
]);

function graphFilterShape(node: LayerNode): number[] | undefined {
  const fromInput = node.inputShapes[1];
  if (fromInput && fromInput.length >= 4 && fromInput.every((d) => d != null)) return fromInput as number[];
  return node.weights.find((w) => w.shape.length === 4 || w.shape.length === 5)?.shape;
}

function fusedBiasAndNorm(node: LayerNode, out: number): number {
  const ops = cfgStrings(node.config, 'fused_ops', 'fusedOps').map((s) => s.toLowerCase());
  let f = 0;
  if (ops.includes('biasadd')) f += out;
  if (ops.some((o) => o.startsWith('fusedbatchnorm'))) f += 2 * out;
  return f;
}

function graphOp(node: LayerNode): number | undefined {
  const op = node.className;
  const out = outElems(node);
  switch (op) {
    case 'Conv2D':
    case '_FusedConv2D':
    case 'FusedConv2D':
    case 'Conv3D': {
      const f = graphFilterShape(node);
      if (out == null || !f) return undefined;
      const cout = f[f.length - 1];
      return 2 * out * (product(f) / cout) + fusedBiasAndNorm(node, out);
    }
    case 'DepthwiseConv2dNative':
    case 'FusedDepthwiseConv2dNative': {
      const f = graphFilterShape(node);
      if (out == null || !f) return undefined;
      return 2 * out * f[0] * f[1] + fusedBiasAndNorm(node, out);
    }
    case 'Conv2DBackpropInput': {
      // inputs: output_sizes, filter [kh, kw, Cout, Cin], input
      const f = node.inputShapes[1] && node.inputShapes[1].length === 4 ? (node.inputShapes[1] as number[]) : graphFilterShape(node);
      const input = elementsPerItem(node.inputShapes[2]);
      if (!f || input == null || f.some((d) => d == null)) return undefined;
      return 2 * (input / f[3]) * product(f);
    }
    case 'MatMul':
    case '_FusedMatMul':
    case 'FusedMatMul':
    case 'BatchMatMul':
    case 'BatchMatMulV2': {
      const a = node.inputShapes[0];
      if (out == null || !a || a.length < 2) return undefined;
      const ta = Boolean(cfg(node.config, 'transpose_a', 'adj_x'));
      const k = ta ? a[a.length - 2] : a[a.length - 1];
      if (k == null) return undefined;
      return 2 * out * k + fusedBiasAndNorm(node, out);
    }
    case 'BiasAdd':
    case 'Add':
    case 'AddV2':
    case 'Sub':
    case 'Mul':
    case 'RealDiv':
    case 'Maximum':
    case 'Minimum':
    case 'SquaredDifference':
    case 'Rsqrt':
    case 'Sqrt':
    case 'Square':
    case 'Neg':
    case 'Reciprocal':
      return out;
    case 'AddN':
      return merge(node);
    case 'MaxPool':
    case 'AvgPool':
    case 'MaxPool3D':
    case 'AvgPool3D':
      return pooling(node);
    case 'Mean':
    case 'Sum':
    case 'Max':
    case 'Min':
    case 'ArgMax':
      return inElems(node);
    case 'FusedBatchNorm':
    case 'FusedBatchNormV2':
    case 'FusedBatchNormV3':
      return out == null ? undefined : 2 * out;
  }
  if (ZERO_COST_GRAPH.has(op)) return 0;
  return undefined;
}

/**
 * FLOPs of one layer / graph node for one image, or `undefined` when it cannot be counted
 * (unknown layer type or unknown shapes). See the file comment for the convention.
 */
export function layerFlops(node: LayerNode, graph = false): number | undefined {
  if (graph) return graphOp(node);
  switch (node.className) {
    case 'Conv1D':
    case 'Conv2D':
    case 'Conv3D':
      return kerasConv(node);
    case 'Conv2DTranspose':
    case 'Conv3DTranspose':
      return kerasConvTranspose(node);
    case 'DepthwiseConv2D':
      return kerasDepthwise(node);
    case 'SeparableConv1D':
    case 'SeparableConv2D':
      return kerasSeparable(node);
    case 'Dense':
      return kerasDense(node);
    case 'MaxPooling1D':
    case 'MaxPooling2D':
    case 'MaxPooling3D':
    case 'AveragePooling1D':
    case 'AveragePooling2D':
    case 'AveragePooling3D':
    case 'MaxPool1D':
    case 'MaxPool2D':
    case 'MaxPool3D':
    case 'AvgPool1D':
    case 'AvgPool2D':
    case 'AvgPool3D':
      return pooling(node);
    case 'GlobalAveragePooling1D':
    case 'GlobalAveragePooling2D':
    case 'GlobalAveragePooling3D':
    case 'GlobalMaxPooling1D':
    case 'GlobalMaxPooling2D':
    case 'GlobalMaxPooling3D':
    case 'GlobalAvgPool2D':
    case 'GlobalMaxPool2D':
      return inElems(node);
    case 'BatchNormalization': {
      const out = outElems(node);
      return out == null ? undefined : 2 * out;
    }
    case 'Add':
    case 'Subtract':
    case 'Multiply':
    case 'Maximum':
    case 'Minimum':
      return merge(node);
    case 'Average':
      return merge(node, 1);
    case 'UpSampling2D': {
      const interp = cfg(node.config, 'interpolation');
      if (interp === 'bilinear') {
        const out = outElems(node);
        return out == null ? undefined : 7 * out; // 4 weighted taps per output: 4 multiplies + 3 adds
      }
      return 0;
    }
  }
  if (ZERO_COST_KERAS.has(node.className)) return 0;
  return undefined;
}
