/**
 * Loads a Keras 3 model saved as `.keras` (`model.save("model.keras")`).
 *
 * The file is a zip (keras/src/saving/saving_lib.py, `_save_model_to_fileobj`) holding
 * `metadata.json` ({"keras_version", "date_saved"}), `config.json` (the model serialised by
 * `serialize_keras_object`, translated by `kerasV3Config.ts`) and `model.weights.h5`
 * (`model.weights.npz` when saved with weights_format="npz"; not read here), plus `assets/` for
 * layers that have some.
 *
 * Weights layout (saving_lib `_save_state` / `H5IOStore` / `H5Entry`): the model is walked as a
 * tree of "saveables"; each one gets a group `<inner_path>/vars` holding its own variables as
 * datasets "0", "1", ... in `_trainable_variables + _non_trainable_variables` order (e.g.
 * kernel, bias; gamma, beta, moving_mean, moving_variance). For Sequential and Functional
 * models the walk starts with the `layers` list, and list members are NOT addressed by layer
 * name (names are auto-generated and not reproducible) but by the snake_case *class* name,
 * numbered per class in list order (`_save_container_state`):
 *     layers/conv2d/vars/0, layers/conv2d/vars/1, layers/conv2d_1/vars/0, ...
 *     layers/batch_normalization/vars/0..3, layers/dense/vars/0..1
 * whatever the layers are called. `Sequential.layers` omits the InputLayer, `Functional.layers`
 * includes it (its vars group is empty; the per-class counters make this irrelevant). A nested
 * model continues the path: layers/functional/layers/conv2d/vars/0. The model's own `vars` sits
 * at the root, and a compiled model adds `optimizer/vars/<i>` (ignored). Files from Keras
 * 2.13-2.15 use `_layer_checkpoint_dependencies` where Keras 3 writes `layers`; Keras 3 itself
 * falls back to that name (H5Entry), and so does this loader.
 * Loading pairs each TF.js layer with its path computed from config.json, positionally.
 */
import { unzipSync } from 'fflate';
import type { InspectableModel } from '../../model/inspectableModel';
import { errorText, fail, isRecord, looksLikeHdf5, looksLikeZip, parseJson, readFileBytes } from './common';
import { type H5File, isDataset, isGroup, readFloatDataset, withH5Bytes } from './hdf5';
import { normalizeKerasConfig } from './kerasConfig';
import { kerasSnakeCase, translateKeras3Config } from './kerasV3Config';
import { type ConfigObject, forEachLeafLayer, isModelClass, layerNameOf, loadLayersFromConfig, modelLayers, pairPositional, type WeightAssignment, type WeightValue } from './layersBuild';

const CONFIG = 'config.json';
const WEIGHTS_H5 = 'model.weights.h5';
const WEIGHTS_NPZ = 'model.weights.npz';

