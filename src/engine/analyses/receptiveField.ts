/**
 * Theoretical receptive fields: for every layer, which input pixels one of its output units can
 * see, as the size, effective stride and effective padding of google-research/receptive_field
 * (receptive_field/python/util/receptive_field_computation.py). Output unit `y` of a layer sees
 * input pixels `y·stride − padding … y·stride − padding + size − 1` along each axis (so the box
 * may extend beyond the image where the network pads). Pure metadata: never runs the model.
 *
 * The library walks the graph backwards from one end-point; here the same algebra runs forwards
 * so one pass yields every layer. A layer with kernel k (dilated: d·(k−1)+1), stride s and
 * top/left padding q maps its input's field (r, j, p) to
 *     r' = r + (k − 1)·j,   j' = j·s,   p' = p + q·j
 * which composes to exactly the library's numbers. 'same' padding is resolved TensorFlow's way
 * from the layer's actual input size (total = max((⌈n/s⌉−1)·s + k − n, 0), top = ⌊total/2⌋), i.e.
 * the library run with a known input resolution.
 *
 * Merges (Add, Concatenate, ...) take the union of their inputs' boxes. Like the library, they
 * check alignment per axis — equal effective strides and equal centre shifts ((r−1)/2 − p) — and
 * where the branches disagree the layer (and everything after it) reports `aligned: false`; the
 * library would refuse such a graph, here the union is kept so the box still covers every pixel.
 *
 * Layers that collapse space (Flatten, global pooling, a Dense on flattened features, Reshape...)
 * and everything after them are *global*: the union of every unit they consume, clipped to the
 * image — the whole input unless the model never looks at some edge pixels (VALID convolutions
 * and pools can drop the last rows and columns). Their `stride` is their `size` (one window).
 * Resampling layers (UpSampling2D, transposed convolutions) are not modelled: global from there on,
 * with a note. A nested model is one window whose kernel, stride and padding are the field of its
 * output. Where TF.js computes something other than the file says (DepthwiseConv2D drops its
 * dilation), the field is what the engine computes, with a note. Graph models are read from node
 * attributes; a Pad node's amounts are a constant the adapter does not keep, so its split is
 * assumed symmetric (noted).
 */
import * as tf from '@tensorflow/tfjs';
import type { InspectableModel, LayerNode } from '../model/inspectableModel';
import { fromLayersModel } from '../model/layersModelAdapter';
import { cfg, cfgNumbers, cfgStrings, isChannelsFirst } from './common';

export interface LayerReceptiveField {
  name: string;
  className: string;
  /** [h, w] in input pixels. */
  size: [number, number];
  /** Effective stride [h, w]: input pixels between neighbouring output units. */
  stride: [number, number];
  /** Effective padding [h, w] (receptive_field semantics): unit 0 starts at input pixel −padding. */
  padding: [number, number];
  /** False when merged branches disagree (union taken), here or upstream. */
  aligned: boolean;
  note?: string;
}

export interface ReceptiveFieldReport {
  model: string;
  input: [number, number];
  layers: LayerReceptiveField[];
}

/**
 * Input-pixel box [top, left, bottom, right] (inclusive, may extend beyond the image; callers clip)
 * seen by output unit (y, x) of a layer.
 */
export function unitReceptiveBox(rf: LayerReceptiveField, unit: [number, number]): [number, number, number, number] {
  const top = unit[0] * rf.stride[0] - rf.padding[0];
  const left = unit[1] * rf.stride[1] - rf.padding[1];
  return [top, left, top + rf.size[0] - 1, left + rf.size[1] - 1];
}

// ---------------------------------------------------------------------------------------------
// Field algebra, one axis at a time

interface AxisField {
  size: number;
  stride: number;
  padding: number;
}

interface Field {
  axes: [AxisField, AxisField];
  global: boolean;
  aligned: boolean;
}

/** What a layer does to positions, per axis: kernel (dilated), stride, top/left padding. */
interface AxisWindow {
  kernel: number;
  stride: number;
  /** Top/left padding in the layer's input units; negative for cropping. */
  pad: number;
}

function applyWindow(f: AxisField, w: AxisWindow): AxisField {
  return { size: f.size + (w.kernel - 1) * f.stride, stride: f.stride * w.stride, padding: f.padding + w.pad * f.stride };
}

