/**
 * Inputs for the dead-filter tests in a real VS Code (integration and e2e; no `vscode` import):
 *
 * - `makeDeadFilterModel(dir)`: the TF.js Layers fixture (test/fixtures/models/tfjs_layers), its
 *   model.json pretty-printed (so layers sit on different lines) and the biases of `conv2d`
 *   filters 1 and 3 set to -1000, so those two filters never fire on any image in [0, 1]: a model
 *   whose dead filters are known exactly.
 * - `makeTinyDataset(dir, n)`: a flat folder of `n` small random grey PNGs.
 * - `HIGH_LR_SAMPLE` / `SAMPLE_DATASET`: the trained high-learning-rate sample and its dataset,
 *   relative to the test workspace (a copy of samples/), used when they exist.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { repoRoot } from '../e2e/paths';

export const HIGH_LR_SAMPLE = 'fashion-mnist-cnn-high-lr/model.json';
export const SAMPLE_DATASET = 'data/fashion-mnist-1000';
export const DEAD_MODEL_DIR = 'dead-filter-model';
export const DEAD_LAYER = 'conv2d';
export const DEAD_UNITS = [1, 3];
export const DEAD_LAYER_UNITS = 4;

/** Writes the known-dead model into `dir` (created); returns its model.json path. */
export function makeDeadFilterModel(dir: string): string {
  const src = path.join(repoRoot, 'test/fixtures/models/tfjs_layers');
  mkdirSync(dir, { recursive: true });
  cpSync(src, dir, { recursive: true });
  const modelFile = path.join(dir, 'model.json');
  const json = JSON.parse(readFileSync(modelFile, 'utf8')) as {
    weightsManifest: { paths: string[]; weights: { name: string; shape: number[] }[] }[];
  };
  writeFileSync(modelFile, JSON.stringify(json, null, 2));
  // Offset of conv2d/bias in the concatenated shards (all float32).
  const group = json.weightsManifest[0];
  let offset = 0;
  for (const w of group.weights) {
    if (w.name === `${DEAD_LAYER}/bias`) break;
    offset += w.shape.reduce((a, b) => a * b, 1) * 4;
  }
  const shards = group.paths.map((p) => readFileSync(path.join(dir, p)));
  const all = Buffer.concat(shards);
  for (const u of DEAD_UNITS) all.writeFloatLE(-1000, offset + u * 4);
  let at = 0;
  group.paths.forEach((p, i) => {
    writeFileSync(path.join(dir, p), all.subarray(at, at + shards[i].length));
    at += shards[i].length;
  });
  return modelFile;
}

/** A flat folder of `n` 12×12 grey PNGs with pseudo-random pixels; returns the folder. */
export function makeTinyDataset(dir: string, n = 24): string {
  mkdirSync(dir, { recursive: true });
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let i = 0; i < n; i++) {
    const png = new PNG({ width: 12, height: 12 });
    for (let p = 0; p < 144; p++) {
      const v = Math.round(rand() * 255);
      png.data[p * 4] = png.data[p * 4 + 1] = png.data[p * 4 + 2] = v;
      png.data[p * 4 + 3] = 255;
    }
    writeFileSync(path.join(dir, `img${String(i).padStart(3, '0')}.png`), PNG.sync.write(png));
  }
  return dir;
}

/** The dataset to use in workspace `ws`: the sample's when present, else a generated one. */
export function datasetFor(ws: string): string {
  const sample = path.join(ws, SAMPLE_DATASET);
  if (existsSync(sample)) return sample;
  return makeTinyDataset(path.join(ws, 'tiny-dataset'));
}

/** Writes `cnnlens.json` with a dataset (relative path) beside a model. */
export function writeConfig(modelFile: string, dataset: string): void {
  const rel = path.relative(path.dirname(modelFile), dataset).split(path.sep).join('/');
  writeFileSync(path.join(path.dirname(modelFile), 'cnnlens.json'), JSON.stringify({ dataset: rel }, null, 2) + '\n');
}
