/**
 * The common second half of every Layers-type loader (TF.js Layers JSON, Keras `.h5`, Keras
 * `.keras`): check the layer classes, build the TF.js model from its (Keras-2-style) topology,
 * check every weight's shape against what the built layer needs, write the weights, and adapt.
 *
 * Why not simply `tf.loadLayersModel(handlerWithWeights)`? Because it fails in ways we cannot
 * report or clean up: an unknown class surfaces as "Unknown layer: X" with no layer name, a
 * shape mismatch as "Shape mismatch: [..] vs. [..]" with no weight name, and when it throws
 * after building, the half-built model (and its variables) is simply dropped, leaking every
 * tensor it allocated. So the model is built from the topology alone, our checks run against
 * the built layers, and only then are the values written.
 */
import * as tf from '@tensorflow/tfjs';
import { currentBackend, initBackend } from '../../backend';
import type { InspectableModel, ModelFormat } from '../../model/inspectableModel';
import { fromLayersModel } from '../../model/layersModelAdapter';
import { errorText, fail, formatShape, isRecord, ModelLoadError, sameShape, wrapError } from './common';

export type ConfigObject = Record<string, unknown>;

/** One weight value read from a file, before it becomes a tensor. */
export interface WeightValue {
  /** How the file names this weight, for messages ("conv2d/kernel:0", "layers/dense/vars/1"). */
  source: string;
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
}

export interface WeightAssignment {
  variable: tf.LayerVariable;
  value: WeightValue;
}

/** Leave a chosen backend alone; start the default one only when nobody has yet. */
export async function ensureBackend(): Promise<void> {
  if (!currentBackend()) await initBackend();
}

const MODEL_CLASSES = new Set(['Sequential', 'Functional', 'Model']);

export function isModelClass(className: unknown): boolean {
  return typeof className === 'string' && MODEL_CLASSES.has(className);
}

function registeredClasses(): Record<string, unknown> {
  return tf.serialization.SerializationMap.getMap().classNameMap as Record<string, unknown>;
}

/** TF.js' own snake_case → camelCase conversion of string config values (`hard_sigmoid`). */
function toCamel(name: string): string {
  return name.replace(/[_-][a-z]/g, (m) => m.slice(1).toUpperCase());
}

/** The layer list of a model config: `{layers: [...]}`, or a bare list (Keras <= 2.2 Sequential). */
export function modelLayers(config: unknown): ConfigObject[] {
  const list = Array.isArray(config) ? config : isRecord(config) ? config.layers : undefined;
  return Array.isArray(list) ? list.filter(isRecord) : [];
}

export function layerNameOf(layer: ConfigObject): string {
  const cfg = isRecord(layer.config) ? layer.config : {};
  return String(cfg.name ?? layer.name ?? '(unnamed)');
}

/**
 * Checks, before TF.js sees the topology, that every layer class and every activation is one
 * TF.js has registered, so the message names the layer and the class.
 */
export function checkLayerClasses(file: string, modelConfig: ConfigObject): void {
  const known = registeredClasses();
  const visit = (layer: ConfigObject): void => {
    const cls = layer.class_name;
    const name = layerNameOf(layer);
    if (typeof cls !== 'string') fail(file, `layer "${name}" has no class_name in the model config`);
    if (!(cls in known)) {
      if (cls === 'Lambda') fail(file, `layer "${name}" is a Lambda layer (Python code stored in the model), which cannot run outside Python`);
      if (cls === 'TFOpLambda' || cls === 'SlicingOpLambda') {
        fail(file, `layer "${name}" is a ${cls} (a raw TensorFlow operation called inside the Keras model), which TensorFlow.js cannot load`);
      }
      fail(file, `layer "${name}" has class "${cls}", which TensorFlow.js does not provide (a custom or unsupported layer)`);
    }
    const cfg = isRecord(layer.config) ? layer.config : {};
    const act = cfg.activation;
    if (act != null) {
      if (typeof act !== 'string') {
        fail(file, `layer "${name}" uses a custom activation ${JSON.stringify(act).slice(0, 80)}, which TensorFlow.js cannot run`);
      }
      if (!(act in known) && !(toCamel(act) in known)) fail(file, `layer "${name}" uses activation "${act}", which TensorFlow.js does not provide`);
    }
    if (MODEL_CLASSES.has(cls)) modelLayers(layer.config).forEach(visit);
    if (isRecord(cfg.layer)) visit(cfg.layer); // wrappers: TimeDistributed, Bidirectional
  };
  visit(modelConfig);
}

