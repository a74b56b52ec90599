/**
 * Loads a TF.js Layers model from disk: `model.json` (`format: "layers-model"`, a Keras model
 * config under `modelTopology`, usually wrapped as `{keras_version, backend, model_config}`,
 * and a `weightsManifest`) with its weight shards beside it.
 *
 * TF.js' own `file://` handler needs tfjs-node, which the extension does not ship, so the
 * files are read here and the model is built by the shared Layers path (`layersBuild.ts`).
 * Weights are matched to variables by name, with the same rules as TF.js' `loadWeights`: the
 * manifest name equals the variable's original name ("conv2d/kernel"), or does once its
 * next-to-last segment is dropped (TF 2.2+ inserts a cell name: "lstm/lstm_cell/kernel").
 * The topology goes through the same Keras normalisation as `.h5` files, and through the
 * Keras 3 translation when it was converted from a Keras 3 model (the converter copies the
 * config verbatim, and TF.js cannot read Keras 3's form).
 */
import type * as tf from '@tensorflow/tfjs';
import type { InspectableModel } from '../../model/inspectableModel';
import { fail, isRecord, readJsonFile } from './common';
import { normalizeKerasConfig } from './kerasConfig';
import { looksLikeKeras3Config, translateKeras3Config } from './kerasV3Config';
import { checkShape, loadLayersFromConfig, type WeightAssignment } from './layersBuild';
import { type DecodedWeight, decodeWeights, loadWeightShards } from './tfjsWeights';

/** `json` is model.json already parsed (by `loadModel`'s format sniffing); read when omitted. */
export async function loadTfjsLayers(file: string, json?: Record<string, unknown>): Promise<InspectableModel> {
  const modelJson = json ?? readJsonFile(file);
  const topology = modelJson.modelTopology;
  if (!isRecord(topology)) fail(file, 'model.json has no "modelTopology" object (the model architecture)');
  const config = isRecord(topology.model_config) ? topology.model_config : topology;
  if (typeof config.class_name !== 'string') fail(file, '"modelTopology" in model.json is not a Keras model config (no class_name)');
  const kerasConfig = looksLikeKeras3Config(config) ? translateKeras3Config(file, config) : config;
  const modelConfig = normalizeKerasConfig(file, kerasConfig);
  const decoded = decodeWeights(file, loadWeightShards(file, modelJson.weightsManifest));
  return loadLayersFromConfig({
    file,
    format: 'tfjs-layers',
    modelConfig,
    planWeights: (model) => planByName(file, model, decoded),
  });
}

function planByName(file: string, model: tf.LayersModel, decoded: DecodedWeight[]): WeightAssignment[] {
  const targets = new Map<string, tf.LayerVariable>();
  for (const layer of model.layers) for (const v of layer.weights) targets.set(v.originalName, v);
  const assignments: WeightAssignment[] = [];
  for (const w of decoded) {
    if (w.group === 'optimizer') continue;
    let key = w.name;
    if (!targets.has(key)) {
      const tokens = key.split('/');
      key = [...tokens.slice(0, -2), tokens[tokens.length - 1]].join('/');
    }
    const variable = targets.get(key);
    if (!variable) fail(file, `weight "${w.name}" in the weight files belongs to no layer of the model`);
    const value = { source: w.name, shape: w.shape, data: w.data };
    checkShape(file, variable.originalName, variable, value);
    assignments.push({ variable, value });
    targets.delete(key);
  }
  if (targets.size > 0) {
    const missing = [...targets.keys()];
    const shown = missing.slice(0, 6).join(', ') + (missing.length > 6 ? `, ... (${missing.length} in all)` : '');
    fail(file, `the weight files hold no values for ${shown}`);
  }
  return assignments;
}

