/**
 * Translates a Keras 3 model config (`config.json` of a `.keras` file, or `model_config` of an
 * `.h5` written by Keras 3) into the Keras 2 schema that TF.js Layers reads.
 *
 * Keras 3 serialises with `serialization_lib.serialize_keras_object`, which differs from the
 * Keras 2 ("legacy") form in these ways, each undone here:
 * - every object carries `module` and `registered_name` (and layers a `build_config`, models a
 *   `compile_config`): dropped, after using them to refuse custom classes (a `registered_name`
 *   like "my_package>MyLayer", or a module outside `keras`);
 * - `dtype` is a `DTypePolicy` object (`{"class_name": "DTypePolicy", "config": {"name":
 *   "float32"}}`) instead of a string: replaced by the policy's variable dtype (mixed and
 *   half-precision policies become float32, the only float type TF.js layers use);
 * - `InputLayer` has `batch_shape` instead of `batch_input_shape` (and an `optional` flag);
 * - a Functional layer's `inbound_nodes` are `{"args": [...], "kwargs": {...}}` where tensors
 *   appear as `{"class_name": "__keras_tensor__", "config": {"keras_history": [layer, node,
 *   index]}}`, merge layers receiving a list of them as their first argument; Keras 2 used
 *   `[[[layer, node, index, kwargs], ...]]`;
 * - `input_layers` / `output_layers` are a bare `[layer, node, index]` when the model was built
 *   with a single tensor rather than a list;
 * - activations of built-in functions are plain strings, custom ones objects (refused).
 * A Sequential model without an InputLayer gets its input shape from `build_input_shape`.
 */
import { fail, isRecord } from './common';
import { type ConfigObject, isModelClass, layerNameOf, modelLayers } from './layersBuild';

const DROPPED_KEYS = new Set(['module', 'registered_name', 'build_config', 'compile_config', 'shared_object_id']);

/** True when a config uses any Keras 3 serialisation feature (so `.h5` files can be routed). */
export function looksLikeKeras3Config(config: unknown): boolean {
  let found = false;
  const visit = (v: unknown): void => {
    if (found) return;
    if (Array.isArray(v)) v.forEach(visit);
    else if (isRecord(v)) {
      if ('module' in v || 'batch_shape' in v || 'registered_name' in v || v.class_name === 'DTypePolicy' || v.class_name === '__keras_tensor__') {
        found = true;
        return;
      }
      Object.values(v).forEach(visit);
    }
  };
  visit(config);
  return found;
}

function policyDtype(value: unknown): unknown {
  if (!isRecord(value)) return value;
  const cfg = isRecord(value.config) ? value.config : {};
  const name = typeof cfg.name === 'string' ? cfg.name : 'float32';
  if (/^(mixed_)?(b?float16)$/.test(name) || name.startsWith('mixed_')) return 'float32';
  if (name.startsWith('int8') || name.startsWith('float8') || name.startsWith('int4')) return 'float32';
  return name;
}

/** Strips Keras 3 bookkeeping from a nested serialised object (initializer, regularizer, ...). */
function stripObject(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripObject);
  if (!isRecord(value)) return value;
  const out: ConfigObject = {};
  for (const [k, v] of Object.entries(value)) {
    if (DROPPED_KEYS.has(k)) continue;
    out[k] = stripObject(v);
  }
  return out;
}

function checkNotCustom(file: string, obj: ConfigObject, what: string): void {
  const registered = obj.registered_name;
  if (typeof registered === 'string' && registered.includes('>')) {
    fail(file, `${what} is the custom class "${registered}" (registered in Python), which TensorFlow.js cannot load`);
  }
  const module = obj.module;
  if (typeof module === 'string' && module !== 'keras' && !module.startsWith('keras.')) {
    fail(file, `${what} is the class "${String(obj.class_name)}" from Python module "${module}", which TensorFlow.js cannot load`);
  }
}

function translateActivation(file: string, layerName: string, value: unknown): unknown {
  if (value == null || typeof value === 'string') return value;
  // Keras 3 writes built-in activations as strings; a function object is either one of those
  // wrapped ({"class_name": "function", "config": "relu"}) or custom code.
  if (isRecord(value) && value.class_name === 'function' && typeof value.config === 'string' && String(value.module ?? '').startsWith('keras')) {
    return value.config;
  }
  fail(file, `layer "${layerName}" uses a custom activation ${JSON.stringify(value).slice(0, 100)}, which TensorFlow.js cannot run`);
}

/**
 * Node index of a tensor reference, in TF.js / Keras 2 numbering. Keras 2 and TF.js give every
 * nested model (Sequential included) an internal node 0 of its own, so calls on outer tensors
 * start at node 1; Keras 3 does that for Functional models only (`kept_nodes = 1` in
 * Functional.get_config), so a Keras 3 reference to a nested Sequential is one lower.
 */
type NodeIndexFix = (layer: string, node: number) => number;

function tensorHistories(file: string, layerName: string, value: unknown, out: unknown[][], fix: NodeIndexFix): void {
  if (Array.isArray(value)) {
    for (const v of value) tensorHistories(file, layerName, v, out, fix);
  } else if (isRecord(value)) {
    if (value.class_name === '__keras_tensor__') {
      const cfg = isRecord(value.config) ? value.config : {};
      const history = cfg.keras_history;
      if (!Array.isArray(history) || typeof history[0] !== 'string') {
        fail(file, `layer "${layerName}" has an inbound tensor without keras_history`);
      }
      out.push([history[0], fix(history[0], Number(history[1] ?? 0)), Number(history[2] ?? 0), {}]);
    } else {
      for (const v of Object.values(value)) tensorHistories(file, layerName, v, out, fix);
    }
  }
}

