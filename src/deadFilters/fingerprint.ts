/**
 * The inputs a scan result depends on, stamped by size + mtime (no `vscode` import):
 * the model file, its weight shards (model.json), the `cnnlens.json` beside it, and the dataset
 * (a file: its stamp; a folder: the folder and its sub-folders' stamps plus their entry counts,
 * which catches images added, removed or renamed; an image rewritten in place with the same
 * size and folder listing is the one change this does not see).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CNNLENS_CONFIG_FILE } from '../engine/config/cnnlensConfig';
import { stampsKey, weightShardPaths, type FileStamp } from './logic';

async function stamp(file: string): Promise<FileStamp> {
  try {
    const st = await fs.promises.stat(file);
    return { path: file, exists: true, size: st.size, mtimeMs: st.mtimeMs };
  } catch {
    return { path: file, exists: false, size: 0, mtimeMs: 0 };
  }
}

/** The files of the model itself: the model file, its shards, its cnnlens.json. */
export async function modelInputFiles(modelFile: string): Promise<string[]> {
  const dir = path.dirname(modelFile);
  const files = [modelFile, path.join(dir, CNNLENS_CONFIG_FILE)];
  if (modelFile.toLowerCase().endsWith('.json')) {
    const text = await fs.promises.readFile(modelFile, 'utf8').catch(() => '');
    for (const p of weightShardPaths(text)) files.push(path.resolve(dir, p));
  }
  return files;
}

async function datasetStamps(dataset: string): Promise<FileStamp[]> {
  const top = await stamp(dataset);
  if (!top.exists) return [top];
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(dataset, { withFileTypes: true });
  } catch {
    return [top]; // a file (IDX)
  }
  const out: FileStamp[] = [{ ...top, size: entries.length }];
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const sub = path.join(dataset, e.name);
    const st = await stamp(sub);
    const count = await fs.promises.readdir(sub).then((x) => x.length, () => 0);
    out.push({ ...st, size: count });
  }
  // Files directly in a flat folder (or IDX files beside each other): stamp the non-directories.
  const files = entries.filter((e) => !e.isDirectory()).slice(0, 5000);
  for (const e of files) out.push(await stamp(path.join(dataset, e.name)));
  return out;
}

/** Invalidation key of a model + dataset pair. */
export async function inputsKey(modelFile: string, dataset: string | undefined): Promise<string> {
  const stamps = await Promise.all((await modelInputFiles(modelFile)).map(stamp));
  if (dataset) stamps.push(...(await datasetStamps(dataset)));
  return stampsKey(stamps);
}
