/**
 * Saves a TF.js Layers model as a model folder (`model.json` + one binary weight shard), the
 * layout `tf.loadLayersModel('file://…/model.json')` and `tfjs-node`'s `file://` saver use, without
 * needing tfjs-node: a custom IOHandler receives the model artifacts and writes them with `fs`.
 *
 * The folder is written ATOMICALLY as a whole: everything goes into a temporary folder next to the
 * target (same parent, so same file system), then that folder is renamed onto the target. A
 * reader therefore sees either the old folder or the complete new one, never a model.json whose
 * weights are still being written. When the target already exists it is first renamed aside and
 * removed after the swap (a rename cannot replace a non-empty folder), so for an instant between
 * the two renames the target path does not exist; a crash in that instant leaves the previous
 * version in the `.<name>.old-…` folder beside it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_FILE = 'group1-shard1of1.bin';

export interface SaveLayersModelOptions {
  /** Also save the optimizer state (for resuming training). Default false. */
  includeOptimizer?: boolean;
  /**
   * Extra files written into the same folder in the same atomic step, e.g.
   * `{ 'cnnlens.json': JSON.stringify(config) }`. Names must be plain file names.
   */
  extraFiles?: Record<string, string | Uint8Array>;
}

function uniqueSuffix(): string {
  return `${process.pid}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

function weightBytes(data: tf.io.WeightData | undefined): Uint8Array {
  if (data == null) return new Uint8Array(0);
  const buffer = Array.isArray(data) ? tf.io.CompositeArrayBuffer.join(data) : data;
  return new Uint8Array(buffer);
}

/** Builds the model.json object from the artifacts (same fields as tfjs's own savers). */
function modelJson(artifacts: tf.io.ModelArtifacts, manifest: tf.io.WeightsManifestConfig): tf.io.ModelJSON {
  const json: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology as tf.io.ModelJSON['modelTopology'],
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    weightsManifest: manifest,
  };
  if (artifacts.trainingConfig != null) json.trainingConfig = artifacts.trainingConfig;
  if (artifacts.signature != null) json.signature = artifacts.signature;
  if (artifacts.userDefinedMetadata != null) json.userDefinedMetadata = artifacts.userDefinedMetadata;
  if (artifacts.modelInitializer != null) json.modelInitializer = artifacts.modelInitializer;
  if (artifacts.initializerSignature != null) json.initializerSignature = artifacts.initializerSignature;
  return json;
}

async function writeAndSync(file: string, data: string | Uint8Array): Promise<void> {
  const handle = await fs.promises.open(file, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Saves `model` into the folder `dir` (created, or replaced as a whole if it exists).
 * Returns tfjs's SaveResult (sizes of topology and weights).
 */
export async function saveLayersModel(
  model: tf.LayersModel,
  dir: string,
  options: SaveLayersModelOptions = {},
): Promise<tf.io.SaveResult> {
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  const base = path.basename(target);
  for (const name of Object.keys(options.extraFiles ?? {})) {
    if (name !== path.basename(name) || name === MODEL_JSON || name === WEIGHTS_FILE || name.startsWith('.')) {
      throw new Error(`saveLayersModel: invalid extra file name "${name}"`);
    }
  }
  await fs.promises.mkdir(parent, { recursive: true });
  const tmp = path.join(parent, `.${base}.tmp-${uniqueSuffix()}`);

  const handler: tf.io.IOHandler = {
    save: async (artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> => {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new Error('saveLayersModel: binary (GraphDef) topologies are not supported; expected a Layers model');
      }
      const weights = weightBytes(artifacts.weightData);
      const manifest: tf.io.WeightsManifestConfig = [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }];
      await fs.promises.mkdir(tmp);
      await writeAndSync(path.join(tmp, WEIGHTS_FILE), weights);
      for (const [name, data] of Object.entries(options.extraFiles ?? {})) {
        await writeAndSync(path.join(tmp, name), data);
      }
      // model.json last: even inside the temporary folder it only exists once the weights do.
      await writeAndSync(path.join(tmp, MODEL_JSON), JSON.stringify(modelJson(artifacts, manifest)));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };

  let result: tf.io.SaveResult;
  try {
    result = await model.save(handler, { includeOptimizer: options.includeOptimizer ?? false });
    let old: string | undefined;
    if (fs.existsSync(target)) {
      old = path.join(parent, `.${base}.old-${uniqueSuffix()}`);
      await fs.promises.rename(target, old);
    }
    try {
      await fs.promises.rename(tmp, target);
    } catch (err) {
      if (old) await fs.promises.rename(old, target).catch(() => undefined);
      throw err;
    }
    if (old) await fs.promises.rm(old, { recursive: true, force: true });
  } catch (err) {
    await fs.promises.rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return result;
}