/** `{"args": [...], "kwargs": {...}}` → `[[layer, node, index, {}], ...]` (Keras 2 node data). */
function translateInboundNodes(file: string, layerName: string, nodes: unknown, fix: NodeIndexFix): unknown[] {
  if (!Array.isArray(nodes)) return [];
  return nodes.map((node) => {
    if (Array.isArray(node)) return node; // already legacy form
    if (!isRecord(node)) fail(file, `layer "${layerName}" has a malformed inbound node ${JSON.stringify(node)}`);
    const inputs: unknown[][] = [];
    tensorHistories(file, layerName, node.args, inputs, fix);
    const kwTensors: unknown[][] = [];
    tensorHistories(file, layerName, node.kwargs, kwTensors, fix);
    if (kwTensors.length > 0) {
      const keys = Object.keys(isRecord(node.kwargs) ? node.kwargs : {}).join(', ');
      fail(file, `layer "${layerName}" is called with tensor keyword arguments (${keys}), which TensorFlow.js models cannot express`);
    }
    if (inputs.length === 0) fail(file, `layer "${layerName}" is called without any input tensor`);
    return inputs;
  });
}

function tensorRefs(value: unknown, fix: NodeIndexFix): unknown[] {
  // A single [name, node, index] triple (model built with one tensor, not a list) → list of one;
  // a dict of named inputs/outputs → list (TF.js models take lists).
  const list = Array.isArray(value) && typeof value[0] === 'string' ? [value] : isRecord(value) ? Object.values(value) : Array.isArray(value) ? value : [];
  return list.map((ref) => (Array.isArray(ref) && typeof ref[0] === 'string' ? [ref[0], fix(ref[0], Number(ref[1] ?? 0)), ...ref.slice(2)] : ref));
}

const NO_FIX: NodeIndexFix = (_layer, node) => node;

function translateLayer(file: string, layer: ConfigObject, inFunctional: boolean, fix: NodeIndexFix = NO_FIX): ConfigObject {
  const className = layer.class_name;
  const name = layerNameOf(layer);
  if (typeof className !== 'string') fail(file, `layer "${name}" has no class_name in config.json`);
  checkNotCustom(file, layer, `layer "${name}"`);
  const cfgIn = isRecord(layer.config) ? layer.config : {};
  let config: ConfigObject;
  if (isModelClass(className)) {
    config = translateModelConfig(file, className, cfgIn);
  } else {
    config = {};
    for (const [key, value] of Object.entries(cfgIn)) {
      if (key === 'dtype') config.dtype = policyDtype(value);
      else if (key === 'activation') config.activation = translateActivation(file, name, value);
      else if (key === 'layer' && isRecord(value)) config.layer = translateLayer(file, value, false);
      else if (key === 'batch_shape' && className === 'InputLayer') config.batch_input_shape = value;
      else if (key === 'optional' && className === 'InputLayer') continue;
      else config[key] = stripObject(value);
    }
    for (const key of Object.keys(cfgIn)) {
      const v = cfgIn[key];
      if (isRecord(v) && (key.endsWith('_initializer') || key.endsWith('_regularizer') || key.endsWith('_constraint'))) {
        checkNotCustom(file, v, `the ${key} of layer "${name}"`);
      }
    }
  }
  const out: ConfigObject = { class_name: className, config };
  if (inFunctional) {
    out.name = layer.name ?? name;
    out.inbound_nodes = translateInboundNodes(file, name, layer.inbound_nodes, fix);
  }
  return out;
}

function translateModelConfig(file: string, className: string, cfg: ConfigObject): ConfigObject {
  const layers = modelLayers(cfg);
  if (className === 'Sequential') {
    const translated = layers.map((l) => translateLayer(file, l, false));
    const first = translated[0];
    const buildShape = cfg.build_input_shape ?? (isRecord(cfg.build_config) ? cfg.build_config.input_shape : undefined);
    if (first && first.class_name !== 'InputLayer' && Array.isArray(buildShape)) {
      const firstCfg = first.config as ConfigObject;
      if (firstCfg.batch_input_shape == null) firstCfg.batch_input_shape = buildShape;
    }
    return { name: cfg.name, layers: translated };
  }
  // Only Keras 3 node data ({"args", "kwargs"}) numbers nested Sequential calls from 0.
  const keras3Nodes = layers.some((l) => Array.isArray(l.inbound_nodes) && l.inbound_nodes.some(isRecord));
  const nestedSequential = new Set(layers.filter((l) => l.class_name === 'Sequential').map((l) => String(l.name ?? layerNameOf(l))));
  const fix: NodeIndexFix = keras3Nodes ? (layer, node) => (nestedSequential.has(layer) ? node + 1 : node) : NO_FIX;
  return {
    name: cfg.name,
    layers: layers.map((l) => translateLayer(file, l, true, fix)),
    input_layers: tensorRefs(cfg.input_layers, fix),
    output_layers: tensorRefs(cfg.output_layers, fix),
  };
}

/** Translates a whole Keras 3 model config (top-level `{module, class_name, config, ...}`). */
export function translateKeras3Config(file: string, root: ConfigObject): ConfigObject {
  const className = root.class_name;
  if (!isModelClass(className)) {
    checkNotCustom(file, root, 'the model');
    fail(file, `the model is a "${String(className)}", not a Sequential or Functional model (subclassed models cannot be rebuilt outside Python)`);
  }
  checkNotCustom(file, root, 'the model');
  const cfg = isRecord(root.config) ? root.config : {};
  return { class_name: className, config: translateModelConfig(file, String(className), cfg) };
}

/** Keras' `naming.to_snake_case`, used for weight paths in `.keras` files. */
export function kerasSnakeCase(name: string): string {
  return name
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}
