/**
 * HDF5 access for the Keras loaders, through h5wasm (the HDF5 C library compiled to wasm).
 *
 * Packaging facts that shape this file:
 * - h5wasm is ESM-only and exports its Node build as `h5wasm/node` with an "import" condition
 *   only, so `require()` cannot load it (ERR_PACKAGE_PATH_NOT_EXPORTED). With `module: node16`
 *   TypeScript keeps `import()` as a real dynamic import in CommonJS output, and esbuild bundles
 *   it (esbuild.mjs gives the bundle an `import.meta.url`, which h5wasm needs).
 * - The Node build is compiled with NODERAWFS: its file system *is* the real disk, so a file is
 *   opened by its path, and bytes that only exist in memory (the weights inside a `.keras` zip)
 *   go through a temporary file.
 * - Fixed-length string attributes come back cut at the first NUL, variable-length ones as JS
 *   strings; empty attributes (Keras writes `weight_names = []` as an empty float array) come
 *   back as an empty object. `attrStrings` folds all of these into `string[]`.
 * - Opening a file that is not HDF5 makes the C library print a diagnostic trace on stderr, so
 *   callers check the signature (`looksLikeHdf5`) before opening.
 */
import * as fs from 'fs';
// The module object itself (not a namespace copy), so `writeSync` can be swapped in `quietly`.
import fsModule from 'fs';
import * as os from 'os';
import * as path from 'path';
import type * as H5 from 'h5wasm' with { 'resolution-mode': 'import' };
import { errorText, fail, ModelLoadError } from './common';

export type H5File = H5.File;
export type H5Group = H5.Group;
export type H5Dataset = H5.Dataset;

interface H5Api {
  File: typeof H5.File;
  Group: typeof H5.Group;
  Dataset: typeof H5.Dataset;
  ready: Promise<unknown>;
}

let api: Promise<H5Api> | undefined;

/** Loads (once) and initialises h5wasm's Node build. */
export function loadH5wasm(): Promise<H5Api> {
  if (!api) {
    api = (async () => {
      const mod = (await import('h5wasm/node')) as unknown as H5Api;
      await mod.ready;
      return mod;
    })();
    api.catch(() => {
      api = undefined;
    });
  }
  return api;
}

/**
 * Runs a synchronous h5wasm call with the HDF5 library's stderr diagnostics captured instead
 * of printed (the wasm build writes them straight to fd 2 through `fs.writeSync`). Returns
 * the result and the captured text, which callers mine for a one-line reason.
 */
function quietly<T>(fn: () => T): { result?: T; error?: unknown; diag: string } {
  const original = fsModule.writeSync;
  let diag = '';
  (fsModule as { writeSync: unknown }).writeSync = function (this: unknown, fd: number, data: unknown, ...rest: unknown[]): number {
    if (fd !== 2) return (original as (...a: unknown[]) => number).call(fsModule, fd, data, ...rest);
    const text = typeof data === 'string' ? data : Buffer.from(data as Uint8Array).toString('utf8', (rest[0] as number) ?? 0, ((rest[0] as number) ?? 0) + ((rest[1] as number) ?? (data as Uint8Array).byteLength));
    diag += text;
    return typeof data === 'string' ? Buffer.byteLength(data) : ((rest[1] as number) ?? (data as Uint8Array).byteLength);
  };
  try {
    return { result: fn(), diag };
  } catch (error) {
    return { error, diag };
  } finally {
    (fsModule as { writeSync: unknown }).writeSync = original;
  }
}

