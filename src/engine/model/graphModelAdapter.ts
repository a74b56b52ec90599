/**
 * Adapts a TF.js `GraphModel` (tfjs-converter output: a GraphDef of TensorFlow ops) to
 * `InspectableModel`. "Layers" are graph nodes: `className` is the op (`Conv2D`, `BiasAdd`,
 * `Relu`, `_FusedConv2D`, ...), and `run()` executes the graph up to any of them, since
 * `GraphModel.execute(input, nodeNames)` returns intermediate node outputs directly.
 *
 * What is left out of `layers`, and why:
 * - `Const` nodes are the weights: they appear as `weights` of the nodes that consume them.
 * - Pass-through nodes (`Identity`, `StopGradient`, ...; the converter keeps an `Identity` per
 *   signature output and around variable reads) add nothing to look at; references through them
 *   are followed to the node that computes the value, so `outputLayer` is e.g. the Softmax.
 * - Nodes that do not depend on the input (shape arithmetic on constants) are constants in
 *   effect.
 * Output shapes come from one run of a zero batch through every kept node (the graph has no
 * static shapes to read). The batch dimension is reported as `null` when the input's batch is
 * dynamic: it is recognised as a leading dimension equal to the probe's batch size (1).
 */
import * as tf from '@tensorflow/tfjs';
import type { InputGeometry, InspectableModel, LayerNode, WeightInfo } from './inspectableModel';
import { findLayer } from './inspectableModel';

/** A GraphDef node in the converter's JSON form. */
export interface GraphNodeDef {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, unknown>;
  device?: string;
}

const PASS_THROUGH = new Set(['Identity', 'IdentityN', 'StopGradient', 'PreventGradient', 'Snapshot', 'CheckNumerics', 'EnsureShape']);
const SKIPPED = new Set(['Const', 'NoOp', ...PASS_THROUGH]);

const ACTIVATION_OPS: Record<string, string> = {
  Relu: 'relu',
  Relu6: 'relu6',
  Elu: 'elu',
  Selu: 'selu',
  Sigmoid: 'sigmoid',
  Tanh: 'tanh',
  Softmax: 'softmax',
  LogSoftmax: 'log_softmax',
  LeakyRelu: 'leaky_relu',
  Prelu: 'prelu',
  Softplus: 'softplus',
  Softsign: 'softsign',
  Swish: 'swish',
};

/** Ops computing a linear map (activation "linear" unless an activation is fused in). */
const LINEAR_OPS = new Set([
  'Conv2D',
  'DepthwiseConv2dNative',
  'Conv2DBackpropInput',
  'MatMul',
  'BatchMatMul',
  'BatchMatMulV2',
  '_FusedConv2D',
  'FusedDepthwiseConv2dNative',
  '_FusedMatMul',
]);

/** Names for a node's constant inputs, by input position, so weights read like Keras' ones. */
function weightRole(op: string, index: number, fusedOps: string[]): string | undefined {
  if (LINEAR_OPS.has(op)) {
    if (index === 1) return op.includes('Depthwise') ? 'depthwise_kernel' : 'kernel';
    if (op.startsWith('_Fused') || op.startsWith('Fused')) {
      if (fusedOps[0] === 'BiasAdd') return index === 2 ? 'bias' : fusedOps.includes('Prelu') ? 'alpha' : undefined;
      if (fusedOps[0] === 'FusedBatchNorm') return ['scale', 'offset', 'mean', 'variance'][index - 2];
    }
  }
  if (op === 'BiasAdd' || op === 'Add' || op === 'AddV2') return index === 1 ? 'bias' : undefined;
  if (op.startsWith('FusedBatchNorm')) return ['gamma', 'beta', 'moving_mean', 'moving_variance'][index - 1];
  if (op === 'Prelu') return index === 1 ? 'alpha' : undefined;
  if (op === 'Mul') return 'scale';
  return undefined;
}

function base64Text(s: string): string {
  return Buffer.from(s, 'base64').toString('utf8');
}

function shapeOf(shape: unknown): (number | null)[] | null {
  if (!shape || typeof shape !== 'object') return null;
  const s = shape as { dim?: { size?: string | number }[]; unknownRank?: boolean };
  if (s.unknownRank) return null;
  return (s.dim ?? []).map((d) => {
    const n = Number(d.size ?? -1);
    return n < 0 ? null : n;
  });
}

/** Decodes a proto3-JSON `AttrValue` (int64 as strings, bytes as base64) into plain values. */
export function decodeAttr(value: unknown): unknown {
  if (!value || typeof value !== 'object') return value;
  const v = value as Record<string, unknown>;
  if ('s' in v) return base64Text(String(v.s));
  if ('i' in v) return Number(v.i);
  if ('f' in v) return Number(v.f);
  if ('b' in v) return Boolean(v.b);
  if ('type' in v) return v.type;
  if ('shape' in v) return shapeOf(v.shape);
  if ('tensor' in v) {
    const t = v.tensor as { dtype?: string; tensorShape?: unknown };
    return { dtype: t.dtype, shape: shapeOf(t.tensorShape) };
  }
  if ('func' in v) return (v.func as { name?: string }).name;
  if ('list' in v) {
    const l = (v.list ?? {}) as Record<string, unknown[]>;
    if (l.s) return l.s.map((x) => base64Text(String(x)));
    if (l.i) return l.i.map(Number);
    if (l.f) return l.f.map(Number);
    if (l.b) return l.b.map(Boolean);
    if (l.type) return l.type;
    if (l.shape) return l.shape.map(shapeOf);
    return [];
  }
  return value;
}