/** Centre shift ×2 (integer): two fields are aligned when strides and centres agree. */
function centre2(f: AxisField): number {
  return f.size - 1 - 2 * f.padding;
}

/**
 * Smallest field covering every input field for every unit `y < units`. With equal strides this is
 * the plain union of the boxes; with unequal ones the coarsest stride is kept and the box widened
 * so it still covers the finer branch at both ends of the range.
 */
function unionAxis(fields: AxisField[], units: number): AxisField {
  const stride = Math.max(...fields.map((f) => f.stride));
  const last = Math.max(units - 1, 0);
  const padding = Math.max(...fields.map((f) => f.padding + last * (stride - f.stride)));
  const size = Math.max(...fields.map((f) => f.size + padding - f.padding));
  return { size, stride, padding };
}

function axesAligned(fields: AxisField[]): boolean {
  return fields.every((f) => f.stride === fields[0].stride && centre2(f) === centre2(fields[0]));
}

/** Box [first, last] (input pixels) covered by all `units` units of a field, clipped to [0, extent). */
function coveredRange(f: AxisField, units: number, extent: number): [number, number] {
  const first = -f.padding;
  const last = (Math.max(units, 1) - 1) * f.stride - f.padding + f.size - 1;
  return [Math.max(first, 0), Math.min(last, extent - 1)];
}

function globalAxis(range: [number, number]): AxisField {
  const size = Math.max(range[1] - range[0] + 1, 0);
  return { size, stride: size, padding: -range[0] };
}

// ---------------------------------------------------------------------------------------------
// Reading layers

/** Layer classes (Keras / TF.js) and graph ops that never move positions. */
const POINTWISE = new Set([
  // Keras / TF.js layers
  'Activation', 'ReLU', 'LeakyReLU', 'PReLU', 'ELU', 'ThresholdedReLU', 'Softmax',
  'BatchNormalization', 'LayerNormalization', 'Dropout', 'SpatialDropout2D', 'GaussianNoise',
  'GaussianDropout', 'AlphaDropout', 'Masking', 'Rescaling', 'Dense',
  'Add', 'Subtract', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Concatenate',
  // graph ops (the receptive_field library's _UNCHANGED_RF_LAYER_OPS and their TF.js cousins)
  'BiasAdd', 'Relu', 'Relu6', 'Elu', 'Selu', 'LeakyRelu', 'Prelu', 'Sigmoid', 'Tanh', 'Softplus',
  'Softsign', 'Swish', 'Add', 'AddV2', 'AddN', 'Sub', 'Mul', 'RealDiv', 'Div', 'Maximum', 'Minimum',
  'ConcatV2', 'Concat', 'FusedBatchNorm', 'FusedBatchNormV2', 'FusedBatchNormV3', 'Identity', 'Cast',
  'Floor', 'Ceil', 'Round', 'Log', 'Exp', 'Pow', 'Sqrt', 'Rsqrt', 'Square', 'Neg', 'Abs', 'LRN',
  'GreaterEqual', 'ClipByValue', 'Softmax',
]);

/** Classes / ops that collapse or rearrange the spatial axes (their output has no positions). */
const GLOBAL = new Set([
  'Flatten', 'Reshape', 'Permute', 'RepeatVector', 'GlobalAveragePooling2D', 'GlobalMaxPooling2D',
  'GlobalAvgPool2D', 'GlobalMaxPool2D', 'Squeeze', 'MatMul', '_FusedMatMul', 'BatchMatMul', 'BatchMatMulV2',
]);

/**
 * Layers / ops whose geometry is not modelled (fractional strides, resampling), even when they keep
 * the spatial size: everything from them on is reported as global.
 */
const NOT_MODELLED = new Set([
  'Conv2DTranspose', 'Deconvolution2D', 'UpSampling2D', 'Conv2DBackpropInput', 'ResizeBilinear',
  'ResizeNearestNeighbor', 'CropAndResize', 'LocallyConnected2D', 'MultiHeadAttention', 'Attention',
]);

/** Graph reductions: over the channels they keep positions, over the spatial axes they are global. */
const REDUCTIONS = new Set(['Mean', 'Max', 'Min', 'Sum', 'Prod', 'All', 'Any', 'ArgMax', 'ArgMin']);

