/**
 * Entry point for datasets: one call that accepts whatever path the user gave (`--data`, a
 * setting, `cnnlens.json`'s `dataset`) and picks the reader, so callers never branch on format.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { InputGeometry } from '../../model/inspectableModel';
import { DEFAULT_DECODE_LIMITS, decodeImage, sniffImageFormat, type DecodeLimits } from './decode';
import { openIdxDataset } from './idx';
import { openImageFolder } from './imageFolder';
import { checkPreprocessing, DEFAULT_PREPROCESSING, preprocessImageInto } from './imageGeometry';
import type { Dataset, Preprocessing } from './types';

export type { Batch, BatchOptions, Dataset, DatasetKind, Preprocessing, SkippedFile } from './types';
export { DEFAULT_PREPROCESSING, preprocessImage, preprocessImageInto } from './imageGeometry';
export { decodeImage, sniffImageFormat, DEFAULT_DECODE_LIMITS } from './decode';
export type { DecodedImage, DecodeLimits } from './decode';
export { readIdxFile, openIdxDataset, IdxDataset } from './idx';
export { openImageFolder, ImageFolderDataset } from './imageFolder';
export { evenSampleIndices } from './range';

export interface OpenDatasetOptions {
  /** Class names in label order, usually from `cnnlens.json`. */
  classNames?: string[];
  decodeLimits?: DecodeLimits;
}

async function statOrThrow(file: string): Promise<fs.Stats> {
  try {
    return await fs.promises.stat(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`${file}: no such file or folder`);
    throw new Error(`${file}: cannot read (${(e as Error).message})`);
  }
}

/**
 * Opens a dataset: a folder → image folder (labelled when it has class sub-folders, otherwise
 * flat); a file → IDX images (or labels) file, gzipped or not.
 */
export async function openDataset(datasetPath: string, options: OpenDatasetOptions = {}): Promise<Dataset> {
  const resolved = path.resolve(datasetPath);
  const st = await statOrThrow(resolved);
  if (st.isDirectory()) {
    return openImageFolder(resolved, { classNames: options.classNames, decodeLimits: options.decodeLimits });
  }
  try {
    return await openIdxDataset(resolved, { classNames: options.classNames });
  } catch (e) {
    // A single picture passed as a dataset is a likely mistake: say what to do instead.
    const head = new Uint8Array(8);
    const handle = await fs.promises.open(resolved, 'r');
    try {
      await handle.read(head, 0, 8, 0);
    } finally {
      await handle.close();
    }
    if (sniffImageFormat(head)) {
      throw new Error(`${resolved}: is a single image; a dataset is a folder of images or an IDX file`);
    }
    throw e;
  }
}

/**
 * Decodes and preprocesses one image for the model (`height * width * channels` floats, HWC).
 * Unlike in a dataset, a file that cannot be used is an error here, and the message names it.
 */
export async function loadSingleImage(
  file: string,
  geometry: InputGeometry,
  preprocessing: Preprocessing = DEFAULT_PREPROCESSING,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
): Promise<Float32Array> {
  checkPreprocessing(preprocessing, geometry);
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `${file}: no such file` : `${file}: cannot read (${(e as Error).message})`);
  }
  const decoded = decodeImage(bytes, file, limits);
  const out = new Float32Array(geometry.height * geometry.width * geometry.channels);
  preprocessImageInto(decoded, geometry, preprocessing, out, 0);
  return out;
}
