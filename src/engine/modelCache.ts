/**
 * The worker's cache of loaded models: recent models stay loaded between jobs (a hover, then
 * the activations view, then a scan of the same file) and are reloaded when the file changes.
 *
 * A model pushed out of the cache (too many others loaded, or its file changed) may still be in
 * use: jobs await between batches, so another job can load a fourth model while a feature pass
 * is half-way through the first. Disposing it then failed the running job ("Layer 'conv1' is
 * already disposed", seen with two head trainings and scratch runs sharing a worker). So every
 * job that gets a model from the cache holds it until the job ends (tracked through
 * AsyncLocalStorage, so the jobs need no release calls), and an evicted model is disposed only
 * once no job holds it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import * as fs from 'fs';
import * as path from 'path';
import type { InspectableModel } from './model/inspectableModel';
import { loadModel } from './io/models';

interface CachedModel {
  key: string;
  model: Promise<InspectableModel>;
  /** Jobs holding this model. */
  users: number;
  evicted: boolean;
}

const MODEL_CACHE_SIZE = 3;
const cache: CachedModel[] = [];
/** The cached models the current job has taken (one set per job, see `runHoldingModels`). */
const held = new AsyncLocalStorage<Set<CachedModel>>();

/** A model file's identity on disk: path + size + mtime. */
async function fileKey(file: string): Promise<string> {
  const st = await fs.promises.stat(file).catch(() => undefined);
  return `${path.resolve(file)}|${st?.size ?? 0}|${st?.mtimeMs ?? 0}`;
}

function disposeIfUnused(entry: CachedModel): void {
  if (entry.evicted && entry.users === 0) entry.model.then((m) => m.dispose()).catch(() => undefined);
}

function evict(entry: CachedModel): void {
  entry.evicted = true;
  disposeIfUnused(entry);
}

function hold(entry: CachedModel): void {
  const set = held.getStore();
  if (!set || set.has(entry)) return;
  set.add(entry);
  entry.users++;
}

/** The model in `file`, loaded once per version of the file; held until the current job ends. */
export async function getModel(file: string): Promise<InspectableModel> {
  const key = await fileKey(file);
  let entry = cache.find((c) => c.key === key);
  if (!entry) {
    const stale = cache.findIndex((c) => c.key.startsWith(path.resolve(file) + '|'));
    if (stale >= 0) evict(cache.splice(stale, 1)[0]);
    const created: CachedModel = { key, model: loadModel(file), users: 0, evicted: false };
    // A failed load must not stay cached.
    created.model.catch(() => {
      const i = cache.indexOf(created);
      if (i >= 0) cache.splice(i, 1);
    });
    cache.push(created);
    entry = created;
  }
  hold(entry);
  while (cache.length > MODEL_CACHE_SIZE) evict(cache.shift()!);
  return entry.model;
}

/** Runs a job; the cached models it takes stay loaded until it settles. */
export async function runHoldingModels<T>(job: () => Promise<T>): Promise<T> {
  const set = new Set<CachedModel>();
  try {
    return await held.run(set, job);
  } finally {
    for (const entry of set) {
      entry.users--;
      disposeIfUnused(entry);
    }
  }
}

/** Drops every cached model (tests use it to check for leaked tensors). */
export function clearModelCache(): void {
  while (cache.length) evict(cache.pop()!);
}
