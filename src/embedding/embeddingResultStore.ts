/**
 * The Embedding view's finished results on disk, so a panel VS Code restores after a window
 * reload (extension host restarted, memory gone) shows its last picture without recomputing a
 * t-SNE that took tens of seconds. No `vscode` import (unit-tested).
 *
 * One file per panel, `<panelId>.cnnemb`, in the extension's workspace storage; written
 * atomically. Format (version 1, little-endian):
 *
 *   "CNNLEMB1" | uint32 header byte length | header JSON (UTF-8) | zero padding to 4 bytes |
 *   per stored pane: points (float32 × 2n), labels (int32 × n, when labelled), predicted (int32 × n)
 *
 * The header holds everything else (method, layer, quality numbers, dataset, backend, item ids
 * with their common prefix written once — a folder's 50k paths share most of their text) and,
 * per pane, the key of the inputs it was computed from: stamps of the model file, its weight
 * shards and `cnnlens.json` (`modelInputFiles`), of the dataset (`inputsKey`, as the dead-filter
 * scan results use), and the settings and layer. A result is shown again only while that key
 * still matches.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EmbedReport } from '../engine/client';
import type { DatasetInfo } from '../engine/jobs';
import { writeFileAtomic } from '../engine/io/atomicWrite';
import { inputsKey } from '../deadFilters/fingerprint';
import { EMBED_METHODS, isPanelId, type EmbeddingSettings } from '../protocol';
import { embeddingJob } from './embeddingWire';

const MAGIC = 'CNNLEMB1';
const VERSION = 1;
export const STORED_EMBEDDING_EXT = '.cnnemb';
/** Skipped-file lists are for the user to read, not to restore the plot: keep a few. */
const MAX_SKIPPED = 200;

/** What a pane embeds: a model file and the layer asked for (undefined: the engine's default). */
export interface StoredSource {
  model: string;
  layer?: string;
}

/** Validity key of a stored result, in parts so a mismatch can say what changed. */
export interface EmbeddingResultKey {
  /** Hash of the model file's, its weight shards' and its cnnlens.json's size + mtime stamps. */
  model: string;
  /** Hash of the above plus the dataset's stamps. */
  inputs: string;
  /** The engine job's options: method, its parameters, image limit, layer. */
  settings: string;
}

export interface StoredPane {
  source: StoredSource;
  /** Settings the result was computed with. */
  settings: EmbeddingSettings;
  key: EmbeddingResultKey;
  result: EmbedReport;
}

export interface StoredEmbedding {
  /** Epoch milliseconds of the write. */
  savedAt: number;
  /** Per pane index (null: that pane had no result). */
  panes: (StoredPane | null)[];
}

// ---------------------------------------------------------------------------------------------
// Keys

