/**
 * Data for the transfer-learning tests (integration and e2e; no `vscode` here): small labelled
 * folders copied from the sample images into the test workspace, and the model to start from.
 *
 * The base model `fashion-mnist-base-0-4` never saw Fashion-MNIST classes 5–9, so training a new
 * head on them is transfer to new classes; without it the tests use the 10-class sample CNN.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { modelUnderTest } from './sampleModel';

export const TRANSFER_BASE_MODEL = 'fashion-mnist-base-0-4/model.json';
/** Sample image folder inside the test workspace (a copy of `samples/data/fashion-mnist-1000`). */
export const SAMPLE_IMAGES = 'data/fashion-mnist-1000';
/** Classes the base model never saw. */
export const NEW_CLASSES = ['5_Sandal', '6_Shirt', '7_Sneaker', '8_Bag', '9_Ankle_boot'];

/** The model to train a new head for, relative to the workspace. */
export function transferBaseModel(ws: string): string {
  return existsSync(path.join(ws, TRANSFER_BASE_MODEL)) ? TRANSFER_BASE_MODEL : modelUnderTest(ws);
}

/**
 * Copies the first `perClass` images of each of `classes` from the sample images into
 * `<ws>/<dest>/<class>/` and returns the folder's absolute path.
 */
export function copyClassFolders(ws: string, dest: string, classes: readonly string[], perClass: number): string {
  const root = path.join(ws, dest);
  for (const cls of classes) {
    const from = path.join(ws, SAMPLE_IMAGES, cls);
    const files = readdirSync(from).filter((f) => f.endsWith('.png')).sort().slice(0, perClass);
    if (files.length < perClass) throw new Error(`${from}: only ${files.length} PNGs, ${perClass} needed`);
    mkdirSync(path.join(root, cls), { recursive: true });
    for (const f of files) copyFileSync(path.join(from, f), path.join(root, cls, f));
  }
  return root;
}