export async function loadKerasV3(file: string): Promise<InspectableModel> {
  const bytes = readFileBytes(file, file, 'model file');
  if (!looksLikeZip(bytes)) {
    if (looksLikeHdf5(bytes)) fail(file, 'is an HDF5 file, not a zip archive (a Keras 2 model? those use the .h5 extension)');
    fail(file, 'is not a zip archive, so it cannot be a Keras 3 .keras model');
  }
  let entries: Record<string, Uint8Array>;
  const names: string[] = [];
  try {
    entries = unzipSync(bytes, {
      filter: (f) => {
        names.push(f.name);
        return f.name === CONFIG || f.name === WEIGHTS_H5;
      },
    });
  } catch (err) {
    fail(file, `the zip archive is damaged: ${errorText(err)}`);
  }
  if (!entries[CONFIG]) fail(file, `the .keras archive has no ${CONFIG} (the model architecture); it holds: ${names.join(', ') || 'nothing'}`);
  const weightsBytes = entries[WEIGHTS_H5];
  if (!weightsBytes) {
    if (names.includes(WEIGHTS_NPZ)) fail(file, `the .keras archive stores its weights as ${WEIGHTS_NPZ}, which CNN Lens does not read (save with the default h5 weights)`);
    fail(file, `the .keras archive has no ${WEIGHTS_H5} (the model weights)`);
  }
  const config = parseJson(file, new TextDecoder().decode(entries[CONFIG]), `${CONFIG} in the archive`);
  if (!isRecord(config)) fail(file, `${CONFIG} in the archive is not a model config object`);
  const modelConfig = normalizeKerasConfig(file, translateKeras3Config(file, config));
  const paths = weightPaths(config);
  if (!looksLikeHdf5(weightsBytes)) fail(file, `${WEIGHTS_H5} in the archive is not an HDF5 file`);
  const weights = await withH5Bytes(file, weightsBytes, (f) => readWeights(file, f, paths));

  return loadLayersFromConfig({
    file,
    format: 'keras-v3',
    modelConfig,
    planWeights: (model) => {
      const assignments: WeightAssignment[] = [];
      forEachLeafLayer(model, (layer, layerPath) => {
        if (layer.weights.length === 0) return;
        const key = layerPath.join('/');
        const h5Path = paths.get(key);
        const values = weights.get(key);
        if (!h5Path || !values) {
          fail(file, `layer "${key}" has weights, but ${WEIGHTS_H5} stores none for it${h5Path ? ` (expected ${h5Path})` : ''}`);
        }
        assignments.push(...pairPositional(file, key, layer.weights, values));
      });
      return assignments;
    },
  });
}

/**
 * Maps each leaf layer (by layer-name path, "block/conv") to its `.../vars` group, following
 * the walk order and naming that Keras' `_save_container_state` uses.
 */
export function weightPaths(root: ConfigObject): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (model: ConfigObject, prefix: string, names: string[]): void => {
    let layers = modelLayers(model.config);
    if (model.class_name === 'Sequential' && layers[0]?.class_name === 'InputLayer') layers = layers.slice(1);
    const used = new Map<string, number>();
    for (const layer of layers) {
      let key = kerasSnakeCase(String(layer.class_name));
      const seen = used.get(key);
      if (seen === undefined) used.set(key, 0);
      else {
        used.set(key, seen + 1);
        key = `${key}_${seen + 1}`;
      }
      const groupPath = `${prefix}layers/${key}`;
      const layerPath = [...names, layerNameOf(layer)];
      if (isModelClass(layer.class_name)) walk(layer, `${groupPath}/`, layerPath);
      else out.set(layerPath.join('/'), `${groupPath}/vars`);
    }
  };
  walk(root, '', []);
  return out;
}

function readWeights(file: string, f: H5File, paths: Map<string, string>): Map<string, WeightValue[]> {
  // Keras 2.13-2.15 wrote `_layer_checkpoint_dependencies` in place of `layers` (see header).
  const legacy = !isGroup(f.get('layers')) && isGroup(f.get('_layer_checkpoint_dependencies'));
  const out = new Map<string, WeightValue[]>();
  for (const [key, rawPath] of paths) {
    const groupPath = legacy ? rawPath.replace(/layers/g, '_layer_checkpoint_dependencies') : rawPath;
    const g = f.get(groupPath);
    if (!isGroup(g)) continue;
    const indices = g
      .keys()
      .filter((k) => /^\d+$/.test(k))
      .map(Number)
      .sort((a, b) => a - b);
    const values: WeightValue[] = [];
    for (let i = 0; i < indices.length; i++) {
      if (indices[i] !== i) fail(file, `${WEIGHTS_H5}: ${groupPath} has variables ${indices.join(', ')}; variable ${i} is missing`);
      const ds = g.get(String(i));
      if (!isDataset(ds)) fail(file, `${WEIGHTS_H5}: ${groupPath}/${i} is not a dataset`);
      const { shape, data } = readFloatDataset(file, ds, `${groupPath}/${i}`);
      values.push({ source: `${groupPath}/${i}`, shape, data });
    }
    out.set(key, values);
  }
  return out;
}