/** The most specific reason in an HDF5 error trace (its deepest frame), made readable. */
function diagReason(diag: string): string | undefined {
  const truncated = /truncated file: eof = (\d+).*stored_eof = (\d+)/.exec(diag);
  if (truncated) return `the file is truncated (${truncated[1]} of ${truncated[2]} bytes)`;
  const frames = [...diag.matchAll(/#\d+: .* in [\w.]+\(\): (.*)/g)].map((m) => m[1].trim());
  return frames.length ? frames[frames.length - 1] : undefined;
}

/** Opens `diskPath` read-only, runs `fn`, and always closes the file. */
export async function withH5File<T>(reportAs: string, diskPath: string, fn: (f: H5File) => T): Promise<T> {
  const h5 = await loadH5wasm();
  const opened = quietly(() => new h5.File(path.resolve(diskPath), 'r'));
  const f = opened.result;
  // h5wasm does not throw when HDF5 cannot open a file: it returns a File whose id is negative.
  if (!f || f.file_id < 0n) {
    const why = diagReason(opened.diag) ?? (opened.error !== undefined ? errorText(opened.error) : 'unknown error');
    fail(reportAs, `cannot open the HDF5 file: ${why}`);
  }
  try {
    const read = quietly(() => fn(f));
    if (read.error !== undefined) {
      if (read.error instanceof ModelLoadError) throw read.error;
      const why = diagReason(read.diag) ?? errorText(read.error);
      fail(reportAs, `cannot read the HDF5 file (damaged?): ${why}`);
    }
    return read.result as T;
  } finally {
    quietly(() => f.close());
  }
}

/** Same, for HDF5 bytes held in memory: written to a private temporary file for the duration. */
export async function withH5Bytes<T>(reportAs: string, bytes: Uint8Array, fn: (f: H5File) => T): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnn-lens-h5-'));
  const tmp = path.join(dir, 'weights.h5');
  try {
    fs.writeFileSync(tmp, bytes);
    return await withH5File(reportAs, tmp, fn);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function cleanString(s: string): string {
  // h5wasm cuts fixed-length strings at the first NUL already; other readers pad, so be safe.
  const nul = s.indexOf('\u0000');
  return nul >= 0 ? s.slice(0, nul) : s;
}

function toStrings(value: unknown): string[] | undefined {
  if (typeof value === 'string') return [cleanString(value)];
  if (value instanceof Uint8Array) return [cleanString(new TextDecoder().decode(value))];
  if (Array.isArray(value)) return value.flatMap((v) => toStrings(v) ?? []);
  if (ArrayBuffer.isView(value) && (value as unknown as ArrayLike<number>).length === 0) return [];
  if (value && typeof value === 'object' && Object.keys(value).length === 0) return [];
  return undefined;
}

/** A scalar string attribute, or undefined when absent. */
export function attrString(obj: H5Group | H5Dataset, name: string): string | undefined {
  const attr = obj.attrs[name];
  if (!attr) return undefined;
  const strings = toStrings(attr.value);
  return strings && strings.length > 0 ? strings.join('') : undefined;
}

/**
 * A list-of-strings attribute (`layer_names`, `weight_names`). Keras splits lists that exceed
 * HDF5's 64 KiB object-header limit into `name0`, `name1`, ... (save_attributes_to_hdf5_group);
 * those are joined back.
 */
export function attrStrings(obj: H5Group | H5Dataset, name: string): string[] | undefined {
  const attrs = obj.attrs;
  if (attrs[name]) return toStrings(attrs[name].value) ?? [];
  if (!attrs[`${name}0`]) return undefined;
  const out: string[] = [];
  for (let i = 0; attrs[`${name}${i}`]; i++) out.push(...(toStrings(attrs[`${name}${i}`].value) ?? []));
  return out;
}

export function isGroup(e: unknown): e is H5Group {
  return !!e && typeof e === 'object' && (e as { type?: unknown }).type === 'Group';
}

export function isDataset(e: unknown): e is H5Dataset {
  return !!e && typeof e === 'object' && (e as { type?: unknown }).type === 'Dataset';
}

export interface ArrayValue {
  shape: number[];
  data: Float32Array;
}

/** Reads a numeric dataset as float32 (Keras weights are float32; other widths are converted). */
export function readFloatDataset(reportAs: string, ds: H5Dataset, label: string): ArrayValue {
  const shape = ds.shape ?? [];
  let value: unknown;
  try {
    value = ds.value;
  } catch (err) {
    fail(reportAs, `cannot read weight ${label}: ${errorText(err)}`);
  }
  const stored = attrString(ds, 'dtype');
  if (stored === 'bfloat16' && (value instanceof Uint8Array || value instanceof Uint16Array)) {
    // Keras 3 stores bfloat16 variables as raw 16-bit patterns tagged dtype="bfloat16".
    const bits = value instanceof Uint16Array ? value : new Uint16Array(value.buffer, value.byteOffset, value.byteLength / 2);
    const out = new Float32Array(bits.length);
    const u32 = new Uint32Array(out.buffer);
    for (let i = 0; i < bits.length; i++) u32[i] = bits[i] << 16;
    return { shape, data: out };
  }
  if (value instanceof Float32Array) return { shape, data: value };
  if (ArrayBuffer.isView(value) && !(value instanceof DataView) && !(value instanceof BigInt64Array) && !(value instanceof BigUint64Array)) {
    return { shape, data: Float32Array.from(value as unknown as ArrayLike<number>) };
  }
  if (typeof value === 'number') return { shape, data: Float32Array.of(value) };
  fail(reportAs, `weight ${label} is not a numeric array (HDF5 type ${JSON.stringify(ds.dtype)})`);
}