/** A model used as a layer (e.g. a Keras application backbone). */
const NESTED_MODELS = new Set(['Sequential', 'Functional', 'Model']);
const CONV_CLASSES = new Set(['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'Convolution2D', 'SeparableConvolution2D']);
const POOL_CLASSES = new Set(['MaxPooling2D', 'AveragePooling2D', 'MaxPool2D', 'AvgPool2D']);
const GRAPH_CONV_OPS = new Set(['Conv2D', 'DepthwiseConv2dNative', '_FusedConv2D', 'FusedDepthwiseConv2dNative']);
const GRAPH_POOL_OPS = new Set(['MaxPool', 'AvgPool', 'MaxPoolV2', 'MaxPoolWithArgmax']);
const GRAPH_PAD_OPS = new Set(['Pad', 'PadV2', 'MirrorPad']);

class LayerError extends Error {}

/** [h, w] indices of a rank-4 shape, following the node's data format. */
function spatial(node: LayerNode, shape: readonly (number | null)[] | undefined): [number | null, number | null] | undefined {
  if (!shape || shape.length !== 4) return undefined;
  return isChannelsFirst(node) ? [shape[2], shape[3]] : [shape[1], shape[2]];
}

/** A number or a pair as [h, w]. */
function pair(values: number[] | undefined, what: string): [number, number] | undefined {
  if (!values || values.length === 0) return undefined;
  if (values.length === 1) return [values[0], values[0]];
  if (values.length === 2) return [values[0], values[1]];
  throw new LayerError(`${what} [${values.join(', ')}] is not one or two numbers`);
}

/** Graph attributes such as strides / ksize / dilations carry 4 numbers, one per NHWC (or NCHW) axis. */
function graphPair(node: LayerNode, values: number[] | undefined, what: string): [number, number] | undefined {
  if (!values || values.length === 0) return undefined;
  if (values.length === 4) return isChannelsFirst(node) ? [values[2], values[3]] : [values[1], values[2]];
  return pair(values, what);
}

/** Keras padding / cropping amounts: n, [h, w] (symmetric) or [[top, bottom], [left, right]]. */
function topLeftAmounts(node: LayerNode, key: string): [number, number] {
  const v = cfg(node.config, key);
  const num = (x: unknown): number => {
    const n = Number(x);
    if (!Number.isInteger(n)) throw new LayerError(`${key} ${JSON.stringify(v)} is not whole numbers`);
    return n;
  };
  if (typeof v === 'number') return [num(v), num(v)];
  if (Array.isArray(v) && v.length === 2) {
    const first = (x: unknown) => (Array.isArray(x) ? num(x[0]) : num(x));
    return [first(v[0]), first(v[1])];
  }
  throw new LayerError(`no ${key} amounts in its config (got ${JSON.stringify(v)})`);
}

/** TensorFlow's 'SAME' padding on the top/left side, for a known input size. */
function samePad(inSize: number, kernel: number, stride: number): number {
  const out = Math.ceil(inSize / stride);
  return Math.floor(Math.max((out - 1) * stride + kernel - inSize, 0) / 2);
}

interface WindowSpec {
  kernel: [number, number];
  stride: [number, number];
  dilation: [number, number];
  padding: string;
  explicit?: [number, number];
}

/** Resolves the padding mode to top/left amounts for this layer's input size. */
function windowOf(node: LayerNode, spec: WindowSpec): [AxisWindow, AxisWindow] {
  const inSize = spatial(node, node.inputShapes[0]);
  return [0, 1].map((a) => {
    const kernel = spec.dilation[a] * (spec.kernel[a] - 1) + 1;
    const stride = spec.stride[a];
    let pad: number;
    const mode = spec.padding.toLowerCase();
    if (mode === 'valid') pad = 0;
    else if (mode === 'explicit') pad = spec.explicit?.[a] ?? 0;
    else if (mode === 'same') {
      const n = inSize?.[a];
      if (n == null) {
        if (stride !== 1 && kernel !== 1) throw new LayerError(`'same' padding with stride ${stride} needs the input size, which is unknown`);
        pad = Math.floor((kernel - 1) / 2);
      } else pad = samePad(n, kernel, stride);
    } else throw new LayerError(`padding "${spec.padding}" is not one of valid, same`);
    return { kernel, stride, pad };
  }) as [AxisWindow, AxisWindow];
}

function kerasWindow(node: LayerNode, kind: 'conv' | 'pool'): [AxisWindow, AxisWindow] {
  const kernel = pair(cfgNumbers(node.config, kind === 'conv' ? 'kernel_size' : 'pool_size'), kind === 'conv' ? 'kernel_size' : 'pool_size');
  if (!kernel) throw new LayerError(`no ${kind === 'conv' ? 'kernel_size' : 'pool_size'} in its config`);
  const stride = pair(cfgNumbers(node.config, 'strides'), 'strides') ?? (kind === 'pool' ? kernel : [1, 1]);
  const dilation = pair(cfgNumbers(node.config, 'dilation_rate'), 'dilation_rate') ?? [1, 1];
  const padding = cfgStrings(node.config, 'padding')[0] ?? 'valid';
  return windowOf(node, { kernel, stride, dilation, padding });
}

function graphWindow(node: LayerNode, kind: 'conv' | 'pool'): [AxisWindow, AxisWindow] {
  let kernel: [number, number] | undefined;
  if (kind === 'conv') {
    // Filter [kh, kw, in, out]: a constant operand (a weight of the node) or, failing that, the second input.
    const w = node.weights.find((x) => x.name === 'kernel' || x.name === 'depthwise_kernel') ?? node.weights.find((x) => x.shape.length === 4);
    const shape = w?.shape ?? (node.inputShapes[1]?.length === 4 ? (node.inputShapes[1] as number[]) : undefined);
    if (shape) kernel = [shape[0], shape[1]];
  } else kernel = graphPair(node, cfgNumbers(node.config, 'ksize'), 'ksize');
  if (!kernel) throw new LayerError(`the ${kind === 'conv' ? 'filter shape' : 'ksize attribute'} is unknown`);
  const stride = graphPair(node, cfgNumbers(node.config, 'strides'), 'strides') ?? [1, 1];
  const dilation = graphPair(node, cfgNumbers(node.config, 'dilations'), 'dilations') ?? [1, 1];
  const padding = cfgStrings(node.config, 'padding')[0] ?? 'VALID';
  let explicit: [number, number] | undefined;
  if (padding.toUpperCase() === 'EXPLICIT') {
    // explicit_paddings: [before, after] per axis of the data format, flattened.
    const e = cfgNumbers(node.config, 'explicit_paddings') ?? [];
    explicit = isChannelsFirst(node) ? [e[4] ?? 0, e[6] ?? 0] : [e[2] ?? 0, e[4] ?? 0];
  }
  return windowOf(node, { kernel, stride, dilation, padding, explicit });
}

/** How a layer moves positions. */
type LayerRule =
  | { kind: 'input' }
  | { kind: 'window'; window: [AxisWindow, AxisWindow]; note?: string; aligned?: boolean }
  | { kind: 'pointwise'; note?: string }
  | { kind: 'global'; note: string };

function ruleFor(node: LayerNode, model: InspectableModel): LayerRule {
  const graph = model.format === 'tfjs-graph';
  if (node.inbound.length === 0) return { kind: 'input' };
  const c = node.className;
  const outSpatial = spatial(node, node.outputShape);
  const inSpatial = node.inputShapes.map((s) => spatial(node, s));
  if (!outSpatial || inSpatial.some((s) => !s)) return { kind: 'global', note: 'global' };

  if (graph) {
    if (GRAPH_CONV_OPS.has(c)) return { kind: 'window', window: graphWindow(node, 'conv') };
    if (GRAPH_POOL_OPS.has(c)) return { kind: 'window', window: graphWindow(node, 'pool') };
    if (GRAPH_PAD_OPS.has(c)) {
      // The amounts are an int32 constant, which the graph adapter does not keep: the total comes
      // from the shapes, split as TensorFlow's 'SAME' and Keras' symmetric ZeroPadding2D split it.
      const inS = inSpatial[0]!;
      const window = [0, 1].map((a) => {
        const total = (outSpatial[a] ?? 0) - (inS[a] ?? 0);
        return { kernel: 1, stride: 1, pad: Math.floor(total / 2) };
      }) as [AxisWindow, AxisWindow];
      return { kind: 'window', window, note: 'padding split assumed symmetric (top/left = ⌊total/2⌋)' };
    }
  } else {
    if (NESTED_MODELS.has(c)) return nestedModelRule(node, model);
    if (c === 'DepthwiseConv2D') {
      // tfjs-layers 4.x runs DepthwiseConv2D without its dilation_rate (its call() passes none to
      // the op and computeOutputShape ignores it): report the field the engine actually computes.
      const dilation = cfgNumbers(node.config, 'dilation_rate');
      if (dilation?.some((d) => d !== 1)) {
        const plain = { ...node, config: { ...node.config, dilation_rate: 1, dilationRate: 1 } };
        return { kind: 'window', window: kerasWindow(plain, 'conv'), note: `dilation_rate [${dilation.join(',')}] is ignored by TF.js's DepthwiseConv2D, so it is not applied` };
      }
    }
    if (CONV_CLASSES.has(c)) return { kind: 'window', window: kerasWindow(node, 'conv') };
    if (POOL_CLASSES.has(c)) return { kind: 'window', window: kerasWindow(node, 'pool') };
    if (c === 'ZeroPadding2D' || c === 'Cropping2D') {
      const sign = c === 'ZeroPadding2D' ? 1 : -1;
      const [top, left] = topLeftAmounts(node, c === 'ZeroPadding2D' ? 'padding' : 'cropping');
      return { kind: 'window', window: [{ kernel: 1, stride: 1, pad: sign * top }, { kernel: 1, stride: 1, pad: sign * left }] };
    }
  }
  if (GLOBAL.has(c)) return { kind: 'global', note: 'global' };
  if (NOT_MODELLED.has(c)) return { kind: 'global', note: `global: ${c} is not modelled (its output positions are not a strided window of its input); whole input assumed` };

  if ((c === 'Concatenate' || c === 'Softmax' || c === 'LayerNormalization') && !channelAxisOnly(node)) {
    return { kind: 'global', note: `global: ${c} works across spatial positions (axis ${JSON.stringify(cfg(node.config, 'axis'))})` };
  }
  const sameSize = inSpatial.every((s) => s![0] === outSpatial[0] && s![1] === outSpatial[1]);
  if (sameSize) return POINTWISE.has(c) || REDUCTIONS.has(c) ? { kind: 'pointwise' } : { kind: 'pointwise', note: `${c} is not a known layer type; assumed to keep positions` };
  if (REDUCTIONS.has(c)) return { kind: 'global', note: 'global' };
  if (outSpatial[0] === 1 && outSpatial[1] === 1) return { kind: 'global', note: 'global' };
  return { kind: 'global', note: `global: ${c} changes the spatial size in a way not modelled; whole input assumed` };
}

/**
 * A nested model acts like one big window: the field of its output relative to its own input
 * (size, stride, padding) composes with the outer field exactly as a kernel, stride and padding.
 */
function nestedModelRule(node: LayerNode, model: InspectableModel): LayerRule {
  const inner = model.layersModel ? findNestedModel(model.layersModel, node.name) : undefined;
  if (!inner) return { kind: 'global', note: `global: the nested model ${node.className} "${node.name}" could not be looked into; whole input assumed` };
  let report: ReceptiveFieldReport;
  let outputLayer: string;
  try {
    // The adapter only reads the nested model's graph; nothing is run or allocated, so nothing to dispose.
    const sub = fromLayersModel(inner, `${model.path} (nested model "${node.name}")`, model.format);
    report = receptiveField(sub);
    outputLayer = sub.outputLayer;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { kind: 'global', note: `global: the nested model "${node.name}" could not be looked into (${why}); whole input assumed` };
  }
  const out = report.layers.find((l) => l.name === outputLayer)!;
  if (out.note?.startsWith('global')) return { kind: 'global', note: `global (inside the nested model: ${out.name}: ${out.note})` };
  const window = [0, 1].map((a) => ({ kernel: out.size[a], stride: out.stride[a], pad: out.padding[a] })) as [AxisWindow, AxisWindow];
  return { kind: 'window', window, aligned: out.aligned, note: `nested model: the field of its output "${out.name}"${out.aligned ? '' : ', not aligned inside'}` };
}

function findNestedModel(outer: tf.LayersModel, name: string): tf.LayersModel | undefined {
  try {
    const layer = outer.getLayer(name);
    return layer instanceof tf.LayersModel ? layer : undefined;
  } catch {
    return undefined;
  }
}

/** True when a Concatenate / Softmax / LayerNormalization acts on the channel axis only. */
function channelAxisOnly(node: LayerNode): boolean {
  const axes = cfgNumbers(node.config, 'axis');
  if (!axes) return true;
  const channel = isChannelsFirst(node) ? 1 : 3;
  return axes.every((a) => a === -1 || a === channel);
}

// ---------------------------------------------------------------------------------------------

export function receptiveField(model: InspectableModel): ReceptiveFieldReport {
  const extent: [number, number] = [model.input.height, model.input.width];
  const fields = new Map<string, Field>();
  const layers: LayerReceptiveField[] = [];

  for (const node of model.layers) {
    let rule: LayerRule;
    try {
      rule = ruleFor(node, model);
    } catch (err) {
      if (err instanceof LayerError) throw new Error(`${model.path}: layer "${node.name}" (${node.className}): ${err.message}`);
      throw err;
    }
    const inputs = node.inbound.map((name) => {
      const f = fields.get(name);
      if (!f) throw new Error(`${model.path}: layer "${node.name}" reads "${name}", which comes later or does not exist (layers must be in topological order)`);
      return f;
    });

    let field: Field;
    let note: string | undefined;
    if (rule.kind === 'input') {
      field = { axes: [{ size: 1, stride: 1, padding: 0 }, { size: 1, stride: 1, padding: 0 }], global: false, aligned: true };
    } else if (inputs.some((f) => f.global) || rule.kind === 'global') {
      // Everything the layer consumes: each input's units, all of them, clipped to the image.
      const ranges = [0, 1].map((a) => {
        const per = inputs.map((f, i) => {
          if (f.global) return [-f.axes[a].padding, -f.axes[a].padding + f.axes[a].size - 1] as [number, number];
          const units = spatial(node, node.inputShapes[i])?.[a] ?? 1;
          return coveredRange(f.axes[a], units ?? 1, extent[a]);
        });
        return [Math.min(...per.map((r) => r[0])), Math.max(...per.map((r) => r[1]))] as [number, number];
      });
      field = { axes: [globalAxis(ranges[0]), globalAxis(ranges[1])], global: true, aligned: inputs.every((f) => f.aligned) };
      note = rule.kind === 'global' ? rule.note : 'global';
    } else {
      let merged: Field = inputs[0];
      let mergeAligned = true;
      if (inputs.length > 1) {
        const out = spatial(node, node.outputShape)!;
        const axes = [0, 1].map((a) => {
          const per = inputs.map((f) => f.axes[a]);
          if (!axesAligned(per)) mergeAligned = false;
          return unionAxis(per, out[a] ?? 1);
        }) as [AxisField, AxisField];
        merged = { axes, global: false, aligned: inputs.every((f) => f.aligned) && mergeAligned };
        if (!mergeAligned) note = misalignmentNote(node, inputs);
      }
      field =
        rule.kind === 'window'
          ? {
              axes: [applyWindow(merged.axes[0], rule.window[0]), applyWindow(merged.axes[1], rule.window[1])],
              global: false,
              aligned: merged.aligned && rule.aligned !== false,
            }
          : merged;
      if (rule.note) note = note ? `${note}; ${rule.note}` : rule.note;
    }
    fields.set(node.name, field);
    layers.push({
      name: node.name,
      className: node.className,
      size: [field.axes[0].size, field.axes[1].size],
      stride: [field.axes[0].stride, field.axes[1].stride],
      // + 0 turns −0 (from negating a zero) into 0, which JSON and deepEqual treat differently.
      padding: [field.axes[0].padding + 0, field.axes[1].padding + 0],
      aligned: field.aligned,
      ...(note ? { note } : {}),
    });
  }
  return { model: model.path, input: extent, layers };
}

function misalignmentNote(node: LayerNode, inputs: Field[]): string {
  const describe = (f: Field, i: number) =>
    `${node.inbound[i]}: size ${f.axes[0].size}×${f.axes[1].size}, stride ${f.axes[0].stride}×${f.axes[1].stride}, padding ${f.axes[0].padding}×${f.axes[1].padding}`;
  return `branches not aligned (union taken) — ${inputs.map(describe).join('; ')}`;
}
