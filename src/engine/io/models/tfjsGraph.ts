/**
 * Loads a TF.js Graph model (tfjs-converter output for SavedModels / frozen graphs):
 * `model.json` with `format: "graph-model"`, `modelTopology` = a GraphDef in JSON
 * (`{node: [...], versions, library}`), optional `signature`, and a `weightsManifest` whose
 * entries are the graph's `Const` nodes, by node name.
 *
 * Why two `tf.loadGraphModel` calls: GraphModel decodes all weights into tensors *before* it
 * compiles the graph, and drops them if compiling fails (an unsupported op, say) - a leak we
 * cannot clean up. So the graph is first compiled with no weights (no tensor is created), and
 * only once that succeeded are the weights decoded, after our own checks of every shard's size
 * and of every constant's shape against its node.
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { InspectableModel } from '../../model/inspectableModel';
import { decodeAttr, fromGraphModel, type GraphNodeDef } from '../../model/graphModelAdapter';
import { errorText, fail, formatShape, isRecord, ModelLoadError, readJsonFile, sameShape, wrapError } from './common';
import { ensureBackend } from './layersBuild';
import { loadWeightShards, type LoadedWeights } from './tfjsWeights';

export async function loadTfjsGraph(file: string, json?: Record<string, unknown>): Promise<InspectableModel> {
  const modelJson = json ?? readJsonFile(file);
  const topology = modelJson.modelTopology;
  if (!isRecord(topology) || !Array.isArray(topology.node)) fail(file, 'model.json has no "modelTopology.node" list (the graph)');
  const graphNodes = checkNodes(file, topology.node);
  const weights = loadWeightShards(file, modelJson.weightsManifest);
  checkConstants(file, graphNodes, weights);
  await ensureBackend();

  // proto3 JSON omits empty messages; GraphModel reads `versions.producer` unconditionally.
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: { ...topology, versions: isRecord(topology.versions) ? topology.versions : {} },
    format: typeof modelJson.format === 'string' ? modelJson.format : 'graph-model',
    generatedBy: typeof modelJson.generatedBy === 'string' ? modelJson.generatedBy : undefined,
    convertedBy: typeof modelJson.convertedBy === 'string' ? modelJson.convertedBy : undefined,
    signature: isRecord(modelJson.signature) ? modelJson.signature : undefined,
    userDefinedMetadata: isRecord(modelJson.userDefinedMetadata) ? (modelJson.userDefinedMetadata as Record<string, {}>) : undefined,
    modelInitializer: isRecord(modelJson.modelInitializer) ? modelJson.modelInitializer : undefined,
  };

  try {
    const probe = await tf.loadGraphModel({ load: async () => ({ ...artifacts, weightSpecs: [], weightData: new ArrayBuffer(0) }) });
    probe.dispose();
  } catch (err) {
    failOnUnsupportedOp(file, graphNodes, err);
    wrapError(file, 'TensorFlow.js cannot load the graph', err);
  }

  let model: tf.GraphModel;
  try {
    model = await tf.loadGraphModel({
      load: async () => ({ ...artifacts, weightSpecs: weights.specs as tf.io.WeightsManifestEntry[], weightData: weights.data }),
    });
  } catch (err) {
    wrapError(file, 'TensorFlow.js cannot load the graph', err);
  }
  try {
    return fromGraphModel(model, file, { node: graphNodes }, { name: path.basename(path.dirname(path.resolve(file))) });
  } catch (err) {
    model.dispose();
    if (err instanceof ModelLoadError) throw err;
    failOnUnsupportedOp(file, graphNodes, err);
    const text = errorText(err);
    throw new ModelLoadError(file, text.startsWith(`${file}:`) ? text.slice(file.length + 1).trim() : text);
  }
}

/**
 * TF.js reports an op it lacks either when compiling the graph ("Op is not supported: X") or
 * only when first executing it ("Unknown op 'X'", during the shape probe); either way the
 * message should name a node that uses it.
 */
function failOnUnsupportedOp(file: string, nodes: GraphNodeDef[], err: unknown): void {
  const text = err instanceof Error ? err.message : String(err);
  const op = /Op is not supported: ([\w.>-]+)/.exec(text)?.[1] ?? /Unknown op '([^']+)'/.exec(text)?.[1];
  const node = op ? nodes.find((n) => n.op === op) : undefined;
  if (node) fail(file, `graph node "${node.name}" uses the TensorFlow op "${op}", which TensorFlow.js does not support`);
}

function checkNodes(file: string, raw: unknown[]): GraphNodeDef[] {
  const seen = new Set<string>();
  return raw.map((n, i) => {
    if (!isRecord(n) || typeof n.name !== 'string' || typeof n.op !== 'string') {
      fail(file, `graph node ${i + 1} in model.json has no "name" or "op"`);
    }
    if (seen.has(n.name)) fail(file, `graph node "${n.name}" appears twice in model.json`);
    seen.add(n.name);
    if (n.input !== undefined && !(Array.isArray(n.input) && n.input.every((x) => typeof x === 'string'))) {
      fail(file, `graph node "${n.name}" has a malformed "input" list`);
    }
    return n as unknown as GraphNodeDef;
  });
}

/**
 * Every `Const` node must have values in the weight files, with the shape its `value` attr
 * declares (the converter strips the tensor content but keeps its shape).
 */
function checkConstants(file: string, nodes: GraphNodeDef[], weights: LoadedWeights): void {
  const specs = new Map(weights.specs.map((s) => [s.name, s]));
  for (const n of nodes) {
    if (n.op !== 'Const') continue;
    const spec = specs.get(n.name);
    if (!spec) fail(file, `graph constant "${n.name}" has no values in the weight files`);
    const declared = (decodeAttr(n.attr?.value) as { shape?: (number | null)[] | null } | undefined)?.shape;
    if (declared && declared.every((d) => d != null) && !sameShape(declared as number[], spec.shape)) {
      fail(file, `${n.name}: file has shape ${formatShape(spec.shape)}, the graph needs ${formatShape(declared)}`);
    }
  }
}
