/**
 * Which model the code-server suites inspect, and what its summary must show. Shared by the e2e
 * tests (outside VS Code) and the integration tests (inside the extension host): no `vscode` here.
 *
 * The test workspace is a temp copy of `samples/` plus the small TF.js Layers fixture under
 * `fixture-models/`. The trained sample `fashion-mnist-cnn/model.json` is preferred when present.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/** Sample model, relative to the workspace, preferred when it exists. */
export const SAMPLE_MODEL = 'fashion-mnist-cnn/model.json';
/** Fallback copied into every test workspace from `test/fixtures/models/tfjs_layers/`. */
export const FIXTURE_MODEL = 'fixture-models/tfjs_layers/model.json';
/** Where tests write a corrupt model (inside the workspace copy only). */
export const CORRUPT_MODEL = 'corrupt-model/model.json';
/** A model.json cut off in the middle: not valid JSON. */
export const CORRUPT_MODEL_TEXT = '{"format": "layers-model", "modelTopology": {"class_name": "Sequential", "config": {"layers": [\n';

/** The model the tests use in workspace `ws`, relative to it (forward slashes). */
export function modelUnderTest(ws: string): string {
  return existsSync(path.join(ws, SAMPLE_MODEL)) ? SAMPLE_MODEL : FIXTURE_MODEL;
}

interface LayerJson {
  class_name?: string;
  name?: string;
  config?: { name?: string; layers?: LayerJson[] };
}

/**
 * Names of the model's top-level layers as written in its model.json (TF.js Layers format,
 * Sequential or functional), without InputLayers (TF.js may or may not list them).
 */
export function layerNamesOf(modelJsonPath: string): string[] {
  const json = JSON.parse(readFileSync(modelJsonPath, 'utf8')) as { modelTopology?: Record<string, unknown> };
  const topology = json.modelTopology ?? {};
  const root = ((topology as { model_config?: LayerJson }).model_config ?? topology) as LayerJson;
  const layers = root.config?.layers ?? [];
  return layers.filter((l) => l.class_name !== 'InputLayer').map((l) => l.config?.name ?? l.name ?? '').filter(Boolean);
}