/** The settings part of the key: only what the engine job uses (PCA ignores the perplexity). */
export function embeddingSettingsKey(settings: EmbeddingSettings, layer: string | undefined): string {
  const job = embeddingJob(settings, layer) as Record<string, unknown>;
  return JSON.stringify(Object.keys(job).sort().map((k) => [k, job[k]]));
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The key `source` would have now, computed from the current files and `settings`. */
export async function embeddingResultKey(source: StoredSource, dataset: string | undefined, settings: EmbeddingSettings): Promise<EmbeddingResultKey> {
  const [model, inputs] = await Promise.all([inputsKey(source.model, undefined), inputsKey(source.model, dataset)]);
  return { model: sha256(model), inputs: sha256(inputs), settings: embeddingSettingsKey(settings, source.layer) };
}

/** Why `stored` no longer matches `now` (undefined: it matches). */
export function keyMismatch(stored: EmbeddingResultKey, now: EmbeddingResultKey): string | undefined {
  if (stored.model !== now.model) return 'the model, its weights or its cnnlens.json changed';
  if (stored.inputs !== now.inputs) return 'the dataset changed';
  if (stored.settings !== now.settings) return 'the settings or the layer changed';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Encoding

interface HeaderPane {
  source: StoredSource;
  settings: EmbeddingSettings;
  key: EmbeddingResultKey;
  n: number;
  labelled: boolean;
  idPrefix: string;
  idSuffixes: string[];
  /** The report without its arrays and ids. */
  meta: Omit<EmbedReport, 'points' | 'labels' | 'predicted' | 'ids'>;
}

interface Header {
  version: number;
  savedAt: number;
  panes: (HeaderPane | null)[];
}

function commonPrefix(ids: readonly string[]): string {
  if (ids.length === 0) return '';
  let prefix = ids[0];
  for (const id of ids) {
    let i = 0;
    const m = Math.min(prefix.length, id.length);
    while (i < m && prefix.charCodeAt(i) === id.charCodeAt(i)) i++;
    if (i < prefix.length) prefix = prefix.slice(0, i);
    if (!prefix) break;
  }
  return prefix;
}

const bytesOf = (a: Float32Array | Int32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

export function encodeStoredEmbedding(stored: StoredEmbedding): Buffer {
  const blobs: Buffer[] = [];
  const panes = stored.panes.map((p): HeaderPane | null => {
    if (!p) return null;
    const r = p.result;
    const n = r.points.length / 2;
    const prefix = commonPrefix(r.ids);
    const { points, labels, predicted, ids, ...meta } = r;
    blobs.push(bytesOf(points));
    if (labels) blobs.push(bytesOf(labels));
    blobs.push(bytesOf(predicted));
    return {
      source: { ...p.source },
      settings: { ...p.settings },
      key: { ...p.key },
      n,
      labelled: labels !== null,
      idPrefix: prefix,
      idSuffixes: ids.map((id) => id.slice(prefix.length)),
      meta: {
        ...meta,
        skipped: meta.skipped.slice(0, MAX_SKIPPED),
        dataset: { ...meta.dataset, skipped: meta.dataset.skipped.slice(0, MAX_SKIPPED) },
      },
    };
  });
  const header: Header = { version: VERSION, savedAt: stored.savedAt, panes };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const start = MAGIC.length + 4 + json.length;
  const pad = (4 - (start % 4)) % 4;
  const head = Buffer.alloc(MAGIC.length + 4);
  head.write(MAGIC, 0, 'latin1');
  head.writeUInt32LE(json.length, MAGIC.length);
  return Buffer.concat([head, json, Buffer.alloc(pad), ...blobs]);
}

class StoredEmbeddingError extends Error {
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'StoredEmbeddingError';
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

function checkPane(raw: unknown, i: number, fail: (problem: string) => never): HeaderPane {
  if (!isObject(raw)) fail(`pane ${i} is not an object`);
  const p = raw as Partial<HeaderPane> & Record<string, unknown>;
  if (!isObject(p.source) || typeof p.source.model !== 'string' || (p.source.layer !== undefined && typeof p.source.layer !== 'string')) fail(`pane ${i} has no valid source`);
  if (!isObject(p.settings) || !EMBED_METHODS.includes(p.settings.method as EmbeddingSettings['method'])) fail(`pane ${i} has no valid settings`);
  if (!isObject(p.key) || typeof p.key.model !== 'string' || typeof p.key.inputs !== 'string' || typeof p.key.settings !== 'string') fail(`pane ${i} has no valid key`);
  if (typeof p.n !== 'number' || !Number.isInteger(p.n) || p.n < 0) fail(`pane ${i} has no valid point count`);
  if (typeof p.labelled !== 'boolean' || typeof p.idPrefix !== 'string' || !isStringArray(p.idSuffixes) || p.idSuffixes.length !== p.n) fail(`pane ${i} has ids that do not match its ${p.n} points`);
  const m = p.meta;
  if (!isObject(m) || typeof m.method !== 'string' || typeof m.layer !== 'string' || typeof m.dims !== 'number' || typeof m.trustworthiness !== 'number' || typeof m.seconds !== 'number') fail(`pane ${i} has no valid result fields`);
  if (!(m.knnAccuracy === null || typeof m.knnAccuracy === 'number') || !(m.classNames === null || isStringArray(m.classNames))) fail(`pane ${i} has invalid classes`);
  if (!isObject(m.dataset) || typeof (m.dataset as Partial<DatasetInfo>).path !== 'string' || !Array.isArray((m.dataset as Partial<DatasetInfo>).skipped) || !Array.isArray(m.skipped)) fail(`pane ${i} has no valid dataset`);
  if (typeof m.backend !== 'string') fail(`pane ${i} has no backend`);
  return p as HeaderPane;
}

/** Decodes a stored file; throws an Error naming `file` and the problem when it is not a valid one. */
export function decodeStoredEmbedding(buf: Uint8Array, file: string): StoredEmbedding {
  const fail = (problem: string): never => {
    throw new StoredEmbeddingError(file, problem);
  };
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < MAGIC.length + 4 || b.toString('latin1', 0, MAGIC.length) !== MAGIC) fail('not a stored CNN Lens embedding (bad signature)');
  const headerLength = b.readUInt32LE(MAGIC.length);
  const start = MAGIC.length + 4;
  if (start + headerLength > b.length) fail(`truncated: header of ${headerLength} bytes, file of ${b.length}`);
  let header: Header;
  try {
    header = JSON.parse(b.toString('utf8', start, start + headerLength)) as Header;
  } catch (err) {
    return fail(`unreadable header (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!isObject(header) || header.version !== VERSION) fail(`unsupported version ${isObject(header) ? String(header.version) : '?'} (expected ${VERSION})`);
  if (!Array.isArray(header.panes) || header.panes.length > 2 || typeof header.savedAt !== 'number') fail('header has no valid panes');
  let offset = start + headerLength;
  offset += (4 - (offset % 4)) % 4;
  // One copy per array into its own aligned buffer (the file's buffer may not be 4-byte aligned).
  const take = <T extends Float32Array | Int32Array>(Type: { new (b: ArrayBuffer): T }, count: number, what: string): T => {
    const bytes = count * 4;
    if (offset + bytes > b.length) fail(`truncated: ${what} needs ${bytes} bytes at ${offset}, file has ${b.length}`);
    const copy = new Uint8Array(bytes);
    copy.set(b.subarray(offset, offset + bytes));
    offset += bytes;
    return new Type(copy.buffer);
  };
  const panes = header.panes.map((raw, i): StoredPane | null => {
    if (raw === null) return null;
    const p = checkPane(raw, i, fail);
    const points = take(Float32Array, 2 * p.n, `pane ${i} points`);
    const labels = p.labelled ? take(Int32Array, p.n, `pane ${i} labels`) : null;
    const predicted = take(Int32Array, p.n, `pane ${i} predictions`);
    const ids = p.idSuffixes.map((s) => p.idPrefix + s);
    return { source: p.source, settings: p.settings, key: p.key, result: { ...p.meta, points, labels, predicted, ids } };
  });
  if (offset !== b.length) fail(`${b.length - offset} bytes after the last array (expected none)`);
  return { savedAt: header.savedAt, panes };
}

// ---------------------------------------------------------------------------------------------
// Files

/** The folder of stored results: one file per panel id. */
export class EmbeddingResultFiles {
  constructor(readonly dir: string) {}

  fileFor(panelId: string): string {
    if (!isPanelId(panelId)) throw new Error(`Embedding result store: invalid panel id ${JSON.stringify(panelId)}`);
    return path.join(this.dir, `${panelId}${STORED_EMBEDDING_EXT}`);
  }

  /** Writes atomically (temp file + rename); returns the bytes written. */
  async write(panelId: string, stored: StoredEmbedding): Promise<number> {
    const data = encodeStoredEmbedding(stored);
    await writeFileAtomic(this.fileFor(panelId), data);
    return data.length;
  }

  /** The panel's stored result, undefined when there is none; throws (naming the file) when it is unreadable. */
  async read(panelId: string): Promise<StoredEmbedding | undefined> {
    const file = this.fileFor(panelId);
    let buf: Buffer;
    try {
      buf = await fs.promises.readFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StoredEmbeddingError(file, err instanceof Error ? err.message : String(err));
    }
    return decodeStoredEmbedding(buf, file);
  }

  async delete(panelId: string): Promise<void> {
    await fs.promises.rm(this.fileFor(panelId), { force: true });
  }

  /**
   * Removes the files of panels `keep` does not vouch for and temp files a crash left behind,
   * when older than `minAgeMs` (a folder shared by several windows: another window's panel may
   * be newer than this window's records). Returns the files removed.
   */
  async prune(keep: (panelId: string) => boolean, minAgeMs = 0, now = Date.now()): Promise<string[]> {
    let names: string[];
    try {
      names = await fs.promises.readdir(this.dir);
    } catch {
      return [];
    }
    const removed: string[] = [];
    for (const name of names) {
      const file = path.join(this.dir, name);
      const isTemp = name.startsWith('.') && name.endsWith('.tmp') && name.includes(STORED_EMBEDDING_EXT);
      const id = name.endsWith(STORED_EMBEDDING_EXT) ? name.slice(0, -STORED_EMBEDDING_EXT.length) : undefined;
      if (!isTemp && (id === undefined || keep(id))) continue;
      const st = await fs.promises.stat(file).catch(() => undefined);
      // A temp file is someone's write in progress for a minute at most, in any window.
      if (!st || now - st.mtimeMs < (isTemp ? 60_000 : minAgeMs)) continue;
      await fs.promises.rm(file, { force: true });
      removed.push(file);
    }
    return removed;
  }
}