/** "name:1" → {node: "name", index: 1}; control inputs ("^name") → undefined. */
function parseRef(ref: string): { node: string; index: number } | undefined {
  if (ref.startsWith('^')) return undefined;
  const m = /^(.*):(\d+)$/.exec(ref);
  return m ? { node: m[1], index: Number(m[2]) } : { node: ref, index: 0 };
}

export interface GraphAdapterOptions {
  name?: string;
}

export function fromGraphModel(model: tf.GraphModel, file: string, graph: { node: GraphNodeDef[] }, options: GraphAdapterOptions = {}): InspectableModel {
  const nodes = new Map<string, GraphNodeDef>();
  graph.node.forEach((n) => nodes.set(n.name, n));

  if (model.inputs.length !== 1) {
    throw new Error(`${file}: the graph has ${model.inputs.length} inputs; CNN Lens needs a single image input`);
  }
  const inputName = model.inputs[0].name.replace(/:\d+$/, '');
  const inputNode = nodes.get(inputName);
  if (!inputNode) throw new Error(`${file}: the graph's input "${inputName}" is not one of its nodes`);
  // The Placeholder's own `shape` attr; the signature's (what `model.inputs` reports) otherwise.
  const attrShape = decodeAttr(inputNode.attr?.shape) as (number | null)[] | null | undefined;
  const inputShape = (attrShape && attrShape.length > 0 ? attrShape : model.inputs[0].shape) ?? [];
  const input = geometryOf(file, inputShape);
  const dynamicBatch = inputShape[0] == null || inputShape[0] < 0;
  const probeBatch = dynamicBatch ? 1 : (inputShape[0] as number);

  /** Follows pass-through nodes to the node that computes a value. */
  const resolve = (ref: string): string | undefined => {
    let r = parseRef(ref);
    for (let guard = 0; r && guard < 1000; guard++) {
      const n = nodes.get(r.node);
      if (!n || !PASS_THROUGH.has(n.op)) return r.node;
      const inputs = (n.input ?? []).filter((x) => !x.startsWith('^'));
      r = parseRef(inputs[n.op === 'IdentityN' ? r.index : 0] ?? '');
    }
    return undefined;
  };

  // Nodes downstream of the input (through data edges), in GraphDef order.
  const consumers = new Map<string, string[]>();
  for (const n of graph.node) {
    for (const ref of n.input ?? []) {
      const p = parseRef(ref);
      if (!p) continue;
      if (!consumers.has(p.node)) consumers.set(p.node, []);
      consumers.get(p.node)!.push(n.name);
    }
  }
  const reachable = new Set<string>([inputName]);
  const stack = [inputName];
  while (stack.length) {
    for (const c of consumers.get(stack.pop()!) ?? []) {
      if (!reachable.has(c)) {
        reachable.add(c);
        stack.push(c);
      }
    }
  }
  const kept = graph.node.filter((n) => reachable.has(n.name) && (n.name === inputName || !SKIPPED.has(n.op)));
  const keptNames = new Set(kept.map((n) => n.name));

  const inboundOf = new Map<string, string[]>();
  const constsOf = new Map<string, { role: string; constName: string }[]>();
  for (const n of kept) {
    const inbound: string[] = [];
    const consts: { role: string; constName: string }[] = [];
    const fusedOps = (decodeAttr(n.attr?.fused_ops) as string[] | undefined) ?? [];
    (n.input ?? []).forEach((ref, i) => {
      const src = resolve(ref);
      if (!src) return;
      const srcNode = nodes.get(src);
      if (srcNode?.op === 'Const') {
        const t = decodeAttr(srcNode.attr?.value) as { dtype?: string } | undefined;
        const dtype = t?.dtype ?? (decodeAttr(srcNode.attr?.dtype) as string | undefined);
        if (dtype === 'DT_FLOAT' || dtype === 'DT_HALF' || dtype === undefined) {
          consts.push({ role: weightRole(n.op, i, fusedOps) ?? src.split('/').pop()!, constName: src });
        }
      } else if (keptNames.has(src) && !inbound.includes(src)) inbound.push(src);
    });
    inboundOf.set(n.name, inbound);
    constsOf.set(n.name, consts);
  }
  const order = topologicalOrder(kept, inboundOf);

  // Output shapes: one zero batch through every kept node (the input's shape is known).
  const probeNames = order.filter((n) => n !== inputName);
  const shapes = new Map<string, (number | null)[]>();
  shapes.set(inputName, [dynamicBatch ? null : probeBatch, input.height, input.width, input.channels]);
  try {
    const measured = tf.tidy(() => {
      const x = tf.zeros([probeBatch, input.height, input.width, input.channels]);
      const out = probeNames.length ? model.execute(x, probeNames) : [];
      return (Array.isArray(out) ? out : [out]).map((t) => [...t.shape]);
    });
    probeNames.forEach((name, i) => {
      const s: (number | null)[] = [...measured[i]];
      if (dynamicBatch && s.length > 0 && s[0] === probeBatch) s[0] = null;
      shapes.set(name, s);
    });
  } catch (err) {
    const text = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new Error(`${file}: running the graph on a zero image failed: ${text}`);
  }

  const layers: LayerNode[] = order.map((name) => {
    const n = nodes.get(name)!;
    const config: Record<string, unknown> = { op: n.op };
    for (const [k, v] of Object.entries(n.attr ?? {})) config[k] = decodeAttr(v);
    const inbound = name === inputName ? [] : inboundOf.get(name) ?? [];
    const weights: WeightInfo[] = (constsOf.get(name) ?? []).map((c) => ({
      name: c.role,
      shape: [...(model.weights[c.constName]?.[0]?.shape ?? [])],
      trainable: false,
    }));
    return {
      name,
      className: n.op,
      inbound,
      outputShape: shapes.get(name) ?? [],
      inputShapes: inbound.map((i) => shapes.get(i) ?? []),
      activation: activationOf(n.op, config),
      config,
      weights,
    };
  });

  const declaredOutput = model.outputs[0]?.name;
  let outputLayer = declaredOutput ? resolve(declaredOutput) : undefined;
  if (!outputLayer || !keptNames.has(outputLayer)) outputLayer = order[order.length - 1];

  const inspectable: InspectableModel = {
    path: file,
    format: 'tfjs-graph',
    name: options.name ?? 'graph',
    input,
    layers,
    outputLayer,
    run(x: tf.Tensor4D, layerNames: readonly string[]): tf.Tensor[] {
      for (const n of layerNames) findLayer(inspectable, n);
      const wanted = [...new Set(layerNames.filter((n) => n !== inputName))];
      const byName = new Map<string, tf.Tensor>();
      if (wanted.length) {
        const out = model.execute(x, wanted);
        (Array.isArray(out) ? out : [out]).forEach((t, i) => byName.set(wanted[i], t));
      }
      // Each requested name gets its own tensor (the caller disposes every one it gets).
      const used = new Set<string>();
      return layerNames.map((n) => {
        if (n === inputName) return x.clone();
        const t = byName.get(n)!;
        if (used.has(n)) return t.clone();
        used.add(n);
        return t;
      });
    },
    layerWeights(layerName: string): tf.Tensor[] {
      findLayer(inspectable, layerName);
      return (constsOf.get(layerName) ?? []).map((c) => model.weights[c.constName][0]);
    },
    dispose(): void {
      model.dispose();
    },
  };
  return inspectable;
}

