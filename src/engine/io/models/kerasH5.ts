/**
 * Loads a Keras model saved as HDF5 (`model.save("model.h5")`, Keras 2.x and Keras 3's legacy
 * h5 format).
 *
 * File layout (tf.keras `saving/legacy/hdf5_format.py`, save_model_to_hdf5):
 *   /                 attrs `model_config` (the model's JSON config), `keras_version`, `backend`,
 *                     and `training_config` for compiled models (ignored here)
 *   /model_weights    attr `layer_names`: every layer of `model.layers`, in order
 *   /model_weights/<layer>   attr `weight_names`, e.g. ["conv2d/kernel:0", "conv2d/bias:0"]
 *   /model_weights/<layer>/<weight name>   one dataset per weight ("conv2d/kernel:0" contains a
 *                     '/', hence the inner group of the same name)
 * Within a layer Keras pairs values with weights positionally (`weight_names` order against the
 * layer's trainable-then-non-trainable weights, `_legacy_weights`), which is also the order of
 * TF.js' `layer.weights`, so the same pairing is used here and the weight names only serve
 * messages. Layers are matched to groups by name (a group is named after its layer; Keras'
 * `by_name` loading does the same), so a layer without weights never shifts the pairing.
 * A file written by `save_weights` has the `model_weights` content at its root and no
 * `model_config`: that has no architecture to rebuild and is refused with a message saying so.
 */
import type { InspectableModel } from '../../model/inspectableModel';
import { fail, looksLikeHdf5, looksLikeZip, parseJson, readHead, isRecord } from './common';
import { attrString, attrStrings, type H5File, type H5Group, isDataset, isGroup, readFloatDataset, withH5File } from './hdf5';
import { normalizeKerasConfig } from './kerasConfig';
import { looksLikeKeras3Config, translateKeras3Config } from './kerasV3Config';
import { type ConfigObject, loadLayersFromConfig, pairPositional, type WeightAssignment, type WeightValue } from './layersBuild';

interface KerasH5Contents {
  modelConfig: ConfigObject;
  weights: Map<string, WeightValue[]>;
  layerOrder: string[];
}

export async function loadKerasH5(file: string): Promise<InspectableModel> {
  const head = readHead(file, 4096);
  if (!looksLikeHdf5(head)) {
    if (looksLikeZip(head)) fail(file, 'is a zip archive, not an HDF5 file (a Keras 3 model? those use the .keras extension)');
    fail(file, 'is not an HDF5 file (no HDF5 signature), so it cannot be a Keras .h5 model');
  }
  const contents = await withH5File(file, file, (f) => readContents(file, f));
  return loadLayersFromConfig({
    file,
    format: 'keras-h5',
    modelConfig: contents.modelConfig,
    planWeights: (model) => {
      const assignments: WeightAssignment[] = [];
      const modelLayerNames = new Set(model.layers.map((l) => l.name));
      for (const layer of model.layers) {
        const values = contents.weights.get(layer.name) ?? [];
        if (layer.weights.length === 0 && values.length === 0) continue;
        if (!contents.weights.has(layer.name) && layer.weights.length > 0) {
          fail(file, `layer "${layer.name}" has weights, but the file stores none for it (model_weights/${layer.name} is missing)`);
        }
        assignments.push(...pairPositional(file, layer.name, layer.weights, values));
      }
      const orphans = contents.layerOrder.filter((n) => !modelLayerNames.has(n) && (contents.weights.get(n)?.length ?? 0) > 0);
      if (orphans.length > 0) {
        fail(file, `the file stores weights for layer(s) ${orphans.map((n) => `"${n}"`).join(', ')}, which the model config does not define`);
      }
      return assignments;
    },
  });
}

function readContents(file: string, f: H5File): KerasH5Contents {
  const configText = attrString(f, 'model_config');
  if (configText === undefined) {
    if (attrStrings(f, 'layer_names') !== undefined) {
      fail(file, 'holds only weights (written by save_weights): it has no model_config attribute describing the model');
    }
    fail(file, 'is an HDF5 file but not a Keras model: it has no model_config attribute');
  }
  const backend = attrString(f, 'backend');
  if (backend === 'theano') {
    fail(file, 'was saved with the Theano backend, whose convolution kernels are stored flipped; re-save it with TensorFlow');
  }
  const parsed = parseJson(file, configText, 'the model_config attribute');
  if (!isRecord(parsed) || typeof parsed.class_name !== 'string') {
    fail(file, 'the model_config attribute is not a Keras model config (no class_name)');
  }
  const kerasConfig = looksLikeKeras3Config(parsed) ? translateKeras3Config(file, parsed) : parsed;
  const modelConfig = normalizeKerasConfig(file, kerasConfig);

  const root = f.get('model_weights');
  if (!isGroup(root)) fail(file, 'has a model_config but no model_weights group: the weights were not saved');
  const layerOrder = attrStrings(root, 'layer_names');
  if (layerOrder === undefined) fail(file, 'the model_weights group has no layer_names attribute');
  const weights = new Map<string, WeightValue[]>();
  for (const layerName of layerOrder) {
    const g = root.get(layerName);
    if (!isGroup(g)) fail(file, `model_weights/${layerName} is listed in layer_names but missing`);
    weights.set(layerName, readLayerWeights(file, g, layerName));
  }
  return { modelConfig, weights, layerOrder };
}

function readLayerWeights(file: string, g: H5Group, layerName: string): WeightValue[] {
  const names = attrStrings(g, 'weight_names') ?? [];
  return names.map((name) => {
    const ds = g.get(name);
    if (!isDataset(ds)) fail(file, `weight ${name} of layer "${layerName}" is listed in weight_names but missing`);
    const { shape, data } = readFloatDataset(file, ds, name);
    return { source: name.replace(/:0$/, ''), shape, data };
  });
}