/**
 * Builds the model from its topology alone (weights get their initializers' values and are
 * overwritten afterwards). If TF.js throws half-way, the variables it created are disposed.
 */
export async function buildFromTopology(file: string, modelConfig: ConfigObject): Promise<tf.LayersModel> {
  const before = new Set(Object.keys(tf.engine().registeredVariables));
  try {
    return await tf.loadLayersModel({ load: async () => ({ modelTopology: modelConfig }) });
  } catch (err) {
    for (const [name, variable] of Object.entries(tf.engine().registeredVariables)) {
      if (!before.has(name)) variable.dispose();
    }
    wrapError(file, 'TensorFlow.js cannot build the model from its configuration', err);
  }
}

/** Last path segment of a TF.js weight name ("conv2d_1/kernel" → "kernel"). */
export function shortWeightName(variable: tf.LayerVariable): string {
  return variable.originalName.split('/').pop() ?? variable.originalName;
}

/**
 * Pairs a layer's weights with values read for it, in order (Keras stores and loads weights
 * positionally per layer: trainable then non-trainable, in creation order; TF.js lists
 * `layer.weights` the same way), checking count and shapes.
 */
export function pairPositional(file: string, layerLabel: string, variables: tf.LayerVariable[], values: WeightValue[]): WeightAssignment[] {
  if (variables.length !== values.length) {
    const need = variables.map(shortWeightName).join(', ');
    const have = values.map((v) => v.source).join(', ');
    fail(
      file,
      `layer "${layerLabel}": the file has ${values.length} weight${values.length === 1 ? '' : 's'}${have ? ` (${have})` : ''}, ` +
        `the layer needs ${variables.length}${need ? ` (${need})` : ''}`,
    );
  }
  return variables.map((variable, i) => {
    checkShape(file, `${layerLabel}/${shortWeightName(variable)}`, variable, values[i]);
    return { variable, value: values[i] };
  });
}

export function checkShape(file: string, label: string, variable: tf.LayerVariable, value: WeightValue): void {
  const need = [...variable.shape] as number[];
  if (!sameShape(need, value.shape)) {
    fail(file, `${label}: file has shape ${formatShape(value.shape)}, the layer needs ${formatShape(need)}`);
  }
}

/**
 * Writes the values into the variables. The write goes to the underlying `tf.Variable`, not
 * `LayerVariable.write`, because the latter re-applies the layer's weight constraint: loading
 * must reproduce the saved values exactly, as Keras does.
 */
export function writeWeights(assignments: WeightAssignment[]): void {
  tf.tidy(() => {
    for (const { variable, value } of assignments) {
      const target = variable.read() as tf.Variable;
      target.assign(tf.tensor(value.data, value.shape, target.dtype));
    }
  });
}

/** Walks a built model's layers, descending into nested models; `path` is the layer-name path. */
export function forEachLeafLayer(model: tf.LayersModel, fn: (layer: tf.layers.Layer, path: string[]) => void, prefix: string[] = []): void {
  for (const layer of model.layers) {
    const nested = (layer as unknown as { layers?: unknown }).layers;
    if (Array.isArray(nested) && layer instanceof tf.LayersModel) forEachLeafLayer(layer, fn, [...prefix, layer.name]);
    else fn(layer, [...prefix, layer.name]);
  }
}

export interface LayersLoadPlan {
  file: string;
  format: ModelFormat;
  /** Keras-2 / TF.js schema: `{class_name, config}`. */
  modelConfig: ConfigObject;
  /** Pairs the built model's variables with the values read from the file (throws on mismatch). */
  planWeights(model: tf.LayersModel): WeightAssignment[];
}

/** Build → plan weights → write → adapt; disposes the model on any failure after building. */
export async function loadLayersFromConfig(plan: LayersLoadPlan): Promise<InspectableModel> {
  const { file } = plan;
  await ensureBackend();
  checkLayerClasses(file, plan.modelConfig);
  const model = await buildFromTopology(file, plan.modelConfig);
  try {
    writeWeights(plan.planWeights(model));
    return fromLayersModel(model, file, plan.format);
  } catch (err) {
    model.dispose();
    if (err instanceof ModelLoadError) throw err;
    const text = errorText(err);
    // The adapter's own errors already start with the file path.
    if (text.startsWith(`${file}:`)) throw new ModelLoadError(file, text.slice(file.length + 1).trim());
    throw new ModelLoadError(file, `cannot load the weights: ${text}`);
  }
}

