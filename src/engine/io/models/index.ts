/**
 * Entry point for model loading: `loadModel(file)` picks the loader from the extension, or
 * from the content when the extension says nothing (and, for `.json`, from the content always:
 * Layers and Graph models are both "model.json").
 *
 * Every failure is a `ModelLoadError` whose message starts with the file path; errors from the
 * libraries underneath are wrapped, never passed through with their stacks.
 */
import * as path from 'path';
import type { InspectableModel, ModelFormat } from '../../model/inspectableModel';
import { fail, isRecord, looksLikeHdf5, looksLikeZip, readHead, readJsonFile, serialized, wrapError } from './common';
import { loadKerasH5 } from './kerasH5';
import { loadKerasV3 } from './kerasV3';
import { loadTfjsGraph } from './tfjsGraph';
import { loadTfjsLayers } from './tfjsLayers';

export { ModelLoadError } from '../../model/inspectableModel';

export { MODEL_FILE_PATTERNS, MODEL_FILE_EXTENSIONS, MODEL_FILE_GLOB, MODEL_FILE_FILTERS, isModelFileName } from './modelFiles';
export type { ModelFilePattern } from './modelFiles';

/** Loads any supported model file. Loads run one at a time (see `serialized`). */
export function loadModel(file: string): Promise<InspectableModel> {
  return serialized(async () => {
    try {
      return await dispatch(file);
    } catch (err) {
      wrapError(file, 'cannot load the model', err);
    }
  });
}

async function dispatch(file: string): Promise<InspectableModel> {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.h5' || ext === '.hdf5') return loadKerasH5(file);
  if (ext === '.keras') return loadKerasV3(file);
  if (ext === '.json') return loadTfjsJson(file);
  const head = readHead(file, 4096);
  if (looksLikeHdf5(head)) return loadKerasH5(file);
  if (looksLikeZip(head)) return loadKerasV3(file);
  const text = new TextDecoder().decode(head).replace(/^\uFEFF/, '').trimStart();
  if (text.startsWith('{')) return loadTfjsJson(file);
  fail(file, 'is not a model file CNN Lens recognises (expected a Keras .h5/.hdf5 or .keras file, or a TensorFlow.js model.json)');
}

/** TF.js Layers and Graph models are both model.json: tell them apart by `format`, then by shape. */
async function loadTfjsJson(file: string): Promise<InspectableModel> {
  const json = readJsonFile(file);
  const format = json.format;
  const topology = json.modelTopology;
  if (format === 'graph-model') return loadTfjsGraph(file, json);
  if (format === 'layers-model') return loadTfjsLayers(file, json);
  if (isRecord(topology)) {
    if (Array.isArray(topology.node)) return loadTfjsGraph(file, json);
    if (isRecord(topology.model_config) || typeof topology.class_name === 'string') return loadTfjsLayers(file, json);
    fail(file, 'model.json has a "modelTopology" that is neither a Keras model config nor a TensorFlow graph');
  }
  if (typeof json.class_name === 'string' && 'config' in json) {
    fail(file, 'holds only a Keras model architecture (model.to_json()), without weights; save the whole model instead');
  }
  fail(file, 'is not a TensorFlow.js model.json (it has no "modelTopology")');
}

