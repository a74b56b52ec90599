/**
 * Small helpers shared by the model loaders: reading files and JSON with messages that name the
 * file and say what is wrong, and serialising loads so that failed ones can be cleaned up.
 *
 * Every loader reports problems as `ModelLoadError(file, problem)`: one line, no stack, the file
 * first. Anything unexpected thrown by TF.js, h5wasm or fflate is wrapped with `wrapError` so a
 * raw library message never reaches the user without saying which file it was about.
 */
import * as fs from 'fs';
import { ModelLoadError } from '../../model/inspectableModel';
import { jsonErrorLocation } from '../jsonSyntax';

export { ModelLoadError };

export function fail(file: string, problem: string): never {
  throw new ModelLoadError(file, problem);
}

/** First line of an error's message, without a trailing period (messages are joined into ours). */
export function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0].replace(/\.$/, '');
}

/** Re-throws `ModelLoadError`s unchanged; anything else becomes one, prefixed with `what`. */
export function wrapError(file: string, what: string, err: unknown): never {
  if (err instanceof ModelLoadError) throw err;
  throw new ModelLoadError(file, `${what}: ${errorText(err)}`);
}

/** Reads a whole file; `what` names it in messages ("weight shard group1-shard1of2.bin"). */
export function readFileBytes(file: string, reportAs: string = file, what = 'file'): Uint8Array {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') fail(reportAs, `${what} not found${reportAs === file ? '' : ` (${file})`}`);
    if (code === 'EISDIR') fail(reportAs, `${what} is a directory, not a file`);
    fail(reportAs, `cannot read ${what}: ${errorText(err)}`);
  }
}

/** The first `length` bytes of a file (fewer if it is shorter), to sniff its format. */
export function readHead(file: string, length: number): Uint8Array {
  let fd: number | undefined;
  let head: Uint8Array | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const buf = Buffer.alloc(length);
    const n = fs.readSync(fd, buf, 0, length, 0);
    head = buf.subarray(0, n);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') fail(file, 'file not found');
    if (code === 'EISDIR') fail(file, 'is a directory, not a model file');
    fail(file, `cannot read the file: ${errorText(err)}`);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  return head;
}

export function fileSize(file: string): number | undefined {
  try {
    return fs.statSync(file).size;
  } catch {
    return undefined;
  }
}

/** `JSON.parse` with a message that says where the text stops being JSON (`../jsonSyntax.ts`). */
export function parseJson(file: string, text: string, what = 'file'): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const at = jsonErrorLocation(text, (e as Error).message);
    fail(file, `${what} is not valid JSON: ${at.found} at line ${at.line}, column ${at.column}`);
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function formatShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d == null ? 'null' : String(d))).join(',')}]`;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs model loads one at a time. A load that fails half-way through building a TF.js model
 * disposes the variables created since it started (see `layersBuild.ts`); with loads serialised,
 * those can only be its own.
 */
export function serialized<T>(fn: () => Promise<T>): Promise<T> {
  const run = queue.then(fn, fn);
  queue = run.catch(() => undefined);
  return run;
}

/** Starts with "PK\x03\x04" (a zip local file header) or is an empty zip ("PK\x05\x06"). */
export function looksLikeZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5) && (bytes[3] === 4 || bytes[3] === 6);
}

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * HDF5's superblock signature sits at offset 0, or at 512, 1024, 2048, ... when the file has a
 * user block.
 */
export function looksLikeHdf5(bytes: Uint8Array): boolean {
  for (let at = 0; at + 8 <= bytes.length; at = at === 0 ? 512 : at * 2) {
    if (HDF5_SIGNATURE.every((b, k) => bytes[at + k] === b)) return true;
    if (at > (1 << 20)) break;
  }
  return false;
}

/** Reads and parses a JSON file (a model.json), naming the file and the error position. */
export function readJsonFile(file: string, what = 'model.json'): Record<string, unknown> {
  const bytes = readFileBytes(file, file, what);
  const text = new TextDecoder().decode(bytes);
  const parsed = parseJson(file, text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, what);
  if (!isRecord(parsed)) fail(file, `${what} does not hold a JSON object`);
  return parsed;
}
