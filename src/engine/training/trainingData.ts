/**
 * Training data: a folder with one sub-folder of PNG/JPEG images per class (the Keras
 * `image_dataset_from_directory` layout), listed by the same reader as every other dataset so
 * labels mean the same thing everywhere. Stricter than analysis datasets, because a training run
 * on silently wrong data wastes minutes and yields a wrong model: a folder that is not a class of
 * the model, an empty class folder, a single class or a class with one image are errors that name
 * the folder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openImageFolder } from '../io/datasets/imageFolder';
import type { SkippedFile } from '../io/datasets/types';

export interface TrainingItem {
  file: string;
  label: number;
}

export interface TrainingData {
  path: string;
  /** Class names in label order. */
  classNames: string[];
  /** Every image, in the reader's (sorted) order: item i of a split or shard is `items[i]`. */
  items: TrainingItem[];
  /** Non-image files and the like, ignored. */
  skipped: SkippedFile[];
  /** Identifies the listing, so workers can check they see the same files as the plan. */
  fingerprint: string;
}

export interface OpenTrainingDataOptions {
  /**
   * Fine-tuning: the model's classes in output order (label i = the folder named classNames[i]).
   * Every class folder must be one of them. Head training: omitted, the folders are the classes.
   */
  classNames?: string[];
  /** Where `classNames` came from, for messages. */
  classNamesSource?: string;
}

/** FNV-1a over the listing: cheap, and any added, removed or renamed file changes it. */
function fingerprintOf(items: TrainingItem[]): string {
  let h = 0x811c9dc5;
  for (const item of items) {
    const s = `${item.label}\u0000${item.file}\u0001`;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  }
  return `${items.length}:${(h >>> 0).toString(16)}`;
}

async function classFolders(root: string): Promise<string[]> {
  const entries = await fs.promises.readdir(root, { withFileTypes: true });
  const out: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    let isDir = e.isDirectory();
    if (e.isSymbolicLink()) isDir = (await fs.promises.stat(path.join(root, e.name)).catch(() => undefined))?.isDirectory() ?? false;
    if (isDir) out.push(e.name);
  }
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export async function openTrainingData(dataPath: string, options: OpenTrainingDataOptions = {}): Promise<TrainingData> {
  const root = path.resolve(dataPath);
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(root);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${root}: no such folder (training data is a folder with one sub-folder of images per class)`);
    throw new Error(`${root}: cannot read (${(e as Error).message})`);
  }
  if (!st.isDirectory()) {
    throw new Error(`${root}: is a file; training data is a folder with one sub-folder of PNG/JPEG images per class`);
  }
  const folders = await classFolders(root);
  if (folders.length === 0) {
    throw new Error(`${root}: has no class sub-folders; put the images of each class in a sub-folder named after the class`);
  }
  if (options.classNames) {
    for (const f of folders) {
      if (!options.classNames.includes(f)) {
        throw new Error(
          `${path.join(root, f)}: class folder "${f}" is not one of the model's classes (${options.classNames.join(', ')}` +
            `${options.classNamesSource ? `, from ${options.classNamesSource}` : ''}); rename or remove it`,
        );
      }
    }
  }
  let dataset;
  try {
    dataset = await openImageFolder(root, { classNames: options.classNames });
  } catch (e) {
    throw new Error(`${(e as Error).message} (training data is a folder with one sub-folder of PNG/JPEG images per class)`);
  }
  if (dataset.kind !== 'image-folder' || !dataset.classNames) {
    throw new Error(`${root}: none of the class folders (${folders.join(', ')}) holds PNG or JPEG images`);
  }
  const classNames = dataset.classNames;
  const items = dataset.items.map((i) => ({ file: i.file, label: i.label ?? -1 }));
  const counts = new Array<number>(classNames.length).fill(0);
  for (const item of items) counts[item.label]++;
  for (const f of folders) {
    const c = classNames.indexOf(f);
    if (counts[c] === 0) throw new Error(`${path.join(root, f)}: empty class folder (no PNG or JPEG images)`);
    if (counts[c] === 1) throw new Error(`${path.join(root, f)}: class "${f}" has only 1 image; each class needs at least 2 (one to train on, one to validate with)`);
  }
  if (folders.length < 2) {
    throw new Error(`${root}: training a classifier needs at least 2 classes, found 1 (${folders[0]}); add a sub-folder of images per class`);
  }
  // Skipped entries the checks above already turned into errors are not repeated here.
  const skipped = dataset.skipped.filter((s) => !/^empty class folder|class folder not listed/.test(s.reason));
  return { path: root, classNames, items, skipped, fingerprint: fingerprintOf(items) };
}