function activationOf(op: string, config: Record<string, unknown>): string | undefined {
  if (op in ACTIVATION_OPS) return ACTIVATION_OPS[op];
  if (!LINEAR_OPS.has(op)) return undefined;
  const fused = Array.isArray(config.fused_ops) ? (config.fused_ops as string[]) : [];
  for (const f of fused) if (f in ACTIVATION_OPS) return ACTIVATION_OPS[f];
  return 'linear';
}

function geometryOf(file: string, shape: readonly (number | null)[]): InputGeometry {
  const dims = shape.map((d) => (d == null || d < 0 ? null : d));
  if (dims.length !== 4) {
    throw new Error(`${file}: the graph's input has shape [${dims.join(', ')}]; CNN Lens needs images [batch, height, width, channels]`);
  }
  const [, h, w, c] = dims;
  if (h == null || w == null || c == null) {
    throw new Error(`${file}: the graph's input shape [${dims.join(', ')}] has an unknown height, width or channel count`);
  }
  return { height: h, width: w, channels: c };
}

/** Kahn's algorithm, ties broken by GraphDef order (the converter's order is usually already topological). */
function topologicalOrder(kept: GraphNodeDef[], inboundOf: Map<string, string[]>): string[] {
  const indexOf = new Map(kept.map((n, i) => [n.name, i]));
  const pending = new Map(kept.map((n) => [n.name, (inboundOf.get(n.name) ?? []).length]));
  const out: string[] = [];
  const ready = kept.filter((n) => pending.get(n.name) === 0).map((n) => n.name);
  const dependents = new Map<string, string[]>();
  for (const n of kept) for (const src of inboundOf.get(n.name) ?? []) {
    if (!dependents.has(src)) dependents.set(src, []);
    dependents.get(src)!.push(n.name);
  }
  while (ready.length) {
    ready.sort((a, b) => indexOf.get(a)! - indexOf.get(b)!);
    const name = ready.shift()!;
    out.push(name);
    for (const d of dependents.get(name) ?? []) {
      const left = pending.get(d)! - 1;
      pending.set(d, left);
      if (left === 0) ready.push(d);
    }
  }
  // A cycle (a control-flow loop) leaves nodes behind; keep them in file order rather than drop them.
  for (const n of kept) if (!out.includes(n.name)) out.push(n.name);
  return out;
}
